package io.tandem.server.zab;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Runs one {@link ZabStateMachine} against a {@link ZabDisk}, a {@link ZabNetwork} and a {@link ZabClock}: it feeds the
 * machine its inputs, runs its tick and finalize timers, and executes each {@link Ready} in the documented order. It
 * owns no thread: {@link ZabServer} calls it from its Zab thread with real files, {@link QuorumTransport} and the system
 * clock, and the simulator calls it from its loop with an in-memory disk, a simulated network and a virtual clock, so
 * the code the simulator checks is the code production runs. Not thread-safe: one caller at a time.
 *
 * <p>Inputs ({@link #receive}, {@link #submit}, ...) only step the machine; {@link #advance} then runs due timers and
 * executes what the machine asked for. Stepping many inputs before one {@code advance} is how many appends share one
 * fsync (group commit).
 */
public final class ZabDriver {
    private static final Logger LOG = System.getLogger(ZabDriver.class.getName());

    private final ZabStateMachine machine;
    private final ZabDisk disk;
    private final ZabNetwork network;
    private final ZabClock clock;
    private final ZabServer.Application application;
    private final long tickNanos;
    private final long finalizeWaitNanos;
    private long nextTick;
    /** The finalize wait being timed (the machine's counter), or -1; and when it ends. */
    private long finalizeWait = -1;
    private long finalizeAt;
    private Consumer<Ready> readyObserver = ready -> {};
    /**
     * On a leader: each outstanding proposal's zxid and when its Ready was executed, oldest first, for the
     * proposal-to-commit time; never more than the machine's outstandingProposalsMax (its proposal pipeline's bound).
     */
    private final ArrayDeque<long[]> proposedAt = new ArrayDeque<>();
    private volatile LongConsumer commitLatencyObserver = nanos -> {};
    // Written by the driver's thread only, read by mntr: group-commit size (appends per log sync) and batching.
    private volatile long statSyncs;
    private volatile long statAppends;
    private volatile long statCommits;
    private volatile long statMessages;
    private volatile long statSends;
    /** mntr's broadcast counters under Apache's names (proposal_count, commit_count, learner_*_received_count). */
    final QuorumFigures quorumFigures = new QuorumFigures();

    /**
     * @param tickNanos         the machine's tick (ZooKeeper's tickTime)
     * @param finalizeWaitNanos how long a quorum-backed vote waits for a better one (Apache's finalizeWait)
     */
    public ZabDriver(ZabStateMachine machine, ZabDisk disk, ZabNetwork network, ZabClock clock,
                     ZabServer.Application application, long tickNanos, long finalizeWaitNanos) {
        Checks.require(tickNanos > 0 && finalizeWaitNanos > 0, "tick %d and finalize wait %d must be positive",
                tickNanos, finalizeWaitNanos);
        this.machine = machine;
        this.disk = disk;
        this.network = network;
        this.clock = clock;
        this.application = application;
        this.tickNanos = tickNanos;
        this.finalizeWaitNanos = finalizeWaitNanos;
        this.nextTick = clock.nanoTime() + tickNanos;
    }

    public ZabStateMachine machine() {
        return machine;
    }

    /**
     * Told, on the driver's thread, how long each of this leader's proposals took from its proposal to its commit
     * (nanoseconds on the driver's clock): the Zab part of a write's latency, for the metrics.
     */
    public void observeCommitLatency(LongConsumer observer) {
        commitLatencyObserver = observer;
    }

    /** Diagnostics and fault injection: sees each Ready before it is executed. */
    void observeReadies(Consumer<Ready> observer) {
        this.readyObserver = observer;
    }

    public void receive(int from, ZabMessage message) {
        machine.receive(from, message);
    }

    public void peerConnected(int peer) {
        machine.peerConnected(peer);
    }

    public void peerDisconnected(int peer) {
        machine.peerDisconnected(peer);
    }

    /**
     * A configuration the application applied at {@code zxid} ({@link ZabStateMachine#changeMembers}); its effects run at
     * the next advance.
     */
    public void changeMembers(long zxid, int[] voters, int[] observers) {
        machine.changeMembers(zxid, voters, observers);
    }

    /** A write from this member's application; false when the machine cannot take it now. */
    public boolean submit(byte[] txn) {
        return machine.submit(txn);
    }

    /**
     * The application's snapshot of its state at an applied {@code zxid}: stored durably, then Zab forgets the log it
     * covers. Ignored when not newer than the machine's snapshot or not yet committed here.
     */
    public void compact(long zxid, SnapshotData snapshot) throws IOException {
        if (zxid > machine.snapshotZxid() && zxid <= machine.committedZxid()) {
            SnapshotData stored = disk.writeSnapshot(zxid, snapshot);
            machine.compact(zxid, stored);
            disk.retainNewestSnapshots();
        }
    }

    /** When the next tick is due, on the clock's scale. */
    long nextTickNanos() {
        return nextTick;
    }

    /** When {@link #advance} has timer work next, on the clock's scale. */
    public long nextWakeNanos() {
        return finalizeWait >= 0 && finalizeAt - nextTick < 0 ? finalizeAt : nextTick;
    }

    /**
     * Runs the tick and finalize timers that are due, then executes Readies until the machine has nothing left to do.
     * An exception leaves durable state possibly half-written: the caller must stop this member.
     */
    public void advance() throws IOException {
        long now = clock.nanoTime();
        if (now - nextTick >= 0) {
            machine.tick();
            nextTick += tickNanos;
        }
        // A quorum agrees on a vote: decide after the finalize wait unless a better vote arrives first.
        if (machine.finalizeWait() != finalizeWait) {
            finalizeWait = machine.finalizeWait();
            finalizeAt = now + finalizeWaitNanos;
        } else if (finalizeWait >= 0 && now - finalizeAt >= 0) {
            machine.finalizeElection(finalizeWait);
            finalizeWait = machine.finalizeWait();
        }
        while (machine.hasReady()) {
            execute(machine.ready());
        }
    }

    /** The Ready contract, step by step: durable state first, then messages, then the application. */
    private void execute(Ready ready) throws IOException {
        readyObserver.accept(ready);
        noteProposals(ready);
        List<Ready.Outbound> messages = ready.messages();
        quorumFigures.sent(messages, clock.nanoTime());
        // Proposals (and commits, pings) go before the fsync, so followers fsync while this member does.
        sendAll(messages.subList(0, ready.messagesBeforeSync()));
        SnapshotData installed = null;
        if (ready.snapshotToInstall() != null) {
            long zxid = ready.snapshotToInstall().zxid();
            installed = disk.writeSnapshot(zxid, ready.snapshotToInstall().data());
            machine.snapshotStored(zxid, installed); // the received copy may be a temporary file
            if (installed != ready.snapshotToInstall().data()) {
                ready.snapshotToInstall().data().release();
            }
        }
        if (ready.truncateAfterZxid() != Ready.NONE) {
            disk.truncateAfter(ready.truncateAfterZxid());
        }
        for (LogEntry entry : ready.appends()) {
            disk.append(entry.zxid(), entry.txn());
        }
        if (ready.needsLogSync()) {
            disk.sync();
            statSyncs++;
            statAppends += ready.appends().size();
            // Only now may a leader count its own ack for these entries.
            machine.logSynced(ready.appends().get(ready.appends().size() - 1).zxid());
        }
        statCommits += ready.commits().size();
        quorumFigures.processed(machine, ready.appends(), ready.commits(), clock.nanoTime(),
                System.currentTimeMillis());
        timeCommits(ready.commits());
        if (ready.acceptedEpoch() != Ready.NONE) {
            disk.writeAcceptedEpoch(ready.acceptedEpoch());
        }
        if (ready.currentEpoch() != Ready.NONE) {
            disk.writeCurrentEpoch(ready.currentEpoch());
        }
        if (ready.recoveryComplete()) {
            // The synced history and its epoch are durable: only now may the ack that makes this member count leave.
            disk.clearRecovering();
            LOG.log(Level.INFO, "server {0}: re-synced from leader {1} up to {2} after damage to its Zab data; no "
                    + "longer recovering", machine.myId(), machine.leaderId(), Zxid.toString(machine.lastZxid()));
        }
        sendAll(messages.subList(ready.messagesBeforeSync(), messages.size()));
        if (installed != null) {
            application.onSnapshot(ready.snapshotToInstall().zxid(), installed);
        }
        for (LogEntry entry : ready.commits()) {
            application.onCommit(entry.zxid(), entry.txn());
        }
        if (ready.purgeBeforeZxid() != Ready.NONE) {
            disk.purgeBefore(ready.purgeBeforeZxid());
        }
        for (byte[] request : ready.forwardedRequests()) {
            byte[] txn = application.prepareForwarded(request);
            if (txn != null) {
                machine.submit(txn);
            }
        }
        if (ready.configAdopted() != null) {
            application.onConfigAdopted(ready.configAdopted().version(), ready.configAdopted().members());
        }
    }

    /** A leader's appends are its proposals: note when each left (its followers got it before this fsync). */
    private void noteProposals(Ready ready) {
        if (machine.role() != Role.LEADING) {
            proposedAt.clear(); // what is outstanding now is another leader's to time
            return;
        }
        long now = clock.nanoTime();
        for (LogEntry entry : ready.appends()) {
            proposedAt.addLast(new long[] {entry.zxid(), now});
        }
        while (proposedAt.size() > machine.config().outstandingProposalsMax()) {
            proposedAt.pollFirst();
        }
    }

    private void timeCommits(List<LogEntry> commits) {
        if (commits.isEmpty() || proposedAt.isEmpty()) {
            return;
        }
        long now = clock.nanoTime();
        LongConsumer observer = commitLatencyObserver;
        for (LogEntry entry : commits) {
            while (!proposedAt.isEmpty() && proposedAt.peekFirst()[0] < entry.zxid()) {
                proposedAt.pollFirst(); // proposed before this member noted it (a previous leader's): not timed
            }
            if (!proposedAt.isEmpty() && proposedAt.peekFirst()[0] == entry.zxid()) {
                observer.accept(now - proposedAt.pollFirst()[1]);
            }
        }
    }

    /** Sends each peer its messages in order, batched: one hand-off to the network and one flush per peer. */
    private void sendAll(List<Ready.Outbound> messages) {
        if (messages.isEmpty()) {
            return;
        }
        statMessages += messages.size();
        Map<Integer, List<ZabMessage>> byPeer = new LinkedHashMap<>();
        for (Ready.Outbound outbound : messages) {
            byPeer.computeIfAbsent(outbound.to(), peer -> new ArrayList<>()).add(outbound.message());
        }
        for (Map.Entry<Integer, List<ZabMessage>> peer : byPeer.entrySet()) {
            network.send(peer.getKey(), peer.getValue());
            statSends++;
        }
    }

    public ZabServer.Stats stats() {
        return new ZabServer.Stats(statSyncs, statAppends, statCommits, statMessages, statSends);
    }
}
