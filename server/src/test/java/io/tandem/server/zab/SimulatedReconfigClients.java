package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.ReconfigRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A super user issuing reconfig requests (op 16) to random members: re-stating the ensemble (incremental with nobody
 * joining or leaving, which commits a new configuration version), removing a voter, making a voter an observer or an
 * observer a voter, adding a joiner or a member removed earlier (which follows on as a non-voter) as a voter or an
 * observer, or adding an observer that never shows up (server 9); sometimes from a stale version
 * ({@code -from}). Every success is checked against what the members applied ({@link ReconfigChecker}); the server
 * refuses what Apache refuses (fewer than two voters, no synced quorum of the new voters, one in progress, ...).
 */
final class SimulatedReconfigClients {
    private static final int TIMEOUT_TICKS = 40;

    private enum Kind { RESTATE, REMOVE, DEMOTE, PROMOTE, ADD }

    private final ZabSimulator sim;
    private final ReconfigChecker checker;
    private final SplittableRandom random;
    private final SplittableRandom roles;
    /** The pending request adds back a member a reconfig removed earlier. */
    private boolean pendingReAdd;
    private int server;
    private SimulatedMember member;
    private SimulatedMember.Connection connection;
    private boolean connected;
    private boolean authenticated;
    private int nextXid = 1;
    private long reconnectAtStep;
    private int pendingXid;
    private Kind pendingKind;
    private long pendingDeadline;
    private long lastVersion;

    SimulatedReconfigClients(ZabSimulator sim, ReconfigChecker checker, long seed, int serverCount) {
        this.sim = sim;
        this.checker = checker;
        this.random = new SplittableRandom(seed ^ 0x2EC0_F16L);
        this.roles = new SplittableRandom(seed ^ 0x0ADD_BAC4L);
        this.server = 1 + random.nextInt(serverCount);
    }

    void step(long step) {
        readReplies();
        if (connection != null && (sim.node(server).member != member || !connection.isOpen()
                || (pendingXid != 0 && step >= pendingDeadline))) {
            drop(step);
        }
        if (connection == null) {
            if (step >= reconnectAtStep) {
                connect();
            }
            return;
        }
        // While a member is out, requests come more often (drawn apart, so the other seeds replay as before): a
        // removal tends to come late in a run, and without this a member is seldom added back before its end.
        if (authenticated && pendingXid == 0
                && (random.nextInt(100) == 0 || (removedMember() > 0 && roles.nextInt(25) == 0))) {
            issue(step);
        }
    }

    private void drop(long step) {
        connection.close();
        connection = null;
        member = null;
        connected = false;
        authenticated = false;
        pendingXid = 0;
        server = 1 + random.nextInt(sim.nodes.length);
        reconnectAtStep = step + 1 + random.nextInt(ZabSimulator.TICK_STEPS * 2);
    }

    private void connect() {
        SimulatedMember target = sim.node(server).member;
        if (target == null) {
            server = 1 + random.nextInt(sim.nodes.length);
            return;
        }
        member = target;
        connection = target.connect();
        nextXid = 1;
        connection.send(new ConnectRequest(0, 0, 30_000, 0, new byte[16], false));
    }

