package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An {@link ApacheLeader}'s proposal bookkeeping, as Apache's Leader keeps its outstandingProposals and its
 * ZKDatabase's committedLog: the next zxid's counter, the proposals made and not yet committed with the acks each
 * collected, the window of committed proposals a learner can be synced from by DIFF, and the syncs waiting for a
 * proposal's commit. The per-learner protocol (discovery, each learner's sync and sending) stays in the leader and
 * its {@link ApacheLearnerHandler}s. Not thread-safe: every call under the leader's lock.
 */
final class LeaderHistory {
    /**
     * Committed proposals kept for DIFF syncs: Apache's {@code zookeeper.commitLogCount} system property, 500 by
     * default as there; a learner further behind gets a SNAP.
     */
    static final int COMMITTED_LOG_MAX = Math.max(1, Integer.getInteger("zookeeper.commitLogCount", 500));

    private long nextCounter = 1;
    private long lastAppendedZxid;
    private long lastCommittedZxid;
    /** The zxid just before the first entry of {@link #committedLog}: the oldest point a DIFF can start from. */
    private long windowStart;
    private final ArrayDeque<LeaderProposal> outstanding = new ArrayDeque<>();
    private final ArrayDeque<LeaderProposal> committedLog = new ArrayDeque<>();
    /** Syncs waiting for the commit of the proposal (zxid) that was the newest when they were asked. */
    private final Map<Long, List<Runnable>> pendingSyncs = new HashMap<>();

    /**
     * @param appliedZxid the newest zxid of the leader's applied state
     * @param committed   the proposals it had logged after it, all committed by the leadership
     */
    LeaderHistory(long appliedZxid, List<QuorumPacket> committed) {
        this.windowStart = appliedZxid;
        this.lastCommittedZxid = appliedZxid;
        for (QuorumPacket packet : committed) {
            committedLog.add(new LeaderProposal(packet.zxid(), packet.data(), List.of(), null));
            lastCommittedZxid = packet.zxid();
        }
        this.lastAppendedZxid = lastCommittedZxid;
    }

    long lastAppendedZxid() {
        return lastAppendedZxid;
    }

    long lastCommittedZxid() {
        return lastCommittedZxid;
    }

    /** The counter (low 32 bits) of the next proposal's zxid. */
    long nextCounter() {
        return nextCounter;
    }

    /** Whether a learner at {@code peerLastZxid} can be sent a DIFF: its zxid is a point of the committed window. */
    boolean canDiffFrom(long peerLastZxid) {
        if (peerLastZxid == windowStart || peerLastZxid == lastCommittedZxid) return true;
        for (LeaderProposal proposal : committedLog) {
            if (proposal.zxid == peerLastZxid) return true;
        }
        return false;
    }

    /** Whether a snapshot at {@code zxid} still joins the committed window (the proposals after it are all kept). */
    boolean reachesWindow(long zxid) {
        return zxid >= windowStart;
    }

    /**
     * The committed proposals after {@code from} with their commits, then (with {@code withOutstanding}: to a follower,
     * never an observer, which learns them by INFORM once they commit) the outstanding ones after it.
     */
    void forward(ApacheLearnerHandler handler, long from, boolean withOutstanding) {
        for (LeaderProposal proposal : committedLog) {
            if (proposal.zxid > from) {
                handler.queue(new QuorumPacket(LearnerWire.PROPOSAL, proposal.zxid, proposal.data));
                handler.queue(new QuorumPacket(LearnerWire.COMMIT, proposal.zxid, null));
            }
        }
        if (withOutstanding) {
            for (LeaderProposal proposal : outstanding) {
                if (proposal.zxid > from) {
                    handler.queue(new QuorumPacket(LearnerWire.PROPOSAL, proposal.zxid, proposal.data));
                }
            }
        }
    }

    /** A new proposal, logged by the leader: it waits for a quorum of each of {@code quorums}. */
    void append(long zxid, byte[] txn, List<Set<Long>> quorums, ApacheConfig reconfig) {
        nextCounter++;
        lastAppendedZxid = zxid;
        outstanding.add(new LeaderProposal(zxid, txn, quorums, reconfig));
    }

    /** {@code sid} acknowledged the proposal {@code zxid} (an unknown zxid, one committed already, changes nothing). */
    void ack(long sid, long zxid) {
        for (LeaderProposal proposal : outstanding) {
            if (proposal.zxid == zxid) {
                proposal.acks.add(sid);
                return;
            }
        }
    }

    /** {@code sid} (the leader, after its fsync) acknowledged every proposal up to {@code zxid}. */
    void ackUpTo(long sid, long zxid) {
        for (LeaderProposal proposal : outstanding) {
            if (proposal.zxid <= zxid) proposal.acks.add(sid);
        }
    }

    /** The oldest outstanding proposal once a quorum of each of its voter sets acknowledged it, else null. */
    LeaderProposal committable() {
        LeaderProposal oldest = outstanding.peek();
        return oldest != null && LeaderConfigs.hasAllQuorums(oldest.quorums, oldest.acks) ? oldest : null;
    }

    /**
     * Commits {@link #committable}'s proposal and returns it: it joins the committed window (the oldest leaves it
     * beyond {@link #COMMITTED_LOG_MAX}).
     */
    LeaderProposal commitOldest() {
        LeaderProposal proposal = outstanding.poll();
        lastCommittedZxid = proposal.zxid;
        committedLog.add(proposal);
        if (committedLog.size() > COMMITTED_LOG_MAX) {
            windowStart = committedLog.poll().zxid;
        }
        return proposal;
    }

    /** The syncs that waited for the commit of {@code zxid}, now due. */
    List<Runnable> syncsDue(long zxid) {
        List<Runnable> syncs = pendingSyncs.remove(zxid);
        return syncs == null ? List.of() : syncs;
    }

    /** The ack sets of the outstanding proposals, oldest first (a reconfig's commit looks at those after it). */
    List<Set<Long>> outstandingAcks() {
        return outstanding.stream().map(after -> after.acks).toList();
    }

    /**
     * {@code whenSynced} waits for the commit of every proposal made so far; returns false (nothing kept) when none
     * is outstanding, and it may run at once.
     */
    boolean afterOutstanding(Runnable whenSynced) {
        if (outstanding.isEmpty()) return false;
        pendingSyncs.computeIfAbsent(outstanding.peekLast().zxid, z -> new ArrayList<>()).add(whenSynced);
        return true;
    }

    int pendingSyncCount() {
        return pendingSyncs.size();
    }

    /** The proposals made and never committed, as the leadership leaves them for the next leader's sync. */
    List<QuorumPacket> uncommitted() {
        List<QuorumPacket> uncommitted = new ArrayList<>();
        for (LeaderProposal proposal : outstanding) {
            uncommitted.add(new QuorumPacket(LearnerWire.PROPOSAL, proposal.zxid, proposal.data));
        }
        return uncommitted;
    }
}
