package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Clients that accept read-only sessions ({@code canBeReadOnly}), to put read-only mode ({@code readonlymode.enabled},
 * on in most member seeds) under the simulation. Each connects to a random member and, one request at a time, reads a
 * znode of the linearizability clients ({@code /r<n>}) or writes one of its own ({@code /ro<client>}, so the
 * linearizable histories stay theirs). In seeds with read-only mode one member is also cut off for 30 to 60 ticks, longer
 * than the 2 s (20 ticks) a member waits before it serves read-only. Checked on every reply of a connection the member
 * accepted as read-only (its ConnectResponse says so):
 * <ul>
 *   <li>a read-only member never acknowledges a write: every write is answered NOTREADONLY;</li>
 *   <li>it never serves a read newer than it has: the reply's zxid is at most what the member has applied, the read's
 *       mzxid at most the reply's zxid, and the data read is what the committed transaction at that mzxid wrote;</li>
 * </ul>
 * and at the end, once every member serves again, no read-only connection is left open (the members went back to
 * read-write and dropped their read-only clients, who reconnect).
 */
final class SimulatedReadOnlyClients {
    private static final int SESSION_TIMEOUT_MS = 2_000;

    private final ZabSimulator sim;
    private final SplittableRandom random;
    private final Client[] clients;
    private final String[] readPaths;
    private final long isolateAtStep;
    private final long healAtStep;
    private int isolated;

    private static final class Client {
        final int id;
        int server;
        SimulatedMember member;
        SimulatedMember.Connection connection;
        boolean connected;
        boolean readOnly;
        int nextXid = 1;
        long reconnectAtStep;
        int pendingXid;
        /** The pending request: a read of this path, or a write (null). */
        String pendingRead;
        boolean pendingWrite;
        int writes;

        Client(int id, int server) {
            this.id = id;
            this.server = server;
        }
    }

