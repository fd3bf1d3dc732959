package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The configurations an {@link ApacheQuorumPeer} knows, as Apache's QuorumPeer keeps its quorum verifier and its last
 * seen one: the configuration in force, a newer one seen and not yet activated, and the addresses of every member
 * either names (a member a reconfig removed stays reachable). Each change is handed to the election, which counts
 * its voters and reaches its members. Written by the peer's, the follower's and the leader's threads, hence the
 * monitor on the changes and the volatile reads.
 */
final class PeerConfigs {
    private final ApacheElection election;
    /** Every member this one knows, with its addresses: zoo.cfg's, then those activated configurations name. */
    private volatile Map<Long, ApacheElection.Member> members;
    /** The newest configuration activated (zoo.cfg's, version 0, until a leader activates one). */
    private volatile ApacheConfig config;
    /**
     * Apache's last seen configuration when newer than the one in force: a reconfig this member logged (or NEWLEADER
     * carried) and not yet activated, or one read at start-up from {@code zoo.cfg.dynamic.next}; null once a
     * configuration of its version or newer is activated, or when there is none.
     */
    private volatile ApacheConfig lastSeen;

    PeerConfigs(Map<Long, ApacheElection.Member> members, Set<Long> observers, ApacheElection election) {
        this.election = election;
        this.members = Map.copyOf(members);
        this.config = ApacheConfig.of(members, observers);
    }

    /** Every member known, by id. */
    Map<Long, ApacheElection.Member> members() {
        return members;
    }

    /** The configuration in force. */
    ApacheConfig inForce() {
        return config;
    }

    /** Apache's getLastSeenQuorumVerifier: the newest configuration seen, the one in force when none is newer. */
    ApacheConfig lastSeenOrInForce() {
        ApacheConfig seen = lastSeen;
        return seen != null ? seen : config;
    }

    /**
     * A last seen configuration newer than the one in force and than the last seen one (the same version again, or an
     * older one, changes nothing): the election reaches its members (Apache's connectNewPeers) and counts its voters.
     */
    synchronized void sawNewer(ApacheConfig seen) {
        ApacheConfig before = lastSeen;
        if (seen.version() <= config.version() || before != null && seen.version() <= before.version()) {
            return;
        }
        lastSeen = seen;
        Map<Long, ApacheElection.Member> known = new TreeMap<>(members);
        seen.members().forEach(known::putIfAbsent);
        members = Map.copyOf(known);
        election.lastSeen(seen);
    }

    /** {@code next} is in force; a last seen configuration no newer than it is done with. */
    synchronized void adopt(ApacheConfig next) {
        config = next;
        Map<Long, ApacheElection.Member> known = new TreeMap<>(members);
        known.putAll(next.members());
        members = Map.copyOf(known);
        election.reconfigure(next);
        ApacheConfig seen = lastSeen;
        if (seen != null && seen.version() <= next.version()) {
            lastSeen = null;
        } else if (seen != null) {
            election.lastSeen(seen); // still newer than the one activated: still counted
        }
    }

    /**
     * The configuration a leadership completes (Apache's lastSeen config in Leader.lead): the newest of the one in
     * force, the last seen one, and those of the reconfigs among the proposals it leads with ({@code logged}).
     */
    ApacheConfig leadWith(List<QuorumPacket> logged) {
        ApacheConfig leadWith = config;
        ApacheConfig seen = lastSeen;
        if (seen != null && seen.version() > leadWith.version()) leadWith = seen;
        for (QuorumPacket proposal : logged) {
            ApacheConfig carried = LeaderConfigs.ofProposal(proposal);
            if (carried != null && carried.version() > leadWith.version()) leadWith = carried;
        }
        return leadWith;
    }
}
