package io.tandem.server.zab;

import io.tandem.server.zab.ZabMessage.Notification;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Fast leader election, the LOOKING part of {@link ZabStateMachine}: votes, rounds, the finalize wait and the decision.
 * It shares the machine's thread and state (role, history, the pending Ready); the machine calls in on every
 * notification, tick and connection change, and the decision hands the machine to {@link ZabLeader} or
 * {@link ZabFollower}.
 */
final class ZabElection {
    private static final Logger LOG = System.getLogger(ZabElection.class.getName());

    record Vote(int leader, long zxid, long peerEpoch) {
        /** The total order of fast leader election: currentEpoch first, then last zxid, then server id. */
        boolean beats(Vote other) {
            if (peerEpoch != other.peerEpoch) {
                return peerEpoch > other.peerEpoch;
            }
            if (zxid != other.zxid) {
                return zxid > other.zxid;
            }
            return leader > other.leader;
        }
    }

    private record ReceivedVote(Vote vote, long round, Role state) {}

    private final ZabStateMachine m;

    private long round;
    private Vote proposal;
    private long decidedRound;
    private final Map<Integer, ReceivedVote> receivedVotes = new TreeMap<>();
    private final Map<Integer, ReceivedVote> outOfElection = new TreeMap<>();
    /** Peers whose connection the transport reported closed and that have not been heard from since. */
    private final Set<Integer> unreachable = new TreeSet<>();
    /** Peers whose latest notification said they are recovering: they will not vote, so no need to wait for them. */
    private final Set<Integer> recoveringPeers = new TreeSet<>();
    private long decideAtTick = -1;
    /** Counts the times a finalize wait began, so a driver's timer for an older one is ignored. */
    private long finalizeWaits;
    /** Elections decided without waiting because the voters that had not voted were unreachable (diagnostics). */
    private long earlyDecisions;

    ZabElection(ZabStateMachine machine) {
        this.m = machine;
    }

    /** The machine's configuration: a committed reconfig replaces it (voters and observers), so it is never copied. */
    private ZabConfig config() {
        return m.config();
    }

    /** False until the first round began. */
    boolean started() {
        return proposal != null;
    }

    long earlyDecisions() {
        return earlyDecisions;
    }

    @Override
    public String toString() {
        return "round=" + round + " decidedRound=" + decidedRound + " proposal=" + proposal + " received="
                + receivedVotes + " outOfElection=" + outOfElection;
    }

    private Vote ownVote() {
        return new Vote(m.myId(), m.lastZxid(), m.currentEpoch());
    }

    /** A new round with this member's own vote; the machine has just become LOOKING. */
    void beginRound() {
        round++;
        proposal = ownVote();
        receivedVotes.clear();
        outOfElection.clear();
        receivedVotes.put(m.myId(), new ReceivedVote(proposal, round, Role.LOOKING));
        decideAtTick = -1;
        broadcastNotification();
        if (config().voters().length == 1 && !m.hasPendingConfig() && !m.nonVoting()) {
            decide(proposal);
        }
    }

    private Notification ownNotification() {
        if (m.role() == Role.LOOKING) {
            return new Notification(proposal.leader, proposal.zxid, proposal.peerEpoch, round, Role.LOOKING,
                    m.isRecovering(), configVersion(), m.membership.activeMembers());
        }
        // Out of election, advertise the epoch actually led or followed once known, so that every member of a running
        // ensemble advertises the same (leader, epoch) however and whenever it joined (ZOOKEEPER-1732).
        long epoch = m.epoch() >= 0 ? m.epoch() : proposal.peerEpoch;
        return new Notification(proposal.leader, proposal.zxid, epoch, decidedRound, m.role(), m.isRecovering(),
                configVersion(), m.membership.activeMembers());
    }

    /** The version of the configuration notifications carry: 0 (none) while zoo.cfg's is active. */
    private long configVersion() {
        return m.membership.activeMembers() == null ? 0 : m.membership.activeConfigZxid();
    }

    /** Tells {@code peer} this member's vote and configuration (see {@link ZabStateMachine#receive}). */
    void answer(int peer) {
        if (proposal != null) {
            m.pending.send(peer, ownNotification());
        }
    }

    private void broadcastNotification() {
        Notification notification = ownNotification();
        // Only voters decide elections; an observer asks them (and they answer once they lead or follow). While a
        // reconfig is pending the observers hear the vote too: a member that has not seen a reconfig yet may take a
        // voter of the newest configuration for an observer, and that voter must still hear its vote.
        int[] peers = m.hasPendingConfig() ? m.membership.allMembers(config()) : config().voters();
        for (int peer : peers) {
            if (peer != m.myId()) {
                m.pending.send(peer, notification);
            }
        }
    }

    /** See {@link ZabStateMachine#finalizeWait()}. */
    long finalizeWait() {
        return m.role() == Role.LOOKING && decideAtTick >= 0 ? finalizeWaits : -1;
    }

