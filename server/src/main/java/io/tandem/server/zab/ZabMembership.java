package io.tandem.server.zab;

import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;

/**
 * The reconfigs in a member's log and the quorums they ask for, the membership part of {@link ZabStateMachine} (same
 * thread, no I/O). The machine's active configuration ({@link ZabConfig}) stays in the machine; this class knows which
 * log entries are reconfigs (the application's {@link MembershipReader}) and which of them are not active yet.
 *
 * <p>While a reconfig is pending, every quorum the member counts (election, discovery, synchronization, commit) must
 * be a majority of the active voters and of each pending configuration's voters, Apache's joint quorum for a reconfig
 * proposal (Leader.processAck with the proposal's two QuorumVerifiers). Why that keeps one leader per epoch and every
 * committed transaction: a reconfig commits only once a quorum of the old and of the new voters hold it, and a member
 * switches to the new voters only once it is committed; a leader that does not hold it is elected by old voters only,
 * whose quorum meets the old quorum holding it (one of them holds a longer history and never votes for it), so after
 * the commit every leader holds it and counts the new voters, alone once it is active.
 */
final class ZabMembership {
    /** The log zxid (or configuration version) of the active configuration; 0 for zoo.cfg's. */
    private long activeConfigZxid;
    /**
     * The newest configuration activated, the one at {@link #activeConfigZxid} (null for zoo.cfg's): what this member's
     * notifications carry. It may not name this member (the one that removed it), unlike the machine's ZabConfig.
     */
    private Members activeMembers;
    private MembershipReader reader = txn -> null;
    /** Reconfig transactions in the log that are not active yet, by zxid. */
    private final TreeMap<Long, Members> pending = new TreeMap<>();
    /**
     * Test hook: count the active voters only, as if no reconfig were pending. The simulator's mutation test sets it,
     * which its reconfig checker must catch; production never does.
     */
    boolean countsActiveVotersOnly;
    /**
     * Test hook: a joiner counts itself a voter of the configuration it follows. The simulator's mutation test sets it,
     * which its joiner checker must catch; production never does.
     */
    boolean joinersVote;
    /** A configuration became active during the current input: the machine settles roles at its end. */
    private boolean activated;
    /**
     * This member is a joiner: the newest configuration it activated does not name it ({@link #activate}), whatever
     * history it holds and whether or not it served before. As Apache's non-voting follower it follows the leader of
     * that configuration and is synced like any learner, its votes and acks counting for nothing until a reconfig
     * names it (the machine runs it as an observer of that configuration); so a reconfig whose new voters are mostly
     * joiners finds them synced (Apache's Leader.isQuorumSynced counts them) and commits with their acks. Cleared once
     * a configuration names it.
     */
    private boolean joining;
    /** The leader the current input's commit designated ({@link #designate}), or -1; cleared by {@link #settle}. */
    private int designatedLeader = -1;
    private long designatedZxid;

    /** Sets how reconfigs are told from other transactions, and reads the log again for pending ones. */
    void readWith(MembershipReader membershipReader, List<LogEntry> log) {
        reader = membershipReader;
        pending.clear();
        for (LogEntry entry : log) {
            appended(entry);
        }
    }

    void appended(LogEntry entry) {
        if (entry.zxid() > activeConfigZxid) {
            Members members = reader.membersOf(entry.txn());
            if (members != null) {
                pending.put(entry.zxid(), members);
            }
        }
    }

    /** The log was cut back to {@code zxid}: reconfigs after it are gone. */
    void truncated(long zxid) {
        pending.tailMap(zxid, false).clear();
    }

    /** A snapshot replaced the log: the application hands over its configuration. */
    void snapshotInstalled() {
        pending.clear();
    }