    /**
     * @param isolate whether to cut one member off long enough for read-only mode (seeds with it enabled)
     */
    SimulatedReadOnlyClients(ZabSimulator sim, long seed, int serverCount, String[] readPaths, boolean isolate) {
        this.sim = sim;
        this.random = new SplittableRandom(seed ^ 0x0EAD_0411L);
        this.readPaths = readPaths;
        this.clients = new Client[1 + random.nextInt(2)];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = new Client(i + 1, 1 + random.nextInt(serverCount));
        }
        long isolateTick = 20 + random.nextInt(180);
        this.isolateAtStep = isolate ? isolateTick * ZabSimulator.TICK_STEPS : -1;
        this.healAtStep = isolateAtStep + (30 + random.nextInt(31)) * (long) ZabSimulator.TICK_STEPS;
        this.isolated = 1 + random.nextInt(serverCount);
    }

    void step(long step) {
        if (step == isolateAtStep) {
            sim.isolate(isolated);
            sim.count("member cut off for read-only mode");
            // Some clients go to the member that will be alone (the official client would find it when others fail).
            for (Client client : clients) {
                if (random.nextBoolean()) {
                    drop(client, step);
                    client.server = isolated;
                }
            }
        } else if (step == healAtStep) {
            sim.heal();
        }
        for (Client client : clients) {
            readReplies(client);
            if (client.connection != null && lost(client)) {
                if (client.readOnly && client.member == sim.node(client.server).member && !client.member.readOnly()) {
                    sim.count("read-only mode left: the member dropped its read-only client");
                }
                drop(client, step);
            }
            if (client.connection == null) {
                if (step >= client.reconnectAtStep) {
                    connect(client, step);
                }
                continue;
            }
            if (client.connected && client.pendingXid == 0 && random.nextInt(10) == 0) {
                issue(client);
            }
        }
    }

    private boolean lost(Client client) {
        return sim.node(client.server).member != client.member || !client.connection.isOpen();
    }

    private void drop(Client client, long step) {
        if (client.connection != null) {
            client.connection.close();
        }
        client.connection = null;
        client.member = null;
        client.connected = false;
        client.readOnly = false;
        client.pendingXid = 0;
        client.server = 1 + random.nextInt(sim.nodes.length);
        client.reconnectAtStep = step + 1 + random.nextInt(ZabSimulator.TICK_STEPS * 2);
    }

    private void connect(Client client, long step) {
        SimulatedMember member = sim.node(client.server).member;
        if (member == null) {
            client.server = 1 + random.nextInt(sim.nodes.length);
            return;
        }
        client.member = member;
        client.connection = member.connect();
        client.connected = false;
        client.nextXid = 1;
        // A fresh session each time, as the official client does until it has seen a read-write server.
        client.connection.send(new ConnectRequest(0, 0, SESSION_TIMEOUT_MS, 0, new byte[16], true));
    }

    private void issue(Client client) {
        client.pendingXid = client.nextXid++;
        if (random.nextInt(3) == 0) {
            client.pendingRead = null;
            client.pendingWrite = true;
            String path = "/ro" + client.id;
            byte[] data = {(byte) ++client.writes};
            if (random.nextBoolean()) {
                client.connection.send(new RequestHeader(client.pendingXid, OpCode.CREATE),
                        new CreateRequest(path, data, Acls.OPEN_ACL_UNSAFE, 0));
            } else {
                client.connection.send(new RequestHeader(client.pendingXid, OpCode.SET_DATA),
                        new SetDataRequest(path, data, -1));
            }
        } else {
            client.pendingWrite = false;
            client.pendingRead = readPaths[random.nextInt(readPaths.length)];
            client.connection.send(new RequestHeader(client.pendingXid, OpCode.GET_DATA),
                    new GetDataRequest(client.pendingRead, false));
        }
    }

    private void readReplies(Client client) {
        if (client.connection == null) {
            return;
        }
        for (ByteBuf frame : client.connection.frames()) {
            try {
                JuteInput in = new JuteInput(frame);
                if (!client.connected) {
                    ConnectResponse response = ConnectResponse.read(in);
                    client.connected = response.timeOut() > 0;
                    client.readOnly = client.connected && Boolean.TRUE.equals(response.readOnly());
                    if (client.readOnly) {
                        sim.count("read-only session established");
                    }
                    continue;
                }
                ReplyHeader header = ReplyHeader.read(in);
                if (header.xid() != client.pendingXid || client.pendingXid == 0) {
                    continue;
                }
                client.pendingXid = 0;
                if (client.readOnly) {
                    checkReadOnlyReply(client, header, in);
                }
            } finally {
                frame.release();
            }
        }
    }

    private void checkReadOnlyReply(Client client, ReplyHeader header, JuteInput in) {
        int member = client.server;
        if (client.pendingWrite) {
            if (header.err() != KeeperCode.NOT_READ_ONLY.code()) {
                throw sim.failure("member " + member + " in read-only mode answered a write of client " + client.id
                        + " with error " + header.err() + " instead of NOTREADONLY ("
                        + KeeperCode.NOT_READ_ONLY.code() + ")");
            }
            sim.count("read-only write refused (NOTREADONLY)");
            return;
        }
        if (header.zxid() > client.member.lastProcessedZxid()) {
            throw sim.failure("member " + member + " in read-only mode answered a read at zxid "
                    + Zxid.toString(header.zxid()) + " but has applied only "
                    + Zxid.toString(client.member.lastProcessedZxid()));
        }
        if (header.err() != 0) {
            sim.count("read-only read answered with an error");
            return;
        }
        GetDataResponse response = GetDataResponse.read(in);
        long mzxid = response.stat().mzxid();
        if (mzxid > header.zxid()) {
            throw sim.failure("member " + member + " in read-only mode served " + client.pendingRead
                    + " modified at " + Zxid.toString(mzxid) + ", newer than its reply's zxid "
                    + Zxid.toString(header.zxid()));
        }
        byte[] written = committedData(client.pendingRead, mzxid);
        if (written == null || !Arrays.equals(written, response.data())) {
            throw sim.failure("member " + member + " in read-only mode served " + client.pendingRead + " = "
                    + Arrays.toString(response.data()) + " (mzxid " + Zxid.toString(mzxid) + "), which no committed "
                    + "transaction wrote (committed there: " + Arrays.toString(written) + ")");
        }
        sim.count("read-only read served");
    }

    /** The data the committed transaction at {@code zxid} wrote to {@code path}, or null if it wrote none there. */
    private byte[] committedData(String path, long zxid) {
        Map<Long, byte[]> txns = committedTxns();
        byte[] txn = txns.get(zxid);
        if (txn == null) {
            return null;
        }
        JuteInput in = new JuteInput(Unpooled.wrappedBuffer(txn), Integer.MAX_VALUE);
        TxnHeader header = TxnHeader.read(in);
        if (header.type() == OpCode.CREATE || header.type() == OpCode.CREATE2) {
            CreateTxn create = CreateTxn.read(in);
            return create.path().equals(path) ? create.data() : null;
        }
        if (header.type() == OpCode.SET_DATA) {
            SetDataTxn set = SetDataTxn.read(in);
            return set.path().equals(path) ? set.data() : null;
        }
        return null;
    }

    private Map<Long, byte[]> committedTxns() {
        Map<Long, byte[]> byZxid = new HashMap<>();
        for (LogEntry entry : sim.checker().committed()) {
            byZxid.put(entry.zxid(), entry.txn());
        }
        return byZxid;
    }

    /** After healing, with every member serving: no read-only connection may be left open. */
    void checkEnd() {
        for (Client client : clients) {
            if (client.readOnly && client.connection != null && client.connection.isOpen()
                    && client.member == sim.node(client.server).member && client.member.serving()) {
                throw sim.failure("member " + client.server + " serves again but kept the read-only connection of "
                        + "client " + client.id);
            }
        }
        for (SimulatedNode node : sim.nodes) {
            // A member a reconfig removed while it was down may restart without learning it (its snapshot is older):
            // cut off for good, it may serve read-only as any cut-off member does.
            if (node.member.readOnly() && sim.isMember(node.id)) {
                throw sim.failure("member " + node.id + " is still in read-only mode after healing");
            }
        }
    }
}