    /** See {@link ZabStateMachine#finalizeElection(long)}. */
    void finalizeElection(long wait) {
        if (!m.nonVoting() && wait >= 0 && wait == finalizeWait()
                && agreeQuorum(receivedVotes, proposal, Role.LOOKING)) {
            decide(proposal);
        }
    }

    void tick(long now) {
        // Notifications travel over a lossy channel; resending each tick stands in for ZooKeeper's backoff resend.
        broadcastNotification();
        if (!m.nonVoting() && decideAtTick >= 0 && now >= decideAtTick
                && agreeQuorum(receivedVotes, proposal, Role.LOOKING)) {
            decide(proposal);
        }
    }

    void peerDisconnected(int peer) {
        unreachable.add(peer);
    }

    /** Heard from or connected to {@code peer}: it is reachable again. */
    void peerReachable(int peer) {
        unreachable.remove(peer);
    }

    /** A fresh connection to {@code peer}: what was sent before was dropped, so this member's vote goes again. */
    void peerConnected(int peer) {
        unreachable.remove(peer);
        if (proposal != null) {
            m.pending.send(peer, ownNotification());
        }
    }

    void onNotification(int from, Notification n, long now) {
        Vote vote = new Vote(n.leader(), n.zxid(), n.peerEpoch());
        // An observer's notification is only a question (whom do you follow?); its vote and state count for nobody.
        boolean nonVotingSender = n.recovering() || config().isObserver(from);
        if (nonVotingSender) {
            recoveringPeers.add(from);
        } else {
            recoveringPeers.remove(from);
        }
        if (m.role() != Role.LOOKING) {
            ZabFollower follower = m.follower;
            if (m.role() == Role.FOLLOWING && follower.leaderId == from && follower.awaitingLeader()
                    && (n.senderState() == Role.FOLLOWING || n.senderState() == Role.LOOKING && n.leader() != from)) {
                // The member this one chose to follow says it backs another leader: it will never answer this
                // FOLLOWERINFO, so waiting initLimit ticks for it (20 s by default) would only delay the start. Seen
                // when three members start together and one decides just before a better vote changes the others'
                // minds. A vote only ever moves to a better one within a round, so a member that voted for someone
                // else cannot have decided to lead in that round; at worst this is one needless election.
                m.startLooking("member " + from + " it chose to follow backs " + n.leader() + " (" + n.senderState()
                        + ")");
                return;
            }
            if (n.senderState() == Role.LOOKING) {
                m.pending.send(from, ownNotification()); // recovering members and observers learn the leader this way
            }
            return;
        }
        if (nonVotingSender) {
            return; // its vote counts for nobody (see the machine's fields "recovering" and "observer")
        }
        if (n.senderState() == Role.LOOKING) {
            onLookingVote(from, n, vote, now);
            return;
        }
        // The sender already follows or leads: join it if a quorum does and the leader has confirmed leading.
        ReceivedVote received = new ReceivedVote(vote, n.round(), n.senderState());
        if (n.round() == round && !m.nonVoting()) { // receivedVotes holds our own vote, which may not count
            receivedVotes.put(from, received);
            if (agreeQuorum(receivedVotes, vote, n.senderState())
                    && leaderConfirmed(receivedVotes, vote)) {
                proposal = vote;
                decide(vote);
                return;
            }
        }
        outOfElection.put(from, received);
        if (joinQuorum(outOfElection, vote, n.senderState())
                && leaderConfirmed(outOfElection, vote)) {
            round = n.round();
            proposal = vote;
            decide(vote);
        }
    }

    private void onLookingVote(int from, Notification n, Vote vote, long now) {
        if (m.nonVoting()) {
            return; // takes no part in elections; it only joins a leader that others follow
        }
        if (n.round() > round) {
            round = n.round();
            receivedVotes.clear();
            Vote own = ownVote();
            proposal = vote.beats(own) ? vote : own;
            receivedVotes.put(m.myId(), new ReceivedVote(proposal, round, Role.LOOKING));
            decideAtTick = -1;
            broadcastNotification();
        } else if (n.round() < round) {
            m.pending.send(from, ownNotification());
            return;
        } else if (vote.beats(proposal)) {
            proposal = vote;
            receivedVotes.put(m.myId(), new ReceivedVote(proposal, round, Role.LOOKING));
            decideAtTick = -1;
            broadcastNotification();
        } else if (proposal.beats(vote)) {
            // A worse vote in this round: the sender has not seen this member's, which reached it while it still
            // followed the old leader (answered there, not counted) or was lost. Left to the next tick's resend, the
            // survivors of a leader's death that noticed it a moment apart stalled for up to a tick (2 s by default).
            // Apache answers only a sender in an older round and resends after a 200 ms wait (notTimeout).
            m.pending.send(from, ownNotification());
        }
        receivedVotes.put(from, new ReceivedVote(vote, n.round(), n.senderState()));
        int agreeing = agreeing(receivedVotes, proposal, Role.LOOKING);
        // Every voter agrees, or a quorum does and every voter that has not voted is known to be unreachable:
        // no better vote can still arrive, so waiting out the finalize ticks would only delay the failover.
        // While a reconfig is pending the quorum is a joint one: no early decision then, the finalize wait decides.
        boolean quorum = agreeQuorum(receivedVotes, proposal, Role.LOOKING);
        if (!m.hasPendingConfig() && (agreeing == config().voters().length
                || quorum && agreeing + unreachableNonVoters() >= config().voters().length)) {
            earlyDecisions += agreeing < config().voters().length ? 1 : 0;
            decide(proposal);
        } else if (quorum && decideAtTick < 0) {
            decideAtTick = now + config().electionFinalizeTicks();
            finalizeWaits++;
            if (config().electionFinalizeTicks() == 0) {
                decide(proposal);
            }
        }
    }

