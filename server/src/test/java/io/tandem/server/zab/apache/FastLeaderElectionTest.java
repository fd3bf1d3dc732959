package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ElectionWire.Notification;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import io.tandem.server.zab.apache.FastLeaderElection.Outgoing;
import io.tandem.server.zab.apache.FastLeaderElection.Output;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Apache's fast leader election rules, driven by hand. */
class FastLeaderElectionTest {
    private static final Set<Long> VOTERS = Set.of(1L, 2L, 3L);
    private static final byte[] CONFIG = new byte[0];

    private static Notification looking(long leader, long zxid, long round, long epoch) {
        return new Notification(ServerState.LOOKING, leader, zxid, round, epoch, 2, CONFIG);
    }

    /** Delivers this member's own notifications back to it, as the driver does, and returns the last output. */
    private static Output loopBack(FastLeaderElection fle, long myId, Output output) {
        ArrayDeque<Outgoing> own = new ArrayDeque<>();
        output.sends().stream().filter(s -> s.to() == myId).forEach(own::add);
        Output last = output;
        while (!own.isEmpty()) {
            last = fle.receive(myId, own.poll().notification());
            last.sends().stream().filter(s -> s.to() == myId).forEach(own::add);
        }
        return last;
    }

    @Test
    void votesOrderByEpochThenZxidThenSid() {
        assertTrue(FastLeaderElection.beats(1, 0, 2, 3, 99, 1), "a higher epoch wins over a higher zxid");
        assertTrue(FastLeaderElection.beats(1, 5, 1, 3, 4, 1), "then the higher zxid");
        assertTrue(FastLeaderElection.beats(3, 5, 1, 2, 5, 1), "then the higher sid");
        assertFalse(FastLeaderElection.beats(2, 5, 1, 2, 5, 1), "an equal vote is not better");
    }

