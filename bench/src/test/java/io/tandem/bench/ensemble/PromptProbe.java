package io.tandem.bench.ensemble;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The servers' part of "kill to next committed write", without the official client's reconnect costs.
 *
 * <p>The official Java client (NIO socket, the default) sleeps 100 ms in every socket clean-up
 * (ClientCnxnSocketNIO.cleanup) before it fails the pending requests and tries again, then a random 0-1 s before each
 * reconnect attempt (ClientCnxn.startConnect), and a further second whenever it has tried every host since its last
 * connection (StaticHostProvider.next(1000)). With three kills per run that randomness decides the writer's figure.
 * This probe moves a session as that client would (opened on the leader before the kill, re-attached to a survivor
 * after it: the survivor revalidates it with the new leader) but speaks the wire itself: after the kill it tries the
 * survivors in turn, one attempt every {@link #ATTEMPT_PAUSE_MS} ms, each a fresh connection with the session's id and
 * password, and writes once one is accepted. The time until that write commits is when the ensemble could first take
 * a moved session's write: the survivors noticing the death, election, the new leader's sync with its follower,
 * session revalidation and one commit.
 */
final class PromptProbe {
    /** Pause between attempts: the probe's resolution, and a bound on the connections it opens. */
    static final long ATTEMPT_PAUSE_MS = 5;
    private static final int SESSION_TIMEOUT_MS = 30_000;
    private static final int ATTEMPT_TIMEOUT_MS = 1000;
    private static final String PATH = "/failover-probe";

    /** The session's connection on the leader before the kill. */
    private final Socket holder;
    private final long sessionId;
    private final byte[] password;
    private final List<String> survivors;

    /** When the session was back (attached to a member that serves) and when its write committed, nanoTime; 0 if not. */
    private volatile long attachedAt;
    private volatile long committedAt;
    private volatile String attachedTo = "?";
    private volatile int attempts;

    /** Opens the probe's session on the leader and makes sure its znode exists. */
    PromptProbe(Ensemble.Node leader, List<Ensemble.Node> survivors) throws IOException {
        this.survivors = survivors.stream().map(Ensemble.Node::clientAddress).toList();
        Wire wire = Wire.open(leader.clientAddress());
        this.holder = wire.socket;
        long[] session = wire.connect(0, new byte[16]);
        if (session == null) {
            holder.close();
            throw new IOException("the probe could not open a session on the leader " + leader.clientAddress());
        }
        this.sessionId = session[0];
        this.password = wire.password;
        int err = wire.request(1, OpCode.CREATE, out -> {
            writeString(out, PATH);
            out.writeInt(-1); // no data
            out.writeInt(1); // the ACL list: world:anyone, all permissions
            out.writeInt(Perms.ALL);
            writeString(out, "world");
            writeString(out, "anyone");
            out.writeInt(0); // persistent
        });
        if (err != 0 && err != KeeperCode.NODE_EXISTS.code()) {
            holder.close();
            throw new IOException("the probe could not create " + PATH + ": error " + err);
        }
    }

    /** Runs on its own thread from just after the kill until a write commits or {@code deadlineNanos} passes. */
    void run(long deadlineNanos) {
        for (int i = 0; System.nanoTime() < deadlineNanos && !Thread.currentThread().isInterrupted(); i++) {
            String target = survivors.get(i % survivors.size());
            attempts++;
            try (Wire wire = Wire.open(target)) {
                if (wire.connect(sessionId, password) != null) {
                    long back = System.nanoTime();
                    int err = wire.request(1, OpCode.SET_DATA, out -> {
                        writeString(out, PATH);
                        out.writeInt(8);
                        out.writeLong(back);
                        out.writeInt(-1);
                    });
                    if (err == 0) {
                        committedAt = System.nanoTime();
                        attachedAt = back;
                        attachedTo = target;
                        wire.request(2, OpCode.CLOSE_SESSION, out -> { });
                        return;
                    }
                }
            } catch (IOException notServing) {
                // refused, or closed by a member that does not serve yet: the next attempt
            }
            try {
                Thread.sleep(ATTEMPT_PAUSE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    void close() {
        try {
            holder.close();
        } catch (IOException ignored) {
            // the leader is dead; nothing to close
        }
    }

    double attachedMillis(long killedAt) {
        return attachedAt == 0 ? Double.NaN : (attachedAt - killedAt) / 1e6;
    }

    double committedMillis(long killedAt) {
        return committedAt == 0 ? Double.NaN : (committedAt - killedAt) / 1e6;
    }

    String attachedTo() {
        return attachedTo;
    }

    int attempts() {
        return attempts;
    }

    private static void writeString(DataOutputStream out, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    /** One connection speaking ZooKeeper's client protocol: length-prefixed jute records. */
    private static final class Wire implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;
        byte[] password;

        private Wire(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = new DataOutputStream(socket.getOutputStream());
        }

        static Wire open(String address) throws IOException {
            int colon = address.lastIndexOf(':');
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(address.substring(0, colon),
                        Integer.parseInt(address.substring(colon + 1))), ATTEMPT_TIMEOUT_MS);
                socket.setSoTimeout(ATTEMPT_TIMEOUT_MS);
                return new Wire(socket);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }

        /** ConnectRequest (a new session when {@code id} is 0); the session's id, or null if it has expired. */
        long[] connect(long id, byte[] passwd) throws IOException {
            frame(body -> {
                body.writeInt(0); // protocol version
                body.writeLong(0); // last zxid seen: none, so any member in the quorum may take the session
                body.writeInt(SESSION_TIMEOUT_MS);
                body.writeLong(id);
                body.writeInt(passwd.length);
                body.write(passwd);
                body.writeBoolean(false); // not read-only
            });
            DataInputStream reply = readFrame();
            reply.readInt(); // protocol version
            int timeout = reply.readInt();
            long session = reply.readLong();
            byte[] pw = new byte[reply.readInt()];
            reply.readFully(pw);
            if (timeout <= 0) {
                return null;
            }
            password = pw;
            return new long[] {session};
        }

        /** One request; its reply's error code. */
        int request(int xid, int type, Body body) throws IOException {
            frame(out -> {
                out.writeInt(xid);
                out.writeInt(type);
                body.write(out);
            });
            while (true) {
                DataInputStream reply = readFrame();
                int replyXid = reply.readInt();
                reply.readLong(); // zxid
                int err = reply.readInt();
                if (replyXid == xid) {
                    return err;
                }
                // a notification (xid -1) or a ping answer: not ours
            }
        }

        private void frame(Body body) throws IOException {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            body.write(new DataOutputStream(bytes));
            out.writeInt(bytes.size());
            bytes.writeTo(out);
            out.flush();
        }

        private DataInputStream readFrame() throws IOException {
            int length = in.readInt();
            if (length < 0 || length > 1 << 20) {
                throw new EOFException("bad frame length " + length);
            }
            byte[] frame = new byte[length];
            in.readFully(frame);
            return new DataInputStream(new java.io.ByteArrayInputStream(frame));
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
