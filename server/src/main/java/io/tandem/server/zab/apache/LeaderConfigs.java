package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The configurations an {@link ApacheLeader} counts quorums with, as Apache's Leader and QuorumPeer keep them: the
 * committed one (QuorumPeer.getQuorumVerifier) and the last seen one (getLastSeenQuorumVerifier: a reconfig proposed
 * and not yet committed, or the configuration NEWLEADER carries). While the two differ every proposal, NEWLEADER and
 * the synced check need a quorum of each (Apache's Proposal.qvAcksetPairs), so a reconfig commits only with a quorum
 * of the old voters and one of the new. When a reconfig commits it designates the next leader (Leader
 * .getDesignatedLeader): this leader if it is a voter of the new configuration at the same quorum address, otherwise
 * a new voter that acknowledged the reconfig and as many of the proposals after it as possible. Not thread-safe: the
 * leader calls it under its lock.
 */
final class LeaderConfigs {
    private ApacheConfig committed;
    private ApacheConfig lastSeen;

    /**
     * @param committed the configuration in force
     * @param lastSeen  a newer one this member logged in a reconfig proposal it leads with, or {@code committed}
     */
    LeaderConfigs(ApacheConfig committed, ApacheConfig lastSeen) {
        this.committed = committed;
        this.lastSeen = lastSeen.version() > committed.version() ? lastSeen : committed;
    }

    ApacheConfig committed() {
        return committed;
    }

    ApacheConfig lastSeen() {
        return lastSeen;
    }

    /** Whether a reconfig was proposed (or is completed by NEWLEADER) and has not committed yet. */
    boolean pending() {
        return lastSeen.version() > committed.version();
    }

    /**
     * Apache's Leader.lead (ZOOKEEPER-1783): a static configuration (version 0 on both) gets the new epoch's first
     * zxid as its version; NEWLEADER carries it and the leader activates it once established, so an established
     * configuration outranks the partial view of a server still joining.
     */
    void establish(long newEpoch) {
        if (committed.version() == 0 && lastSeen.version() == 0) {
            lastSeen = committed.withVersion(newEpoch << 32);
        }
    }

    /** The voter sets a proposal made now needs a quorum of: the committed one, and the last seen one if newer. */
    List<Set<Long>> forProposal() {
        List<Set<Long>> quorums = new ArrayList<>(2);
        quorums.add(committed.voters());
        if (pending()) quorums.add(lastSeen.voters());
        return quorums;
    }

    /** A reconfig was proposed: its configuration is the last seen one. */
    void proposed(ApacheConfig next) {
        lastSeen = next;
    }

    /** A configuration was activated (a reconfig committed, or NEWLEADER's once the leadership is established). */
    void activated(ApacheConfig next) {
        if (next.version() > committed.version()) committed = next;
        if (committed.version() >= lastSeen.version()) lastSeen = committed;
    }

    /** Every member either configuration names (learners the leader expects). */
    Set<Long> known() {
        Set<Long> known = new TreeSet<>(committed.members().keySet());
        known.addAll(lastSeen.members().keySet());
        return known;
    }

    /** A majority of {@code voters} acknowledged. */
    static boolean isQuorum(Set<Long> voters, Set<Long> acked) {
        int count = 0;
        for (long sid : acked) {
            if (voters.contains(sid)) count++;
        }
        return count > voters.size() / 2;
    }

    /** A quorum of each of {@code quorums} acknowledged. */
    static boolean hasAllQuorums(List<Set<Long>> quorums, Set<Long> acked) {
        for (Set<Long> voters : quorums) {
            if (!isQuorum(voters, acked)) return false;
        }
        return true;
    }

    /** Quorum of the committed voters only: discovery (FOLLOWERINFO, ACKEPOCH), as Apache counts it. */
    boolean isCommittedQuorum(Set<Long> acked) {
        return isQuorum(committed.voters(), acked);
    }

    /** Quorum of the committed voters and of the last seen ones: NEWLEADER and the synced check. */
    boolean isFullQuorum(Set<Long> acked) {
        return hasAllQuorums(forProposal(), acked);
    }

    /**
     * Leader.getDesignatedLeader for a reconfig to {@code next} committing with {@code acks}: this member if it is a
     * voter of {@code next} at the quorum address it leads on; otherwise, of the new voters that acknowledged it, one
     * that also acknowledged the most of the proposals after it ({@code later}, in zxid order).
     */
    static long designatedLeader(long myId, ApacheElection.Member me, ApacheConfig next, Set<Long> acks,
                                 List<Set<Long>> later) {
        ApacheElection.Member mine = next.voters().contains(myId) ? next.members().get(myId) : null;
        if (mine != null && me != null && mine.host().equals(me.host()) && mine.quorumPort() == me.quorumPort()) {
            return myId;
        }
        Set<Long> candidates = new TreeSet<>(acks);
        candidates.retainAll(next.voters());
        candidates.remove(myId);
        if (candidates.isEmpty()) {
            return myId; // cannot happen: the new voters' quorum acknowledged it
        }
        long current = candidates.iterator().next();
        for (Set<Long> acked : later) {
            candidates.retainAll(acked);
            if (candidates.isEmpty()) return current;
            current = candidates.iterator().next();
            if (candidates.size() == 1) return current;
        }
        return current;
    }

    /**
     * The configuration a logged proposal carries if it is a reconfig (Apache's SetDataTxn of {@code
     * /zookeeper/config}, its text with the version), or null for any other transaction or one it cannot read.
     */
    static ApacheConfig ofProposal(QuorumPacket proposal) {
        byte[] txn = proposal.data();
        if (txn == null || txn.length < 32) return null;
        try {
            return ApacheConfig.parse(LearnerTxns.reconfigData(proposal));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
