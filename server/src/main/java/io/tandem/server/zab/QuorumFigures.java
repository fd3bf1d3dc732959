package io.tandem.server.zab;

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
 * <p>Thread-safe: counted on the Zab thread, read by mntr on the commit thread.
 */
public final class QuorumFigures {
    private long proposals;
    private long commits;
    private long proposalsReceived;
    private long commitsReceived;

    /** The driver processed one step of {@code machine}: {@code appends} logged, {@code commits} committed. */
    synchronized void processed(ZabStateMachine machine, int appends, int committed) {
        if (!machine.isServing()) return;
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
    }
}
