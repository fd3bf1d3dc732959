package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.util.SplittableRandom;

/**
 * ZooKeeper clients that hold sessions with ephemeral znodes on the simulated members, to put session expiry under the
 * simulation ({@link SessionExpiryChecker} checks the members). Each holder opens a session with a short timeout (2 to
 * 15 ticks), creates ephemerals {@code /e<holder>-<n>} one at a time and pings every third of its timeout, as the
 * official client does. Now and then it:
 * <ul>
 *   <li>goes silent for half to three times its timeout, its connection open or closed, so the leader may expire the
 *       session (its ephemerals must then go, at one zxid everywhere);</li>
 *   <li>moves its session to another member (a new connection with the session's id and password);</li>
 *   <li>closes its session.</li>
 * </ul>
 * A connection the member closes is re-established with the same session at a random member, as the official client
 * does; a re-attach answered with timeout 0 means the session expired, and the holder opens a new one.
 * <p>In half the seeds ({@link #containers}) a third of the ephemerals go under a container {@code /c<holder>}, created
 * just before (pipelined, NODEEXISTS once it is there), as Curator's locks do: once the session's ephemerals are gone
 * the leader's {@code ContainerSweeper} deletes the empty container on the virtual clock, so the sweeps are part of a
 * seed's run and must replay with it.
 */
final class SimulatedSessionClients {
    private static final int FLAG_EPHEMERAL = 1;
    private static final int FLAG_CONTAINER = 4;
    private static final int XID_PING = -2;

    private final ZabSimulator sim;
    private final SessionExpiryChecker checker;
    private final SplittableRandom random;
    private final Holder[] holders;
    /** Whether some ephemerals go under containers; drawn apart, so that the other choices stay as they were. */
    private final boolean containers;
    private final SplittableRandom containerRandom;

    private static final class Holder {
        final int id;
        final int timeoutMs;
        int server;
        SimulatedMember member;
        SimulatedMember.Connection connection;
        boolean connected;
        long sessionId;
        byte[] password = new byte[16];
        int negotiatedMs;
        long lastZxidSeen;
        int nextXid = 1;
        long lastSendStep;
        long silentUntilStep = -1;
        long reconnectAtStep;
        int pendingXid;
        String pendingPath;
        boolean closing;
        int created;

        Holder(int id, int timeoutMs, int server) {
            this.id = id;
            this.timeoutMs = timeoutMs;
            this.server = server;
        }
    }

    SimulatedSessionClients(ZabSimulator sim, SessionExpiryChecker checker, long seed, int serverCount) {
        this.sim = sim;
        this.checker = checker;
        this.random = new SplittableRandom(seed ^ 0x5E55_10E5L);
        this.holders = new Holder[1 + random.nextInt(3)];
        for (int i = 0; i < holders.length; i++) {
            holders[i] = new Holder(i + 1, 100 * (2 + random.nextInt(14)), 1 + random.nextInt(serverCount));
        }
        // The salt leaves seeds 3071 and 3048 without containers: shouldPassTheSeedsThatCaughtDriverFlaws replays them
        // as they ran when they caught their flaws.
        this.containerRandom = new SplittableRandom(seed ^ 0xC0_47A1_4E2BL);
        this.containers = containerRandom.nextBoolean();
        if (containers) {
            sim.count("runs with containers");
        }
    }

    void step(long step) {
        for (Holder holder : holders) {
            readReplies(holder);
            if (holder.connection != null && lost(holder)) {
                dropConnection(holder, step, "session holder's connection closed by the member");
            }
            if (holder.silentUntilStep >= step) {
                continue;
            }
            if (holder.connection == null) {
                if (step >= holder.reconnectAtStep) {
                    connect(holder, step);
                }
                continue;
            }
            if (!holder.connected || holder.closing) {
                continue;
            }
            act(holder, step);
        }
    }

