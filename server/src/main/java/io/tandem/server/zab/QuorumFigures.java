package io.tandem.server.zab;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Apache ZooKeeper 3.9's broadcast counters (ServerMetrics), counted where a Tandem-protocol member's Zab driver
 * processes what its state machine decided: on a leader {@code proposal_count} (each transaction it proposes:
 * Leader.propose's PROPOSAL_COUNT) and {@code commit_count} (each one it commits: Leader.commit's COMMIT_COUNT); on a
 * follower {@code learner_proposal_received_count} and {@code learner_commit_received_count} (Follower.processPacket's
 * counts of PROPOSAL and COMMIT packets, one of each per transaction), on an observer the latter alone (Apache's
 * Observer counts each INFORM as a commit received and gets no proposals). Tandem's COMMIT message may cover several
 * transactions, so the commits counted are the transactions committed, which is what Apache's one COMMIT packet per
 * transaction counts. Only the broadcast phase counts: what a learner receives while it syncs with its leader (Apache's
 * syncWithLeader, not processPacket) and what a leader does before its leadership is established are not proposals
 * and commits of the broadcast. (The step that ends a learner's sync is counted whole, as the machine is broadcasting
 * once it has been taken: the few transactions of that step's DIFF count as received.)
 *
 * <p>The syncs too: on a leader {@code diff_count} and {@code snap_count}, one per learner synced (Apache's
 * LearnerHandler.syncFollower counts a SNAP as a snap and anything else, DIFF or TRUNC, as a diff), read from the
 * first SYNC message a learner is sent before its NEWLEADER; on a follower the {@code follower_sync_time} summary,
 * ms from its ACKEPOCH sent to the machine serving (Apache's Follower.followLeader times syncWithLeader, from
 * LEADERINFO answered to UPTODATE), on an observer the {@code observer_sync_time} summary (Observer.observeLeader's).
 *
 * <p>And Apache's ADVANCED quorum latencies, ms from the transaction's TxnHeader time (its leader's wall clock when
 * the transaction was made; a negative one, clocks apart, is dropped as Apache's Request.logLatency drops it), in
 * the broadcast only: {@code quorum_ack_latency} on a leader for each transaction it commits (Leader.tryToCommit),
 * {@code proposal_latency} on a follower for each proposal it logs (Follower.processPacket's PROPOSAL), and
 * {@code commit_propagation_latency} on a follower or observer for each transaction committed
 * (FollowerZooKeeperServer.commit, Observer's INFORM). {@code om_proposal_process_time_ms} and
 * {@code om_commit_process_time_ms} (a learner master's time per packet) stay 0: Tandem's protocol has no learner
 * master, its observers sync from the leader.
 *
 * <p>Thread-safe: counted on the Zab thread, read by mntr on the commit thread.
 */
public final class QuorumFigures {
    private long proposals;
    private long commits;
    private long proposalsReceived;
    private long commitsReceived;
    private long diffs;
    private long snaps;
    private final QuorumTimings timings = new QuorumTimings();
    /** When this member answered its leader's epoch (System.nanoTime on the driver's clock), 0 when not syncing. */
    private long syncStartedNanos;
    private boolean wasServing;

    /**
     * The driver sends {@code messages} (Zab thread): a leader's SYNC and NEWLEADER to each learner it syncs, a
     * learner's ACKEPOCH that starts its sync.
     */
    synchronized void sent(List<Ready.Outbound> messages, long nowNanos) {
        Map<Integer, ZabMessage.SyncMode> firstSync = null;
        for (Ready.Outbound outbound : messages) {
            ZabMessage message = outbound.message();
            if (message instanceof ZabMessage.Sync sync) {
                if (firstSync == null) firstSync = new HashMap<>();
                firstSync.putIfAbsent(outbound.to(), sync.mode()); // later SYNCs of a DIFF are its chunks
            } else if (message instanceof ZabMessage.NewLeader && firstSync != null) {
                ZabMessage.SyncMode mode = firstSync.remove(outbound.to());
                if (mode == ZabMessage.SyncMode.SNAP) {
                    snaps++;
                } else if (mode != null) {
                    diffs++;
                }
            } else if (message instanceof ZabMessage.AckEpoch) {
                syncStartedNanos = nowNanos;
            }
        }
    }

    /**
     * The driver processed one step of {@code machine}: {@code appended} logged, {@code committed} committed; the
     * latencies are taken at {@code nowMillis} (the wall clock, as the TxnHeader's time is).
     */
    synchronized void processed(ZabStateMachine machine, List<LogEntry> appended, List<LogEntry> committed,
                                long nowNanos, long nowMillis) {
        processed(machine, appended.size(), committed.size(), nowNanos);
        if (!machine.isServing()) return;
        if (machine.role() == Role.LEADING) {
            for (LogEntry entry : committed) timings.quorumAcked(entry.txn(), nowMillis);
            return;
        }
        if (!machine.isObserver()) {
            for (LogEntry entry : appended) timings.proposalLogged(entry.txn(), nowMillis);
        }
        for (LogEntry entry : committed) timings.commitPropagated(entry.txn(), nowMillis);
    }

    /** The counts of {@link #processed(ZabStateMachine, List, List, long, long)}. */
    private void processed(ZabStateMachine machine, int appends, int committed, long nowNanos) {
        boolean serving = machine.isServing();
        if (serving && !wasServing && syncStartedNanos != 0 && machine.role() != Role.LEADING) {
            timings.synced(machine.isObserver(), (nowNanos - syncStartedNanos) / 1_000_000);
        }
        if (serving && !wasServing) syncStartedNanos = 0; // the next sync starts at its own ACKEPOCH
        wasServing = serving;
        if (!serving) return;
        if (machine.role() == Role.LEADING) {
            proposals += appends;
            commits += committed;
        } else {
            if (!machine.isObserver()) proposalsReceived += appends;
            commitsReceived += committed;
        }
    }

    /** mntr's lines, under Apache's names (Apache prints all four on every member, its ServerMetrics being global). */
    public synchronized void report(BiConsumer<String, Object> line) {
        line.accept("zk_proposal_count", proposals);
        line.accept("zk_commit_count", commits);
        line.accept("zk_learner_proposal_received_count", proposalsReceived);
        line.accept("zk_learner_commit_received_count", commitsReceived);
        line.accept("zk_diff_count", diffs);
        line.accept("zk_snap_count", snaps);
        timings.report(line);
    }
}
