package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.ElectionWire.Notification;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Apache ZooKeeper's fast leader election (3.9) as a pure state machine: notifications and timer expiries in,
 * notifications to send and the decided vote out. No sockets, threads or clock: {@link ApacheElection} drives it.
 *
 * <p>The rules are Apache's, so Tandem and Apache members reach the same decision from the same votes:
 * <ul>
 * <li>A vote (leader, zxid, peerEpoch) beats another when its peerEpoch is higher, then its zxid, then its leader's
 *     sid; only voters can be proposed.</li>
 * <li>Each round has a logical clock (electionEpoch); a LOOKING notification from a later round makes this member
 *     join that round (forgetting the votes it had), one from an earlier round is ignored (but answered).</li>
 * <li>When a quorum of voters holds this member's proposal, it waits {@link #FINALIZE_WAIT_MS} for a better one;
 *     notifications that are not better are consumed without being counted (as Apache's finalize poll drops them),
 *     a better one resumes the election.</li>
 * <li>FOLLOWING/LEADING notifications: in this round, counted with the round's votes; in any round, counted among
 *     the out-of-election votes, which compare only (leader, peerEpoch); a quorum for a leader other than this member
 *     counts only with that leader's own LEADING notification (checkLeader).</li>
 * <li>Once decided, LOOKING members are answered with the decided vote; members that are not voters always get the
 *     current vote back.</li>
 * <li>An observer (Apache's LearnerType.OBSERVER) looks for the leader with the same rules but is never a candidate:
 *     its first proposal is Apache's (Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE) of getInitId,
 *     getInitLastLoggedZxid and getPeerEpoch, which any voter's vote beats; its notifications go to the voters only
 *     (they answer it with their votes, counting nothing from it); it decides OBSERVING (learningState).</li>
 * </ul>
 */
public final class FastLeaderElection {
    /** Apache's finalizeWait: how long a quorum's proposal waits for a better notification before it is final. */
    public static final long FINALIZE_WAIT_MS = 200;
    /** Apache's default minNotificationInterval: the first wait before notifications are sent again. */
    public static final long NOTIFICATION_INTERVAL_MS_MIN = 200;
    /** Apache's default maxNotificationInterval: the wait doubles up to this. */
    public static final long NOTIFICATION_INTERVAL_MS_MAX = 60_000;

    /**
     * A vote as the election compares it. {@code version} is the notification version it came with: Apache compares
     * out-of-election votes by peerEpoch only when both sides carry a version.
     */
    public record Vote(long leader, long zxid, long electionEpoch, long peerEpoch, ServerState state, int version) {
        /** Apache's Vote.equals: full comparison while either is LOOKING, else the leader (and peerEpoch). */
        boolean sameAs(Vote other) {
            if (state == ServerState.LOOKING || other.state == ServerState.LOOKING) {
                return leader == other.leader && zxid == other.zxid && electionEpoch == other.electionEpoch
                        && peerEpoch == other.peerEpoch;
            }
            if ((version > 0) != (other.version > 0)) {
                return leader == other.leader;
            }
            return leader == other.leader && peerEpoch == other.peerEpoch;
        }
    }

    /** A notification to send: {@code to} may be this member itself (the driver hands it straight back). */
    public record Outgoing(long to, Notification notification) {
    }

    /**
     * What one input produced: notifications to send, whether the finalize timer must be (re)started, and the
     * decision when this input ended the election.
     */
    public record Output(List<Outgoing> sends, boolean armFinalizeTimer, Vote decided) {
        static final Output NONE = new Output(List.of(), false, null);
    }

    private final long myId;
    /**
     * This member observes: it never proposes itself and decides OBSERVING instead of FOLLOWING. A reconfig may
     * change it ({@link #changeRole}).
     */
    private boolean observer;
    private Set<Long> voters;
    /**
     * The voters of a newer configuration this member saw proposed and not activated (Apache's last seen
     * configuration), empty when there is none: their notifications count as voters' and a leader needs a quorum of
     * them too (Apache's getVoteTracker adds the last seen verifier).
     */
    private Set<Long> nextVoters = Set.of();
    private byte[] config;

    private ServerState state = ServerState.LOOKING;
    private long logicalClock;
    private long proposedLeader;
    private long proposedZxid;
    private long proposedEpoch;
    private long lastLoggedZxid;
    private long currentEpoch;
    /** The vote this member holds once decided (its electionEpoch is the round it was decided in). */
    private Vote currentVote;
    private final Map<Long, Vote> received = new HashMap<>();
    private final Map<Long, Vote> outOfElection = new HashMap<>();
    /** A quorum holds the proposal; it becomes final when the finalize timer expires first. */
    private boolean finalizing;

    /**
     * @param voters the voting members' sids (this member's included when it votes)
     * @param config this member's configuration text, sent in every notification (Apache's QuorumVerifier text)
     */
    public FastLeaderElection(long myId, Set<Long> voters, byte[] config) {
        this(myId, voters, config, false);
    }

    /**
     * As above; with {@code observer} this member is an observer of the ensemble of {@code voters} (it must not be
     * one of them), as Apache's observer runs lookForLeader: it learns the leader from the voters' votes.
     */
    public FastLeaderElection(long myId, Set<Long> voters, byte[] config, boolean observer) {
        if (voters.contains(myId) == observer) {
            throw new IllegalArgumentException("server " + myId + (observer ? " observes but is among" : " votes but "
                    + "is not among") + " the voters " + voters);
        }
        this.myId = myId;
        this.observer = observer;
        this.voters = Set.copyOf(new TreeSet<>(voters));
        this.config = config.clone();
    }

    /**
     * A configuration a reconfig activated (Apache's QuorumPeer.processReconfig; the election of the next round
     * uses it): its voters count from now on, and its text goes out with this member's notifications, so members
     * still on an older configuration learn it. A configuration that leaves this member out changes only the text:
     * Apache's removed participant elects as a non-voter, which Tandem's election does not do, so this member goes on
     * voting with the last configuration that counted it, and the voters, which no longer count it, decide.
     */
    public void reconfigure(Set<Long> newVoters, byte[] newConfig) {
        config = newConfig.clone();
        nextVoters = Set.of(); // the last seen configuration is activated (or outdated by a newer one)
        if (observer ? !newVoters.contains(myId) : newVoters.contains(myId)) {
            voters = Set.copyOf(new TreeSet<>(newVoters));
        }
    }

    /**
     * Apache's QuorumPeer.updateLearnerType: an activated configuration makes this member an observer, or a
     * participant (a voter, or a non-voting one when the configuration leaves it out). Its next round proposes (or
     * not) itself accordingly; once decided, its vote now says the state it learns the same leader in, as Apache's
     * updateServerState moves a peer whose reconfigFlag is set straight from OBSERVING to FOLLOWING (or back)
     * without an election. Call before {@link #reconfigure} with the configuration that changed the role.
     */
    public void changeRole(boolean nowObserver) {
        if (nowObserver == observer) return;
        observer = nowObserver;
        if (state != ServerState.LOOKING && currentVote != null && currentVote.leader() != myId) {
            state = observer ? ServerState.OBSERVING : ServerState.FOLLOWING;
            currentVote = new Vote(currentVote.leader(), currentVote.zxid(), currentVote.electionEpoch(),
                    currentVote.peerEpoch(), state, currentVote.version());
        }
    }

    /**
     * Apache's QuorumPeer.updateVote: a committed reconfig designated {@code leader}, whom the next session leads with
     * or follows without an election round. It becomes the decided vote (Apache's Vote(id, zxid): no election or peer
     * epoch until {@link #updatePeerEpoch}) that looking members are answered with, in the state that session takes:
     * LEADING when it is this member, else FOLLOWING or OBSERVING. A vote already for {@code leader} is kept, as
     * updateVote changes nothing then.
     */
    public void designate(long leader, long zxid) {
        ServerState next = leader == myId ? ServerState.LEADING
                : observer ? ServerState.OBSERVING : ServerState.FOLLOWING;
        if (state != ServerState.LOOKING && currentVote != null && currentVote.leader() == leader) {
            state = next;
            currentVote = new Vote(leader, currentVote.zxid(), currentVote.electionEpoch(), currentVote.peerEpoch(),
                    next, currentVote.version());
            return;
        }
        state = next;
        currentVote = new Vote(leader, zxid, -1, -1, next, ElectionWire.NOTIFICATION_VERSION);
        finalizing = false;
        received.clear();
        outOfElection.clear();
    }

    /** Whether this member looks for the leader as an observer. */
    public boolean observer() {
        return observer;
    }

    /**
     * A newer configuration than the one in force, seen proposed and not committed (Apache's
     * setLastSeenQuorumVerifier; a restart reads it from {@code zoo.cfg.dynamic.next}): until a configuration is
     * activated, its voters are valid voters too (validVoter: the current and next configuration's) and a decision
     * needs a quorum of each.
     */
    public void lastSeen(Set<Long> pendingVoters) {
        nextVoters = Set.copyOf(new TreeSet<>(pendingVoters));
    }

    private boolean validVoter(long sid) {
        return voters.contains(sid) || nextVoters.contains(sid);
    }

    public ServerState state() {
        return state;
    }

    public long logicalClock() {
        return logicalClock;
    }

    /**
     * Apache's QuorumPeer.updateElectionVote (ZOOKEEPER-1732): once this member leads or follows in {@code newEpoch}
     * its decided vote says that epoch, as every other member's of the ensemble then does, so a server starting up
     * (a joiner, a restarted member) sees one vote for the leader from all of them. Nothing while looking.
     */
    public void updatePeerEpoch(long newEpoch) {
        if (state != ServerState.LOOKING && currentVote != null) {
            currentVote = new Vote(currentVote.leader(), currentVote.zxid(), currentVote.electionEpoch(), newEpoch,
                    currentVote.state(), currentVote.version());
        }
    }

    /** The decided vote, or null while looking. */
    public Vote currentVote() {
        return state == ServerState.LOOKING ? null : currentVote;
    }

    /**
     * Starts a new round: the next logical clock, a vote for this member with its last logged zxid and its
     * currentEpoch, sent to every voter (this member included).
     */
    public Output lookForLeader(long lastLoggedZxid, long currentEpoch) {
        // Apache's getInitLastLoggedZxid and getPeerEpoch: an observer's history never makes it a candidate.
        this.lastLoggedZxid = observer ? Long.MIN_VALUE : lastLoggedZxid;
        this.currentEpoch = observer ? Long.MIN_VALUE : currentEpoch;
        state = ServerState.LOOKING;
        currentVote = null;
        finalizing = false;
        received.clear();
        outOfElection.clear();
        logicalClock++;
        propose(initId(), this.lastLoggedZxid, this.currentEpoch);
        return new Output(sendNotifications(), false, null);
    }

    /** No notification arrived for a while: send this member's proposal to every voter again. */
    public Output idle() {
        return state == ServerState.LOOKING ? new Output(sendNotifications(), false, null) : Output.NONE;
    }

    /** The finalize timer expired with no better notification: the proposal is the decision. */
    public Output finalizeWaitExpired() {
        if (state != ServerState.LOOKING || !finalizing) {
            return Output.NONE;
        }
        Vote end = new Vote(proposedLeader, proposedZxid, logicalClock, proposedEpoch, ServerState.LOOKING,
                ElectionWire.NOTIFICATION_VERSION);
        return decide(end);
    }

    /** A notification from {@code sid} (this member's own included). */
    public Output receive(long sid, Notification n) {
        List<Outgoing> sends = new ArrayList<>();
        if (!validVoter(sid)) {
            // Apache answers a non-voter at once with its current vote and counts nothing from it.
            sends.add(new Outgoing(sid, answer(logicalClock)));
            return new Output(sends, false, null);
        }
        if (state != ServerState.LOOKING) {
            // Decided: tell a looking member who leads (in the round it was decided in).
            if (n.state() == ServerState.LOOKING) {
                sends.add(new Outgoing(sid, answer(currentVote.electionEpoch())));
            }
            return new Output(sends, false, null);
        }
        if (n.state() == ServerState.LOOKING && n.electionEpoch() < logicalClock) {
            // A lagging member learns this round's vote (Apache's receiver answers before the election sees it).
            sends.add(new Outgoing(sid, answer(logicalClock)));
        }
        if (finalizing) {
            if (!validVoter(n.leader())
                    || !beats(n.leader(), n.zxid(), n.peerEpoch(), proposedLeader, proposedZxid, proposedEpoch)) {
                // Apache's finalize poll consumes it uncounted and waits finalizeWait again.
                return new Output(sends, true, null);
            }
            finalizing = false;
        }
        if (!validVoter(n.leader())) {
            return new Output(sends, false, null);
        }
        Vote decided = switch (n.state()) {
            case LOOKING -> looking(sid, n, sends);
            case FOLLOWING, LEADING -> following(sid, n);
            case OBSERVING -> null;
        };
        if (decided != null) {
            return new Output(sends, false, decide(decided).decided());
        }
        return new Output(sends, finalizing, null);
    }

    private Vote looking(long sid, Notification n, List<Outgoing> sends) {
        if (lastLoggedZxid == -1 || n.zxid() == -1) {
            return null;
        }
        if (n.electionEpoch() > logicalClock) {
            logicalClock = n.electionEpoch();
            received.clear();
            if (beats(n.leader(), n.zxid(), n.peerEpoch(), initId(), lastLoggedZxid, currentEpoch)) {
                propose(n.leader(), n.zxid(), n.peerEpoch());
            } else {
                propose(initId(), lastLoggedZxid, currentEpoch);
            }
            sends.addAll(sendNotifications());
        } else if (n.electionEpoch() < logicalClock) {
            return null;
        } else if (beats(n.leader(), n.zxid(), n.peerEpoch(), proposedLeader, proposedZxid, proposedEpoch)) {
            propose(n.leader(), n.zxid(), n.peerEpoch());
            sends.addAll(sendNotifications());
        }
        received.put(sid, new Vote(n.leader(), n.zxid(), n.electionEpoch(), n.peerEpoch(), ServerState.LOOKING,
                n.version()));
        Vote proposal = new Vote(proposedLeader, proposedZxid, logicalClock, proposedEpoch, ServerState.LOOKING,
                ElectionWire.NOTIFICATION_VERSION);
        if (hasQuorum(received, proposal)) {
            finalizing = true;
        }
        return null;
    }

    private Vote following(long sid, Notification n) {
        Vote vote = new Vote(n.leader(), n.zxid(), n.electionEpoch(), n.peerEpoch(), n.state(), n.version());
        if (n.electionEpoch() == logicalClock) {
            received.put(sid, vote);
            if (hasQuorum(received, vote) && leaderConfirmed(received, n.leader(), n.electionEpoch())) {
                return vote;
            }
        }
        outOfElection.put(sid, vote);
        if (hasQuorum(outOfElection, vote) && leaderConfirmed(outOfElection, n.leader(), n.electionEpoch())) {
            logicalClock = n.electionEpoch();
            return vote;
        }
        return null;
    }

    /**
     * Apache's checkLeader: a quorum for another member counts only if that member itself says it leads; a quorum
     * for this member only in the round this member is in.
     */
    private boolean leaderConfirmed(Map<Long, Vote> votes, long leader, long electionEpoch) {
        if (leader != myId) {
            Vote own = votes.get(leader);
            return own != null && own.state() == ServerState.LEADING;
        }
        return logicalClock == electionEpoch;
    }

    private boolean hasQuorum(Map<Long, Vote> votes, Vote vote) {
        return quorumOf(voters, votes, vote) && (nextVoters.isEmpty() || quorumOf(nextVoters, votes, vote));
    }

    private static boolean quorumOf(Set<Long> of, Map<Long, Vote> votes, Vote vote) {
        int acks = 0;
        for (Map.Entry<Long, Vote> entry : votes.entrySet()) {
            if (of.contains(entry.getKey()) && vote.sameAs(entry.getValue())) {
                acks++;
            }
        }
        return acks > of.size() / 2;
    }

    /** Apache's getInitId: the first candidate this member proposes, never an observer. */
    private long initId() {
        return observer ? Long.MIN_VALUE : myId;
    }

    private Output decide(Vote vote) {
        state = vote.leader() == myId ? ServerState.LEADING
                : observer ? ServerState.OBSERVING : ServerState.FOLLOWING;
        currentVote = new Vote(vote.leader(), vote.zxid(), logicalClock, vote.peerEpoch(), state,
                ElectionWire.NOTIFICATION_VERSION);
        finalizing = false;
        received.clear();
        outOfElection.clear();
        return new Output(List.of(), false, currentVote);
    }

    /** Apache's totalOrderPredicate: epoch, then zxid, then sid; a non-voter is never a candidate. */
    static boolean beats(long leader, long zxid, long epoch, long currentLeader, long currentZxid,
                         long currentEpoch) {
        return epoch > currentEpoch
                || epoch == currentEpoch && (zxid > currentZxid || zxid == currentZxid && leader > currentLeader);
    }

    private void propose(long leader, long zxid, long epoch) {
        proposedLeader = leader;
        proposedZxid = zxid;
        proposedEpoch = epoch;
    }

    private List<Outgoing> sendNotifications() {
        List<Outgoing> sends = new ArrayList<>();
        Notification n = new Notification(ServerState.LOOKING, proposedLeader, proposedZxid, logicalClock,
                proposedEpoch, ElectionWire.NOTIFICATION_VERSION, config);
        Set<Long> to = new TreeSet<>(voters);
        to.addAll(nextVoters); // Apache's getCurrentAndNextConfigVoters
        for (long voter : to) {
            sends.add(new Outgoing(voter, n));
        }
        return sends;
    }

    /** This member's vote as it answers others: the proposal while looking, the decision after. */
    private Notification answer(long electionEpoch) {
        if (state == ServerState.LOOKING) {
            return new Notification(state, proposedLeader, proposedZxid, electionEpoch, proposedEpoch,
                    ElectionWire.NOTIFICATION_VERSION, config);
        }
        return new Notification(state, currentVote.leader(), currentVote.zxid(), electionEpoch,
                currentVote.peerEpoch(), ElectionWire.NOTIFICATION_VERSION, config);
    }
}