    private void act(Holder holder, long step) {
        int roll = random.nextInt(10_000);
        long timeoutSteps = (long) holder.negotiatedMs * 1_000_000L / ZabSimulator.STEP_NANOS;
        if (roll < 8) {
            // Silent for half to three times the timeout: the session may expire meanwhile.
            holder.silentUntilStep = step + timeoutSteps / 2 + random.nextLong(Math.max(1, timeoutSteps * 5 / 2));
            sim.count("session holder goes silent");
            if (random.nextBoolean()) {
                dropConnection(holder, step, "session holder closes its connection while silent");
                holder.reconnectAtStep = holder.silentUntilStep;
            }
            return;
        }
        if (roll < 20) {
            dropConnection(holder, step, "session moved to another member");
            holder.reconnectAtStep = step + 1 + random.nextInt(ZabSimulator.TICK_STEPS);
            return;
        }
        if (roll < 23 && holder.pendingPath == null) {
            holder.closing = true;
            send(holder, step, new RequestHeader(holder.nextXid++, OpCode.CLOSE_SESSION));
            return;
        }
        if (holder.pendingPath == null && roll < 100) {
            if (containers && containerRandom.nextInt(3) == 0) {
                String container = "/c" + holder.id;
                holder.pendingPath = container + "/e-" + (++holder.created);
                holder.pendingXid = holder.nextXid + 1;
                send(holder, step, new RequestHeader(holder.nextXid, OpCode.CREATE_CONTAINER),
                        new CreateRequest(container, new byte[0], Acls.OPEN_ACL_UNSAFE, FLAG_CONTAINER));
                send(holder, step, new RequestHeader(holder.pendingXid, OpCode.CREATE),
                        new CreateRequest(holder.pendingPath, new byte[] {1}, Acls.OPEN_ACL_UNSAFE, FLAG_EPHEMERAL));
                holder.nextXid += 2;
                sim.count("ephemeral created under a container (asked)");
                return;
            }
            holder.pendingPath = "/e" + holder.id + "-" + (++holder.created);
            holder.pendingXid = holder.nextXid++;
            send(holder, step, new RequestHeader(holder.pendingXid, OpCode.CREATE),
                    new CreateRequest(holder.pendingPath, new byte[] {1}, Acls.OPEN_ACL_UNSAFE, FLAG_EPHEMERAL));
            return;
        }
        if (step - holder.lastSendStep >= Math.max(1, timeoutSteps / 3)) {
            send(holder, step, new RequestHeader(XID_PING, OpCode.PING));
        }
    }

    private void send(Holder holder, long step, io.tandem.zk.wire.JuteRecord... records) {
        SimulatedNode node = sim.node(holder.server);
        boolean atLeader = node.machine != null && node.machine.isServing() && node.machine.role() == Role.LEADING;
        checker.contact(holder.sessionId, holder.negotiatedMs, atLeader, atLeader ? node.machine.epoch() : -1,
                node.nanoTime());
        holder.connection.send(records);
        holder.lastSendStep = step;
    }

    private boolean lost(Holder holder) {
        return sim.node(holder.server).member != holder.member || !holder.connection.isOpen();
    }

    /** The connection goes; the session stays with the holder, which comes back with it (maybe elsewhere). */
    private void dropConnection(Holder holder, long step, String why) {
        sim.count(why);
        if (holder.connection != null) {
            holder.connection.close();
        }
        holder.connection = null;
        holder.member = null;
        holder.connected = false;
        holder.pendingPath = null;
        holder.closing = false;
        holder.server = 1 + random.nextInt(sim.nodes.length);
        holder.reconnectAtStep = step + 1 + random.nextInt(ZabSimulator.TICK_STEPS * 2);
    }

    private void connect(Holder holder, long step) {
        SimulatedMember member = sim.node(holder.server).member;
        if (member == null) {
            holder.server = 1 + random.nextInt(sim.nodes.length);
            return;
        }
        holder.member = member;
        holder.connection = member.connect();
        holder.connected = false;
        if (holder.sessionId == 0) {
            // xids go on growing within a session, across its connections, as the official client's ClientCnxn does:
            // members match a committed write to the request waiting for it by session and xid.
            holder.nextXid = 1;
        }
        holder.lastSendStep = step;
        holder.connection.send(new ConnectRequest(0, holder.lastZxidSeen, holder.timeoutMs, holder.sessionId,
                holder.password, false));
    }

    private void readReplies(Holder holder) {
        if (holder.connection == null) {
            return;
        }
        for (ByteBuf frame : holder.connection.frames()) {
            try {
                JuteInput in = new JuteInput(frame);
                if (!holder.connected) {
                    ConnectResponse response = ConnectResponse.read(in);
                    if (response.timeOut() <= 0 || response.sessionId() == 0) {
                        // Expired (or closed) while the holder was away: start afresh, as the application would.
                        sim.count(holder.sessionId == 0 ? "session holder refused" : "session re-attach refused (expired)");
                        holder.sessionId = 0;
                        holder.password = new byte[16];
                        continue;
                    }
                    if (holder.sessionId != 0 && holder.sessionId == response.sessionId()) {
                        sim.count("session re-attached");
                    }
                    holder.connected = true;
                    holder.sessionId = response.sessionId();
                    holder.password = response.passwd();
                    holder.negotiatedMs = response.timeOut();
                    continue;
                }
                ReplyHeader header = ReplyHeader.read(in);
                if (header.zxid() > 0) {
                    holder.lastZxidSeen = Math.max(holder.lastZxidSeen, header.zxid());
                }
                if (holder.closing && header.xid() != XID_PING && header.xid() > 0) {
                    sim.count("session closed by its holder (answered)");
                    holder.sessionId = 0;
                    holder.password = new byte[16];
                    holder.closing = false;
                    continue;
                }
                if (holder.pendingPath != null && header.xid() == holder.pendingXid) {
                    if (header.err() == 0) {
                        checker.acknowledgedEphemeral(holder.pendingPath, holder.sessionId);
                        sim.count("ephemeral created");
                    }
                    holder.pendingPath = null;
                }
            } finally {
                frame.release();
            }
        }
    }
}
