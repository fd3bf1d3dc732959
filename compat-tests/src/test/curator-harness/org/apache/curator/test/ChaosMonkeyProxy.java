package org.apache.curator.test;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What Curator's {@code ChaosMonkeyCnxnFactory} (TestLeaderSelectorEdges sets it as Apache's
 * {@code zookeeper.serverCnxnFactory}) does inside Apache's server, done on the wire in front of a Tandem node, which
 * has no such plug-in point: the first create or create2 of a path under {@code /mylock/} is carried out but the
 * client never hears of it (the connection is closed once the server has answered), and for the next
 * {@link #LOCKOUT_MS} every request other than sync and ping closes its connection unanswered. createSession passes
 * (a reconnect's handshake is the first frame here, never a request), and so do auth and sasl packets, which Apache
 * answers without submitting them. One proxy per server start, as the factory makes one ZooKeeperServer per start.
 */
final class ChaosMonkeyProxy implements Closeable {
    /** The factory Curator's tests name; with it set, {@link ZooKeeperServerEmbeddedAdapter} starts this proxy. */
    static final String CHAOS_FACTORY = "org.apache.curator.framework.recipes.leader.ChaosMonkeyCnxnFactory";
    /** ChaosMonkeyCnxnFactory.CHAOS_ZNODE_PREFIX. */
    private static final String CHAOS_PREFIX = "/mylock/";
    /** ChaosMonkeyCnxnFactory.LOCKOUT_DURATION_MS. */
    static final long LOCKOUT_MS = 6000;
    private static final int FRAME_BYTES_MAX = 1 << 21;
    private static final int CREATE = 1;
    private static final int SYNC = 9;
    private static final int PING = 11;
    private static final int CREATE2 = 15;
    private static final int AUTH = 100;
    private static final int SASL = 102;
    private static final int AUTH_XID = -4;

    private final ServerSocket listener;
    private final int upstreamPort;
    private final AtomicLong firstErrorMillis = new AtomicLong();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    ChaosMonkeyProxy(int port, int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(port));
        Thread accept = new Thread(this::acceptLoop, "chaos-monkey-proxy-" + listener.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client = null;
            try {
                client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                new Connection(client, server).start();
            } catch (IOException e) {
                if (client != null) {
                    quietly(client); // the node is gone: the client sees a refused connection, as without the proxy
                }
                if (!closed) {
                    System.err.println("chaos monkey proxy: accept failed: " + e);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        for (Socket socket : open) {
            quietly(socket);
        }
    }

    private boolean lockedOut() {
        long first = firstErrorMillis.get();
        return first != 0 && System.currentTimeMillis() - first < LOCKOUT_MS;
    }

    /** One client connection: a thread per direction, both sockets closed together. */
    private final class Connection {
        private final Socket client;
        private final Socket server;
        /** Set once the chaos create is forwarded: its answer (xid {@link #doomedXid}) closes the connection. */
        private volatile boolean doomed;
        private volatile int doomedXid;

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
            open.add(client);
            open.add(server);
        }

        void start() {
            Thread up = new Thread(this::clientToServer, "chaos-monkey-up-" + client.getPort());
            Thread down = new Thread(this::serverToClient, "chaos-monkey-down-" + client.getPort());
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        private void clientToServer() {
            try (DataInputStream in = new DataInputStream(client.getInputStream())) {
                DataOutputStream out = new DataOutputStream(server.getOutputStream());
                forward(readFrame(in), out); // the ConnectRequest
                while (true) {
                    byte[] frame = readFrame(in);
                    if (doomed) {
                        continue; // Apache closed the connection in submitRequest: later requests are never read
                    }
                    ByteBuffer body = ByteBuffer.wrap(frame);
                    int xid = body.getInt();
                    int type = body.getInt();
                    boolean exempt = type == SYNC || type == PING || type == AUTH || type == SASL || xid == AUTH_XID;
                    if (!exempt && lockedOut()) {
                        System.err.println("chaos monkey proxy: rejected type " + type + " xid " + xid
                                + " (locked out), closing the connection");
                        shut();
                        return;
                    }
                    if ((type == CREATE || type == CREATE2) && readPath(body).startsWith(CHAOS_PREFIX)
                            && firstErrorMillis.compareAndSet(0, System.currentTimeMillis())) {
                        doomedXid = xid;
                        doomed = true;
                    }
                    forward(frame, out);
                }
            } catch (IOException e) {
                shut();
            }
        }

        private void serverToClient() {
            try (DataInputStream in = new DataInputStream(server.getInputStream())) {
                DataOutputStream out = new DataOutputStream(client.getOutputStream());
                forward(readFrame(in), out); // the ConnectResponse
                while (true) {
                    byte[] frame = readFrame(in);
                    int xid = ByteBuffer.wrap(frame).getInt();
                    if (doomed && xid == doomedXid) {
                        System.err.println("chaos monkey proxy: closing the connection right after the create of xid "
                                + xid + " was carried out");
                        shut();
                        return;
                    }
                    forward(frame, out);
                }
            } catch (IOException e) {
                shut();
            }
        }

        private void shut() {
            quietly(client);
            quietly(server);
            open.remove(client);
            open.remove(server);
        }
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > FRAME_BYTES_MAX) {
            throw new EOFException("frame length " + length + " outside [0, " + FRAME_BYTES_MAX + "]");
        }
        byte[] frame = new byte[length];
        in.readFully(frame);
        return frame;
    }

    private static void forward(byte[] frame, DataOutputStream out) throws IOException {
        synchronized (out) {
            out.writeInt(frame.length);
            out.write(frame);
            out.flush();
        }
    }

    /** The first field of CreateRequest and Create2's body: a jute string. */
    private static String readPath(ByteBuffer body) {
        if (body.remaining() < 4) {
            return "";
        }
        int length = body.getInt();
        if (length < 0 || length > body.remaining()) {
            return "";
        }
        byte[] path = new byte[length];
        body.get(path);
        return new String(path, StandardCharsets.UTF_8);
    }

    private static void quietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is all that is wanted
        }
    }
}
