package io.tandem.server.zab;

import java.nio.ByteBuffer;
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
 * A deterministic simulator for {@link ZabStateMachine} in the style of TigerBeetle's VOPR: one seed decides every
 * delay, loss, duplication, reordering, partition, crash (with or without the unsynced log tail, possibly in the middle
 * of executing a {@link Ready}) and client write, so a failing seed replays exactly. Checkers run after every step.
 *
 * <p>Time advances in steps; each node ticks every {@link #TICK_STEPS} steps at its own phase. Seeded runs also model
 * the transport's connections ({@link SimulatedConnections}): the driver's peerConnected / peerDisconnected inputs,
 * with their delays and flaws, and its finalize timer.
 */
final class ZabSimulator {
    static final int TICK_STEPS = 10;
    private static final int TRACE_LINES_MAX = 300;
    /** How often a message held by a partition on a live connection is retried. */
    private static final int HELD_RETRY_STEPS = 5;

    /** Fault rates; all zero gives a perfect network and disk that only the test's own actions disturb. */
    record Faults(double lossPerMessage, double duplicatePerMessage, double reorderPerMessage, int delayStepsMax,
                  double crashPerTick, double crashInsideReady, double partitionPerTick, double writePerStep,
                  int downTicksMax, int snapshotEvery, boolean sendBeforePersist) {

        static Faults none() {
            return new Faults(0, 0, 0, 3, 0, 0, 0, 0, 0, 0, false);
        }

        static Faults random(SplittableRandom random) {
            if (random.nextInt(5) == 0) {
                // One seed in five is harsh: lossy, reordering, crash-happy, often partitioned.
                return new Faults(random.nextDouble(0, 0.15), random.nextDouble(0, 0.1), random.nextDouble(0, 0.2),
                        1 + random.nextInt(30), random.nextDouble(0, 0.03), random.nextDouble(0, 0.01),
                        random.nextDouble(0, 0.03), random.nextDouble(0.01, 0.3), 5 + random.nextInt(60),
                        random.nextInt(3) == 0 ? 0 : 5 + random.nextInt(30), false);
            }
            return new Faults(random.nextDouble(0, 0.03), random.nextDouble(0, 0.03), random.nextDouble(0, 0.05),
                    1 + random.nextInt(15), random.nextDouble(0, 0.01), random.nextDouble(0, 0.003),
                    random.nextDouble(0, 0.01), random.nextDouble(0.01, 0.2), 5 + random.nextInt(40),
                    random.nextInt(4) == 0 ? 0 : 10 + random.nextInt(60), false);
        }

        Faults healed() {
            return new Faults(0, 0, 0, Math.min(delayStepsMax, 5), 0, 0, 0, writePerStep, downTicksMax,
                    snapshotEvery, sendBeforePersist);
        }

        Faults withSendBeforePersist() {
            return new Faults(lossPerMessage, duplicatePerMessage, reorderPerMessage, delayStepsMax, crashPerTick,
                    crashInsideReady, partitionPerTick, writePerStep, downTicksMax, snapshotEvery, true);
        }
    }

    /** What survives a crash of the log's unsynced tail. */
    enum Tail { KEEP, LOSE, RANDOM_PREFIX }

    /** Steps of executing a Ready, in the order the contract requires; a crash can hit before any of them. */
    enum ReadyStep { INSTALL_SNAPSHOT, TRUNCATE, APPEND, SYNC, PERSIST_EPOCHS, SEND, APPLY }

    static final class Disk {
        long acceptedEpoch;
        long currentEpoch;
        long snapshotZxid;
        byte[] snapshot;
        final List<LogEntry> synced = new ArrayList<>();
        final List<LogEntry> unsynced = new ArrayList<>();
        /** The driver's durable "recovering" marker: the history was set aside after damage, not yet re-synced. */
        boolean recovering;

        long lastZxid() {
            if (!unsynced.isEmpty()) {
                return unsynced.get(unsynced.size() - 1).zxid();
            }
            return synced.isEmpty() ? 0 : synced.get(synced.size() - 1).zxid();
        }
    }

    /** The replicated application: a running digest of applied transactions, snapshotted as 24 bytes. */
    static final class App {
        long appliedZxid;
        long digest;
        long count;

        static long fold(long digest, LogEntry entry) {
            long hash = digest * 0x9E3779B97F4A7C15L + entry.zxid();
            for (byte b : entry.txn()) {
                hash = (hash ^ b) * 0x100000001B3L;
            }
            return hash;
        }

        void apply(LogEntry entry) {
            digest = fold(digest, entry);
            appliedZxid = entry.zxid();
            count++;
        }

        byte[] snapshot() {
            return ByteBuffer.allocate(24).putLong(appliedZxid).putLong(digest).putLong(count).array();
        }

        static App fromSnapshot(byte[] bytes) {
            App app = new App();
            if (bytes != null) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                app.appliedZxid = buffer.getLong();
                app.digest = buffer.getLong();
                app.count = buffer.getLong();
            }
            return app;
        }
    }

    final class Node {
        final int id;
        final Disk disk = new Disk();
        ZabStateMachine machine;
        App app = new App();
        int restarts;
        long restartAtStep = -1;
        long appliedSinceSnapshot;
        final int tickPhase;
        Role lastRole;
        /** The driver's finalize timer (ZabServer's run loop): the wait it times, and the step it ends. */
        long finalizeWait = -1;
        long finalizeAtStep;

        Node(int id, int tickPhase) {
            this.id = id;
            this.tickPhase = tickPhase;
        }

        boolean isUp() {
            return machine != null;
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
    private final Checker checker = new Checker();
    /** The quorum transport's connections and their peerDisconnected notifications (disabled: always connected). */
    private final SimulatedConnections connections;
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
        for (Node node : nodes) {
            start(node);
        }
    }

    /** A seeded run with seed-chosen size and fault rates: what the VOPR-style test runs. */
    static ZabSimulator randomized(long seed) {
        return randomized(seed, false);
    }

    /** With {@code brokenDriver}, Readies are executed sending first and syncing late: the checkers must object. */
    static ZabSimulator randomized(long seed, boolean brokenDriver) {
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
                brokenDriver ? faults.withSendBeforePersist() : faults, limits, connections);
        sim.corruptAtRestart = corruptAtRestart;
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

    Checker checker() {
        return checker;
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
        boolean accepted = node.machine.submit(txn);
        if (accepted) {
            writesAccepted++;
        }
        drain(node);
        return accepted;
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

    boolean isVoter(int id) {
        return id <= voterIds.length;
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
        if (connections.enabled()) {
            driveFinalizeTimers();
        }
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
                node.machine.tick();
                drain(node);
                if (random.nextDouble() < faults.partitionPerTick()) {
                    randomPartition();
                }
            }
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
            to.machine.receive(message.from, message.message);
            if (to.machine.earlyDecisions() > earlyDecisions) {
                count("election decided early: the rest unreachable");
            }
            drain(to);
        }
    }

    void count(String what) {
        stats.merge(what, 1L, Long::sum);
    }

    private void send(int from, int to, ZabMessage message) {
        if (message instanceof ZabMessage.Sync sync) {
            count("sync " + sync.mode());
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
     * As ZabServer's run loop does with its clock: once the machine starts a finalize wait, call
     * {@code finalizeElection} a seeded delay later (Apache's 200 ms, here a fraction of a tick or a whole one).
     */
    private void driveFinalizeTimers() {
        for (Node node : nodes) {
            if (!node.isUp()) {
                continue;
            }
            long wait = node.machine.finalizeWait();
            if (wait != node.finalizeWait) {
                node.finalizeWait = wait;
                node.finalizeAtStep = step + connections.finalizeSteps();
            } else if (wait >= 0 && step >= node.finalizeAtStep) {
                node.machine.finalizeElection(wait);
                if (node.machine.role() != Role.LOOKING) {
                    count("election decided by the driver's finalize timer");
                }
                drain(node);
                node.finalizeWait = node.isUp() ? node.machine.finalizeWait() : -1;
            }
        }
    }

    /** The driver's PeerConnected input: a connection with {@code peer} is up. */
    void deliverConnect(Node node, int peer) {
        node.machine.peerConnected(peer);
        drain(node);
    }

    /** The driver's PeerDisconnected input: the transport saw its connection with {@code peer} close. */
    void deliverDisconnect(Node node, int peer) {
        boolean followedPeer = node.machine.role() == Role.FOLLOWING && node.machine.leaderId() == peer;
        trace("node " + node.id + ": peerDisconnected(" + peer + ")" + (connections.isUp(node.id, peer)
                ? " while connected again" : ""));
        node.machine.peerDisconnected(peer);
        if (followedPeer && node.machine.role() == Role.LOOKING) {
            count("follower looking at once: leader disconnected");
        }
        drain(node);
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
        node.app = App.fromSnapshot(node.disk.snapshot);
        node.appliedSinceSnapshot = 0;
        List<LogEntry> log = new ArrayList<>(node.disk.synced);
        log.addAll(node.disk.unsynced);
        String gap = DurableState.firstGap(node.disk.snapshotZxid, log);
        if (gap != null) {
            throw failure("node " + node.id + " restarts with a hole in its history: " + gap);
        }
        DurableState durable = node.disk.recovering ? DurableState.recovering(node.disk.acceptedEpoch)
                : new DurableState(node.disk.acceptedEpoch, node.disk.currentEpoch, node.disk.snapshotZxid,
                        node.disk.snapshot, log);
        ZabConfig config = new ZabConfig(node.id, voterIds, observerIds, baseConfig.initLimit(), baseConfig.syncLimit(),
                baseConfig.electionFinalizeTicks(), baseConfig.outstandingProposalsMax());
        node.machine = new ZabStateMachine(config, durable, node.restarts);
        node.finalizeWait = -1;
        trace("start " + node.id + " (restart " + node.restarts + ") " + node.machine);
        connections.onStart(node.id, step);
        checker.onRestart(node);
        drain(node);
    }

    private void crash(Node node, Tail tail, long restartAtStep) {
        if (!node.isUp()) {
            return;
        }
        Disk disk = node.disk;
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
        node.restartAtStep = restartAtStep;
        connections.onCrash(node.id, step);
        count("crash, tail " + tail);
    }

    /** Executes everything the node's machine asked for, in the Ready contract's order, possibly crashing midway. */
    private void drain(Node node) {
        while (node.isUp() && node.machine.hasReady()) {
            Ready ready = node.machine.ready();
            ReadyStep crashAt = null;
            Tail tail = randomTail();
            if (crashTrigger != null && crashTrigger.test(node, ready)) {
                crashAt = crashTriggerStep;
                tail = crashTriggerTail;
                crashTrigger = null;
            } else if (random.nextDouble() < faults.crashInsideReady()) {
                crashAt = ReadyStep.values()[random.nextInt(ReadyStep.values().length)];
            }
            if (crashAt != null) {
                count("crash inside Ready before " + crashAt);
            }
            if (!execute(node, ready, crashAt)) {
                crash(node, tail, faults.downTicksMax() == 0 ? -1
                        : step + TICK_STEPS * (1 + random.nextInt(faults.downTicksMax())));
                return;
            }
            observeRole(node);
            maybeSnapshot(node);
        }
    }

    /** Returns false when the node crashed before finishing. */
    private boolean execute(Node node, Ready ready, ReadyStep crashAt) {
        Disk disk = node.disk;
        if (faults.sendBeforePersist()) {
            // A deliberately broken driver (acks before its log is durable): the checkers must catch it.
            if (crashAt == ReadyStep.SEND) {
                return false;
            }
            for (Ready.Outbound outbound : ready.messages()) {
                send(node.id, outbound.to(), outbound.message());
            }
        }
        if (crashAt == ReadyStep.INSTALL_SNAPSHOT) {
            return false;
        }
        if (ready.snapshotToInstall() != null) {
            disk.snapshotZxid = ready.snapshotToInstall().zxid();
            disk.snapshot = ready.snapshotToInstall().bytes();
        }
        if (crashAt == ReadyStep.TRUNCATE) {
            return false;
        }
        if (ready.truncateAfterZxid() != Ready.NONE) {
            long after = ready.truncateAfterZxid();
            disk.synced.removeIf(entry -> entry.zxid() > after);
            disk.unsynced.removeIf(entry -> entry.zxid() > after);
        }
        if (crashAt == ReadyStep.APPEND) {
            return false;
        }
        for (LogEntry entry : ready.appends()) {
            Checks.require(entry.zxid() > disk.lastZxid(), "node %d appends %s after %s", node.id,
                    Zxid.toString(entry.zxid()), Zxid.toString(disk.lastZxid()));
            disk.unsynced.add(entry);
        }
        if (crashAt == ReadyStep.SYNC) {
            return false;
        }
        if (!faults.sendBeforePersist() || random.nextBoolean()) {
            disk.synced.addAll(disk.unsynced);
            disk.unsynced.clear();
        }
        if (crashAt == ReadyStep.PERSIST_EPOCHS) {
            return false;
        }
        if (ready.acceptedEpoch() != Ready.NONE) {
            disk.acceptedEpoch = ready.acceptedEpoch();
        }
        if (ready.currentEpoch() != Ready.NONE) {
            disk.currentEpoch = ready.currentEpoch();
        }
        if (ready.recoveryComplete()) {
            disk.recovering = false;
            count("recovered after disk damage");
        }
        if (!faults.sendBeforePersist()) {
            if (crashAt == ReadyStep.SEND) {
                // A crash while sending: some prefix of the messages made it out.
                int sent = random.nextInt(ready.messages().size() + 1);
                for (Ready.Outbound outbound : ready.messages().subList(0, sent)) {
                    send(node.id, outbound.to(), outbound.message());
                }
                return false;
            }
            for (Ready.Outbound outbound : ready.messages()) {
                send(node.id, outbound.to(), outbound.message());
            }
        }
        if (crashAt == ReadyStep.APPLY) {
            return false;
        }
        if (ready.snapshotToInstall() != null) {
            node.app = App.fromSnapshot(ready.snapshotToInstall().bytes());
            node.appliedSinceSnapshot = 0;
            checker.onSnapshotInstalled(node);
        }
        for (LogEntry entry : ready.commits()) {
            checker.onApply(node, entry);
            node.app.apply(entry);
            node.appliedSinceSnapshot++;
        }
        if (ready.purgeBeforeZxid() != Ready.NONE) {
            long before = ready.purgeBeforeZxid();
            Checks.require(disk.snapshotZxid >= before, "purge before %s without a snapshot", Zxid.toString(before));
            disk.synced.removeIf(entry -> entry.zxid() <= before);
        }
        for (byte[] request : ready.forwardedRequests()) {
            node.machine.submit(request); // the simulated application's prep step is the identity
        }
        return true;
    }

    private void maybeSnapshot(Node node) {
        if (faults.snapshotEvery() <= 0 || node.appliedSinceSnapshot < faults.snapshotEvery() || !node.isUp()) {
            return;
        }
        if (node.app.appliedZxid <= node.machine.snapshotZxid()) {
            return;
        }
        // The application writes its snapshot durably first, then lets Zab forget the log it covers.
        node.disk.snapshotZxid = node.app.appliedZxid;
        node.disk.snapshot = node.app.snapshot();
        node.appliedSinceSnapshot = 0;
        node.machine.compact(node.app.appliedZxid, node.app.snapshot());
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

    /**
     * Safety checkers. The committed history is the longest sequence any node applied; every node's applied sequence
     * must be a prefix of it, so nothing applied (and thus acknowledged to a client) can ever be lost or reordered.
     */
    final class Checker {
        private final List<LogEntry> committed = new ArrayList<>();
        private final List<Long> digestAfter = new ArrayList<>();
        private final Map<Long, Integer> indexOfZxid = new HashMap<>();
        private final Map<String, Long> zxidOfTxn = new HashMap<>();
        private final Map<Long, Integer> leaderOfEpoch = new TreeMap<>();

        List<LogEntry> committed() {
            return committed;
        }

        Map<Long, Integer> leaderOfEpoch() {
            return leaderOfEpoch;
        }

        void onApply(Node node, LogEntry entry) {
            long previous = node.app.appliedZxid;
            Integer index = indexOfZxid.get(entry.zxid());
            if (index != null) {
                long expectedPrevious = index == 0 ? 0 : committed.get(index - 1).zxid();
                if (previous != expectedPrevious || !committed.get(index).equals(entry)) {
                    throw failure("node " + node.id + " applied " + entry + " after " + Zxid.toString(previous)
                            + " but the committed history has " + committed.get(index) + " after "
                            + Zxid.toString(expectedPrevious));
                }
                return;
            }
            long last = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).zxid();
            if (previous != last || entry.zxid() <= last) {
                throw failure("node " + node.id + " applied " + entry + " after " + Zxid.toString(previous)
                        + ", diverging from the committed history ending at " + Zxid.toString(last));
            }
            String txn = new String(entry.txn(), StandardCharsets.UTF_8);
            Long earlier = zxidOfTxn.putIfAbsent(txn, entry.zxid());
            if (earlier != null) {
                throw failure("transaction " + txn + " committed twice, at " + Zxid.toString(earlier) + " and "
                        + Zxid.toString(entry.zxid()));
            }
            indexOfZxid.put(entry.zxid(), committed.size());
            committed.add(entry);
            digestAfter.add(App.fold(node.app.digest, entry));
        }

        void onSnapshotInstalled(Node node) {
            checkAppMatchesHistory(node, "installed a snapshot");
        }

        void onRestart(Node node) {
            checkAppMatchesHistory(node, "restarted from its snapshot");
        }

        private void checkAppMatchesHistory(Node node, String what) {
            long zxid = node.app.appliedZxid;
            if (zxid == 0) {
                return;
            }
            Integer index = indexOfZxid.get(zxid);
            if (index == null || digestAfter.get(index) != node.app.digest) {
                throw failure("node " + node.id + " " + what + " at " + Zxid.toString(zxid)
                        + " that does not match the committed history");
            }
        }

        void afterStep() {
            for (Node node : nodes) {
                if (!node.isUp()) {
                    continue;
                }
                ZabStateMachine machine = node.machine;
                if (machine.role() == Role.LEADING && !isVoter(node.id)) {
                    throw failure("observer " + node.id + " leads");
                }
                if (machine.isEstablishedLeader()) {
                    Integer other = leaderOfEpoch.putIfAbsent(machine.epoch(), node.id);
                    if (other != null && other != node.id) {
                        throw failure("two leaders established in epoch " + machine.epoch() + ": " + other + " and "
                                + node.id);
                    }
                }
                if (machine.committedZxid() != node.app.appliedZxid) {
                    throw failure("node " + node.id + " machine committed " + Zxid.toString(machine.committedZxid())
                            + " but the application applied " + Zxid.toString(node.app.appliedZxid));
                }
                if (node.disk.acceptedEpoch < node.disk.currentEpoch) {
                    throw failure("node " + node.id + " durable acceptedEpoch below currentEpoch");
                }
            }
        }

        /**
         * Every committed transaction stays durable on a quorum (in the fsynced log or under a snapshot): acks are
         * sent only after fsync and truncation never reaches committed entries. Checks the newest entries each tick.
         */
        void checkCommittedDurableOnQuorum() {
            int quorum = voterIds.length / 2 + 1; // observers hold copies too, but only voters make quorums
            int from = Math.max(0, committed.size() - 64);
            List<Map<Long, LogEntry>> durableLogs = new ArrayList<>();
            for (Node node : nodes) {
                Map<Long, LogEntry> durable = new HashMap<>();
                for (LogEntry entry : node.disk.synced) {
                    durable.put(entry.zxid(), entry);
                }
                durableLogs.add(durable);
            }
            for (int i = from; i < committed.size(); i++) {
                LogEntry entry = committed.get(i);
                int holders = 0;
                for (int n = 0; n < nodes.length; n++) {
                    if (!isVoter(nodes[n].id)) {
                        continue;
                    }
                    // A node whose disk was damaged still counts: it lost the entry, but until re-synced it is in no
                    // quorum, so every quorum that can act still meets a holder (the rule in ZabStateMachine).
                    if (entry.equals(durableLogs.get(n).get(entry.zxid()))
                            || snapshotCovers(nodes[n].disk, entry.zxid()) || nodes[n].disk.recovering) {
                        holders++;
                    }
                }
                if (holders < quorum) {
                    throw failure("committed " + entry + " is durable on only " + holders + " servers");
                }
            }
        }

        private boolean snapshotCovers(Disk disk, long zxid) {
            return disk.snapshot != null && disk.snapshotZxid >= zxid;
        }

        /** After healing: everyone applied the same history, and it is the whole committed history. */
        void checkConverged() {
            long lastZxid = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).zxid();
            long digest = committed.isEmpty() ? 0 : digestAfter.get(digestAfter.size() - 1);
            for (Node node : nodes) {
                if (!node.isUp()) {
                    throw failure("node " + node.id + " still down after healing");
                }
                if (node.app.appliedZxid != lastZxid || node.app.digest != digest) {
                    throw failure("node " + node.id + " applied up to " + Zxid.toString(node.app.appliedZxid)
                            + " but the committed history ends at " + Zxid.toString(lastZxid));
                }
            }
        }
    }
}
