package io.tandem.server.zab;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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

    /** With a lying disk (the checkers' own test): this fsync keeps nothing. */
    boolean fsyncLies() {
        return faults.lyingFsync() && random.nextBoolean();
    }

    final long seed;
    final SplittableRandom random;
    Faults faults;
    final SimulatedNode[] nodes;
    final int[] voterIds;
    /** Non-voting members (ids after the voters): they sync and apply like followers but count in no quorum. */
    final int[] observerIds;
    final ZabConfig baseConfig;
    private long step;
    final SimulatedNetwork network;
    /** Every event of the run as one hash (what SimulatorRepeatabilityTest compares), and the last ones as text. */
    final EventTrace events = new EventTrace();
    private long writesSubmitted;
    private long writesAccepted;
    final HistoryChecker checker = new HistoryChecker(this);
    /** The quorum transport's connections and their peerDisconnected notifications (disabled: always connected). */
    final SimulatedConnections connections;
    /**
     * Like ZabServer's loop (group commit), step every message due for a node in this step before one
     * {@link ZabDriver#advance}, instead of advancing after each; randomized runs choose it per seed.
     */
    boolean batchInputs;
    /** ZooKeeper-like client sessions whose histories must be linearizable; randomized runs only. */
    SimulatedClients clients;
    /**
     * Every node runs the production ZooKeeper side ({@link io.tandem.server.zookeeper.SimulatedMember}) over its Zab,
     * and {@link #zkClients} talk to it; the simulator's own writes and client stand-ins are off then.
     */
    boolean members;
    int memberSnapCount;
    boolean memberStalePrep;
    SimulatedZkClients zkClients;
    /** With members: sessions with ephemerals, and the checker of sessions and ephemerals on every member. */
    final SessionExpiryChecker sessionChecker = new SessionExpiryChecker(this);
    SimulatedSessionClients sessionClients;
    /** Mutation: every member's leader expires sessions after a quarter of their timeout. */
    boolean memberEarlyExpiry;
    /** With members: zoo.cfg's readonlymode.enabled, and the clients that accept read-only sessions. */
    boolean memberReadOnly;
    SimulatedReadOnlyClients readOnlyClients;
    /** Mutation: members in read-only mode answer writes OK. */
    boolean memberReadOnlyWrites;
    /** With members: the reconfig checker, and a super user issuing reconfigs. */
    ReconfigChecker reconfigChecker;
    SimulatedReconfigClients reconfigClients;
    /** Mutation: every leader commits a reconfig with a quorum of the old voters only (no joint quorum). */
    boolean oldQuorumOnly;
    /** With members: servers that join the running ensemble, and the check that none counts as a voter too early. */
    final SimulatedJoiners joiners;
    /** Mutation: a joiner counts itself a voter of the configuration it follows ({@link #letJoinersVote}). */
    boolean joinersVote;
    /** What the run exercised, for the summary line: sync modes, crashes, partitions. */
    final Map<String, Long> stats = new TreeMap<>();
    /** Test hook: sees every Ready a node's driver executes, before it runs (named scenarios count messages). */
    java.util.function.BiConsumer<SimulatedNode, Ready> readyObserver = (node, ready) -> {};
    /**
     * Test hook for named scenarios without the member side: how nodes started after it is set tell reconfigs
     * ({@link ZabStateMachine#readMembersWith}); null, no reconfigs.
     */
    MembershipReader membershipReader;
    /** Test hook: crash node (first) right before the given step of a Ready that matches. */
    BiPredicate<SimulatedNode, Ready> crashTrigger;
    /**
     * Chance that a node restarting during the faulty phase finds its disk damaged (log, snapshot or currentEpoch): the
     * driver sets its history aside and it restarts recovering. Drawn from its own random, so seeds without damage
     * replay as before; never more damaged nodes at once than leaves a quorum undamaged (else nobody can lead).
     */
    double corruptAtRestart;
    private final SplittableRandom diskDamage;
    ReadyStep crashTriggerStep;
    Tail crashTriggerTail;

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
        this(seed, voterCount, observerCount, faults, limits, connectionParams, 0, false, false, 0);
    }

    /**
     * With {@code memberSnapCount > 0}, every node runs the production ZooKeeper side too ({@link #withMembers}), and
     * {@code joinerCount} joiners (the ids after the observers, {@link SimulatedJoiners}) start part way through.
     */
    ZabSimulator(long seed, int voterCount, int observerCount, Faults faults, ZabConfig limits,
                 SimulatedConnections.Params connectionParams, int memberSnapCount, boolean memberStalePrep,
                 boolean memberReadOnly, int joinerCount) {
        this.members = memberSnapCount > 0;
        this.memberReadOnly = memberReadOnly;
        this.memberSnapCount = memberSnapCount;
        this.memberStalePrep = memberStalePrep;
        int nodeCount = voterCount + observerCount + joinerCount;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.faults = faults;
        this.nodes = new SimulatedNode[nodeCount];
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
        this.network = new SimulatedNetwork(this, nodeCount);
        this.diskDamage = new SplittableRandom(seed ^ 0xD15C_DA3A_6EL);
        for (int i = 0; i < nodeCount; i++) {
            nodes[i] = new SimulatedNode(this, i + 1, random.nextInt(TICK_STEPS));
        }
        this.connections = new SimulatedConnections(this, nodeCount, connectionParams, seed);
        this.reconfigChecker = members ? new ReconfigChecker(this, voterCount, observerCount) : null;
        this.joiners = joinerCount > 0 ? new SimulatedJoiners(this, voterCount + observerCount + 1, joinerCount, seed)
                : null;
        for (SimulatedNode node : nodes) {
            if (joiners != null && joiners.isJoiner(node.id)) {
                node.restartAtStep = joiners.startStep(node.id);
            } else {
                node.start();
            }
        }
    }

    /** The mutation the session checker must catch: every leader expires sessions after a quarter of their timeout. */
    void expireSessionsEarly() {
        memberEarlyExpiry = true;
        for (SimulatedNode node : nodes) {
            if (node.member != null) {
                node.member.expireSessionsEarly();
            }
        }
    }

    /** The end of a run: every member's client connections close (what the clients never read is released). */
    void closeClientConnections() {
        for (SimulatedNode node : nodes) {
            if (node.member != null) {
                node.member.closeConnections();
            }
        }
    }

    /** The mutation the read-only checker must catch: members in read-only mode answer writes OK. */
    void answerWritesInReadOnlyMode() {
        memberReadOnlyWrites = true;
        for (SimulatedNode node : nodes) {
            if (node.member != null) {
                node.member.answerWritesInReadOnlyMode();
            }
        }
    }

    /** The mutation the reconfig checker must catch: Zab counts the old voters only while a reconfig is pending. */
    void countOldQuorumOnly() {
        oldQuorumOnly = true;
        for (SimulatedNode node : nodes) {
            if (node.machine != null) {
                node.machine.membership.countsActiveVotersOnly = true;
            }
        }
    }

    /** The mutation the joiner checker must catch: a joiner counts itself a voter of the configuration it follows. */
    void letJoinersVote() {
        joinersVote = true;
    }

    /** Whether node {@code id}'s disk holds {@code zxid} durably: synced in its log, or under its snapshot. */
    boolean durableOn(int id, long zxid) {
        return node(id).disk.holdsDurably(zxid);
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

    /** A seeded run with seed-chosen size and fault rates: what the VOPR-style test runs ({@link SimulationSeeds}). */
    static ZabSimulator randomized(long seed) {
        return SimulationSeeds.randomized(seed, false);
    }

    static ZabSimulator randomized(long seed, boolean lyingFsync) {
        return SimulationSeeds.randomized(seed, lyingFsync);
    }

    static ZabSimulator withMembers(long seed, boolean stalePrep) {
        return SimulationSeeds.withMembers(seed, stalePrep);
    }

    // ------------------------------------------------------------------------------------------------ control

    SimulatedNode node(int id) {
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

    /** Reconfigs for a named scenario without the member side: every node tells them with {@code reader}, restarts too. */
    void readMembersWith(MembershipReader reader) {
        Checks.require(!members && step == 0, "set before the first step, on a simulator without the member side");
        membershipReader = reader;
        for (SimulatedNode node : nodes) {
            if (node.isUp()) {
                node.machine.readMembersWith(reader);
            }
        }
    }

    void crashWhen(BiPredicate<SimulatedNode, Ready> trigger, ReadyStep step, Tail tail) {
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
    List<SimulatedNode> othersThan(SimulatedNode node) {
        List<SimulatedNode> others = new ArrayList<>();
        for (SimulatedNode candidate : nodes) {
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
    boolean runUntilApplied(SimulatedNode node, String text, int ticksMax) {
        return runUntil(() -> committedZxidOf(text) > 0 && node.isUp()
                && node.app.appliedZxid >= committedZxidOf(text), ticksMax);
    }

    SimulatedNode establishedLeader() {
        SimulatedNode found = null;
        for (SimulatedNode node : nodes) {
            if (node.isUp() && node.machine.isEstablishedLeader()) {
                if (found == null || node.machine.epoch() > found.machine.epoch()) {
                    found = node;
                }
            }
        }
        return found;
    }

    boolean submit(int id, byte[] txn) {
        SimulatedNode node = node(id);
        if (!node.isUp()) {
            return false;
        }
        writesSubmitted++;
        boolean[] accepted = new boolean[1];
        node.runOn(() -> accepted[0] = node.driver.submit(txn));
        if (accepted[0]) {
            writesAccepted++;
        }
        return accepted[0];
    }

    void crash(int id, Tail tail) {
        node(id).crash(tail, -1);
    }

    void restart(int id) {
        SimulatedNode node = node(id);
        Checks.require(!node.isUp(), "node %d is up", id);
        node.start();
    }

    /** Damages the disk of a node that is down: at its next start the driver sets its history aside. */
    void corruptDisk(int id) {
        SimulatedNode node = node(id);
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

    boolean mayDamageDisk(SimulatedNode node) {
        // Only voters' damage can cost the ensemble its quorum; an observer's never does.
        int damaged = isVoter(node.id) ? 1 : 0;
        for (SimulatedNode other : nodes) {
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
        network.isolate(id);
    }

    /** Puts the listed ids on one side and everyone else on the other. */
    void partition(int... side) {
        network.partition(side);
    }

    void heal() {
        network.heal();
    }

    boolean connected(int a, int b) {
        return network.connected(a, b);
    }

    long step() {
        return step;
    }

    // ------------------------------------------------------------------------------------------------ the loop

    void runStep() {
        step++;
        network.deliverDueMessages(step);
        connections.step(step, step % TICK_STEPS == 0);
        for (SimulatedNode node : nodes) {
            if (!node.isUp() && node.restartAtStep >= 0 && step >= node.restartAtStep) {
                node.start();
            }
        }
        for (SimulatedNode node : nodes) {
            if (node.isUp() && (step + node.tickPhase) % TICK_STEPS == 0) {
                if (random.nextDouble() < faults.crashPerTick()) {
                    node.crash(randomTail(), step + TICK_STEPS * (1 + random.nextInt(Math.max(1, faults.downTicksMax()))));
                    continue;
                }
                if (random.nextDouble() < faults.partitionPerTick()) {
                    network.randomPartition();
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
            SimulatedNode target = nodes[random.nextInt(nodes.length)];
            if (target.isUp()) {
                submit(target.id, ("s" + seed + "-w" + writesSubmitted).getBytes(StandardCharsets.UTF_8));
            }
        }
        checker.afterStep();
        if (joiners != null) {
            joiners.afterStep();
        }
        if (step % TICK_STEPS == 0) {
            checker.checkCommittedDurableOnQuorum();
        }
    }

    /** Each member's commit thread takes its turn, then what it handed Zab reaches the driver, as from ZabServer's inbox. */
    private void stepMembers() {
        for (SimulatedNode node : nodes) {
            if (node.member == null) {
                continue;
            }
            node.member.turn();
            node.flushOutbox();
        }
    }

    Tail randomTail() {
        return Tail.values()[random.nextInt(Tail.values().length)];
    }

    void count(String what) {
        stats.merge(what, 1L, Long::sum);
    }

    /**
     * Lets every live driver run its timers on the virtual clock, as ZabServer's loop does when its poll times out:
     * the tick every {@link #TICK_STEPS} steps and the finalize wait (Apache's 200 ms, here a seeded number of steps).
     */
    private void advanceDrivers() {
        for (SimulatedNode node : nodes) {
            if (!node.isUp()) {
                continue;
            }
            boolean waiting = node.machine.role() == Role.LOOKING && node.machine.finalizeWait() >= 0;
            boolean tickDue = node.nanoTime() - node.driver.nextTickNanos() >= 0;
            node.runOn(() -> {});
            if (waiting && !tickDue && node.isUp() && node.machine.role() != Role.LOOKING) {
                count("election decided by the driver's finalize timer");
            }
        }
    }

    /** The driver's PeerConnected input: a connection with {@code peer} is up. */
    void deliverConnect(SimulatedNode node, int peer) {
        node.runOn(() -> node.driver.peerConnected(peer));
    }

    /** The driver's PeerDisconnected input: the transport saw its connection with {@code peer} close. */
    void deliverDisconnect(SimulatedNode node, int peer) {
        boolean followedPeer = node.machine.role() == Role.FOLLOWING && node.machine.leaderId() == peer;
        trace("node " + node.id + ": peerDisconnected(" + peer + ")" + (connections.isUp(node.id, peer)
                ? " while connected again" : ""));
        node.runOn(() -> node.driver.peerDisconnected(peer));
        if (followedPeer && node.isUp() && node.machine.role() == Role.LOOKING) {
            count("follower looking at once: leader disconnected");
        }
    }

    // ------------------------------------------------------------------------------------------------ reporting

    void trace(String line) {
        events.line(step, line);
    }

    String replayCommand() {
        return SimulationFailure.replayCommand(this);
    }

    AssertionError failure(String violation) {
        return SimulationFailure.of(this, violation);
    }
}
