package io.tandem.server.zab;

import java.nio.ByteBuffer;
import java.util.function.BiConsumer;

/**
 * The timing summaries of Apache ZooKeeper 3.9's quorum figures (ServerMetrics) that a member keeps whichever quorum
 * protocol it speaks ({@link QuorumFigures} for Tandem's, {@code ApacheQuorumFigures} for Apache's): a learner's sync
 * time, a follower's in {@code follower_sync_time} and an observer's in {@code observer_sync_time}, and the ADVANCED
 * quorum latencies, ms from the transaction's TxnHeader time (its leader's wall clock when it was made; a negative
 * one, clocks apart, is dropped as Apache's Request.logLatency drops it): {@code quorum_ack_latency},
 * {@code proposal_latency} and {@code commit_propagation_latency}. A learner master's {@code om_proposal_process_time_ms}
 * and {@code om_commit_process_time_ms}: a follower serving observers in Apache's protocol (Tandem's own protocol has
 * no learner master, so there they stay 0). Each protocol says where its member counts what.
 *
 * <p>Thread-safe as {@link FigureSummary} is.
 */
public final class QuorumTimings {
    private final FigureSummary followerSyncMs = new FigureSummary("follower_sync_time");
    private final FigureSummary observerSyncMs = new FigureSummary("observer_sync_time");
    private final FigureSummary quorumAckLatency = FigureSummary.withPercentiles("quorum_ack_latency");
    private final FigureSummary proposalLatency = FigureSummary.withPercentiles("proposal_latency");
    private final FigureSummary commitPropagationLatency =
            FigureSummary.withPercentiles("commit_propagation_latency");
    private final FigureSummary learnerMasterProposalMs = FigureSummary.withPercentiles("om_proposal_process_time_ms");
    private final FigureSummary learnerMasterCommitMs = FigureSummary.withPercentiles("om_commit_process_time_ms");

    /** This learner (an observer when {@code observer}) synced with its leader in {@code ms}. */
    public void synced(boolean observer, long ms) {
        (observer ? observerSyncMs : followerSyncMs).add(ms);
    }

    /** A leader's proposal of {@code txn} reached its quorum of acks at {@code nowMillis}. */
    public void quorumAcked(byte[] txn, long nowMillis) {
        addSinceMade(quorumAckLatency, txn, nowMillis);
    }

    /** A follower logged the proposal of {@code txn} at {@code nowMillis}. */
    public void proposalLogged(byte[] txn, long nowMillis) {
        addSinceMade(proposalLatency, txn, nowMillis);
    }

    /** A learner learnt at {@code nowMillis} that {@code txn} is committed. */
    public void commitPropagated(byte[] txn, long nowMillis) {
        addSinceMade(commitPropagationLatency, txn, nowMillis);
    }

    /**
     * Adds to {@code summary} the ms from {@code txn}'s TxnHeader time ({@code long clientId, int cxid, long zxid,
     * long time, int type}) to {@code nowMillis}; nothing for bytes without a header or a negative latency.
     */
    private static void addSinceMade(FigureSummary summary, byte[] txn, long nowMillis) {
        if (txn == null || txn.length < 28) return;
        long made = ByteBuffer.wrap(txn).getLong(20);
        long latency = nowMillis - made;
        if (made > 0 && latency >= 0) summary.add(latency);
    }

    /** A learner master handled a PROPOSAL in {@code ms}. */
    public void learnerMasterProposal(long ms) {
        learnerMasterProposalMs.add(ms);
    }

    /** A learner master handled a COMMIT in {@code ms}. */
    public void learnerMasterCommit(long ms) {
        learnerMasterCommitMs.add(ms);
    }

    /** mntr's lines of the seven summaries, under Apache's names. */
    public void report(BiConsumer<String, Object> line) {
        followerSyncMs.report(line);
        observerSyncMs.report(line);
        quorumAckLatency.report(line);
        proposalLatency.report(line);
        commitPropagationLatency.report(line);
        learnerMasterProposalMs.report(line);
        learnerMasterCommitMs.report(line);
    }
}