    /** Voters that have not voted and will not: known unreachable, or recovering (their votes do not count). */
    private int unreachableNonVoters() {
        int count = 0;
        for (int peer : config().voters()) {
            if ((unreachable.contains(peer) || recoveringPeers.contains(peer)) && !receivedVotes.containsKey(peer)) {
                count++;
            }
        }
        return count;
    }

    private static int agreeing(Map<Integer, ReceivedVote> votes, Vote vote, Role state) {
        int count = 0;
        for (ReceivedVote received : votes.values()) {
            if (agrees(received, vote, state)) {
                count++;
            }
        }
        return count;
    }

    private static boolean agrees(ReceivedVote received, Vote vote, Role state) {
        return received.state == Role.LOOKING && state == Role.LOOKING
                ? received.vote.equals(vote)
                : received.vote.leader == vote.leader && received.vote.peerEpoch == vote.peerEpoch;
    }

    /**
     * Whether the members that already follow or lead agree on {@code vote} in a majority of some configuration this
     * member knows (the active one or one pending in its log). Joining an established leader decides no epoch (the
     * leader's discovery counted its own joint quorum), so a member restarted with an older configuration than the
     * running ensemble's (zoo.cfg's, with reconfigs still pending in its log) may join the leader that the newest
     * configuration it knows backs; asking for the joint quorum here kept such a member out when the old voters were
     * gone (simulator seed 1003).
     */
    private boolean joinQuorum(Map<Integer, ReceivedVote> votes, Vote vote, Role state) {
        return m.membership.isMajorityOfAny(m.config(), id -> {
            ReceivedVote received = votes.get(id);
            return received != null && agrees(received, vote, state);
        });
    }

    /** Whether the voters agreeing on {@code vote} are a quorum ({@link ZabMembership#isQuorum}: joint if pending). */
    private boolean agreeQuorum(Map<Integer, ReceivedVote> votes, Vote vote, Role state) {
        return m.membership.isQuorum(m.config(), id -> {
            ReceivedVote received = votes.get(id);
            return received != null && agrees(received, vote, state);
        });
    }

    private boolean leaderConfirmed(Map<Integer, ReceivedVote> votes, Vote vote) {
        if (vote.leader == m.myId()) {
            return false; // never take leadership on others' say-so; only a full election makes this node leader
        }
        ReceivedVote fromLeader = votes.get(vote.leader);
        return fromLeader != null && fromLeader.state == Role.LEADING;
    }

    /**
     * A committed reconfig designated {@code leader} ({@link ZabStateMachine#handOver}): it is this member's vote from
     * now on, decided in the current round without notifications, as Apache's QuorumPeer.updateVote sets the current
     * vote that FastLeaderElection answers looking peers with.
     */
    void designate(int leader, long zxid, long epoch) {
        Checks.require(leader != m.myId() || !m.nonVoting(), "server %d: a non-voting member must not lead",
                m.myId());
        proposal = new Vote(leader, zxid, epoch);
        decidedRound = round;
        decideAtTick = -1;
        receivedVotes.clear();
        outOfElection.clear();
    }

    private void decide(Vote vote) {
        Checks.require(!m.nonVoting() || vote.leader != m.myId(),
                "server %d: a recovering member or observer must not lead", m.myId());
        decidedRound = round;
        decideAtTick = -1;
        proposal = vote;
        if (vote.leader == m.myId()) {
            LOG.log(Level.DEBUG, "server {0}: leading (round {1})", m.myId(), round);
            m.lead();
        } else {
            LOG.log(Level.DEBUG, "server {0}: following {1} (round {2})", m.myId(), vote.leader, round);
            m.follow(vote.leader);
        }
        // Observers ask only when they tick; telling them now saves them up to a tick of not serving.
        Notification decided = ownNotification();
        for (int peer : config().observers()) {
            if (peer != m.myId()) {
                m.pending.send(peer, decided);
            }
        }
    }
}
