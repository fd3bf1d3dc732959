package io.tandem.server.zab.apache;

import io.tandem.server.zab.FigureSummary;
import io.tandem.server.zab.QuorumTimings;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Apache ZooKeeper 3.9's quorum figures (ServerMetrics) of a Tandem member speaking Apache's quorum protocol, counted
 * where Apache counts them, one set per member (its quorum peer's), kept across its leaderships and sessions:
 * <ul>
 * <li>{@code looking_count}: each election this member starts (QuorumPeer.run's LOOKING case); a session with a
 *     leader a reconfig designated starts none, as Apache's reconfigFlag skips LOOKING;</li>
 * <li>{@code election_time}: ms from going LOOKING to leading or following the elected leader (Leader.lead and
 *     Follower.followLeader; Apache's Observer records none). A session with a designated leader records none:
 *     Apache records one there too, but from a start_fle its last election reset to 0, so not an election's time;</li>
 * <li>on a leader, {@code proposal_count} (each proposal: Leader.propose) and {@code commit_count} (each COMMIT sent:
 *     Leader.commit, which a reconfig's COMMITANDACTIVATE does not go through), and per learner sync
 *     {@code snap_count} (a SNAP) or {@code diff_count} (a DIFF or TRUNC: LearnerHandler.syncFollower's "no snap"
 *     branch);</li>
 * <li>on a learner in broadcast (Follower.processPacket, Observer.processPacket):
 *     {@code learner_proposal_received_count} (each PROPOSAL) and {@code learner_commit_received_count} (each
 *     COMMIT on a follower, each INFORM on an observer; the ACTIVATE kinds are not counted, as Apache's cases for
 *     them do not), and the sync's time (ms from the leader's LEADERINFO answered to UPTODATE: syncWithLeader),
 *     a follower's in the {@code follower_sync_time} summary, an observer's in {@code observer_sync_time}
 *     (Observer.observeLeader's).</li>
 * <li>Apache's ADVANCED quorum latencies, ms from the TxnHeader's time (the leader's wall clock when it made the
 *     transaction; a negative one, clocks apart, is dropped as Apache's Request.logLatency drops it):
 *     {@code quorum_ack_latency} on a leader as a proposal commits (Leader.tryToCommit; not a reconfig's, whose
 *     COMMITANDACTIVATE takes the other branch), {@code proposal_latency} on a follower as a PROPOSAL is logged
 *     (Follower.processPacket), {@code commit_propagation_latency} on a follower at each COMMIT and
 *     COMMITANDACTIVATE (FollowerZooKeeperServer.commit) and on an observer at each INFORM (not an
 *     INFORMANDACTIVATE); and on a follower serving observers ({@link ObserverMaster}) {@code om_proposal_process_time_ms}
 *     and {@code om_commit_process_time_ms}, its learner master's time per PROPOSAL and COMMIT handed to it (Apache's
 *     Follower.processPacket times om.proposalReceived and om.proposalCommitted; a COMMITANDACTIVATE is not
 *     timed).</li>
 * </ul>
 *
 * <p>Thread-safe: counted on the quorum peer's, the leader's and the learner handlers' threads, read by mntr.
 */
public final class ApacheQuorumFigures {
    private final AtomicLong lookingCount = new AtomicLong();
    private final FigureSummary electionMs = new FigureSummary("election_time");
    private final AtomicLong proposals = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong proposalsReceived = new AtomicLong();
    private final AtomicLong commitsReceived = new AtomicLong();
    private final AtomicLong diffs = new AtomicLong();
    private final AtomicLong snaps = new AtomicLong();
    private final QuorumTimings timings = new QuorumTimings();
    /** When the election under way started (System.nanoTime), 0 when none is. */
    private volatile long lookingSinceNanos;

    /** An election starts. */
    void looking() {
        lookingCount.incrementAndGet();
        lookingSinceNanos = System.nanoTime();
    }

    /** The election ended with this member leading or following (not observing): its time is recorded once. */
    void elected() {
        long since = lookingSinceNanos;
        if (since == 0) return;
        lookingSinceNanos = 0;
        electionMs.add((System.nanoTime() - since) / 1_000_000);
    }

    /** The election ended with this member observing: Apache records no election time. */
    void observing() {
        lookingSinceNanos = 0;
    }

    void proposed() {
        proposals.incrementAndGet();
    }

    void committed() {
        commits.incrementAndGet();
    }

    void proposalReceived() {
        proposalsReceived.incrementAndGet();
    }

    void commitReceived() {
        commitsReceived.incrementAndGet();
    }

    /** The leader synced a learner with {@code kind}: {@link LearnerWire#SNAP}, DIFF or TRUNC. */
    void learnerSynced(int kind) {
        if (kind == LearnerWire.SNAP) {
            snaps.incrementAndGet();
        } else if (kind == LearnerWire.DIFF || kind == LearnerWire.TRUNC) {
            diffs.incrementAndGet();
        }
    }

    /** This learner (an observer when {@code observer}) synced with its leader in {@code ms}. */
    void synced(boolean observer, long ms) {
        timings.synced(observer, ms);
    }

    /** A leader's proposal (not a reconfig) reached its quorum of acks. */
    void quorumAcked(byte[] txn) {
        timings.quorumAcked(txn, System.currentTimeMillis());
    }

    /** A follower logged a PROPOSAL. */
    void proposalLogged(byte[] txn) {
        timings.proposalLogged(txn, System.currentTimeMillis());
    }

    /** A follower's COMMIT or COMMITANDACTIVATE, or an observer's INFORM, of {@code txn}. */
    void commitPropagated(byte[] txn) {
        timings.commitPropagated(txn, System.currentTimeMillis());
    }

    /** A learner master's handling of a PROPOSAL (Apache's OM_PROPOSAL_PROCESS_TIME), in ms. */
    void learnerMasterProposal(long ms) {
        timings.learnerMasterProposal(ms);
    }

    /** A learner master's handling of a COMMIT (Apache's OM_COMMIT_PROCESS_TIME), in ms. */
    void learnerMasterCommit(long ms) {
        timings.learnerMasterCommit(ms);
    }

    /** mntr's lines, under Apache's names (its ServerMetrics being global, every member prints them all). */
    public void report(BiConsumer<String, Object> line) {
        line.accept("zk_looking_count", lookingCount.get());
        electionMs.report(line);
        line.accept("zk_proposal_count", proposals.get());
        line.accept("zk_commit_count", commits.get());
        line.accept("zk_learner_proposal_received_count", proposalsReceived.get());
        line.accept("zk_learner_commit_received_count", commitsReceived.get());
        line.accept("zk_diff_count", diffs.get());
        line.accept("zk_snap_count", snaps.get());
        timings.report(line);
    }
}
