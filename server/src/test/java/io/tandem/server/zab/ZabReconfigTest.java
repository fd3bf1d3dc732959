package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabMessage.Ack;
import io.tandem.server.zab.ZabMessage.AckEpoch;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.Commit;
import io.tandem.server.zab.ZabMessage.FollowerInfo;
import io.tandem.server.zab.ZabMessage.LeaderInfo;
import io.tandem.server.zab.ZabMessage.NewLeader;
import io.tandem.server.zab.ZabMessage.Notification;
import io.tandem.server.zab.ZabMessage.Ping;
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabMessage.Sync;
import io.tandem.server.zab.ZabMessage.SyncMode;
import io.tandem.server.zab.ZabMessage.UpToDate;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Voter changes in the machine (issue 14): a reconfig proposal commits only with a quorum of the old voters and one of
 * the new (Apache's Leader.processAck with two QuorumVerifiers), every member activates the new voters as it commits
 * it, a leader that is no longer a voter steps down after sending the commit, and an observer made a voter
 * acknowledges from the reconfig on. The simulator (EnsembleCommitSimulationTest) runs the same with real members.
 */
class ZabReconfigTest {
    /** Test transactions: {@code config V/O} with comma-separated voter and observer ids is a reconfig. */
    private static final MembershipReader READER = txn -> {
        String text = new String(txn, StandardCharsets.UTF_8);
        if (!text.startsWith("config ")) {
            return null;
        }
        String[] parts = text.substring("config ".length()).split("/", -1);
        return new Members(ids(parts[0]), ids(parts[1]));
    };

    private static int[] ids(String list) {
        return list.isEmpty() ? new int[0] : Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static byte[] txn(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Leader 1 of voters 1, 2, 3 (sessions 200 and 300), established; returns it ready to propose. */
    private static ZabStateMachine establishedLeaderOfThree() {
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3), DurableState.empty(), 1);
        leader.readMembersWith(READER);
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        leader.receive(3, new Notification(1, 0, 0, 1, Role.LOOKING));
        assertEquals(Role.LEADING, leader.role());
        for (int follower : new int[] {2, 3}) {
            leader.receive(follower, new FollowerInfo(follower * 100, 0, 0, 0));
        }
        for (int follower : new int[] {2, 3}) {
            leader.receive(follower, new AckEpoch(follower * 100, 1, true, 0, 0));
            leader.receive(follower, new AckNewLeader(follower * 100, 2, 0));
        }
        assertTrue(leader.isEstablishedLeader());
        leader.ready();
        return leader;
    }

    private static long commitsTo(Ready ready, int peer) {
        return ready.messages().stream().filter(m -> m.to() == peer && m.message() instanceof Commit).count();
    }

    @Test
    void shouldCommitAReconfigOnlyWithAQuorumOfTheNewVotersTooAndThenStepDownWhenItDemotedTheLeader() {
        ZabStateMachine leader = establishedLeaderOfThree();
        assertTrue(leader.submit(txn("config 2,3/1"))); // the leader becomes an observer
        long zxid = leader.ready().appends().get(0).zxid();
        assertTrue(leader.hasPendingConfig());
        leader.logSynced(zxid);
        leader.receive(2, new Ack(200, 3, zxid));
        assertEquals(List.of(), leader.ready().commits(),
                "the leader and server 2 are a quorum of {1,2,3} but not of the new voters {2,3}");
        assertTrue(leader.isEstablishedLeader());

        leader.receive(3, new Ack(300, 3, zxid));
        Ready committed = leader.ready();
        assertEquals(1, committed.commits().size(), "both quorums hold it now");
        assertEquals(1, commitsTo(committed, 2));
        assertEquals(1, commitsTo(committed, 3), "the commit leaves before the leader steps down");
        // Apache's leader steps down too, and its updateServerState sends it straight to the leader its
        // getDesignatedLeader chose (a new voter that acknowledged: 2 and 3 both did, the lower id wins).
        assertEquals(Role.FOLLOWING, leader.role(), "a leader that is no longer a voter follows the one it designated");
        assertEquals(2, leader.leaderId());
        assertEquals(List.of(2, 2), designatedIn(committed), "every COMMIT names the designated leader");
        assertEquals(0, notifications(committed), "no election round");
        assertArrayEquals(new int[] {2, 3}, leader.config().voters());
        assertTrue(leader.isObserver());
    }

    private static List<Integer> designatedIn(Ready ready) {
        return ready.messages().stream().map(Ready.Outbound::message).filter(Commit.class::isInstance)
                .map(m -> ((Commit) m).designatedLeader()).toList();
    }

    private static long notifications(Ready ready) {
        return ready.messages().stream().filter(m -> m.message() instanceof Notification).count();
    }

    /**
     * Apache's Leader.getDesignatedLeader prefers, among the new voters that acknowledged the reconfig, the one that
     * acknowledged the most proposals after it: the fewest outstanding proposals get dropped.
     */
    @Test
    void shouldDesignateTheNewVoterThatAcknowledgedTheMostProposalsAfterTheReconfig() {
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3, 4, 5), DurableState.empty(), 1);
        leader.readMembersWith(READER);
        for (int peer : new int[] {2, 3, 4, 5}) {
            leader.receive(peer, new Notification(1, 0, 0, 1, Role.LOOKING));
        }
        assertEquals(Role.LEADING, leader.role());
        for (int follower : new int[] {2, 3, 4, 5}) {
            leader.receive(follower, new FollowerInfo(follower * 100, 0, 0, 0));
        }
        for (int follower : new int[] {2, 3, 4, 5}) {
            leader.receive(follower, new AckEpoch(follower * 100, 1, true, 0, 0));
        }
        for (int follower : new int[] {2, 3, 4, 5}) {
            leader.receive(follower, new AckNewLeader(follower * 100, 2, 0));
        }
        assertTrue(leader.isEstablishedLeader());
        leader.ready();
        long reconfig = proposedAndLogged(leader, txn("config 2,3,4/"));
        long after = proposedAndLogged(leader, txn("x"));
        leader.receive(4, new Ack(400, 3, reconfig));
        leader.receive(4, new Ack(400, 4, after));
        assertEquals(List.of(), leader.ready().commits(), "{1,4} is no quorum of the old voters");
        leader.receive(2, new Ack(200, 3, reconfig));
        Ready committed = leader.ready();
        assertEquals(List.of(reconfig), committed.commits().stream().map(LogEntry::zxid).toList(),
                "{1,2,4} and {2,4} hold the reconfig, nobody but 1 and 4 the proposal after it");
        assertEquals(List.of(4, 4, 4, 4), designatedIn(committed), "4 acknowledged the most: it leads next");
        assertEquals(Role.FOLLOWING, leader.role());
        assertEquals(4, leader.leaderId());
        assertEquals(0, notifications(committed));
    }

    /**
     * A follower that a COMMIT designates leads at once (Apache's updateServerState: its vote is itself, so LEADING),
     * and one told another leader follows it, both without a notification; the designated leader then runs discovery
     * and picks an epoch above every promise, as Apache's Leader.lead does after a handover.
     */
    @Test
    void shouldLeadOrFollowTheDesignatedLeaderWhenTheCommitNamesOne() {
        for (int designated : new int[] {2, 3}) {
            ZabStateMachine follower = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
            follower.readMembersWith(READER);
            long session = establishedConfiguration(follower);
            long zxid = Zxid.of(1, 2);
            follower.receive(1, new Proposal(session, 6, zxid, txn("config 2,3/")));
            follower.logSynced(zxid);
            follower.ready();
            follower.receive(1, new Commit(session, 7, zxid, designated));
            Ready ready = follower.ready();
            assertEquals(List.of(zxid), ready.commits().stream().map(LogEntry::zxid).toList());
            assertEquals(0, notifications(ready), "no election round");
            assertEquals(designated, follower.leaderId());
            if (designated == 2) {
                assertEquals(Role.LEADING, follower.role(), "designated: it leads");
                assertFalse(follower.isEstablishedLeader(), "once a quorum reports its promises");
                follower.receive(3, new FollowerInfo(300, 0, 1, zxid));
                LeaderInfo info = follower.ready().messages().stream().map(Ready.Outbound::message)
                        .filter(LeaderInfo.class::isInstance).map(LeaderInfo.class::cast).findFirst().orElseThrow();
                assertEquals(2, info.epoch(), "a new epoch, above the one that committed the reconfig");
            } else {
                assertEquals(Role.FOLLOWING, follower.role(), "it follows the designated leader");
                assertEquals(1, ready.messages().stream().filter(m -> m.to() == 3
                        && m.message() instanceof FollowerInfo).count(), "FOLLOWERINFO goes to it at once");
            }
            // A looking server asking is answered with the designated leader.
            follower.receive(3 == designated ? 1 : 3, new Notification(3, zxid, 1, 9, Role.LOOKING));
            Notification answer = follower.ready().messages().stream().map(Ready.Outbound::message)
                    .filter(Notification.class::isInstance).map(Notification.class::cast).findFirst().orElseThrow();
            assertEquals(designated, answer.leader());
        }
    }

    @Test
    void shouldCountTheNewVotersAloneOnceTheReconfigCommitted() {
        ZabStateMachine leader = establishedLeaderOfThree();
        long reconfig = proposedAndLogged(leader, txn("config 1,2,3/4"));
        leader.receive(2, new Ack(200, 3, reconfig));
        assertEquals(1, leader.ready().commits().size(), "{1,2} is a quorum of both (the voters do not change)");
        assertArrayEquals(new int[] {4}, leader.config().observers());

        long demote = proposedAndLogged(leader, txn("config 1,2/3,4"));
        leader.receive(3, new Ack(300, 4, demote));
        assertEquals(List.of(), leader.ready().commits(), "{1,3} is no quorum of the new voters {1,2}");
        leader.receive(2, new Ack(200, 4, demote));
        assertEquals(1, leader.ready().commits().size());
        assertTrue(leader.isEstablishedLeader(), "the leader is still a voter: it goes on");

        long next = proposedAndLogged(leader, txn("x"));
        leader.receive(3, new Ack(300, 5, next));
        assertEquals(List.of(), leader.ready().commits(), "server 3 is an observer now: its ack counts for nothing");
        leader.receive(2, new Ack(200, 5, next));
        assertEquals(1, leader.ready().commits().size());
    }

    @Test
    void shouldActivateTheNewVotersOnAFollowerAsItCommitsAndLookWhenItsLeaderIsNoLongerOne() {
        ZabStateMachine follower = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
        follower.readMembersWith(READER);
        long session = synced(follower);
        long zxid = Zxid.of(1, 1);
        follower.receive(1, new Proposal(session, 4, zxid, txn("config 2,3,4/")));
        assertTrue(follower.hasPendingConfig());
        assertArrayEquals(new int[] {1, 2, 3}, follower.config().voters(), "only a commit activates it");
        follower.receive(1, new Commit(session, 5, zxid));
        assertArrayEquals(new int[] {2, 3, 4}, follower.config().voters());
        assertFalse(follower.hasPendingConfig());
        assertEquals(Role.LOOKING, follower.role(), "its leader left the voters: it looks for the new leader");
        assertEquals(1, follower.ready().commits().size(), "the reconfig still reaches the application");
    }

    @Test
    void shouldAcknowledgeProposalsFromTheReconfigThatMakesThisObserverAVoter() {
        ZabStateMachine observer = new ZabStateMachine(new ZabConfig(4, new int[] {1, 2, 3}, new int[] {4}, 10, 5,
                1, 10_000), DurableState.empty(), 1);
        observer.readMembersWith(READER);
        long session = synced(observer);
        observer.receive(1, new Proposal(session, 4, Zxid.of(1, 1), txn("x")));
        assertEquals(0, acks(observer.ready()), "an observer acknowledges nothing");
        observer.receive(1, new Proposal(session, 5, Zxid.of(1, 2), txn("config 1,2,3,4/")));
        assertEquals(1, acks(observer.ready()), "the new voters' quorum counts its ack");
        observer.receive(1, new Commit(session, 6, Zxid.of(1, 2)));
        assertFalse(observer.isObserver());
        assertEquals(Role.FOLLOWING, observer.role(), "its leader is still a voter");
    }

    @Test
    void shouldNotRemoveAJoinerWhoseSyncActivatesAConfigurationFromBeforeItWasAdded() {
        ZabStateMachine joiner = new ZabStateMachine(ZabConfig.of(4, 1, 2, 3, 4), DurableState.empty(), 1);
        joiner.readMembersWith(READER);
        joiner.ready();
        joiner.receive(1, new Notification(1, 0, 0, 7, Role.LEADING));
        joiner.receive(2, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        joiner.receive(3, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        long session = followerInfoSession(joiner);
        List<LogEntry> history = List.of(new LogEntry(Zxid.of(1, 1), txn("config 1,2,3/")),
                new LogEntry(Zxid.of(1, 2), txn("x")), new LogEntry(Zxid.of(1, 3), txn("config 1,2,3,4/")));
        syncByDiff(joiner, session, 1, history, Zxid.of(1, 3));
        assertFalse(joiner.isJoining(), "the configuration without it is history the newer one replaced");
        assertTrue(joiner.isServing());
        assertArrayEquals(new int[] {1, 2, 3, 4}, joiner.config().voters());
    }

    @Test
    void shouldAdoptANewerConfigurationFromANotificationWhileLookingAndFollowTheLeaderItNames() {
        // Server 2 was down while reconfigs replaced voters 1 and 3 by 4 and 5: it knows neither of them.
        ZabStateMachine late = new ZabStateMachine(ZabConfig.of(2, 1, 2, 3), DurableState.empty(), 1);
        late.readMembersWith(READER);
        late.ready();
        Members newest = new Members(new int[] {2, 4, 5}, new int[0], txn("server lines"));
        long version = Zxid.of(3, 5);
        late.receive(4, new Notification(5, version, 3, 2, Role.FOLLOWING, false, version, newest));
        assertArrayEquals(new int[] {2, 4, 5}, late.config().voters(), "a looking member adopts the newer one");
        Ready adopted = late.ready();
        assertEquals(new Ready.AdoptedConfig(version, newest), adopted.configAdopted(), "the application is told");
        assertTrue(adopted.messages().stream().anyMatch(m -> m.to() == 5 && m.message() instanceof Notification n
                && n.senderState() == Role.LOOKING), "a new round, its vote to the new voters");
        late.receive(5, new Notification(5, version, 3, 2, Role.LEADING, false, version, newest));
        assertEquals(Role.FOLLOWING, late.role());
        assertEquals(5, late.leaderId(), "it joins the running leader of the configuration it adopted");

        late.receive(1, new Notification(1, 0, 0, 1, Role.LOOKING, false, Zxid.of(9, 9),
                new Members(new int[] {1, 3}, new int[0])));
        assertArrayEquals(new int[] {2, 4, 5}, late.config().voters(), "only a looking member adopts (as Apache)");
    }

    @Test
    void shouldAnswerAStrangerWhoseConfigurationIsOlderWithItsOwn() {
        ZabStateMachine leader = establishedLeaderOfThree();
        long zxid = proposedAndLogged(leader, txn("config 1,2/"));
        leader.receive(2, new Ack(200, 3, zxid));
        assertEquals(1, leader.ready().commits().size());

        leader.receive(3, new Notification(3, 0, 0, 4, Role.LOOKING));
        Notification answer = leader.ready().messages().stream().filter(m -> m.to() == 3)
                .map(m -> (Notification) m.message()).findFirst().orElseThrow();
        assertEquals(zxid, answer.configVersion(), "the removed server hears which configuration removed it");
        assertArrayEquals(new int[] {1, 2}, answer.config().voters());
        assertEquals(Role.LEADING, answer.senderState());
        leader.receive(3, new Notification(3, 0, 0, 4, Role.LOOKING, false, zxid, answer.config()));
        assertEquals(List.of(3), leader.ready().messages().stream().map(Ready.Outbound::to).toList(),
                "a leading member answers a stranger's every notification, as Apache's WorkerReceiver (a joiner that"
                        + " adopted the configuration still has to learn whom to follow)");
    }

    @Test
    void shouldNotAnswerAStrangerWithTheSameConfigurationWhileLooking() {
        ZabStateMachine looking = new ZabStateMachine(ZabConfig.of(1, 1, 2), DurableState.empty(), 1);
        looking.readMembersWith(READER);
        Members members = new Members(new int[] {1, 2}, new int[0]);
        long version = Zxid.of(1, 0);
        looking.changeMembers(version, members.voters(), members.observers());
        looking.ready();
        looking.receive(3, new Notification(3, 0, 0, 4, Role.LOOKING, false, version, members));
        assertEquals(List.of(), looking.ready().messages(),
                "two looking servers that take each other for strangers must not answer each other forever");
        looking.receive(3, new Notification(3, 0, 0, 4, Role.LOOKING));
        assertEquals(List.of(3), looking.ready().messages().stream().map(Ready.Outbound::to).toList(),
                "an older configuration is answered");
    }

    /**
     * Apache's leader syncs a server its configuration does not name when it connects as a learner (a non-voting
     * follower), so a reconfig whose new voters are mostly such joiners finds them synced (Leader.isQuorumSynced)
     * and commits with their acks (the joint quorum of Leader.processAck).
     */
    @Test
    void shouldSyncJoinersAsNonVotingLearnersAndCommitAReconfigWithTheirAcks() {
        ZabStateMachine leader = establishedLeaderOfThree();
        for (int joiner : new int[] {4, 5}) {
            leader.receive(joiner, new FollowerInfo(joiner * 100, 0, 0, 0));
            assertTrue(leader.ready().messages().stream().anyMatch(m -> m.to() == joiner
                    && m.message() instanceof LeaderInfo), "the joiner " + joiner + " is answered as a learner");
            leader.receive(joiner, new AckEpoch(joiner * 100, 1, true, 0, 0));
            assertTrue(leader.ready().messages().stream().anyMatch(m -> m.to() == joiner
                    && m.message() instanceof NewLeader), "and synced");
            leader.receive(joiner, new AckNewLeader(joiner * 100, 2, leader.lastZxid()));
        }
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, leader.syncedMembers(),
                "what the reconfig's NewConfigNoQuorum check counts");
        assertTrue(leader.isEstablishedLeader());

        long before = proposedAndLogged(leader, txn("x"));
        leader.receive(4, new Ack(400, 3, before));
        leader.receive(5, new Ack(500, 3, before));
        assertEquals(List.of(), leader.ready().commits(), "a joiner's ack counts for nothing before a reconfig");

        // Voters 1..5 while 2 and 3 are down: the old quorum needs one of them, the new one the two joiners.
        long reconfig = proposedAndLogged(leader, txn("config 1,2,3,4,5/"));
        leader.receive(4, new Ack(400, 4, reconfig));
        leader.receive(5, new Ack(500, 4, reconfig));
        assertEquals(List.of(), leader.ready().commits(),
                "{1,4,5} is a quorum of the five new voters but not of the old three");
        leader.receive(2, new Ack(200, 3, reconfig));
        Ready committed = leader.ready();
        assertEquals(List.of(before, reconfig), committed.commits().stream().map(LogEntry::zxid).toList(),
                "with server 2's ack both quorums hold it: the joiners' acks counted for the new voters");
        assertEquals(1, commitsTo(committed, 4), "the joiner is sent the commit");
        assertArrayEquals(new int[] {1, 2, 3, 4, 5}, leader.config().voters());
        assertTrue(leader.isEstablishedLeader());

        long removal = proposedAndLogged(leader, txn("config 1,2,3,4/"));
        for (int voter : new int[] {2, 4, 5}) {
            leader.receive(voter, new Ack(voter * 100, voter == 2 ? 4 : 5, removal));
        }
        assertEquals(1, leader.ready().commits().size());
        leader.receive(5, new Ping(500, 6));
        leader.tick();
        Ready pings = leader.ready();
        assertTrue(pings.messages().stream().anyMatch(m -> m.to() == 4 && m.message() instanceof Ping));
        assertTrue(pings.messages().stream().anyMatch(m -> m.to() == 5 && m.message() instanceof Ping),
                "a learner a configuration named and a later one left out keeps its session, as Apache's leader keeps"
                        + " its LearnerHandler: it follows on as a non-voter");
        long z = proposedAndLogged(leader, txn("z"));
        leader.receive(5, new Ack(500, 7, z));
        assertEquals(List.of(), leader.ready().commits(), "its ack counts for nothing: {1,5} is no quorum of {1,2,3,4}");
    }

    /**
     * The joiner's side: a fresh server started with a zoo.cfg naming itself adopts the ensemble's configuration, which
     * does not name it, and follows its leader as a non-voting learner (Apache's non-voting follower) instead of
     * leaving; it acknowledges the reconfig that adds it and is a voter once that commits.
     */
    @Test
    void shouldFollowAsANonVotingJoinerUntilTheReconfigThatAddsItCommits() {
        ZabStateMachine joiner = new ZabStateMachine(ZabConfig.of(4, 1, 2, 3, 4), DurableState.empty(), 1);
        joiner.readMembersWith(READER);
        joiner.ready();
        Members ensemble = new Members(new int[] {1, 2, 3}, new int[0]);
        long version = Zxid.of(1, 0);
        joiner.receive(1, new Notification(1, version, 1, 7, Role.LEADING, false, version, ensemble));
        assertTrue(joiner.isJoining());
        assertArrayEquals(new int[] {1, 2, 3}, joiner.config().voters());
        assertTrue(joiner.isObserver(), "its vote counts for nothing");
        joiner.receive(2, new Notification(1, version, 1, 7, Role.FOLLOWING, false, version, ensemble));
        assertEquals(Role.FOLLOWING, joiner.role());
        assertEquals(1, joiner.leaderId());
        long session = followerInfoSession(joiner);
        syncByDiff(joiner, session, 1, List.of(new LogEntry(Zxid.of(1, 1), txn("x"))), Zxid.of(1, 1));
        assertTrue(joiner.isServing(), "synced like any learner");
        joiner.ready();

        joiner.receive(1, new Proposal(session, 4, Zxid.of(1, 2), txn("y")));
        joiner.logSynced(Zxid.of(1, 2));
        assertEquals(0, acks(joiner.ready()), "a non-voting joiner's ack would count for nothing");
        long reconfig = Zxid.of(1, 3);
        joiner.receive(1, new Proposal(session, 5, reconfig, txn("config 1,2,3,4/")));
        joiner.logSynced(reconfig);
        assertEquals(1, acks(joiner.ready()), "it acknowledges the reconfig that makes it a voter");
        joiner.receive(1, new Commit(session, 6, reconfig));
        assertFalse(joiner.isJoining());
        assertFalse(joiner.isObserver());
        assertArrayEquals(new int[] {1, 2, 3, 4}, joiner.config().voters());
        assertEquals(Role.FOLLOWING, joiner.role(), "it goes on following, now as a voter");
    }

    /**
     * Apache lets any server whose id the current configuration does not name follow as a non-voting participant
     * (QuorumPeer.updateLearnerType), whatever history it holds: a member with a history that adopts a configuration
     * without it while looking is a joiner, not removed.
     */
    @Test
    void shouldJoinAsANonVoterWhenAMemberWithAHistoryAdoptsAConfigurationWithoutIt() {
        ZabStateMachine late = new ZabStateMachine(ZabConfig.of(3, 1, 2, 3), DurableState.empty(), 1);
        late.readMembersWith(READER);
        long session = synced(late);
        late.receive(1, new Proposal(session, 4, Zxid.of(1, 1), txn("x")));
        late.receive(1, new Commit(session, 5, Zxid.of(1, 1)));
        late.startLooking("test");
        long version = Zxid.of(2, 1);
        Members without = new Members(new int[] {1, 2}, new int[0]);
        late.receive(1, new Notification(1, version, 2, 9, Role.LEADING, false, version, without));
        assertTrue(late.isJoining());
        assertTrue(late.isObserver(), "its vote counts for nothing");
        late.receive(2, new Notification(1, version, 2, 9, Role.FOLLOWING, false, version, without));
        assertEquals(Role.FOLLOWING, late.role(), "it follows the running leader as a non-voting learner");
        assertEquals(1, late.leaderId());
    }

    /**
     * Issue 14: a joiner restarted before the reconfig that adds it commits comes back as a joiner, as Apache's does
     * (its dynamic configuration file does not name it, so it starts from its zoo.cfg's server lines again): the
     * reconfig in its log is pending again, and once the new leader commits it the joiner is a voter.
     */
    @Test
    void shouldComeBackAsAJoinerWhenRestartedBeforeTheReconfigThatAddsItCommits() {
        Members ensemble = new Members(new int[] {1, 2, 3}, new int[0]);
        long version = Zxid.of(1, 0);
        List<LogEntry> history = List.of(new LogEntry(Zxid.of(1, 1), txn("x")),
                new LogEntry(Zxid.of(1, 2), txn("config 1,2,3,4/")));
        // What the joiner held durably when it stopped: synced in epoch 1, the reconfig acknowledged, not committed.
        ZabStateMachine restarted = new ZabStateMachine(ZabConfig.of(4, 1, 2, 3, 4),
                new DurableState(1, 1, 0, null, history), 2);
        restarted.readMembersWith(READER);
        restarted.ready();
        restarted.receive(1, new Notification(1, Zxid.of(1, 2), 2, 7, Role.LEADING, false, version, ensemble));
        assertTrue(restarted.isJoining());
        assertTrue(restarted.isObserver(), "its vote counts for nothing before the reconfig commits");
        assertTrue(restarted.hasPendingConfig(), "the reconfig in its log is pending again");
        restarted.receive(2, new Notification(1, Zxid.of(1, 2), 2, 7, Role.FOLLOWING, false, version, ensemble));
        assertEquals(Role.FOLLOWING, restarted.role());
        long session = followerInfoSession(restarted);
        restarted.receive(1, new LeaderInfo(session, 0, 2));
        restarted.receive(1, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of()));
        restarted.receive(1, new NewLeader(session, 2, 2, Zxid.of(1, 2)));
        assertTrue(restarted.isJoining(), "still a joiner while the new leader has not committed the reconfig");
        restarted.receive(1, new UpToDate(session, 3, Zxid.of(1, 2)));
        assertFalse(restarted.isJoining());
        assertFalse(restarted.isObserver(), "a voter once the reconfig that adds it commits");
        assertArrayEquals(new int[] {1, 2, 3, 4}, restarted.config().voters());
        assertEquals(Role.FOLLOWING, restarted.role());
        assertTrue(restarted.isServing());
    }

    /**
     * Issue 14: a member a reconfig removed, started again with its data, follows as a joiner (Apache lets any server
     * missing from the configuration join as a non-voting follower) and is a voter again once a reconfig adds it.
     */
    @Test
    void shouldComeBackAsAJoinerWhenARemovedMemberStartsAgainWithItsData() {
        ZabStateMachine removed = new ZabStateMachine(ZabConfig.of(3, 1, 2, 3), DurableState.empty(), 1);
        removed.readMembersWith(READER);
        long session = establishedConfiguration(removed);
        long removal = Zxid.of(1, 2);
        removed.receive(1, new Proposal(session, 6, removal, txn("config 1,2/")));
        removed.logSynced(removal);
        removed.receive(1, new Commit(session, 7, removal));
        assertTrue(removed.isJoining(), "a serving member a committed reconfig leaves out follows on as a non-voter");

        ZabStateMachine started = new ZabStateMachine(ZabConfig.of(3, 1, 2, 3), new DurableState(1, 1, 0, null,
                List.of(new LogEntry(Zxid.of(1, 1), txn("config 1,2,3/")), new LogEntry(removal, txn("config 1,2/")))),
                2);
        started.readMembersWith(READER);
        started.ready();
        Members without = new Members(new int[] {1, 2}, new int[0]);
        started.receive(1, new Notification(1, removal, 1, 7, Role.LEADING, false, removal, without));
        assertTrue(started.isJoining());
        started.receive(2, new Notification(1, removal, 1, 7, Role.FOLLOWING, false, removal, without));
        assertEquals(Role.FOLLOWING, started.role());
        long again = followerInfoSession(started);
        syncByDiff(started, again, 1, List.of(), removal);
        assertTrue(started.isServing(), "synced like any learner");
        assertTrue(started.isJoining(), "the configuration that removed it makes it no voter");
        long readded = Zxid.of(1, 3);
        started.receive(1, new Proposal(again, 4, readded, txn("config 1,2,3/")));
        started.logSynced(readded);
        assertEquals(1, acks(started.ready()), "it acknowledges the reconfig that adds it back");
        started.receive(1, new Commit(again, 5, readded));
        assertFalse(started.isJoining());
        assertArrayEquals(new int[] {1, 2, 3}, started.config().voters());
    }

    /**
     * Issue 14: a member a committed reconfig removes while it runs does what Apache 3.9.5's does
     * (ApacheRemovedMemberProcessTest runs it): QuorumPeer.updateLearnerType makes it a non-voting participant, and
     * since its leader stays one it goes on following and serving, its acks ignored; a later reconfig that names it
     * makes it a voter again on commit, without a restart or an election.
     */
    @Test
    void shouldFollowOnAsANonVoterWhenRemovedAndVoteAgainWhenAReconfigAddsItBack() {
        ZabStateMachine removed = new ZabStateMachine(ZabConfig.of(3, 1, 2, 3), DurableState.empty(), 1);
        removed.readMembersWith(READER);
        long session = establishedConfiguration(removed);
        long removal = Zxid.of(1, 2);
        removed.receive(1, new Proposal(session, 6, removal, txn("config 1,2/")));
        removed.logSynced(removal);
        assertEquals(1, acks(removed.ready()), "a voter acknowledges the reconfig that removes it");
        removed.receive(1, new Commit(session, 7, removal));
        assertTrue(removed.isJoining());
        assertTrue(removed.isObserver(), "its vote counts for nothing");
        assertEquals(Role.FOLLOWING, removed.role(), "its leader is still a voter: it goes on following it");
        assertTrue(removed.isServing(), "and serving");
        assertEquals(1, removed.ready().commits().size());

        removed.receive(1, new Proposal(session, 8, Zxid.of(1, 3), txn("x")));
        removed.logSynced(Zxid.of(1, 3));
        assertEquals(0, acks(removed.ready()), "a non-voter's ack would count for nothing");
        removed.receive(1, new Commit(session, 9, Zxid.of(1, 3)));
        removed.tick();
        assertEquals(Role.FOLLOWING, removed.role());

        long readded = Zxid.of(1, 4);
        removed.receive(1, new Proposal(session, 10, readded, txn("config 1,2,3/")));
        removed.logSynced(readded);
        assertEquals(1, acks(removed.ready()), "it acknowledges the reconfig that adds it back");
        removed.receive(1, new Commit(session, 11, readded));
        assertFalse(removed.isJoining());
        assertFalse(removed.isObserver());
        assertArrayEquals(new int[] {1, 2, 3}, removed.config().voters());
        assertEquals(Role.FOLLOWING, removed.role(), "a voter again, still following the same leader");
        assertTrue(removed.isServing());
    }

    /**
     * Apache's leader that a reconfig leaves out hands over to the designated leader and follows it as a non-voting
     * participant (QuorumPeer.updateServerState after processReconfig): here it steps down and, a joiner now, follows
     * the leader the remaining voters elect.
     */
    @Test
    void shouldFollowTheNewLeaderAsANonVoterWhenAReconfigRemovesTheLeader() {
        ZabStateMachine leader = establishedLeaderOfThree();
        // The configuration naming it first, so that the removal takes it out of one it served in.
        long established = proposedAndLogged(leader, txn("config 1,2,3/"));
        leader.receive(2, new Ack(200, 3, established));
        assertEquals(1, leader.ready().commits().size());
        assertFalse(leader.isJoining());
        long zxid = proposedAndLogged(leader, txn("config 2,3/"));
        leader.receive(2, new Ack(200, 4, zxid));
        leader.receive(3, new Ack(300, 3, zxid));
        Ready committed = leader.ready();
        assertEquals(1, committed.commits().size());
        assertTrue(leader.isJoining(), "a non-voting member now");
        assertEquals(Role.FOLLOWING, leader.role(), "no longer a voter: it steps down and follows the designated one");
        assertEquals(2, leader.leaderId());
        assertEquals(0, notifications(committed), "no election round");
        Members remaining = new Members(new int[] {2, 3}, new int[0]);
        leader.receive(2, new Notification(2, zxid, 1, 2, Role.LEADING, false, zxid, remaining));
        leader.receive(3, new Notification(2, zxid, 1, 2, Role.FOLLOWING, false, zxid, remaining));
        assertEquals(Role.FOLLOWING, leader.role(), "it follows the leader the voters back");
        assertEquals(2, leader.leaderId());
    }

    private static long acks(Ready ready) {
        return ready.messages().stream().filter(m -> m.message() instanceof Ack).count();
    }

    /**
     * {@link #synced}, then the configuration a new leader establishes (ZooKeeper's, committed at the start of its
     * epoch, here at zxid 1:1) names the member, so it serves as a voter. Returns the session.
     */
    private static long establishedConfiguration(ZabStateMachine machine) {
        long session = synced(machine);
        machine.receive(1, new Proposal(session, 4, Zxid.of(1, 1), txn("config 1,2,3/")));
        machine.logSynced(Zxid.of(1, 1));
        machine.receive(1, new Commit(session, 5, Zxid.of(1, 1)));
        assertFalse(machine.isJoining());
        machine.ready();
        return session;
    }

    /**
     * Simulator seed 8: a joiner synced into an ensemble that never committed a configuration serves under its own
     * zoo.cfg's, which names it; the first configuration it then activates, the next leader's, leaves it out. It was
     * removed; it is a joiner, as Apache's non-voting follower.
     */
    @Test
    void shouldJoinWhenTheFirstConfigurationItActivatesWhileServingLeavesItOut() {
        ZabStateMachine joiner = new ZabStateMachine(ZabConfig.of(4, 1, 2, 3, 4), DurableState.empty(), 1);
        joiner.readMembersWith(READER);
        joiner.ready();
        joiner.receive(1, new Notification(1, 0, 0, 7, Role.LEADING));
        joiner.receive(2, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        joiner.receive(3, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        long session = followerInfoSession(joiner);
        syncByDiff(joiner, session, 1, List.of(), 0);
        assertTrue(joiner.isServing());
        joiner.receive(1, new Proposal(session, 4, Zxid.of(1, 1), txn("config 1,2,3/")));
        joiner.logSynced(Zxid.of(1, 1));
        joiner.receive(1, new Commit(session, 5, Zxid.of(1, 1)));
        assertTrue(joiner.isJoining());
        assertTrue(joiner.isObserver());
        assertEquals(Role.FOLLOWING, joiner.role(), "it goes on following as a non-voter");
        assertArrayEquals(new int[] {1, 2, 3}, joiner.config().voters());
    }

    /** The session of the FOLLOWERINFO the machine just sent on choosing its leader. */
    /** A leader's proposal of {@code txn}: submitted, appended and durable on the leader; its zxid. */
    private static long proposedAndLogged(ZabStateMachine leader, byte[] txn) {
        assertTrue(leader.submit(txn));
        long zxid = leader.ready().appends().get(0).zxid();
        leader.logSynced(zxid);
        return zxid;
    }

    private static long followerInfoSession(ZabStateMachine machine) {
        return machine.ready().messages().stream().map(Ready.Outbound::message)
                .filter(FollowerInfo.class::isInstance).map(FollowerInfo.class::cast).findFirst().orElseThrow()
                .session();
    }

    /**
     * Leader 1's side of synchronization over {@code session}: LEADERINFO for {@code epoch}, a DIFF of {@code history},
     * NEWLEADER and UPTODATE at {@code lastZxid}.
     */
    private static void syncByDiff(ZabStateMachine machine, long session, long epoch, List<LogEntry> history,
                                   long lastZxid) {
        machine.receive(1, new LeaderInfo(session, 0, epoch));
        machine.receive(1, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, history));
        machine.receive(1, new NewLeader(session, 2, epoch, lastZxid));
        machine.receive(1, new UpToDate(session, 3, lastZxid));
    }

    /** Joins leader 1 (with server 3 following it) and syncs an empty history; returns the session. */
    private static long synced(ZabStateMachine machine) {
        machine.ready();
        machine.receive(1, new Notification(1, 0, 0, 7, Role.LEADING));
        machine.receive(3, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        machine.receive(2 == machine.myId() ? 3 : 2, new Notification(1, 0, 0, 7, Role.FOLLOWING));
        long session = followerInfoSession(machine);
        syncByDiff(machine, session, 1, List.of(), 0);
        assertTrue(machine.isServing());
        machine.ready();
        return session;
    }
}
