package io.tandem.server.zab;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * A deterministic simulator for the production Zab driver in the style of TigerBeetle's VOPR: every node is a
 * {@link ZabDriver} (the class {@link ZabServer} runs) over a simulated {@link ZabDisk} (in memory; a crash loses what
 * was appended but not synced, all of it, none of it or a prefix), a simulated {@link ZabNetwork} (loss, duplication,
 * reordering, delay, partitions) and a virtual {@link ZabClock}. One seed decides every delay, loss, duplication,
 * reordering, partition, crash (possibly in the middle of executing a {@link Ready}: the simulated disk, network or
 * application stops the driver at the chosen step) and client write, so a failing seed replays exactly. Checkers run
 * after every step.
 *
 * <p>Time advances in steps of {@link #STEP_NANOS} on the virtual clock; each driver ticks every {@link #TICK_STEPS}
 * steps, at a phase of its own. Seeded runs also model the transport's connections ({@link SimulatedConnections}):
 * the driver's peerConnected / peerDisconnected inputs, with their delays and flaws; the driver's own finalize timer
 * then runs on the virtual clock.
 */
final class ZabSimulator {
    static final int TICK_STEPS = 10;
    /** One step on the virtual clock; a tick is {@link #TICK_STEPS} of them. */
    static final long STEP_NANOS = 10_000_000;
    /** The finalize wait when connections are not modelled: never (ticks alone drive elections, as they did). */
    private static final long FINALIZE_NEVER_NANOS = Long.MAX_VALUE / 4;
    private static final int TRACE_LINES_MAX = 300;
    /** How often a message held by a partition on a live connection is retried. */
    private static final int HELD_RETRY_STEPS = 5;

    /** What survives a crash of the log's unsynced tail. */
    enum Tail { KEEP, LOSE, RANDOM_PREFIX }

    /**
     * Steps of executing a Ready, in the order the contract requires; a crash can hit before any of them. PROPOSE is the
     * sending of the messages allowed out before the fsync (a leader's proposals), SEND that of the rest.
     */
    enum ReadyStep { PROPOSE, INSTALL_SNAPSHOT, TRUNCATE, APPEND, SYNC, PERSIST_EPOCHS, SEND, APPLY }

    /** Thrown by a simulated disk, network or application to stop a driver where a crash was scheduled. */
    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash() {
            super("simulated crash", null, false, false);
        }
    }



    final class Node implements ZabNetwork, ZabClock, ZabServer.Application {
        final int id;
        final SimulatedDisk disk = new SimulatedDisk(ZabSimulator.this, this);
        /** The production driver while the node is up, and its machine (null while down). */
        ZabDriver driver;
        ZabStateMachine machine;
        SimulatedApp app = new SimulatedApp();
        /** With members: the production ZooKeeper side (EnsembleCommit and its tree) while the node is up. */
        io.tandem.server.zookeeper.SimulatedMember member;
        int restarts;
        long restartAtStep = -1;
        long appliedSinceSnapshot;
        final int tickPhase;
        Role lastRole;
        /** A crash scheduled inside the Ready being executed: before which step, and what of the tail survives. */
        ReadyStep crashAt;
        Tail crashTail;
        /** Messages of the current Ready still to go out before its fsync. */
        int earlyMessagesLeft;
        boolean earlyProposalsSent;

        Node(int id, int tickPhase) {
            this.id = id;
            this.tickPhase = tickPhase;
        }

        boolean isUp() {
            return machine != null;
        }

        /** This node's clock: the simulation's, shifted by its phase so that nodes tick at different steps. */
        @Override
        public long nanoTime() {
            return (step + tickPhase) * STEP_NANOS;
        }

        @Override
        public void send(int peer, List<ZabMessage> messages) {
            ReadyStep sending = earlyMessagesLeft > 0 ? ReadyStep.PROPOSE : ReadyStep.SEND;
            if (sending == ReadyStep.PROPOSE) {
                earlyMessagesLeft -= messages.size();
                earlyProposalsSent |= messages.stream().anyMatch(m -> m instanceof ZabMessage.Proposal);
            }
            if (crashAt != null && sending.compareTo(crashAt) >= 0) {
                // A crash while sending: some prefix of the messages made it out.
                int sent = random.nextInt(messages.size() + 1);
                for (ZabMessage message : messages.subList(0, sent)) {
                    ZabSimulator.this.send(id, peer, message);
                }
                throw new SimulatedCrash();
            }
            for (ZabMessage message : messages) {
                ZabSimulator.this.send(id, peer, message);
            }
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
            reach(this, ReadyStep.APPLY);
            LogEntry entry = new LogEntry(zxid, txn);
            checker.onApply(this, entry);
            app.apply(entry);
            appliedSinceSnapshot++;
            if (member != null) {
                member.onCommit(zxid, txn);
            }
            if (clients != null) {
                clients.onApplied(this, new String(txn, StandardCharsets.UTF_8));
            }
        }

        @Override
        public void onConfigAdopted(long version, Members adopted) {
            if (member != null) {
                member.onConfigAdopted(version, adopted); // the production member takes it as ZabServer hands it
            }
        }

        @Override
        public byte[] prepareForwarded(byte[] request) {
            if (member != null) {
                return member.prepareForwarded(request);
            }
            return clients == null ? request : clients.prepareForwarded(this, request);
        }

        @Override
        public void onSnapshot(long zxid, SnapshotData snapshot) {
            reach(this, ReadyStep.APPLY);
            try {
                byte[] bytes = snapshot.readAllBytes();
                app = SimulatedApp.fromSnapshot(members ? appPart(bytes) : bytes);
                if (member != null) {
                    member.onSnapshot(zxid, SnapshotData.of(treePart(bytes)));
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            appliedSinceSnapshot = 0;
            checker.onSnapshotInstalled(this);
        }
    }

    /** A member's snapshot: the simulator's own state (for its checkers), then the member's tree. */
    private static byte[] memberSnapshot(byte[] app, byte[] tree) {
        return java.nio.ByteBuffer.allocate(4 + app.length + tree.length).putInt(app.length).put(app).put(tree).array();
    }

    private static byte[] appPart(byte[] snapshot) {
        if (snapshot == null) {
            return null;
        }
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(snapshot);
        return Arrays.copyOfRange(snapshot, 4, 4 + buffer.getInt());
    }

    private static byte[] treePart(byte[] snapshot) {
        int appLength = java.nio.ByteBuffer.wrap(snapshot).getInt();
        return Arrays.copyOfRange(snapshot, 4 + appLength, snapshot.length);
    }

    /** A member's transaction, readable: its ZooKeeper header and its bytes in hex. */
    static String describeMemberTxn(byte[] txn) {
        String header;
        try {
            header = io.tandem.zk.wire.txn.TxnHeader.read(
                    new io.tandem.zk.wire.JuteInput(io.netty.buffer.Unpooled.wrappedBuffer(txn))).toString();
        } catch (RuntimeException e) {
            header = "(no ZooKeeper header: " + e + ")";
        }
        return header + " " + java.util.HexFormat.of().formatHex(txn);
    }

    /** What a member reads of its node's Zab: the state machine's answers. */
    private io.tandem.server.zookeeper.SimulatedMember.ZabSide zabSide(Node node) {
        return new io.tandem.server.zookeeper.SimulatedMember.ZabSide() {
            @Override
            public boolean isServing() {
                return node.machine != null && node.machine.isServing();
            }

            @Override
            public Role role() {
                return node.machine == null ? Role.LOOKING : node.machine.role();
            }

            @Override
            public int leaderId() {
                return node.machine == null ? -1 : node.machine.leaderId();
            }

            @Override
            public long committedZxid() {
                return node.machine == null ? 0 : node.machine.committedZxid();
            }

            @Override
            public boolean isObserver() {
                return node.machine == null ? !isVoter(node.id) : node.machine.isObserver();
            }

            @Override
            public boolean isRemoved() {
                return node.machine != null && node.machine.isRemoved();
            }

            @Override
            public boolean isSyncedWithLeader(int id) {
                return node.machine != null && Arrays.stream(node.machine.syncedMembers()).anyMatch(m -> m == id);
            }

            @Override
            public SnapshotData writeSnapshot(long zxid, byte[] tree) {
                if (node.app.appliedZxid != zxid) {
                    throw failure("node " + node.id + " snapshots its tree at " + Zxid.toString(zxid)
                            + " but applied " + Zxid.toString(node.app.appliedZxid));
                }
                count("member snapshot");
                return SnapshotData.of(memberSnapshot(node.app.snapshot(), tree));
            }
        };
    }

    /** With a lying disk (the checkers' own test): this fsync keeps nothing. */
    boolean fsyncLies() {
        return faults.lyingFsync() && random.nextBoolean();
    }

    /** The driver is about to execute a step of a Ready: crash here if one is scheduled at or before it. */
    void reach(Node node, ReadyStep readyStep) {
        if (node.crashAt != null && readyStep.compareTo(node.crashAt) >= 0) {
            if (node.earlyProposalsSent && readyStep.compareTo(ReadyStep.SYNC) <= 0) {
                count("leader crashed after sending proposals, before its fsync");
            }
            throw new SimulatedCrash();
        }
    }

    private record InFlight(long deliverAt, long order, int from, int to, ZabMessage message, long connection,
                            boolean held) {}

    final long seed;
    private final SplittableRandom random;
    private Faults faults;
    final Node[] nodes;
    private final int[] voterIds;
    /** Non-voting members (ids after the voters): they sync and apply like followers but count in no quorum. */
    private final int[] observerIds;
    private final ZabConfig baseConfig;
    private long step;
    private long messageOrder;
    private final PriorityQueue<InFlight> network = new PriorityQueue<>(
            (a, b) -> a.deliverAt != b.deliverAt ? Long.compare(a.deliverAt, b.deliverAt) : Long.compare(a.order, b.order));
    private final long[][] lastDeliveryStep;
    private final int[] partitionSide;
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private long writesSubmitted;
    private long writesAccepted;
    private final HistoryChecker checker = new HistoryChecker(this);
    /** The quorum transport's connections and their peerDisconnected notifications (disabled: always connected). */
    private final SimulatedConnections connections;
    /**
     * Like ZabServer's loop (group commit), step every message due for a node in this step before one
     * {@link ZabDriver#advance}, instead of advancing after each; randomized runs choose it per seed.
     */
    private boolean batchInputs;
    /** ZooKeeper-like client sessions whose histories must be linearizable; randomized runs only. */
    private SimulatedClients clients;
    /**
     * Every node runs the production ZooKeeper side ({@link io.tandem.server.zookeeper.SimulatedMember}) over its Zab,
     * and {@link #zkClients} talk to it; the simulator's own writes and client stand-ins are off then.
     */
    boolean members;
    private int memberSnapCount;
    private boolean memberStalePrep;
    private SimulatedZkClients zkClients;
    /** With members: sessions with ephemerals, and the checker of sessions and ephemerals on every member. */
    private final SessionExpiryChecker sessionChecker = new SessionExpiryChecker(this);
    private SimulatedSessionClients sessionClients;
    /** Mutation: every member's leader expires sessions after a quarter of their timeout. */
    private boolean memberEarlyExpiry;
    /** With members: zoo.cfg's readonlymode.enabled, and the clients that accept read-only sessions. */
    private boolean memberReadOnly;
    private SimulatedReadOnlyClients readOnlyClients;
    /** Mutation: members in read-only mode answer writes OK. */
    private boolean memberReadOnlyWrites;
    /** With members: the reconfig checker, and a super user issuing reconfigs. */
    private ReconfigChecker reconfigChecker;
    private SimulatedReconfigClients reconfigClients;
    /** Mutation: every leader commits a reconfig with a quorum of the old voters only (no joint quorum). */
    private boolean oldQuorumOnly;
    /** What the run exercised, for the summary line: sync modes, crashes, partitions. */
    final Map<String, Long> stats = new TreeMap<>();
    /** Test hook: crash node (first) right before the given step of a Ready that matches. */
    private BiPredicate<Node, Ready> crashTrigger;
    /**
     * Chance that a node restarting during the faulty phase finds its disk damaged (log, snapshot or currentEpoch): the
     * driver sets its history aside and it restarts recovering. Drawn from its own random, so seeds without damage
     * replay as before; never more damaged nodes at once than leaves a quorum undamaged (else nobody can lead).
     */
    double corruptAtRestart;
    private final SplittableRandom diskDamage;
    private ReadyStep crashTriggerStep;
    private Tail crashTriggerTail;

    ZabSimulator(long seed, int nodeCount, Faults faults, ZabConfig limits) {
        this(seed, nodeCount, faults, limits, null);
    }

    /** With {@code connectionParams}, connections are modelled and disconnects notified; null keeps them always up. */
    ZabSimulator(long seed, int nodeCount, Faults faults, ZabConfig limits,
                 SimulatedConnections.Params connectionParams) {
        this(seed, nodeCount, 0, faults, limits, connectionParams);
    }

    /** {@code voterCount} voters (ids 1..) and {@code observerCount} observers (the ids after them). */
    ZabSimulator(long seed, int voterCount, int observerCount, Faults faults, ZabConfig limits,
                 SimulatedConnections.Params connectionParams) {
        this(seed, voterCount, observerCount, faults, limits, connectionParams, 0, false, false);
    }

    /** With {@code memberSnapCount > 0}, every node runs the production ZooKeeper side too ({@link #withMembers}). */
    private ZabSimulator(long seed, int voterCount, int observerCount, Faults faults, ZabConfig limits,
                         SimulatedConnections.Params connectionParams, int memberSnapCount, boolean memberStalePrep,
                         boolean memberReadOnly) {
        this.members = memberSnapCount > 0;
        this.memberReadOnly = memberReadOnly;
        this.memberSnapCount = memberSnapCount;
        this.memberStalePrep = memberStalePrep;
        int nodeCount = voterCount + observerCount;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.faults = faults;
        this.nodes = new Node[nodeCount];
        this.voterIds = new int[voterCount];
        for (int i = 0; i < voterCount; i++) {
            voterIds[i] = i + 1;
        }
        this.observerIds = new int[observerCount];
        for (int i = 0; i < observerCount; i++) {
            observerIds[i] = voterCount + i + 1;
        }
        if (observerCount > 0) {
            count("runs with observers");
        }
        this.baseConfig = limits;
        this.lastDeliveryStep = new long[nodeCount + 1][nodeCount + 1];
        this.partitionSide = new int[nodeCount + 1];
        this.diskDamage = new SplittableRandom(seed ^ 0xD15C_DA3A_6EL);
        for (int i = 0; i < nodeCount; i++) {
            nodes[i] = new Node(i + 1, random.nextInt(TICK_STEPS));
        }
        this.connections = new SimulatedConnections(this, nodeCount, connectionParams, seed);
        this.reconfigChecker = members ? new ReconfigChecker(this, voterCount, observerCount) : null;
        for (Node node : nodes) {
            start(node);
        }
    }

    /**
     * A seeded run like {@link #randomized(long)} whose members run the production ZooKeeper side (EnsembleCommit,
     * Preparer, DataTree, sessions) with ZooKeeper clients; with {@code stalePrep} every leader prepares against its
     * applied tree only, which the linearizability check must catch.
     */
    static ZabSimulator withMembers(long seed, boolean stalePrep) {
        SplittableRandom choose = new SplittableRandom(seed ^ 0x3E3B_E125L);
        int voters = choose.nextInt(3) == 0 ? 5 : 3;
        int observers = choose.nextInt(4) == 0 ? 1 : 0;
        Faults faults = Faults.random(choose);
        faults = new Faults(faults.lossPerMessage(), faults.duplicatePerMessage(), faults.reorderPerMessage(),
                faults.delayStepsMax(), faults.crashPerTick(), faults.crashInsideReady(), faults.partitionPerTick(), 0,
                faults.downTicksMax(), 0, false);
        int initLimit = 4 + choose.nextInt(12);
        int syncLimit = 2 + choose.nextInt(initLimit - 1);
        ZabConfig limits = new ZabConfig(1, new int[] {1}, initLimit, syncLimit, choose.nextInt(3), 1000);
        SimulatedConnections.Params connections = SimulatedConnections.Params.random(choose);
        int snapCount = choose.nextInt(3) == 0 ? 1_000_000 : 5 + choose.nextInt(40);
        // Read-only mode in two seeds of three, drawn apart so the other choices stay as they were.
        boolean readOnly = new SplittableRandom(seed ^ 0x0EAD_0E1AL).nextInt(3) != 0;
        ZabSimulator sim = new ZabSimulator(seed, voters, observers, faults, limits, connections, snapCount,
                stalePrep, readOnly);
        sim.zkClients = new SimulatedZkClients(sim, seed, voters + observers);
        sim.sessionClients = new SimulatedSessionClients(sim, sim.sessionChecker, seed, voters + observers);
        sim.readOnlyClients = new SimulatedReadOnlyClients(sim, seed, voters + observers, sim.zkClients.paths(),
                readOnly);
        sim.reconfigClients = new SimulatedReconfigClients(sim, sim.reconfigChecker, seed, voters + observers);
        sim.batchInputs = choose.nextBoolean();
        return sim;
    }

    /** The mutation the session checker must catch: every leader expires sessions after a quarter of their timeout. */
    void expireSessionsEarly() {
        memberEarlyExpiry = true;
        for (Node node : nodes) {
            if (node.member != null) {
                node.member.expireSessionsEarly();
            }
        }
    }

    /** The end of a run: every member's client connections close (what the clients never read is released). */
    void closeClientConnections() {
        for (Node node : nodes) {
            if (node.member != null) {
                node.member.closeConnections();
            }
        }
    }

    /** The mutation the read-only checker must catch: members in read-only mode answer writes OK. */
    void answerWritesInReadOnlyMode() {
        memberReadOnlyWrites = true;
        for (Node node : nodes) {
            if (node.member != null) {
                node.member.answerWritesInReadOnlyMode();
            }
        }
    }

    /** The mutation the reconfig checker must catch: Zab counts the old voters only while a reconfig is pending. */
    void countOldQuorumOnly() {
        oldQuorumOnly = true;
        for (Node node : nodes) {
            if (node.machine != null) {
                node.machine.membership.countsActiveVotersOnly = true;
            }
        }
    }

    /** Whether node {@code id}'s disk holds {@code zxid} durably: synced in its log, or under its snapshot. */
    boolean durableOn(int id, long zxid) {
        SimulatedDisk disk = node(id).disk;
        if (disk.snapshot != null && disk.snapshotZxid >= zxid) {
            return true;
        }
        for (LogEntry entry : disk.synced) {
            if (entry.zxid() == zxid) {
                return true;
            }
        }
        return false;
    }

    boolean readOnlyModeEnabled() {
        return memberReadOnly;
    }

    SimulatedReadOnlyClients readOnlyClients() {
        return readOnlyClients;
    }

    SessionExpiryChecker sessionChecker() {
        return sessionChecker;
    }

    /** A seeded run with seed-chosen size and fault rates: what the VOPR-style test runs. */
    static ZabSimulator randomized(long seed) {
        return randomized(seed, false);
    }

    /** With {@code lyingFsync}, every disk's fsync often keeps nothing: the checkers must object. */
    static ZabSimulator randomized(long seed, boolean lyingFsync) {
        SplittableRandom choose = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int nodeCount = choose.nextInt(3) == 0 ? 5 : 3;
        Faults faults = Faults.random(choose);
        int initLimit = 4 + choose.nextInt(12);
        int syncLimit = 2 + choose.nextInt(initLimit - 1);
        ZabConfig limits = new ZabConfig(1, new int[] {1}, initLimit, syncLimit, choose.nextInt(3), 1000);
        double corruptAtRestart = choose.nextInt(3) == 0 ? choose.nextDouble(0.02, 0.3) : 0;
        SimulatedConnections.Params connections = SimulatedConnections.Params.random(choose);
        if (Boolean.getBoolean("zab.harshConnections")) {
            connections = connections.harsh(choose);
        }
        // Drawn from a random of its own, so the seeds without observers replay exactly as before they existed.
        SplittableRandom chooseObservers = new SplittableRandom(seed ^ 0x0B5E_47E5L);
        int observers = chooseObservers.nextInt(4) == 0 ? 1 + chooseObservers.nextInt(2) : 0;
        ZabSimulator sim = new ZabSimulator(seed, nodeCount, observers,
                lyingFsync ? faults.withLyingFsync() : faults, limits, connections);
        sim.corruptAtRestart = corruptAtRestart;
        sim.addClients(false);
        // Drawn from a random of its own, like the observers, so that the other choices of a seed stay as they were.
        sim.batchInputs = new SplittableRandom(seed ^ 0xBA7C_4ED1L).nextBoolean();
        return sim;
    }

    // ------------------------------------------------------------------------------------------------ control

    Node node(int id) {
        return nodes[id - 1];
    }

    void setFaults(Faults faults) {
        this.faults = faults;
    }

    /** Breaks the connection between two nodes now, as a reset would; only with connections modelled. */
    void dropConnection(int a, int b) {
        Checks.require(connections.enabled(), "connections are not modelled");
        connections.drop(a, b, step);
    }

    boolean connectionUp(int a, int b) {
        return connections.isUp(a, b);
    }

    /** Stops random connection drops and false disconnect notifications (crashes and partitions still close). */
    void calmConnections() {
        connections.calm();
    }

    long writesAccepted() {
        return writesAccepted;
    }

    long writesSubmitted() {
        return writesSubmitted;
    }

    HistoryChecker checker() {
        return checker;
    }

    SimulatedClients clients() {
        return clients;
    }

    SimulatedZkClients zkClients() {
        return zkClients;
    }

    /**
     * Adds client sessions; with {@code stalePrep} the leader's prep step ignores what it proposed and has not
     * committed yet, which the linearizability check must catch.
     */
    void addClients(boolean stalePrep) {
        clients = new SimulatedClients(this, seed, nodes.length, stalePrep);
    }

    void crashWhen(BiPredicate<Node, Ready> trigger, ReadyStep step, Tail tail) {
        this.crashTrigger = trigger;
        this.crashTriggerStep = step;
        this.crashTriggerTail = tail;
    }

    void runTicks(int ticks) {
        for (int i = 0; i < ticks * TICK_STEPS; i++) {
            runStep();
        }
    }

    /** Runs until {@code condition} holds or {@code ticksMax} pass; returns whether it held. */
    boolean runUntil(java.util.function.BooleanSupplier condition, int ticksMax) {
        for (int i = 0; i < ticksMax * TICK_STEPS; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            runStep();
        }
        return condition.getAsBoolean();
    }

    /** Every node but {@code node}. */
    List<Node> othersThan(Node node) {
        List<Node> others = new ArrayList<>();
        for (Node candidate : nodes) {
            if (candidate != node) {
                others.add(candidate);
            }
        }
        return others;
    }

    /** The zxid the transaction with this UTF-8 text committed under, or -1 while it has not committed. */
    long committedZxidOf(String text) {
        for (LogEntry entry : checker().committed()) {
            if (new String(entry.txn(), StandardCharsets.UTF_8).equals(text)) {
                return entry.zxid();
            }
        }
        return -1;
    }

    /** Runs until {@code node} is up and has applied the committed transaction {@code text}; whether it did. */
    boolean runUntilApplied(Node node, String text, int ticksMax) {
        return runUntil(() -> committedZxidOf(text) > 0 && node.isUp()
                && node.app.appliedZxid >= committedZxidOf(text), ticksMax);
    }

    Node establishedLeader() {
        Node found = null;
        for (Node node : nodes) {
            if (node.isUp() && node.machine.isEstablishedLeader()) {
                if (found == null || node.machine.epoch() > found.machine.epoch()) {
                    found = node;
                }
            }
        }
        return found;
    }

    boolean submit(int id, byte[] txn) {
        Node node = node(id);
        if (!node.isUp()) {
            return false;
        }
        writesSubmitted++;
        boolean[] accepted = new boolean[1];
        runOn(node, () -> accepted[0] = node.driver.submit(txn));
        if (accepted[0]) {
            writesAccepted++;
        }
        return accepted[0];
    }

    void crash(int id, Tail tail) {
        crash(node(id), tail, -1);
    }

    void restart(int id) {
        Node node = node(id);
        Checks.require(!node.isUp(), "node %d is up", id);
        start(node);
    }

    /** Damages the disk of a node that is down: at its next start the driver sets its history aside. */
    void corruptDisk(int id) {
        Node node = node(id);
        Checks.require(!node.isUp(), "node %d is up", id);
        node.disk.recovering = true;
        node.disk.currentEpoch = 0; // acceptedEpoch, the node's promise, is kept (a damaged one refuses to start)
        node.disk.snapshotZxid = 0;
        node.disk.snapshot = null;
        node.disk.synced.clear();
        node.disk.unsynced.clear();
        trace("disk of " + id + " damaged: history set aside, recovering");
        count("disk damaged at restart");
    }

    private boolean mayDamageDisk(Node node) {
        // Only voters' damage can cost the ensemble its quorum; an observer's never does.
        int damaged = isVoter(node.id) ? 1 : 0;
        for (Node other : nodes) {
            if (other != node && other.disk.recovering && isVoter(other.id)) {
                damaged++;
            }
        }
        int voters = voterIds.length;
        return node.restarts > 0 && !node.disk.recovering && faults.crashPerTick() > 0
                && diskDamage.nextDouble() < corruptAtRestart && damaged <= voters - (voters / 2 + 1);
    }

    /** The voters of the configuration in force at {@code zxid}. */
    java.util.Set<Integer> votersAt(long zxid) {
        if (reconfigChecker != null) {
            return reconfigChecker.votersAt(zxid);
        }
        java.util.Set<Integer> voters = new java.util.TreeSet<>();
        for (int id : voterIds) {
            voters.add(id);
        }
        return voters;
    }

    /** A voter of the newest committed configuration (zoo.cfg's until a reconfig changes it). */
    boolean isVoter(int id) {
        return reconfigChecker != null ? reconfigChecker.isVoter(id) : id <= voterIds.length;
    }

    /**
     * A member of the newest committed configuration: one a reconfig removed takes part in nothing and serves nobody,
     * so the end-of-run checks leave it out.
     */
    boolean isMember(int id) {
        return reconfigChecker == null || reconfigChecker.isMember(id);
    }

    void isolate(int id) {
        partitionSide[id] = 100 + id;
        trace("partition: isolate " + id);
        connections.onPartition(step);
    }

    /** Puts the listed ids on one side and everyone else on the other. */
    void partition(int... side) {
        Arrays.fill(partitionSide, 0);
        for (int id : side) {
            partitionSide[id] = 1;
        }
        trace("partition: " + Arrays.toString(side) + " | rest");
        connections.onPartition(step);
    }

    void heal() {
        Arrays.fill(partitionSide, 0);
        trace("partition healed");
    }

    boolean connected(int a, int b) {
        return partitionSide[a] == partitionSide[b];
    }

    // ------------------------------------------------------------------------------------------------ the loop

    void runStep() {
        step++;
        deliverDueMessages();
        connections.step(step, step % TICK_STEPS == 0);
        for (Node node : nodes) {
            if (!node.isUp() && node.restartAtStep >= 0 && step >= node.restartAtStep) {
                start(node);
            }
        }
        for (Node node : nodes) {
            if (node.isUp() && (step + node.tickPhase) % TICK_STEPS == 0) {
                if (random.nextDouble() < faults.crashPerTick()) {
                    crash(node, randomTail(), step + TICK_STEPS * (1 + random.nextInt(Math.max(1, faults.downTicksMax()))));
                    continue;
                }
                if (random.nextDouble() < faults.partitionPerTick()) {
                    randomPartition();
                }
            }
        }
        advanceDrivers();
        if (clients != null) {
            clients.step(step);
        }
        if (zkClients != null) {
            zkClients.step(step);
        }
        if (sessionClients != null) {
            sessionClients.step(step);
        }
        if (readOnlyClients != null) {
            readOnlyClients.step(step);
        }
        if (reconfigClients != null) {
            reconfigClients.step(step);
        }
        if (members) {
            stepMembers();
        }
        if (faults.writePerStep() > 0 && random.nextDouble() < faults.writePerStep()) {
            Node target = nodes[random.nextInt(nodes.length)];
            if (target.isUp()) {
                submit(target.id, ("s" + seed + "-w" + writesSubmitted).getBytes(StandardCharsets.UTF_8));
            }
        }
        checker.afterStep();
        if (step % TICK_STEPS == 0) {
            checker.checkCommittedDurableOnQuorum();
        }
    }


    /** Each member's commit thread takes its turn, then what it handed Zab reaches the driver, as from ZabServer's inbox. */
    private void stepMembers() {
        for (Node node : nodes) {
            if (node.member == null) {
                continue;
            }
            node.member.turn();
            flushOutbox(node);
        }
    }

    void flushOutbox(Node node) {
        while (node.member != null) {
            List<io.tandem.server.zookeeper.SimulatedMember.ToZab> outbox = node.member.takeOutbox();
            if (outbox.isEmpty()) {
                return;
            }
            for (io.tandem.server.zookeeper.SimulatedMember.ToZab item : outbox) {
                if (!node.isUp()) {
                    return;
                }
                if (item.txn() != null) {
                    submit(node.id, item.txn());
                } else if (item.members() != null) {
                    runOn(node, () -> node.driver.changeMembers(item.compactZxid(), item.members().voters(),
                            item.members().observers()));
                } else {
                    runOn(node, () -> {
                        try {
                            node.driver.compact(item.compactZxid(), item.snapshot());
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
            }
        }
    }

    private Tail randomTail() {
        return Tail.values()[random.nextInt(Tail.values().length)];
    }

    private void randomPartition() {
        if (random.nextInt(3) == 0) {
            heal();
            return;
        }
        int[] side = new int[1 + random.nextInt(nodes.length / 2)];
        for (int i = 0; i < side.length; i++) {
            side[i] = 1 + random.nextInt(nodes.length);
        }
        partition(side);
        count("partition");
    }

    private void deliverDueMessages() {
        List<Node> touched = new ArrayList<>(2);
        while (!network.isEmpty() && network.peek().deliverAt <= step) {
            InFlight message = network.poll();
            Node to = node(message.to);
            if (!to.isUp() || !connections.deliverable(message.from, message.to, message.connection)) {
                continue;
            }
            if (!connected(message.from, message.to)) {
                if (connections.holdsAcrossPartition()) {
                    // Still on a live connection: TCP keeps retransmitting until the partition heals.
                    network.add(new InFlight(step + HELD_RETRY_STEPS, message.order, message.from, message.to,
                            message.message, message.connection, true));
                }
                continue;
            }
            if (message.held) {
                count("message held by a partition, delivered after it healed");
            }
            long earlyDecisions = to.machine.earlyDecisions();
            if (batchInputs) {
                to.driver.receive(message.from, message.message); // stepping an input does no I/O: no crash here
                if (touched.contains(to)) {
                    count("messages batched into one Ready");
                } else {
                    touched.add(to);
                }
            } else {
                runOn(to, () -> to.driver.receive(message.from, message.message));
            }
            if (to.isUp() && to.machine.earlyDecisions() > earlyDecisions) {
                count("election decided early: the rest unreachable");
            }
        }
        for (Node node : touched) {
            runOn(node, () -> {});
        }
    }

    void count(String what) {
        stats.merge(what, 1L, Long::sum);
    }

    private void send(int from, int to, ZabMessage message) {
        if (message instanceof ZabMessage.Sync sync) {
            count("sync " + sync.mode());
        }
        if (to > nodes.length) {
            return; // a member a reconfig added that the simulation never starts (its connection never comes up)
        }
        long connection = connections.sendGeneration(from, to);
        if (connection < 0) {
            return; // QuorumTransport.send drops what it cannot write to a live connection
        }
        if ((!connected(from, to) && !connections.holdsAcrossPartition())
                || random.nextDouble() < faults.lossPerMessage()) {
            return;
        }
        enqueue(from, to, message, connection);
        if (random.nextDouble() < faults.duplicatePerMessage()) {
            enqueue(from, to, message, connection);
        }
    }

    /**
     * Lets every live driver run its timers on the virtual clock, as ZabServer's loop does when its poll times out:
     * the tick every {@link #TICK_STEPS} steps and the finalize wait (Apache's 200 ms, here a seeded number of steps).
     */
    private void advanceDrivers() {
        for (Node node : nodes) {
            if (!node.isUp()) {
                continue;
            }
            boolean waiting = node.machine.role() == Role.LOOKING && node.machine.finalizeWait() >= 0;
            boolean tickDue = node.nanoTime() - node.driver.nextTickNanos() >= 0;
            runOn(node, () -> {});
            if (waiting && !tickDue && node.isUp() && node.machine.role() != Role.LOOKING) {
                count("election decided by the driver's finalize timer");
            }
        }
    }

    /** The driver's PeerConnected input: a connection with {@code peer} is up. */
    void deliverConnect(Node node, int peer) {
        runOn(node, () -> node.driver.peerConnected(peer));
    }

    /** The driver's PeerDisconnected input: the transport saw its connection with {@code peer} close. */
    void deliverDisconnect(Node node, int peer) {
        boolean followedPeer = node.machine.role() == Role.FOLLOWING && node.machine.leaderId() == peer;
        trace("node " + node.id + ": peerDisconnected(" + peer + ")" + (connections.isUp(node.id, peer)
                ? " while connected again" : ""));
        runOn(node, () -> node.driver.peerDisconnected(peer));
        if (followedPeer && node.isUp() && node.machine.role() == Role.LOOKING) {
            count("follower looking at once: leader disconnected");
        }
    }

    private void enqueue(int from, int to, ZabMessage message, long connection) {
        long deliverAt = step + 1 + random.nextInt(faults.delayStepsMax());
        if (random.nextDouble() >= faults.reorderPerMessage()) {
            // Like TCP, the link keeps order unless this message was picked to be reordered.
            deliverAt = Math.max(deliverAt, lastDeliveryStep[from][to]);
            lastDeliveryStep[from][to] = deliverAt;
        }
        network.add(new InFlight(deliverAt, messageOrder++, from, to, message, connection, false));
    }

    // ------------------------------------------------------------------------------------------------ nodes

    private void start(Node node) {
        node.restartAtStep = -1;
        if (node.disk.recovering || (corruptAtRestart > 0 && mayDamageDisk(node))) {
            corruptDisk(node.id); // a re-sync that never finished is set aside again, like fresh damage
        }
        node.restarts++;
        node.app = SimulatedApp.fromSnapshot(members ? appPart(node.disk.snapshot) : node.disk.snapshot);
        node.appliedSinceSnapshot = 0;
        List<LogEntry> log = new ArrayList<>(node.disk.synced);
        log.addAll(node.disk.unsynced);
        String gap = DurableState.firstGap(node.disk.snapshotZxid, log);
        if (gap != null) {
            throw failure("node " + node.id + " restarts with a hole in its history: " + gap);
        }
        DurableState durable = node.disk.recovering ? DurableState.recovering(node.disk.acceptedEpoch)
                : new DurableState(node.disk.acceptedEpoch, node.disk.currentEpoch, node.disk.snapshotZxid,
                        node.disk.snapshot == null ? null : SnapshotData.of(node.disk.snapshot), log);
        ZabConfig config = new ZabConfig(node.id, voterIds, observerIds, baseConfig.initLimit(), baseConfig.syncLimit(),
                baseConfig.electionFinalizeTicks(), baseConfig.outstandingProposalsMax());
        ZabStateMachine machine = new ZabStateMachine(config, durable, node.restarts);
        machine.membership.countsActiveVotersOnly = oldQuorumOnly;
        long finalizeNanos = connections.enabled() ? connections.finalizeSteps() * STEP_NANOS : FINALIZE_NEVER_NANOS;
        node.driver = new ZabDriver(machine, node.disk, node, node, node, TICK_STEPS * STEP_NANOS, finalizeNanos);
        node.driver.observeReadies(ready -> onReady(node, ready));
        node.machine = machine;
        node.crashAt = null;
        if (members) {
            // A new process: an empty tree, restored from the durable snapshot as ZabServer's start does.
            node.member = new io.tandem.server.zookeeper.SimulatedMember(node.id, voterIds.length, observerIds.length,
                    memberSnapCount, memberReadOnly, zabSide(node), node::nanoTime);
            if (memberStalePrep) {
                node.member.forgetOutstandingChangesBeforeEachPrepare();
            }
            if (memberEarlyExpiry) {
                node.member.expireSessionsEarly();
            }
            if (memberReadOnlyWrites) {
                node.member.answerWritesInReadOnlyMode();
            }
            machine.readMembersWith(node.member.membershipReader());
            reconfigChecker.watch(node.member);
            sessionChecker.watch(node.id, node.member);
            if (node.disk.snapshot != null && !node.disk.recovering) {
                node.member.onSnapshot(node.disk.snapshotZxid, SnapshotData.of(treePart(node.disk.snapshot)));
            }
        }
        trace("start " + node.id + " (restart " + node.restarts + ") " + node.machine);
        connections.onStart(node.id, step);
        checker.onRestart(node);
        runOn(node, () -> {});
    }

    private void crash(Node node, Tail tail, long restartAtStep) {
        if (!node.isUp()) {
            return;
        }
        SimulatedDisk disk = node.disk;
        int keep = switch (tail) {
            case KEEP -> disk.unsynced.size();
            case LOSE -> 0;
            case RANDOM_PREFIX -> disk.unsynced.isEmpty() ? 0 : random.nextInt(disk.unsynced.size() + 1);
        };
        disk.synced.addAll(disk.unsynced.subList(0, keep));
        disk.unsynced.clear();
        trace("crash " + node.id + " " + node.machine + " tail " + tail + " kept " + keep + " durable last "
                + Zxid.toString(disk.lastZxid()));
        node.machine = null;
        node.driver = null;
        node.member = null;
        node.crashAt = null;
        node.restartAtStep = restartAtStep;
        connections.onCrash(node.id, step);
        count("crash, tail " + tail);
    }

    /**
     * Feeds one input to the node's driver and lets it execute everything that follows (a Ready at a time, as
     * ZabServer's loop does after each batch of inputs); a crash scheduled inside a Ready stops it there.
     */
    private void runOn(Node node, Runnable input) {
        if (!node.isUp()) {
            return;
        }
        try {
            input.run();
            while (true) {
                node.driver.advance();
                endReady(node);
                observeRole(node);
                if (node.member != null) {
                    node.member.observeRole(node.machine.epoch());
                }
                maybeSnapshot(node);
                if (!node.machine.hasReady()) {
                    break;
                }
            }
        } catch (SimulatedCrash crash) {
            Tail tail = node.crashTail;
            crash(node, tail, faults.downTicksMax() == 0 ? -1
                    : step + TICK_STEPS * (1 + random.nextInt(faults.downTicksMax())));
        } catch (java.io.IOException e) {
            throw new AssertionError("the simulated disk does not fail: " + e, e);
        }
    }

    /** The driver takes a Ready: maybe schedule a crash inside it (the test's trigger, or a seeded chance). */
    private void onReady(Node node, Ready ready) {
        endReady(node); // a crash scheduled in the previous Ready at a step it did not have happens before this one
        node.crashTail = randomTail();
        if (crashTrigger != null && crashTrigger.test(node, ready)) {
            node.crashAt = crashTriggerStep;
            node.crashTail = crashTriggerTail;
            crashTrigger = null;
        } else if (random.nextDouble() < faults.crashInsideReady()) {
            node.crashAt = ReadyStep.values()[random.nextInt(ReadyStep.values().length)];
        }
        if (node.crashAt != null) {
            count("crash inside Ready before " + node.crashAt);
        }
        node.earlyMessagesLeft = ready.messagesBeforeSync();
        node.earlyProposalsSent = false;
    }

    /** The Ready is done: a crash scheduled before a step it did not have happens now, after all of it. */
    private void endReady(Node node) {
        if (node.crashAt != null) {
            throw new SimulatedCrash();
        }
    }

    private void maybeSnapshot(Node node) throws java.io.IOException {
        if (members || faults.snapshotEvery() <= 0 || node.appliedSinceSnapshot < faults.snapshotEvery() || !node.isUp()) {
            return;
        }
        if (node.app.appliedZxid <= node.machine.snapshotZxid()) {
            return;
        }
        // The application hands Zab a snapshot, which the driver writes durably before Zab forgets the log it covers.
        node.appliedSinceSnapshot = 0;
        node.driver.compact(node.app.appliedZxid, SnapshotData.of(node.app.snapshot()));
    }

    private void observeRole(Node node) {
        Role role = node.machine.role();
        if (role != node.lastRole) {
            node.lastRole = role;
            trace("node " + node.id + " -> " + node.machine);
        }
    }

    // ------------------------------------------------------------------------------------------------ reporting

    void trace(String line) {
        if (trace.size() == TRACE_LINES_MAX) {
            trace.removeFirst();
        }
        trace.addLast("[step " + step + "] " + line);
    }

    String replayCommand() {
        if (members) {
            return "mvn -q -B -pl server -am test -Dtest=EnsembleCommitSimulationTest "
                    + "-Dsurefire.failIfNoSpecifiedTests=false -Dzab.memberSeed=" + seed
                    + (memberStalePrep ? " (with the stale-prep mutation)" : "");
        }
        return "mvn -q -B -pl server -am test -Dtest=ZabSimulationTest -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dzab.seed=" + seed;
    }

    AssertionError failure(String violation) {
        StringBuilder message = new StringBuilder();
        message.append("seed ").append(seed).append(": ").append(violation).append('\n');
        message.append("replay: ").append(replayCommand()).append('\n');
        message.append("faults: ").append(faults).append('\n');
        for (Node node : nodes) {
            message.append("  node ").append(node.id).append(": ")
                    .append(node.isUp() ? node.machine.toString() : "down").append(" applied ")
                    .append(Zxid.toString(node.app.appliedZxid)).append('\n');
        }
        if (connections.enabled()) {
            message.append("  ").append(connections.describe()).append('\n');
        }
        message.append("last events:\n");
        for (String line : trace) {
            message.append("  ").append(line).append('\n');
        }
        return new AssertionError(message.toString());
    }
}
