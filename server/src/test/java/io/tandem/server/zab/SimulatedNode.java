package io.tandem.server.zab;

import io.tandem.server.zab.ZabSimulator.ReadyStep;
import io.tandem.server.zab.ZabSimulator.SimulatedCrash;
import io.tandem.server.zab.ZabSimulator.Tail;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One simulated Zab member: the production {@link ZabDriver} over its {@link SimulatedDisk}, with the node itself as
 * the driver's network (into {@link SimulatedNetwork}), clock (the simulation's virtual clock at this node's phase) and
 * application ({@link SimulatedApp}, and with members the production ZooKeeper side). It starts, runs each input to
 * the end of its Readies, and crashes where the seed (or a test's trigger) puts a crash: before a step of a Ready,
 * with all, none or a prefix of its unsynced log tail kept.
 */
final class SimulatedNode implements ZabNetwork, ZabClock, ZabServer.Application {
    /** The finalize wait when connections are not modelled: never (ticks alone drive elections, as they did). */
    private static final long FINALIZE_NEVER_NANOS = Long.MAX_VALUE / 4;

    private final ZabSimulator sim;
    final int id;
    final SimulatedDisk disk;
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

    SimulatedNode(ZabSimulator sim, int id, int tickPhase) {
        this.sim = sim;
        this.disk = new SimulatedDisk(sim, this);
        this.id = id;
        this.tickPhase = tickPhase;
    }

    boolean isUp() {
        return machine != null;
    }

    /** This node's clock: the simulation's, shifted by its phase so that nodes tick at different steps. */
    @Override
    public long nanoTime() {
        return (sim.step() + tickPhase) * ZabSimulator.STEP_NANOS;
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
            int sent = sim.random.nextInt(messages.size() + 1);
            for (ZabMessage message : messages.subList(0, sent)) {
                sim.network.send(id, peer, message);
            }
            throw new SimulatedCrash();
        }
        for (ZabMessage message : messages) {
            sim.network.send(id, peer, message);
        }
    }

    @Override
    public void onCommit(long zxid, byte[] txn) {
        reach(ReadyStep.APPLY);
        LogEntry entry = new LogEntry(zxid, txn);
        sim.checker.onApply(this, entry);
        app.apply(entry);
        appliedSinceSnapshot++;
        if (member != null) {
            member.onCommit(zxid, txn);
        }
        if (sim.clients != null) {
            sim.clients.onApplied(this, new String(txn, StandardCharsets.UTF_8));
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
        return sim.clients == null ? request : sim.clients.prepareForwarded(this, request);
    }

    @Override
    public void onSnapshot(long zxid, SnapshotData snapshot) {
        reach(ReadyStep.APPLY);
        try {
            byte[] bytes = snapshot.readAllBytes();
            app = SimulatedApp.fromSnapshot(sim.members ? appPart(bytes) : bytes);
            if (member != null) {
                member.onSnapshot(zxid, SnapshotData.of(treePart(bytes)));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        appliedSinceSnapshot = 0;
        sim.checker.onSnapshotInstalled(this);
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
    private io.tandem.server.zookeeper.SimulatedMember.ZabSide zabSide() {
        return new io.tandem.server.zookeeper.SimulatedMember.ZabSide() {
            @Override
            public boolean isServing() {
                return machine != null && machine.isServing();
            }

            @Override
            public Role role() {
                return machine == null ? Role.LOOKING : machine.role();
            }

            @Override
            public int leaderId() {
                return machine == null ? -1 : machine.leaderId();
            }

            @Override
            public long committedZxid() {
                return machine == null ? 0 : machine.committedZxid();
            }

            @Override
            public boolean isObserver() {
                return machine == null ? !sim.isVoter(id) : machine.isObserver();
            }

            @Override
            public boolean isJoining() {
                return machine != null && machine.isJoining();
            }

            @Override
            public boolean isSyncedWithLeader(int id) {
                return machine != null && Arrays.stream(machine.syncedMembers()).anyMatch(m -> m == id);
            }

            @Override
            public SnapshotData writeSnapshot(long zxid, byte[] tree) {
                if (app.appliedZxid != zxid) {
                    throw sim.failure("node " + id + " snapshots its tree at " + Zxid.toString(zxid)
                            + " but applied " + Zxid.toString(app.appliedZxid));
                }
                sim.count("member snapshot");
                return SnapshotData.of(memberSnapshot(app.snapshot(), tree));
            }
        };
    }

    /** The driver is about to execute a step of a Ready: crash here if one is scheduled at or before it. */
    void reach(ReadyStep readyStep) {
        if (crashAt != null && readyStep.compareTo(crashAt) >= 0) {
            if (earlyProposalsSent && readyStep.compareTo(ReadyStep.SYNC) <= 0) {
                sim.count("leader crashed after sending proposals, before its fsync");
            }
            throw new SimulatedCrash();
        }
    }

    void flushOutbox() {
        while (member != null) {
            List<io.tandem.server.zookeeper.SimulatedMember.ToZab> outbox = member.takeOutbox();
            if (outbox.isEmpty()) {
                return;
            }
            for (io.tandem.server.zookeeper.SimulatedMember.ToZab item : outbox) {
                if (!isUp()) {
                    return;
                }
                if (item.txn() != null) {
                    sim.submit(id, item.txn());
                } else if (item.members() != null) {
                    runOn(() -> driver.changeMembers(item.compactZxid(), item.members().voters(),
                            item.members().observers()));
                } else {
                    runOn(() -> {
                        try {
                            driver.compact(item.compactZxid(), item.snapshot());
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
            }
        }
    }

    void start() {
        restartAtStep = -1;
        if (disk.recovering || (sim.corruptAtRestart > 0 && sim.mayDamageDisk(this))) {
            sim.corruptDisk(id); // a re-sync that never finished is set aside again, like fresh damage
        }
        restarts++;
        app = SimulatedApp.fromSnapshot(sim.members ? appPart(disk.snapshot) : disk.snapshot);
        appliedSinceSnapshot = 0;
        List<LogEntry> log = new ArrayList<>(disk.synced);
        log.addAll(disk.unsynced);
        String gap = DurableState.firstGap(disk.snapshotZxid, log);
        if (gap != null) {
            throw sim.failure("node " + id + " restarts with a hole in its history: " + gap);
        }
        DurableState durable = disk.recovering ? DurableState.recovering(disk.acceptedEpoch)
                : new DurableState(disk.acceptedEpoch, disk.currentEpoch, disk.snapshotZxid,
                        disk.snapshot == null ? null : SnapshotData.of(disk.snapshot), log);
        ZabConfig base = sim.baseConfig;
        int[] voters = sim.joiners == null ? sim.voterIds : sim.joiners.zooCfgVoters(id);
        ZabConfig config = new ZabConfig(id, voters, sim.observerIds, base.initLimit(), base.syncLimit(),
                base.electionFinalizeTicks(), base.outstandingProposalsMax());
        ZabStateMachine machine = new ZabStateMachine(config, durable, restarts);
        machine.membership.countsActiveVotersOnly = sim.oldQuorumOnly;
        machine.membership.joinersVote = sim.joinersVote;
        long finalizeNanos = sim.connections.enabled() ? sim.connections.finalizeSteps() * ZabSimulator.STEP_NANOS
                : FINALIZE_NEVER_NANOS;
        driver = new ZabDriver(machine, disk, this, this, this, ZabSimulator.TICK_STEPS * ZabSimulator.STEP_NANOS,
                finalizeNanos);
        driver.observeReadies(ready -> onReady(ready));
        this.machine = machine;
        crashAt = null;
        if (sim.members) {
            // A new process: an empty tree, restored from the durable snapshot as ZabServer's start does.
            member = new io.tandem.server.zookeeper.SimulatedMember(id, sim.voterIds.length, sim.observerIds.length,
                    sim.memberSnapCount, sim.memberReadOnly, zabSide(), this::nanoTime);
            if (sim.memberStalePrep) {
                member.forgetOutstandingChangesBeforeEachPrepare();
            }
            if (sim.memberEarlyExpiry) {
                member.expireSessionsEarly();
            }
            if (sim.memberReadOnlyWrites) {
                member.answerWritesInReadOnlyMode();
            }
            machine.readMembersWith(member.membershipReader());
            sim.reconfigChecker.watch(member);
            sim.sessionChecker.watch(id, member);
            if (disk.snapshot != null && !disk.recovering) {
                member.onSnapshot(disk.snapshotZxid, SnapshotData.of(treePart(disk.snapshot)));
            }
        }
        if (!sim.members && sim.membershipReader != null) {
            machine.readMembersWith(sim.membershipReader); // a named scenario's reconfigs, without the member side
        }
        lastLeader = -1; // a new process starts looking
        sim.trace("start " + id + " (restart " + restarts + ") " + machine);
        sim.connections.onStart(id, sim.step());
        sim.checker.onRestart(this);
        if (sim.joiners != null) {
            sim.joiners.onStart(this);
        }
        runOn(() -> {});
    }

    void crash(Tail tail, long restartAtStep) {
        if (!isUp()) {
            return;
        }
        int keep = switch (tail) {
            case KEEP -> disk.unsynced.size();
            case LOSE -> 0;
            case RANDOM_PREFIX -> disk.unsynced.isEmpty() ? 0 : sim.random.nextInt(disk.unsynced.size() + 1);
        };
        disk.synced.addAll(disk.unsynced.subList(0, keep));
        disk.unsynced.clear();
        sim.trace("crash " + id + " " + machine + " tail " + tail + " kept " + keep + " durable last "
                + Zxid.toString(disk.lastZxid()));
        machine = null;
        driver = null;
        member = null;
        crashAt = null;
        this.restartAtStep = restartAtStep;
        sim.connections.onCrash(id, sim.step());
        sim.count("crash, tail " + tail);
    }

    /**
     * Feeds one input to the node's driver and lets it execute everything that follows (a Ready at a time, as
     * ZabServer's loop does after each batch of inputs); a crash scheduled inside a Ready stops it there.
     */
    void runOn(Runnable input) {
        if (!isUp()) {
            return;
        }
        try {
            input.run();
            while (true) {
                driver.advance();
                endReady();
                observeRole();
                if (member != null) {
                    member.observeRole(machine.epoch());
                }
                maybeSnapshot();
                if (!machine.hasReady()) {
                    break;
                }
            }
        } catch (SimulatedCrash crash) {
            Tail tail = crashTail;
            crash(tail, sim.faults.downTicksMax() == 0 ? -1
                    : sim.step() + ZabSimulator.TICK_STEPS * (1 + sim.random.nextInt(sim.faults.downTicksMax())));
        } catch (java.io.IOException e) {
            throw new AssertionError("the simulated disk does not fail: " + e, e);
        }
    }

    /** The driver takes a Ready: maybe schedule a crash inside it (the test's trigger, or a seeded chance). */
    private void onReady(Ready ready) {
        endReady(); // a crash scheduled in the previous Ready at a step it did not have happens before this one
        sim.readyObserver.accept(this, ready);
        crashTail = sim.randomTail();
        if (sim.crashTrigger != null && sim.crashTrigger.test(this, ready)) {
            crashAt = sim.crashTriggerStep;
            crashTail = sim.crashTriggerTail;
            sim.crashTrigger = null;
        } else if (sim.random.nextDouble() < sim.faults.crashInsideReady()) {
            crashAt = ReadyStep.values()[sim.random.nextInt(ReadyStep.values().length)];
        }
        if (crashAt != null) {
            sim.count("crash inside Ready before " + crashAt);
        }
        earlyMessagesLeft = ready.messagesBeforeSync();
        earlyProposalsSent = false;
    }

    /** The Ready is done: a crash scheduled before a step it did not have happens now, after all of it. */
    private void endReady() {
        if (crashAt != null) {
            throw new SimulatedCrash();
        }
    }

    private void maybeSnapshot() throws java.io.IOException {
        if (sim.members || sim.faults.snapshotEvery() <= 0 || appliedSinceSnapshot < sim.faults.snapshotEvery()
                || !isUp()) {
            return;
        }
        if (app.appliedZxid <= machine.snapshotZxid()) {
            return;
        }
        // The application hands Zab a snapshot, which the driver writes durably before Zab forgets the log it covers.
        appliedSinceSnapshot = 0;
        driver.compact(app.appliedZxid, SnapshotData.of(app.snapshot()));
    }

    private void observeRole() {
        Role role = machine.role();
        int leader = machine.leaderId();
        if (lastLeader >= 0 && leader >= 0 && leader != lastLeader) {
            // From one leader to another within one input: a reconfig's designated leader, no election between.
            sim.count("handovers to a designated leader");
        }
        lastLeader = leader;
        if (role != lastRole) {
            lastRole = role;
            sim.trace("node " + id + " -> " + machine);
        }
    }

    /** The leader after the previous input (-1 looking), to count handovers. */
    private int lastLeader = -1;
}