    /** The pending reconfig at {@code zxid}, or null. */
    Members pendingAt(long zxid) {
        return pending.get(zxid);
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    boolean isPendingVoter(int id) {
        for (Members members : pending.values()) {
            if (members.isVoter(id)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code members} committed at {@code zxid} becomes active (Apache's QuorumPeer.processReconfig on
     * COMMITANDACTIVATE), unless an equal or newer one is: returns the configuration the machine runs from now on
     * ({@code active} unchanged when it is not newer or does not name this member). Only the newest configuration an
     * input activates decides whether the member is a joiner: a joiner synced with a history that holds configurations
     * from before it was added (the establishing one, say) activates them and then the one that names it, in one
     * commit. Role consequences wait for {@link #settle}: a leader still has to send the commit that activated it.
     *
     * <p>A configuration that does not name this member makes it a joiner, as Apache's QuorumPeer.updateLearnerType
     * makes any server missing from the view a non-voting participant: a fresh server, a joiner restarted before the
     * reconfig that adds it commits (its log may hold that reconfig, pending again), a member removed earlier and
     * started again with its data, one that was down while a reconfig removed it, and a member a committed reconfig
     * removes while it runs: Apache's removed follower goes on following its leader (its acks ignored) and serving
     * clients, a removed leader hands over to the designated one and follows it, and a later reconfig naming the
     * server makes it a voter again without a restart (ApacheRemovedMemberProcessTest runs this on Apache 3.9.5).
     */
    ZabConfig activate(long zxid, Members members, ZabConfig active) {
        pending.headMap(zxid, true).clear();
        if (zxid <= activeConfigZxid) {
            return active;
        }
        activeConfigZxid = zxid;
        activeMembers = members;
        activated = true;
        boolean named = members.isMember(active.myId());
        joining = !named;
        if (joining && joinersVote) {
            return active.withMembers(withObserver(members.voters(), active.myId()), members.observers());
        }
        return named ? active.withMembers(members.voters(), members.observers())
                : active.withMembers(members.voters(), withObserver(members.observers(), active.myId()));
    }

    /** Whether this member follows as a joiner ({@link #joining}): not named by the active configuration. */
    boolean isJoining() {
        return joining;
    }

    private static int[] withObserver(int[] observers, int id) {
        int[] with = java.util.Arrays.copyOf(observers, observers.length + 1);
        with[observers.length] = id;
        return with;
    }

    /** The version (commit zxid) of the newest configuration activated; 0 while zoo.cfg's is. */
    long activeConfigZxid() {
        return activeConfigZxid;
    }

    /** The newest configuration activated, or null while zoo.cfg's is. */
    Members activeMembers() {
        return activeMembers;
    }

    /** Whether a configuration became active since the last call. */
    private boolean takeActivated() {
        boolean was = activated;
        activated = false;
        return was;
    }

    /**
     * After an input that activated a configuration: a leader that is no longer a voter steps down (Apache's leader
     * commits the reconfig and then leaves) and follows the voter it designated (as a non-voting member if the
     * configuration dropped it); a follower told the designated leader goes to it (leads when it is the one), and one
     * whose leader is no longer a voter without a designated one (a configuration a sync brought) elects; a
     * leader that stays commits what the new quorum already holds, keeping the sessions of learners the configuration
     * left out (Apache's leader keeps their LearnerHandlers: they follow on as non-voters).
     */
    void settle(ZabStateMachine m) {
        int designated = designatedLeader;
        designatedLeader = -1;
        if (!takeActivated()) {
            return;
        }
        ZabConfig config = m.config();
        if (m.role() == Role.LEADING && !config.isVoter(m.myId())) {
            if (designated >= 0) {
                m.handOver(designated, designatedZxid, "no longer a voter after a reconfig");
            } else {
                m.startLooking("no longer a voter after a reconfig");
            }
        } else if (m.role() == Role.LEADING) {
            m.leading().tryCommit();
        } else if (m.role() == Role.FOLLOWING && designated >= 0 && designated != m.follower.leaderId
                && config.isVoter(designated)) {
            m.handOver(designated, designatedZxid, "the reconfig committed at " + Zxid.toString(designatedZxid)
                    + " designates it");
        } else if (m.role() == Role.FOLLOWING && !config.isVoter(m.follower.leaderId)) {
            m.startLooking("leader " + m.follower.leaderId + " is no longer a voter after a reconfig");
        }
    }

    /**
     * The commit being handled (up to {@code zxid}) names the leader a reconfig among it designates (a leader that
     * commits a reconfig leaving itself out designates another; a learner reads it from the COMMIT). {@link #settle}
     * then hands over to it instead of electing, as Apache's QuorumPeer.processReconfig with a suggested leader sets
     * its vote and reconfigFlag, and updateServerState goes straight to LEADING, FOLLOWING or OBSERVING.
     */
    void designate(int leader, long zxid) {
        designatedLeader = leader;
        designatedZxid = zxid;
    }

    /**
     * Whether the members for which {@code counts} holds are a majority of the active voters and of every pending
     * configuration's voters.
     */
    boolean isQuorum(ZabConfig active, IntPredicate counts) {
        if (!isMajority(active.voters(), counts)) {
            return false;
        }
        if (countsActiveVotersOnly) {
            return true;
        }
        for (Members members : pending.values()) {
            if (!isMajority(members.voters(), counts)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the members for which {@code counts} holds are a majority of the active or of a pending configuration. */
    boolean isMajorityOfAny(ZabConfig active, IntPredicate counts) {
        if (isMajority(active.voters(), counts)) {
            return true;
        }
        for (Members members : pending.values()) {
            if (isMajority(members.voters(), counts)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isMajority(int[] voters, IntPredicate counts) {
        int count = 0;
        for (int voter : voters) {
            if (counts.test(voter)) {
                count++;
            }
        }
        return count >= voters.length / 2 + 1;
    }

    /** The members (voters and observers) of the active configuration and of every pending one. */
    int[] allMembers(ZabConfig active) {
        TreeSet<Integer> all = new TreeSet<>();
        for (int voter : active.voters()) {
            all.add(voter);
        }
        for (int observer : active.observers()) {
            all.add(observer);
        }
        for (Members members : pending.values()) {
            for (int voter : members.voters()) {
                all.add(voter);
            }
            for (int observer : members.observers()) {
                all.add(observer);
            }
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }
}
