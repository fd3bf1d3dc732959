package io.tandem.server.zab;

import io.tandem.server.zookeeper.SimulatedMember;
import io.tandem.zk.wire.OpCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks sessions and their ephemeral znodes on every simulated member, after every turn of its commit thread that
 * applied something, and at the end of a seed:
 * <ul>
 *   <li>an ephemeral never outlives its session's closeSession commit on any member: after every apply, every
 *       ephemeral's owner is a session the member still holds;</li>
 *   <li>no member removes an ephemeral before that commit: an ephemeral disappears only in a turn that applied its
 *       owner's closeSession (or a delete naming it);</li>
 *   <li>every member applies a session's close at the same zxid;</li>
 *   <li>a live session's ephemerals are never removed: a leader never expires a session whose client it heard from
 *       within the session's timeout before it decided (the closeSession's time is the leader's clock when it decided,
 *       and its zxid names the leader's epoch), and at the end every ephemeral a client was told it created, of a
 *       session the members still hold, is on every member.</li>
 * </ul>
 */
final class SessionExpiryChecker {
    private final ZabSimulator sim;
    /** Per member id: the ephemerals (path -> owner) after its last reported turn, for the member object reporting. */
    private final Map<Integer, Map<String, Long>> lastEphemerals = new HashMap<>();
    private final Map<Integer, SimulatedMember> reportingMember = new HashMap<>();
    /** Sessions whose close some member applied (the first close: a later one of the same session is a no-op). */
    private final Set<Long> closed = new HashSet<>();
    /** Per session: the zxid at which a member removed its ephemerals, and that member. */
    private final Map<Long, long[]> ephemeralsRemovedAt = new HashMap<>();
    /** Per session: its client's contacts with a leader, as (epoch, the leader's virtual nanos), in order. */
    private final Map<Long, List<long[]>> leaderContacts = new HashMap<>();
    private final Map<Long, Integer> timeoutMs = new HashMap<>();
    /** Ephemerals a client was told it created: path -> session. */
    private final Map<String, Long> acknowledged = new TreeMap<>();

    SessionExpiryChecker(ZabSimulator sim) {
        this.sim = sim;
    }

    /** Watches {@code member} (a node's member, new after each start) from its first turn on. */
    void watch(int memberId, SimulatedMember member) {
        reportingMember.put(memberId, member);
        lastEphemerals.put(memberId, new TreeMap<>());
        member.observeTree((id, applied, snapshot, ephemerals, sessions) -> {
            if (reportingMember.get(id) == member) {
                afterTurn(id, applied, snapshot, ephemerals, sessions);
            }
        });
    }

    /** A client holding {@code sessionId} (negotiated {@code timeout}) was heard by a member. */
    void contact(long sessionId, int timeout, boolean atLeader, long epoch, long leaderNanos) {
        timeoutMs.put(sessionId, timeout);
        if (atLeader) {
            leaderContacts.computeIfAbsent(sessionId, k -> new ArrayList<>()).add(new long[] {epoch, leaderNanos});
        }
    }

    void acknowledgedEphemeral(String path, long sessionId) {
        acknowledged.put(path, sessionId);
    }

