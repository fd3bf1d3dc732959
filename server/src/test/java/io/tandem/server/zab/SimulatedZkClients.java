package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.tandem.server.zab.LinearizabilityChecker.Kind;
import io.tandem.server.zab.LinearizabilityChecker.Operation;
import io.tandem.server.zab.LinearizabilityChecker.Verdict;
import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.proto.SyncRequest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * ZooKeeper clients of the production ensemble member ({@link SimulatedMember}: EnsembleCommit, Preparer, DataTree
 * over the simulated Zab): each holds a session with one member, in ZooKeeper's own bytes through a real
 * ServerConnection, and issues one operation at a time on a few znodes: create, setData with an expected version (or
 * -1), delete with an expected version (or -1), and a read as ZooKeeper's {@code sync} then {@code getData}
 * (pipelined: the member answers in order, so the read sees at least what the leader had at the sync). No answer within
 * {@link #TIMEOUT_TICKS}, or a connection the member closes, leaves the operation's outcome unknown ("info"); the
 * client then opens a new session, maybe elsewhere. After the run every znode's history goes through
 * {@link LinearizabilityChecker} as a compare-and-set register.
 */
final class SimulatedZkClients {
    static final int TIMEOUT_TICKS = 40;
    private static final long SEARCH_STEPS_MAX = 2_000_000;
    /** Session timeout asked for; sessions never expire in a run (the members' session clock is the real one). */
    private static final int SESSION_TIMEOUT_MS = 30_000;

    private final ZabSimulator sim;
    private final SplittableRandom random;
    private final String[] paths;
    private final double opPerStep;
    private final Client[] clients;
    private final Map<String, List<Operation>> historyByPath = new TreeMap<>();
    private long event;
    private int nextOpId;

    private static final class Client {
        final int id;
        int server;
        SimulatedMember member;
        SimulatedMember.Connection connection;
        boolean connected;
        int nextXid = 1;
        long reconnectAtStep;
        Pending pending;

        Client(int id, int server) {
            this.id = id;
            this.server = server;
        }
    }

    private record Pending(int opId, String path, Kind kind, int value, int expectedVersion, long invokedAt,
                           long deadlineStep, int xid) {}

    SimulatedZkClients(ZabSimulator sim, long seed, int serverCount) {
        this.sim = sim;
        this.random = new SplittableRandom(seed ^ 0x2C11_E475L);
        this.paths = new String[1 + random.nextInt(3)];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = "/r" + i;
            historyByPath.put(paths[i], new ArrayList<>());
        }
        this.clients = new Client[2 + random.nextInt(4)];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = new Client(i + 1, 1 + random.nextInt(serverCount));
        }
        this.opPerStep = random.nextDouble(0.02, 0.15);
    }

    /** One simulator step: read replies, give up on late ones, reconnect, and maybe issue the next operation. */
    void step(long step) {
        for (Client client : clients) {
            readReplies(client);
            if (client.connection != null && lost(client)) {
                disconnect(client, step, "client connection closed by the member");
            }
            if (client.pending != null && step >= client.pending.deadlineStep()) {
                disconnect(client, step, "client operation timed out (info)");
            }
            if (client.connection == null && step >= client.reconnectAtStep) {
                connect(client);
            }
            if (client.connected && client.pending == null && random.nextDouble() < opPerStep) {
                issue(client, step);
            }
        }
    }

    /** The member went away (its node crashed and restarted with a new one) or closed the connection. */
    private boolean lost(Client client) {
        SimulatedNode node = sim.node(client.server);
        return node.member != client.member || !client.connection.isOpen();
    }

    private void disconnect(Client client, long step, String why) {
        sim.count(why);
        if (client.pending != null) {
            sim.count("client operation outcome unknown (info)");
            complete(client.pending, client.id, null);
            client.pending = null;
        }
        if (client.connection != null) {
            client.connection.close(); // releases what the member sent and the client never read
        }
        client.connection = null;
        client.member = null;
        client.connected = false;
        client.server = 1 + random.nextInt(sim.nodes.length);
        client.reconnectAtStep = step + 1 + random.nextInt(ZabSimulator.TICK_STEPS * 3);
    }

    private void connect(Client client) {
        SimulatedMember member = sim.node(client.server).member;
        if (member == null) {
            client.server = 1 + random.nextInt(sim.nodes.length);
            return;
        }
        client.member = member;
        client.connection = member.connect();
        client.connected = false;
        client.nextXid = 1;
        client.connection.send(new ConnectRequest(0, 0, SESSION_TIMEOUT_MS, 0, new byte[16], false));
    }

    private void issue(Client client, long step) {
        String path = paths[random.nextInt(paths.length)];
        int roll = random.nextInt(100);
        Kind kind = roll < 30 ? Kind.READ : roll < 45 ? Kind.CREATE : roll < 55 ? Kind.DELETE : Kind.SET;
        int expected = (kind == Kind.SET || kind == Kind.DELETE) && random.nextInt(4) != 0 ? random.nextInt(4) : -1;
        int opId = ++nextOpId;
        byte[] data = ByteBuffer.allocate(4).putInt(opId).array();
        int xid = client.nextXid++;
        switch (kind) {
            case CREATE -> client.connection.send(new RequestHeader(xid, OpCode.CREATE),
                    new CreateRequest(path, data, Acls.OPEN_ACL_UNSAFE, 0));
            case SET -> client.connection.send(new RequestHeader(xid, OpCode.SET_DATA),
                    new SetDataRequest(path, data, expected));
            case DELETE -> client.connection.send(new RequestHeader(xid, OpCode.DELETE),
                    new DeleteRequest(path, expected));
            case READ -> {
                client.connection.send(new RequestHeader(xid, OpCode.SYNC), new SyncRequest(path));
                xid = client.nextXid++;
                client.connection.send(new RequestHeader(xid, OpCode.GET_DATA), new GetDataRequest(path, false));
            }
        }
        client.pending = new Pending(opId, path, kind, opId, expected, ++event,
                step + (long) TIMEOUT_TICKS * ZabSimulator.TICK_STEPS, xid);
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
                    client.connected = response.sessionId() != 0;
                    sim.count(client.connected ? "client session established" : "client session refused");
                    continue;
                }
                ReplyHeader header = ReplyHeader.read(in);
                Pending pending = client.pending;
                if (pending == null || header.xid() != pending.xid()) {
                    continue; // a watch event, or the sync ahead of a read's getData
                }
                String result = result(pending.kind(), header.err(), in);
                client.pending = null;
                complete(pending, client.id, result);
                sim.count(result == null ? "client operation failed unexpectedly (info)"
                        : "client operation answered (ok)");
            } finally {
                frame.release();
            }
        }
    }

    /** The reply as the checker's model writes it; null (unknown) for an error the model does not have. */
    private static String result(Kind kind, int err, JuteInput in) {
        if (err == KeeperCode.NO_NODE.code()) {
            return "NONODE";
        }
        if (err == KeeperCode.NODE_EXISTS.code()) {
            return "NODEEXISTS";
        }
        if (err == KeeperCode.BAD_VERSION.code()) {
            return "BADVERSION";
        }
        if (err != 0) {
            return null;
        }
        return switch (kind) {
            case CREATE, DELETE -> "ok";
            case SET -> "ok:" + SetDataResponse.read(in).stat().version();
            case READ -> {
                GetDataResponse response = GetDataResponse.read(in);
                yield "v:" + ByteBuffer.wrap(response.data()).getInt() + ":" + response.stat().version();
            }
        };
    }

    private void complete(Pending pending, int client, String result) {
        if (result == null && pending.kind() == Kind.READ) {
            return; // a read with no answer changes nothing and tells nothing
        }
        historyByPath.get(pending.path()).add(new Operation(pending.opId(), client, pending.kind(), pending.value(),
                pending.expectedVersion(), pending.invokedAt(), result == null ? Long.MAX_VALUE : ++event, result));
    }

    /** After the run: what is still pending has an unknown outcome. */
    void finish() {
        for (Client client : clients) {
            if (client.pending != null) {
                complete(client.pending, client.id, null);
                client.pending = null;
            }
        }
    }

    void checkLinearizable() {
        finish();
        for (Map.Entry<String, List<Operation>> history : historyByPath.entrySet()) {
            Verdict verdict = LinearizabilityChecker.check(history.getValue(), SEARCH_STEPS_MAX);
            sim.count("znode histories " + verdict);
            if (verdict == Verdict.NOT_LINEARIZABLE) {
                StringBuilder ops = new StringBuilder();
                history.getValue().stream().sorted(Comparator.comparingLong(Operation::invokedAt))
                        .forEach(op -> ops.append("\n    ").append(op));
                throw sim.failure("the history of " + history.getKey() + " is not linearizable ("
                        + history.getValue().size() + " operations):" + ops);
            }
        }
    }

    /** The znodes whose histories are checked. */
    String[] paths() {
        return paths.clone();
    }

    String history() {
        return historyByPath.toString();
    }

    /** Operations with a known outcome. */
    long answered() {
        return historyByPath.values().stream().flatMap(List::stream).filter(op -> !op.unknown()).count();
    }
}