    @Test
    void aQuorumForTheProposalDecidesOnlyAfterTheFinalizeWait() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        Output start = fle.lookForLeader(0, 0);
        assertEquals(List.of(1L, 2L, 3L), start.sends().stream().map(Outgoing::to).toList());
        loopBack(fle, 1, start);
        Output switched = fle.receive(2, looking(2, 0, 1, 0));
        assertEquals(2, switched.sends().get(0).notification().leader(), "a better vote is adopted and sent");
        Output quorum = loopBack(fle, 1, switched);
        assertTrue(quorum.armFinalizeTimer(), "{1, 2} hold the proposal: wait for a better one");
        assertNull(quorum.decided());
        Output worse = fle.receive(3, looking(1, 0, 1, 0));
        assertTrue(worse.armFinalizeTimer(), "a worse notification is consumed and the wait starts again");
        Output decided = fle.finalizeWaitExpired();
        assertEquals(2, decided.decided().leader());
        assertEquals(ServerState.FOLLOWING, fle.state());
    }

    /**
     * A last seen configuration (a reconfig proposed, not committed: Apache's getVoteTracker adds its verifier) counts
     * its voters: they are sent to and counted, and a proposal needs a quorum of them as well; activating a
     * configuration drops it.
     */
    @Test
    void aLastSeenConfigurationNeedsItsOwnQuorumToo() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        fle.lastSeen(Set.of(1L, 2L, 3L, 4L));
        Output start = fle.lookForLeader(0, 0);
        assertEquals(List.of(1L, 2L, 3L, 4L), start.sends().stream().map(Outgoing::to).toList());
        loopBack(fle, 1, start);
        Output two = loopBack(fle, 1, fle.receive(2, looking(2, 0, 1, 0)));
        assertFalse(two.armFinalizeTimer(), "{1, 2} are a quorum of {1, 2, 3} but not of {1, 2, 3, 4}");
        assertTrue(fle.receive(4, looking(2, 0, 1, 0)).armFinalizeTimer(), "4 votes as a voter of the next one");
        assertEquals(2, fle.finalizeWaitExpired().decided().leader());

        FastLeaderElection activated = new FastLeaderElection(1, VOTERS, CONFIG);
        activated.lastSeen(Set.of(1L, 2L, 3L, 4L));
        activated.reconfigure(VOTERS, CONFIG);
        loopBack(activated, 1, activated.lookForLeader(0, 0));
        assertTrue(loopBack(activated, 1, activated.receive(2, looking(2, 0, 1, 0))).armFinalizeTimer(),
                "once a configuration is activated only its voters count");
    }

    @Test
    void aBetterNotificationDuringTheFinalizeWaitResumesTheElection() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(fle, 1, fle.lookForLeader(0, 0));
        assertTrue(loopBack(fle, 1, fle.receive(2, looking(2, 0, 1, 0))).armFinalizeTimer());
        Output better = fle.receive(3, looking(3, 0, 1, 0));
        assertEquals(3, better.sends().get(0).notification().leader());
        assertNull(fle.finalizeWaitExpired().decided(), "the old proposal's wait no longer decides");
        loopBack(fle, 1, better);
        assertTrue(fle.receive(3, looking(3, 0, 1, 0)).armFinalizeTimer());
        assertEquals(3, fle.finalizeWaitExpired().decided().leader());
    }

    @Test
    void aLaterRoundIsJoinedAndAnEarlierOneAnswered() {
        FastLeaderElection fle = new FastLeaderElection(2, VOTERS, CONFIG);
        loopBack(fle, 2, fle.lookForLeader(5, 1));
        Output joined = fle.receive(3, looking(3, 0, 4, 0));
        assertEquals(4, fle.logicalClock());
        Notification sent = joined.sends().get(0).notification();
        assertEquals(2, sent.leader(), "our own vote (epoch 1) beats 3's (epoch 0)");
        assertEquals(4, sent.electionEpoch());
        Output answered = fle.receive(1, looking(1, 0, 2, 0));
        assertEquals(1, answered.sends().size());
        assertEquals(1, answered.sends().get(0).to(), "a lagging member gets this round's vote back");
        assertEquals(4, answered.sends().get(0).notification().electionEpoch());
    }

    @Test
    void followersOfALeaderDecideOnlyWithTheLeadersOwnLeadingNotification() {
        FastLeaderElection fle = new FastLeaderElection(3, VOTERS, CONFIG);
        loopBack(fle, 3, fle.lookForLeader(0, 0));
        Notification following = new Notification(ServerState.FOLLOWING, 2, 0x100000000L, 7, 1, 2, CONFIG);
        assertNull(fle.receive(1, following).decided());
        assertNull(fle.receive(1, following).decided(), "one follower's word is not a quorum");
        Notification leading = new Notification(ServerState.LEADING, 2, 0x100000000L, 7, 1, 2, CONFIG);
        Output decided = fle.receive(2, leading);
        assertEquals(2, decided.decided().leader());
        assertEquals(ServerState.FOLLOWING, decided.decided().state());
        assertEquals(7, fle.logicalClock(), "the running ensemble's round is taken over");
    }

    @Test
    void aQuorumOfFollowersWithoutTheLeaderDoesNotDecide() {
        FastLeaderElection fle = new FastLeaderElection(3, Set.of(1L, 2L, 3L, 4L, 5L), CONFIG);
        loopBack(fle, 3, fle.lookForLeader(0, 0));
        for (long follower : new long[] {1, 4, 5}) {
            Notification n = new Notification(ServerState.FOLLOWING, 2, 9, 7, 1, 2, CONFIG);
            assertNull(fle.receive(follower, n).decided(), "leader 2 never said it leads");
        }
    }

    @Test
    void aDecidedMemberAnswersLookingMembersWithItsDecision() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(fle, 1, fle.lookForLeader(0, 0));
        loopBack(fle, 1, fle.receive(3, looking(3, 0, 1, 0)));
        assertEquals(3, fle.finalizeWaitExpired().decided().leader());
        Output answer = fle.receive(2, looking(2, 0, 3, 0));
        Notification sent = answer.sends().get(0).notification();
        assertEquals(ServerState.FOLLOWING, sent.state());
        assertEquals(3, sent.leader());
        assertEquals(1, sent.electionEpoch(), "the round it was decided in");
        assertTrue(fle.receive(2, new Notification(ServerState.FOLLOWING, 3, 0, 1, 0, 2, CONFIG)).sends().isEmpty(),
                "members that are not looking get no answer");
    }

    /**
     * Apache's QuorumPeer.updateVote after a COMMITANDACTIVATE names another leader: the designated one is the vote
     * looking members are answered with, in the state the next session takes, without an election round (no
     * notification sent); Apache's Vote(id, zxid) carries no epochs until updateElectionVote.
     */
    @Test
    void aDesignatedLeaderBecomesTheVoteWithoutARound() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(fle, 1, fle.lookForLeader(0, 0));
        loopBack(fle, 1, fle.receive(3, looking(3, 0, 1, 0)));
        assertEquals(3, fle.finalizeWaitExpired().decided().leader());
        fle.designate(2, 0x100000005L);
        assertEquals(2, fle.currentVote().leader());
        Notification sent = fle.receive(3, looking(3, 0, 2, 0)).sends().get(0).notification();
        assertEquals(ServerState.FOLLOWING, sent.state());
        assertEquals(2, sent.leader());
        assertEquals(0x100000005L, sent.zxid());
        assertEquals(-1, sent.peerEpoch(), "no epoch until the session with it begins");
        fle.updatePeerEpoch(2);
        assertEquals(2, fle.receive(3, looking(3, 0, 2, 0)).sends().get(0).notification().peerEpoch());

        fle.designate(1, 0x200000001L);
        assertEquals(ServerState.LEADING, fle.receive(3, looking(3, 0, 2, 0)).sends().get(0).notification().state(),
                "designated itself: it leads");
    }

    @Test
    void aNonVoterIsAnsweredButNeverCounted() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(fle, 1, fle.lookForLeader(0, 0));
        Output answer = fle.receive(9, looking(9, 99, 1, 5));
        assertEquals(9, answer.sends().get(0).to());
        assertEquals(1, answer.sends().get(0).notification().leader(), "our vote is unchanged");
    }

    /**
     * Apache's updateElectionVote (ZOOKEEPER-1732): once the epoch it follows began, a decided member answers with
     * that epoch, so a joiner (a non-voter here) sees the same vote from the leader and its followers.
     */
    @Test
    void theDecidedVoteTakesTheEpochFollowedSoAJoinerSeesOneVote() {
        FastLeaderElection fle = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(fle, 1, fle.lookForLeader(0, 0));
        loopBack(fle, 1, fle.receive(3, looking(3, 0, 1, 0)));
        assertEquals(0, fle.finalizeWaitExpired().decided().peerEpoch(), "elected with epoch 0");
        fle.updatePeerEpoch(1);
        Notification toJoiner = fle.receive(4, looking(Long.MIN_VALUE, 0, 1, 0)).sends().get(0).notification();
        assertEquals(ServerState.FOLLOWING, toJoiner.state());
        assertEquals(3, toJoiner.leader());
        assertEquals(1, toJoiner.peerEpoch(), "the epoch followed, not the one elected with");
        assertEquals(1, fle.currentVote().peerEpoch());

        FastLeaderElection looking = new FastLeaderElection(2, VOTERS, CONFIG);
        loopBack(looking, 2, looking.lookForLeader(0, 0));
        looking.updatePeerEpoch(7);
        Notification proposal = looking.receive(4, looking(Long.MIN_VALUE, 0, 1, 0)).sends().get(0).notification();
        assertEquals(0, proposal.peerEpoch(), "a looking member's proposal is left alone");
    }

    /**
     * Apache's observer runs lookForLeader with getInitId, getInitLastLoggedZxid and getPeerEpoch all Long.MIN_VALUE:
     * it notifies the voters only, never proposes itself whatever its history, learns the leader from the voters'
     * FOLLOWING/LEADING votes (the leader's own LEADING one needed, as for anyone) and decides OBSERVING, which is
     * what it then answers a looking voter with.
     */
    @Test
    void anObserverIsNeverACandidateAndDecidesObservingFromTheVotersVotes() {
        FastLeaderElection observer = new FastLeaderElection(4, VOTERS, CONFIG, true);
        Output start = observer.lookForLeader(0x500000009L, 5);
        assertEquals(List.of(1L, 2L, 3L), start.sends().stream().map(Outgoing::to).toList(), "voters only");
        Notification own = start.sends().get(0).notification();
        assertEquals(ServerState.LOOKING, own.state());
        assertEquals(Long.MIN_VALUE, own.leader(), "never a candidate, however new its log");
        assertEquals(Long.MIN_VALUE, own.zxid());
        assertEquals(Long.MIN_VALUE, own.peerEpoch());
        Output adopted = observer.receive(1, looking(1, 0, 1, 0));
        assertEquals(1, adopted.sends().get(0).notification().leader(), "any voter's vote beats its own");

        Notification following = new Notification(ServerState.FOLLOWING, 2, 0x100000000L, 7, 1, 2, CONFIG);
        assertNull(observer.receive(1, following).decided());
        assertNull(observer.receive(3, following).decided(), "a quorum of followers, but not the leader's word");
        Notification leading = new Notification(ServerState.LEADING, 2, 0x100000000L, 7, 1, 2, CONFIG);
        Output decided = observer.receive(2, leading);
        assertEquals(2, decided.decided().leader());
        assertEquals(ServerState.OBSERVING, decided.decided().state());
        assertEquals(ServerState.OBSERVING, observer.state());
        Notification answer = observer.receive(1, looking(1, 0, 8, 1)).sends().get(0).notification();
        assertEquals(ServerState.OBSERVING, answer.state(), "a looking voter learns it observes leader 2");
        assertEquals(2, answer.leader());

        FastLeaderElection voter = new FastLeaderElection(1, VOTERS, CONFIG);
        loopBack(voter, 1, voter.lookForLeader(0, 0));
        Output fromObserver = voter.receive(4, own);
        assertEquals(1, fromObserver.sends().size(), "the observer is answered");
        assertEquals(4, fromObserver.sends().get(0).to());
        assertEquals(1, fromObserver.sends().get(0).notification().leader(), "and counted for nothing");
    }

    /**
     * Apache's updateLearnerType with the reconfigFlag: an observer a reconfig makes a voter answers with FOLLOWING
     * the same leader at once, counts in the new configuration's quorums, and in its next round proposes itself with
     * its own history; made an observer again it answers OBSERVING and is never a candidate.
     */
    @Test
    void aRoleChangedByReconfigAnswersInTheNewRoleAndElectsInIt() {
        FastLeaderElection member = new FastLeaderElection(4, VOTERS, CONFIG, true);
        member.lookForLeader(0, 0);
        member.receive(1, new Notification(ServerState.FOLLOWING, 2, 0x100000000L, 7, 1, 2, CONFIG));
        member.receive(3, new Notification(ServerState.FOLLOWING, 2, 0x100000000L, 7, 1, 2, CONFIG));
        assertEquals(2, member.receive(2, new Notification(ServerState.LEADING, 2, 0x100000000L, 7, 1, 2, CONFIG))
                .decided().leader());

        member.changeRole(false);
        member.reconfigure(Set.of(1L, 2L, 3L, 4L), CONFIG);
        assertEquals(ServerState.FOLLOWING, member.state());
        Notification answer = member.receive(1, looking(1, 0, 8, 1)).sends().get(0).notification();
        assertEquals(ServerState.FOLLOWING, answer.state(), "it now follows leader 2, no election in between");
        assertEquals(2, answer.leader());
        Notification own = member.lookForLeader(0x100000009L, 1).sends().get(0).notification();
        assertEquals(4, own.leader(), "a voter proposes itself");
        assertEquals(0x100000009L, own.zxid());

        member.changeRole(true);
        member.reconfigure(VOTERS, CONFIG);
        Notification asObserver = member.lookForLeader(0x100000009L, 1).sends().get(0).notification();
        assertEquals(Long.MIN_VALUE, asObserver.leader(), "an observer again is never a candidate");
    }

    @Test
    void anObserverMustNotBeAVoterNorAVoterAnObserver() {
        assertThrows(IllegalArgumentException.class, () -> new FastLeaderElection(1, VOTERS, CONFIG, true));
        assertThrows(IllegalArgumentException.class, () -> new FastLeaderElection(4, VOTERS, CONFIG, false));
    }
}