    private void issue(long step) {
        int roll = random.nextInt(8);
        pendingKind = roll < 3 ? Kind.RESTATE : roll < 4 ? Kind.REMOVE : roll < 6 ? Kind.DEMOTE : roll < 7
                ? Kind.PROMOTE : Kind.ADD;
        long from = random.nextInt(4) == 0 && lastVersion != 0 ? lastVersion : -1;
        // Any server of the simulation, whatever the newest configuration makes it (the server judges). One that no
        // configuration names (a joiner, or a member removed earlier: started again, it follows as a joiner) is only
        // added, as a voter or an observer; without one, the observer that never shows up (server 9) is.
        int id = 1 + random.nextInt(sim.nodes.length);
        int removedEarlier = removedMember();
        if (removedEarlier > 0 && roles.nextBoolean()) {
            id = removedEarlier; // half the requests while one is out are about it, or re-adds would be rare
        }
        boolean removed = !sim.isMember(id) && (sim.joiners == null || !sim.joiners.isJoiner(id));
        if (!sim.isMember(id) && pendingKind != Kind.RESTATE && pendingKind != Kind.ADD) {
            pendingKind = sim.joiners != null || removed ? Kind.ADD : Kind.RESTATE;
        }
        String added;
        if (removed && pendingKind == Kind.ADD) {
            // A member a reconfig removed follows on as a non-voter: added back, as a voter or an observer. Its role
            // is drawn from a random of its own, so the seeds that never re-add replay as before.
            added = line(id, roles.nextBoolean());
        } else {
            added = sim.joiners != null && !sim.isMember(id) ? line(id, random.nextBoolean())
                    : "server.9=127.0.0.1:2009:3009:observer;127.0.0.1:2189";
        }
        pendingReAdd = removed && pendingKind == Kind.ADD;
        if (pendingReAdd) {
            sim.count("removed member added back: reconfig issued");
        }
        ReconfigRequest request = switch (pendingKind) {
            case RESTATE -> new ReconfigRequest(null, null, null, from);
            case REMOVE -> new ReconfigRequest(null, Integer.toString(id), null, from);
            case DEMOTE -> new ReconfigRequest(line(id, true), null, null, from);
            case PROMOTE -> new ReconfigRequest(line(id, false), null, null, from);
            case ADD -> new ReconfigRequest(added, null, null, from);
        };
        pendingXid = nextXid++;
        pendingDeadline = step + (long) TIMEOUT_TICKS * ZabSimulator.TICK_STEPS;
        connection.send(new RequestHeader(pendingXid, OpCode.RECONFIG), request);
    }

    /** The lowest-numbered server the simulation started as a member that the newest configuration leaves out, or 0. */
    private int removedMember() {
        for (int id = 1; id <= sim.nodes.length; id++) {
            if (!sim.isMember(id) && (sim.joiners == null || !sim.joiners.isJoiner(id))) {
                return id;
            }
        }
        return 0;
    }

    /** A simulated member's line (SimulatedMember's addresses) with a client port, as a joiner's must have. */
    private static String line(int id, boolean observer) {
        return "server." + id + "=127.0.0.1:" + (2000 + id) + ":" + (3000 + id) + (observer ? ":observer" : "")
                + ";127.0.0.1:" + (2180 + id);
    }

    private void readReplies() {
        if (connection == null) {
            return;
        }
        for (ByteBuf frame : connection.frames()) {
            try {
                JuteInput in = new JuteInput(frame);
                if (!connected) {
                    connected = ConnectResponse.read(in).timeOut() > 0;
                    if (connected && connection.isOpen()) { // else dropped at the next step
                        connection.send(new RequestHeader(Xids.AUTH, OpCode.AUTH), new AuthPacket(0, "digest",
                                SimulatedMember.SUPER_AUTH.getBytes(StandardCharsets.UTF_8)));
                    }
                    continue;
                }
                ReplyHeader header = ReplyHeader.read(in);
                if (header.xid() == Xids.AUTH) {
                    authenticated = header.err() == 0;
                    continue;
                }
                if (pendingXid == 0 || header.xid() != pendingXid) {
                    continue;
                }
                pendingXid = 0;
                if (header.err() != 0) {
                    sim.count("reconfig " + pendingKind + " refused with " + header.err());
                    continue;
                }
                sim.count("reconfig " + pendingKind + " acknowledged");
                if (pendingReAdd) {
                    sim.count("removed member added back by an acknowledged reconfig");
                }
                String config = new String(GetDataResponse.read(in).data(), StandardCharsets.UTF_8);
                checker.acknowledged(config, server);
                for (String line : config.split("\n")) {
                    if (line.startsWith("version=")) {
                        lastVersion = Long.parseUnsignedLong(line.substring("version=".length()).trim(), 16);
                    }
                }
            } finally {
                frame.release();
            }
        }
    }
}