    void afterTurn(int memberId, List<SimulatedMember.Applied> applied, boolean snapshot,
                   Map<String, Long> ephemerals, Set<Long> sessions) {
        for (Map.Entry<String, Long> ephemeral : ephemerals.entrySet()) {
            if (!sessions.contains(ephemeral.getValue())) {
                throw sim.failure("member " + memberId + " holds ephemeral " + ephemeral.getKey() + " of session 0x"
                        + Long.toHexString(ephemeral.getValue()) + ", which it no longer holds (closed or expired)"
                        + (snapshot ? ", after installing a snapshot" : " after applying " + applied));
            }
        }
        for (SimulatedMember.Applied txn : applied) {
            if (txn.type() == OpCode.CLOSE_SESSION && closed.add(txn.sessionId())) {
                sim.count(txn.cxid() == 0 ? "session expired (closeSession committed)" : "session closed by its client");
                if (txn.cxid() == 0) {
                    checkExpiryJustified(txn);
                }
            }
        }
        Map<String, Long> before = lastEphemerals.getOrDefault(memberId, Map.of());
        if (!snapshot) {
            for (Map.Entry<String, Long> ephemeral : before.entrySet()) {
                String path = ephemeral.getKey();
                long owner = ephemeral.getValue();
                if (Long.valueOf(owner).equals(ephemerals.get(path))) {
                    continue;
                }
                SimulatedMember.Applied cause = applied.stream().filter(txn -> path.equals(txn.deletedPath())
                        || (txn.type() == OpCode.CLOSE_SESSION && txn.sessionId() == owner)).findFirst().orElse(null);
                if (cause == null) {
                    throw sim.failure("member " + memberId + " removed ephemeral " + path + " of session 0x"
                            + Long.toHexString(owner) + " without applying its session's close (applied "
                            + applied + ")");
                }
                if (cause.type() == OpCode.CLOSE_SESSION) {
                    long[] first = ephemeralsRemovedAt.putIfAbsent(owner, new long[] {cause.zxid(), memberId});
                    if (first != null && first[0] != cause.zxid()) {
                        throw sim.failure("member " + memberId + " removed the ephemerals of session 0x"
                                + Long.toHexString(owner) + " at " + Zxid.toString(cause.zxid()) + ", member "
                                + first[1] + " at " + Zxid.toString(first[0]));
                    }
                }
                sim.count("ephemeral removed with its session");
            }
        }
        lastEphemerals.put(memberId, new TreeMap<>(ephemerals));
    }

    /**
     * A leader expires a session only after its timeout without hearing from it: no contact of its client with the
     * leader of the closeSession's epoch may lie within the timeout before the decision. (Contacts in the step of the
     * decision are left out: within a step the decision may come first.)
     */
    private void checkExpiryJustified(SimulatedMember.Applied txn) {
        Integer timeout = timeoutMs.get(txn.sessionId());
        List<long[]> contacts = leaderContacts.get(txn.sessionId());
        if (timeout == null || contacts == null) {
            return;
        }
        long epoch = Zxid.epoch(txn.zxid());
        long decided = txn.timeNanos();
        for (long[] contact : contacts) {
            if (contact[0] == epoch && contact[1] < decided && decided - contact[1] < timeout * 1_000_000L) {
                throw sim.failure("the leader of epoch " + epoch + " expired session 0x"
                        + Long.toHexString(txn.sessionId()) + " (committed at " + Zxid.toString(txn.zxid())
                        + ") " + (decided - contact[1]) / 1_000_000 + " ms after its client was last heard by it; "
                        + "the session's timeout is " + timeout + " ms");
            }
        }
        sim.count("expiry checked against the leader's contacts");
    }

    /**
     * After the seed: every ephemeral a client was told it created, of a session the members still hold, is on every
     * member with that owner (the members' trees and sessions are equal, see the trees check).
     */
    void checkEnd() {
        for (SimulatedNode node : sim.nodes) {
            if (!sim.isMember(node.id)) {
                continue; // removed by a reconfig: its tree stopped at its removal
            }
            Set<Long> sessions = node.member.sessionIds();
            Map<String, Long> ephemerals = node.member.ephemerals();
            for (Map.Entry<String, Long> acked : acknowledged.entrySet()) {
                if (sessions.contains(acked.getValue()) && !acked.getValue().equals(ephemerals.get(acked.getKey()))) {
                    throw sim.failure("member " + node.id + " lost ephemeral " + acked.getKey() + " of live session 0x"
                            + Long.toHexString(acked.getValue()) + " (it holds " + ephemerals + ")");
                }
            }
        }
        if (!acknowledged.isEmpty()) {
            sim.count("session ephemerals checked at the end");
        }
    }
}
