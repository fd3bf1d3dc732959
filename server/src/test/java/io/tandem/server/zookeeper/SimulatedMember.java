package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tandem.server.zab.Role;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabServer;
import io.tandem.server.zab.Members;
import io.tandem.server.zab.MembershipReader;
import io.tandem.storage.zk.SnapshotBody;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import io.tandem.zk.wire.ZkFrameDecoder;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One ensemble member's ZooKeeper side for the deterministic Zab simulator: the production {@link EnsembleCommit} over
 * a real {@link DataTree}, {@link Preparer}, {@link SessionTracker} and {@link Responder} ({@link
 * ZkServer#simulatedMember}), with the simulator's Zab behind {@link EnsembleZab} and its virtual clock. The
 * commit thread's turns run on the simulator's thread, right after each thing Zab reports, so a seed replays exactly;
 * what the member hands Zab ({@code submit}, {@code compact}) waits in an outbox, as it waits in ZabServer's inbox,
 * until the simulator feeds it to the driver. Clients talk to it through real {@link ServerConnection}s on Netty's
 * {@link EmbeddedChannel}, in ZooKeeper's own bytes.
 */
public final class SimulatedMember implements ZabServer.Application {
    /** What the member reads of its Zab node; the simulator answers from its state machine. */
    public interface ZabSide {
        boolean isServing();

        Role role();

        int leaderId();

        long committedZxid();

        boolean isObserver();

        /** Whether Zab follows as a joiner no configuration names yet (a non-voting follower, as Apache's). */
        default boolean isJoining() {
            return false;
        }

        /** On the leader: whether {@code id} is it or a learner synced with it. */
        boolean isSyncedWithLeader(int id);

        /** Stores a snapshot of the tree at {@code zxid} (the simulator adds its own state) and returns it. */
        SnapshotData writeSnapshot(long zxid, byte[] tree);
    }

    /**
     * Something the member handed Zab: a write to submit, a snapshot to compact up to, or (with {@code members}) the
     * members of a configuration applied at {@code compactZxid}.
     */
    public record ToZab(byte[] txn, long compactZxid, SnapshotData snapshot, Members members) {
        ToZab(byte[] txn, long compactZxid, SnapshotData snapshot) {
            this(txn, compactZxid, snapshot, null);
        }
    }

    /**
     * A transaction the member applied: its zxid, type, session and cxid (the header's; an expiry's cxid is 0), the
     * path a delete names (else null), its time (the leader's clock when it prepared it, in virtual nanos), and for a
     * reconfig the configuration it made (the text of {@code /zookeeper/config}, its version stamped from the zxid).
     */
    public record Applied(long zxid, int type, long sessionId, int cxid, String deletedPath, long timeNanos,
                          String config) {}

    /**
     * What the member's tree and sessions look like after a turn of its commit thread that applied something, with
     * the transactions applied in that turn (in order) and whether a snapshot replaced the tree first.
     */
    public interface TreeObserver {
        void afterTurn(int memberId, List<Applied> applied, boolean snapshotInstalled, Map<String, Long> ephemerals,
                       Set<Long> sessions);
    }

    /** The super user's digest credentials (addauth digest): the only user allowed to reconfig. */
    public static final String SUPER_AUTH = "super:simulated";

    /** The simulated clock starts at a fixed wall time, so transaction times replay too. */
    private static final long EPOCH_MILLIS = 1_700_000_000_000L;

    private final ZkServer server;
    private final EnsembleCommit commit;
    private final ZabSide side;
    private final List<ToZab> outbox = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();
    private final int myId;
    /** Commits handed to the commit thread and not yet seen applied (the tree's zxid tells). */
    private final List<long[]> unappliedZxids = new ArrayList<>();
    private final List<byte[]> unappliedTxns = new ArrayList<>();
    private boolean snapshotPending;
    private final List<TreeObserver> observers = new ArrayList<>();
    private Role reportedRole;
    private int reportedLeader = -2;
    private boolean reportedServing;

    /**
     * @param voters voter ids are 1..voters, observers the next {@code observers} ids; a higher {@code myId} is a
     *               joiner's, whose zoo.cfg names itself too
     * @param snapCount transactions between the member's own snapshots ({@code snapCount})
     * @param nanos the simulator's virtual clock
     */
    public SimulatedMember(int myId, int voters, int observers, int snapCount, ZabSide side,
                           java.util.function.LongSupplier nanos) {
        this(myId, voters, observers, snapCount, false, side, nanos);
    }

    /** @param readOnlyMode zoo.cfg's {@code readonlymode.enabled} */
    public SimulatedMember(int myId, int voters, int observers, int snapCount, boolean readOnlyMode, ZabSide side,
                           java.util.function.LongSupplier nanos) {
        this.side = side;
        this.myId = myId;
        Map<String, String> settings = new HashMap<>();
        for (int id = 1; id <= voters + observers; id++) {
            settings.put("server." + id, "127.0.0.1:" + (2000 + id) + ":" + (3000 + id)
                    + (id > voters ? ":observer" : ""));
        }
        if (myId > voters + observers) {
            // A joiner: its zoo.cfg names the ensemble and itself, as an Apache server to be added by a reconfig.
            settings.put("server." + myId, "127.0.0.1:" + (2000 + myId) + ":" + (3000 + myId));
        }
        // The simulator's tick is 100 ms: EnsembleCommit's lost-write deadline (2 x syncLimit ticks, at least 2 s) is
        // then 20 simulated ticks. Sessions expire on the virtual clock: timeouts from 2 ticks up to 300 (30 s, the
        // length of a seed's faulty phase), so a client picks whether its session may expire within a run.
        settings.put("tickTime", "100");
        settings.put("syncLimit", "5");
        if (readOnlyMode) {
            settings.put(ZkServerConfig.READ_ONLY_MODE, "true");
        }
        // Containers are swept every 5 ticks (Apache's default is a minute, longer than a run): SimulatedSessionClients'
        // containers are deleted within the run, on the virtual clock. A sweep's deletions all go out in its first turn
        // (maxPerMinute above 60000: Apache's interval between them, a minute divided by it in whole ms, is 0), so the
        // seeds keep the schedules they had before deletions were paced; the pace itself is ContainerPacingTest's.
        Map<String, String> serverSettings = Map.of("tickTime", "100", "maxSessionTimeout", "30000",
                "snapCount", Integer.toString(snapCount), "reconfigEnabled", "true",
                "znode.container.checkIntervalMs", "500", "znode.container.maxPerMinute", "60000000");
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", 0, Path.of("simulated"), serverSettings::get);
        CommitClock clock = new CommitClock() {
            @Override
            public long nanoTime() {
                return nanos.getAsLong();
            }

            @Override
            public long currentTimeMillis() {
                return EPOCH_MILLIS + nanos.getAsLong() / 1_000_000;
            }
        };
        this.server = ZkServer.simulatedMember(config, Acls.digest(SUPER_AUTH), myId, settings, new ZabHandle(), clock);
        this.commit = (EnsembleCommit) server.commitPath();
    }

    /** The production server behind this member, for tests of its commit thread's queues. */
    ZkServer server() {
        return server;
    }

    /** The mutation the checker must catch: the leader prepares against the applied tree, not its outstanding changes. */
    public void forgetOutstandingChangesBeforeEachPrepare() {
        commit.beforeLeaderPrepare = server.preparer::clear;
    }

    /** The mutation the session checker must catch: the leader expires sessions after a quarter of their timeout. */
    public void expireSessionsEarly() {
        server.sessions.expiryTimeoutDivisor = 4;
    }

    /** The committed configuration, the text of {@code /zookeeper/config}. */
    public String config() {
        return new String(server.tree.getNode(SpecialPaths.CONFIG).data(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The mutation the read-only checker must catch: in read-only mode writes are answered OK (and not done). */
    public void answerWritesInReadOnlyMode() {
        commit.readOnlyMode().refusesWrites = false;
    }

    /** Whether the member is in read-only mode (cut off from its quorum, serving read-only clients). */
    public boolean readOnly() {
        return commit.readOnlyMode().active();
    }

    /** Reports each turn that applied something to {@code observer} (the simulator's session checker). */
    public void observeTree(TreeObserver observer) {
        observers.add(observer);
    }

    /** Ephemeral znodes by path, with their owner session. */
    public Map<String, Long> ephemerals() {
        Map<String, Long> owners = new TreeMap<>();
        server.tree.allEphemerals().forEach((owner, paths) -> paths.forEach(path -> owners.put(path, owner)));
        return owners;
    }

    /** The ids of the sessions the member holds (those of its tree: createSession applied, closeSession not). */
    public Set<Long> sessionIds() {
        return new TreeSet<>(server.sessions.byId().keySet());
    }

    /** The Zab stand-in EnsembleCommit talks to. */
    private final class ZabHandle implements EnsembleZab {
        @Override
        public boolean submit(byte[] txn) {
            outbox.add(new ToZab(txn.clone(), -1, null));
            return true;
        }

        @Override
        public boolean isServing() {
            return side.isServing();
        }

        @Override
        public Role role() {
            return side.role();
        }

        @Override
        public int leaderId() {
            return side.leaderId();
        }

        @Override
        public long committedZxid() {
            return side.committedZxid();
        }

        @Override
        public boolean isObserver() {
            return side.isObserver();
        }

        @Override
        public boolean isRecovering() {
            return false;
        }

        @Override
        public SnapshotData writeSnapshot(long zxid, SnapshotBody body) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                body.writeTo(out);
            }
            return side.writeSnapshot(zxid, bytes.toByteArray());
        }

        @Override
        public boolean compact(long zxid, SnapshotData snapshot) {
            outbox.add(new ToZab(null, zxid, snapshot));
            return true;
        }

        @Override
        public boolean changeMembers(long zxid, Map<Integer, io.tandem.server.zab.QuorumTransport.Peer> members) {
            int[] voters = members.values().stream().filter(peer -> !peer.observer())
                    .mapToInt(io.tandem.server.zab.QuorumTransport.Peer::id).toArray();
            int[] observers = members.values().stream().filter(io.tandem.server.zab.QuorumTransport.Peer::observer)
                    .mapToInt(io.tandem.server.zab.QuorumTransport.Peer::id).toArray();
            outbox.add(new ToZab(null, zxid, null, new Members(voters, observers)));
            return true;
        }

        @Override
        public boolean isSyncedWithLeader(int id) {
            return side.isSyncedWithLeader(id);
        }

        @Override
        public boolean isJoining() {
            return side.isJoining();
        }

        @Override
        public ZabServer.Stats stats() {
            return null;
        }

        @Override
        public void close() {
        }
    }

    // ------------------------------------------------------------------------------------------------ from Zab

    @Override
    public void onCommit(long zxid, byte[] txn) {
        unappliedZxids.add(new long[] {zxid});
        unappliedTxns.add(txn.clone());
        commit.onCommit(zxid, txn);
        turn();
    }

    @Override
    public void onSnapshot(long zxid, SnapshotData snapshot) {
        // Commits queued before it are applied before it; those it covers never reach the tree separately.
        snapshotPending = true;
        commit.onSnapshot(zxid, snapshot);
        turn();
    }

    @Override
    public byte[] prepareForwarded(byte[] request) {
        byte[] result = commit.prepareForwarded(request);
        turn();
        return result;
    }

    @Override
    public void onConfigAdopted(long version, Members adopted) {
        commit.onConfigAdopted(version, adopted);
        turn();
    }

    /** After each Ready: reports a change of role, leader or serving, as ZabServer's publishState does. */
    public void observeRole(long epoch) {
        Role role = side.role();
        int leader = side.leaderId();
        boolean serving = side.isServing();
        if (role != reportedRole || leader != reportedLeader || serving != reportedServing) {
            reportedRole = role;
            reportedLeader = leader;
            reportedServing = serving;
            commit.onRoleChange(role, leader, epoch);
            turn();
        }
    }

    /** One turn of the commit thread: what is queued, then its tick. */
    public void turn() {
        long before = server.tree.lastProcessedZxid();
        boolean snapshot = snapshotPending;
        try {
            server.runCommitTurn();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Connection connection : connections) {
            connection.channel.runPendingTasks();
        }
        reportApplied(before, snapshot);
    }

    /** Tells the observer what this turn applied: the queued commits up to the tree's zxid now. */
    private void reportApplied(long before, boolean snapshot) {
        long now = server.tree.lastProcessedZxid();
        if (now == before && !snapshot) {
            return;
        }
        snapshotPending = false;
        List<Applied> applied = new ArrayList<>();
        while (!unappliedZxids.isEmpty() && unappliedZxids.get(0)[0] <= now) {
            long zxid = unappliedZxids.remove(0)[0];
            byte[] txn = unappliedTxns.remove(0);
            if (!snapshot) {
                applied.add(describe(zxid, txn)); // after a snapshot the tree is the leader's: only its state counts
            }
        }
        if (!observers.isEmpty()) {
            Map<String, Long> ephemerals = ephemerals();
            // A view, not a sorted copy: the observers only ask whether a session is held, within this turn, and
            // copying every session each turn was a twentieth of a member simulation's time.
            Set<Long> sessions = Collections.unmodifiableSet(server.sessions.byId().keySet());
            for (TreeObserver observer : observers) {
                observer.afterTurn(myId, applied, snapshot, ephemerals, sessions);
            }
        }
    }

    private static Applied describe(long zxid, byte[] txn) {
        JuteInput in = new JuteInput(Unpooled.wrappedBuffer(txn), Integer.MAX_VALUE);
        TxnHeader header = TxnHeader.read(in);
        String deleted = null;
        String config = null;
        if (header.type() == OpCode.DELETE) {
            deleted = ((DeleteTxn) Jute.txnBody(header.type(), in)).path();
        } else if (header.type() == OpCode.RECONFIG) {
            SetDataTxn stamped = Reconfig.stamped((SetDataTxn) Jute.txnBody(header.type(), in), zxid);
            config = new String(stamped.data(), java.nio.charset.StandardCharsets.UTF_8);
        }
        return new Applied(zxid, header.type(), header.clientId(), header.cxid(), deleted,
                (header.time() - EPOCH_MILLIS) * 1_000_000L, config);
    }

    /** What the member handed Zab since the last call, in order. */
    @Override
    public MembershipReader membershipReader() {
        return commit.membershipReader();
    }

    public List<ToZab> takeOutbox() {
        List<ToZab> taken = List.copyOf(outbox);
        outbox.clear();
        return taken;
    }

    public long lastProcessedZxid() {
        return server.tree.lastProcessedZxid();
    }

    public boolean serving() {
        return "leader".equals(commit.mode()) || "follower".equals(commit.mode()) || "observer".equals(commit.mode());
    }

    /**
     * Everything replicated, as text: every znode's path, data and stat (the times of {@code /zookeeper/config} aside:
     * each member fills it from its own configuration at start), and the sessions with their timeouts.
     */
    public String fingerprint() {
        StringBuilder text = new StringBuilder();
        TreeMap<String, DataNode> sorted = new TreeMap<>();
        for (Map.Entry<String, DataNode> entry : server.tree.entries()) {
            sorted.put(entry.getKey(), entry.getValue());
        }
        sorted.forEach((path, node) -> {
            var stat = node.stat();
            boolean config = path.equals(SpecialPaths.CONFIG);
            text.append(path).append(' ').append(Arrays.toString(node.data())).append(' ')
                    .append(config ? "" : stat.czxid() + "/" + stat.ctime() + "/" + stat.mtime() + "/")
                    .append(stat.mzxid()).append('/').append(stat.version()).append('/').append(stat.cversion())
                    .append('/').append(stat.ephemeralOwner()).append('/').append(stat.numChildren()).append('/')
                    .append(stat.pzxid()).append('\n');
        });
        new TreeMap<>(SnapshotFormat.sessionTimeouts(server.sessions.byId()))
                .forEach((id, timeout) -> text.append("session ").append(Long.toHexString(id)).append(' ')
                        .append(timeout).append('\n'));
        return text.toString();
    }

    // ------------------------------------------------------------------------------------------------ clients

    /** A client's connection to this member: a real {@link ServerConnection} behind zk-wire's frame decoder. */
    public final class Connection {
        private final EmbeddedChannel channel;
        private ByteBuf received = Unpooled.buffer();

        private Connection() {
            // Registered after the handlers are in, so the connection sees channelActive as on a real socket.
            channel = new EmbeddedChannel(false, false);
            channel.pipeline().addLast(new ZkFrameDecoder(server.config.frameBytesMax(), true),
                    new ServerConnection(server, channel));
            try {
                channel.register();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Sends one frame made of {@code records} (a ConnectRequest, or a RequestHeader and its body). */
        public void send(JuteRecord... records) {
            ByteBuf frame = Unpooled.buffer();
            frame.writeInt(0);
            for (JuteRecord record : records) {
                record.writeTo(frame);
            }
            frame.setInt(0, frame.readableBytes() - 4);
            channel.writeInbound(frame);
            channel.runPendingTasks();
        }

        /** The frames the server wrote since the last call, without their length prefix. */
        public List<ByteBuf> frames() {
            channel.runPendingTasks();
            ByteBuf out;
            while ((out = channel.readOutbound()) != null) {
                received.writeBytes(out);
                out.release();
            }
            List<ByteBuf> frames = new ArrayList<>();
            while (received.readableBytes() >= 4 && received.readableBytes() >= 4 + received.getInt(received.readerIndex())) {
                int length = received.readInt();
                frames.add(received.readRetainedSlice(length));
            }
            received.discardReadBytes();
            return frames;
        }

        boolean released() {
            return received == Unpooled.EMPTY_BUFFER;
        }

        public boolean isOpen() {
            return channel.isOpen();
        }

        /** Closes the connection (if the member has not) and releases what was sent to it and never read. */
        public void close() {
            channel.close();
            channel.runPendingTasks();
            channel.releaseOutbound();
            received.release();
            received = Unpooled.EMPTY_BUFFER;
        }
    }

    /** Closes every client connection (the end of a seed), releasing what the clients never read. */
    public void closeConnections() {
        for (Connection connection : connections) {
            connection.close();
        }
        connections.clear();
    }

    public Connection connect() {
        Connection connection = new Connection();
        connections.add(connection);
        connections.removeIf(c -> !c.isOpen() && c != connection && c.released());
        return connection;
    }
}
