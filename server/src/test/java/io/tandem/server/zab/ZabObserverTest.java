package io.tandem.server.zab;

import static io.tandem.server.zab.ZabStateMachineTest.EPOCH;
import static io.tandem.server.zab.ZabStateMachineTest.LEADER;
import static io.tandem.server.zab.ZabStateMachineTest.ME;
import static io.tandem.server.zab.ZabStateMachineTest.only;
import static io.tandem.server.zab.ZabStateMachineTest.txn;
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
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabMessage.Sync;
import io.tandem.server.zab.ZabMessage.SyncMode;
import io.tandem.server.zab.ZabMessage.UpToDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The machine with observers, driven by hand: an observer's votes and acknowledgements never make a quorum, it
 * receives and applies what the voters commit, and reconfigs add and remove it.
 */
class ZabObserverTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    private static ZabConfig observerConfig(int myId) {
        return new ZabConfig(myId, new int[] {1, 2, 3}, new int[] {4}, 10, 5, 1, 10_000);
    }

    @Test
    void shouldNotCountAnObserversVoteAndNeverLetAnObserverLead() {
        ZabStateMachine voter = new ZabStateMachine(observerConfig(ME), DurableState.empty(), 1);
        voter.receive(4, new Notification(ME, 0, 0, 1, Role.LOOKING));
        for (int i = 0; i < 5; i++) {
            voter.tick();
        }
        assertEquals(Role.LOOKING, voter.role(), "an observer's vote makes no quorum with the voter's own");

        ZabStateMachine observer = new ZabStateMachine(observerConfig(4), DurableState.empty(), 1);
        assertTrue(observer.isObserver());
        for (int id = 1; id <= 3; id++) {
            observer.receive(id, new Notification(4, 0, 0, 1, Role.LOOKING));
        }
        for (int i = 0; i < 5; i++) {
            observer.tick();
        }
        assertEquals(Role.LOOKING, observer.role(), "an observer leads nobody, even when voters name it");
        observer.receive(LEADER, new Notification(LEADER, 0, 0, 7, Role.LEADING));
        observer.receive(3, new Notification(LEADER, 0, 0, 7, Role.FOLLOWING));
        assertEquals(Role.FOLLOWING, observer.role(), "it follows the leader a quorum of voters follows");
        assertEquals(LEADER, observer.leaderId());
    }

    @Test
    void shouldEstablishAndCommitOnlyOnVotersAcknowledgements() {
        // Voters 1 and 2 (quorum 2) and observer 3: without 2, the observer's answers must never make a quorum.
        ZabStateMachine leader = new ZabStateMachine(new ZabConfig(1, new int[] {1, 2}, new int[] {3}, 10, 5, 1,
                10_000), DurableState.empty(), 1);
        leader.ready();
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        assertEquals(Role.LEADING, leader.role());
        leader.ready();
        leader.receive(3, new FollowerInfo(300, 0, 0, 0));
        assertTrue(leader.ready().messages().isEmpty(), "an observer's FOLLOWERINFO is no discovery quorum");
        leader.receive(2, new FollowerInfo(200, 0, 0, 0));
        List<Ready.Outbound> infos = leader.ready().messages();
        assertEquals(2, infos.stream().filter(m -> m.message() instanceof LeaderInfo).count(), infos.toString());
        leader.receive(3, new AckEpoch(300, 1, true, 0, 0));
        assertTrue(leader.ready().messages().stream().noneMatch(m -> m.message() instanceof NewLeader),
                "an observer's fresh ACKEPOCH starts no synchronization");
        leader.receive(2, new AckEpoch(200, 1, true, 0, 0));
        assertEquals(2, leader.ready().messages().stream().filter(m -> m.message() instanceof NewLeader).count());
        leader.receive(3, new AckNewLeader(300, 2, 0));
        assertFalse(leader.isEstablishedLeader(), "an observer's NEWLEADER ack establishes nothing");
        leader.receive(2, new AckNewLeader(200, 2, 0));
        assertTrue(leader.isEstablishedLeader());
        leader.ready();

        assertTrue(leader.submit(txn("x")));
        Ready proposed = leader.ready();
        assertEquals(2, proposed.messages().stream().filter(m -> m.message() instanceof Proposal).count(),
                "the observer receives proposals too");
        long zxid = proposed.appends().get(0).zxid();
        leader.logSynced(zxid); // the driver's fsync of that Ready
        leader.receive(3, new Ack(300, 3, zxid));
        assertEquals(List.of(), leader.ready().commits(), "an observer's ack commits nothing");
        leader.receive(2, new Ack(200, 3, zxid));
        Ready committed = leader.ready();
        assertEquals(1, committed.commits().size());
        assertEquals(2, committed.messages().stream().filter(m -> m.message() instanceof Commit).count(),
                "the commit goes to the observer as well");
    }

    /** Leader 1 of voters 1 and 2, established with voter 2's session 200; returns it ready to propose. */
    private static ZabStateMachine establishedLeaderOfTwo(int[] observers) {
        ZabStateMachine leader = new ZabStateMachine(new ZabConfig(1, new int[] {1, 2}, observers, 10, 5, 1,
                10_000), DurableState.empty(), 1);
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        leader.receive(2, new FollowerInfo(200, 0, 0, 0));
        leader.receive(2, new AckEpoch(200, 1, true, 0, 0));
        leader.receive(2, new AckNewLeader(200, 2, 0));
        assertTrue(leader.isEstablishedLeader());
        leader.ready();
        return leader;
    }

    private static long proposalsTo(Ready ready, int peer) {
        return ready.messages().stream().filter(m -> m.to() == peer && m.message() instanceof Proposal).count();
    }

    @Test
    void shouldTakeAnObserverAddedByACommittedReconfigAndDropOneRemoved() {
        ZabStateMachine leader = establishedLeaderOfTwo(new int[0]);
        leader.receive(3, new FollowerInfo(299, 0, 0, 0));
        assertEquals(1, leader.ready().messages().stream().filter(m -> m.message() instanceof LeaderInfo).count(),
                "server 3 is no member yet: synced as a non-voting learner, as Apache's leader syncs a joiner");

        leader.changeMembers(10, new int[] {2, 1}, new int[] {3});
        leader.receive(3, new FollowerInfo(300, 0, 0, 0));
        assertEquals(1, leader.ready().messages().stream().filter(m -> m.message() instanceof LeaderInfo).count());
        leader.receive(3, new AckEpoch(300, 1, true, 0, 0));
        leader.ready();
        leader.receive(3, new AckNewLeader(300, 2, 0));
        leader.ready();
        assertTrue(leader.submit(txn("x")));
        Ready proposed = leader.ready();
        assertEquals(1, proposalsTo(proposed, 3), "the added observer receives proposals");
        long zxid = proposed.appends().get(0).zxid();
        leader.logSynced(zxid);
        leader.receive(3, new Ack(300, 3, zxid));
        assertEquals(List.of(), leader.ready().commits(), "its ack still counts for nothing");

        leader.changeMembers(11, new int[] {1, 2}, new int[0]);
        assertTrue(leader.isEstablishedLeader(), "removing an observer leaves the quorum as it was");
        assertTrue(leader.submit(txn("y")));
        Ready afterRemoval = leader.ready();
        assertEquals(1, proposalsTo(afterRemoval, 3), "the removed observer keeps its session and follows on, as a"
                + " running server Apache's reconfig removed follows on as a non-voting participant");
        long y = afterRemoval.appends().get(0).zxid();
        leader.logSynced(y);
        leader.receive(3, new Ack(300, 4, y));
        assertEquals(List.of(), leader.ready().commits(), "its ack counts for nothing");
    }

    /** Takes a new observer to leader 1 and through an empty DIFF until it serves; returns its session. */
    private static long syncWithLeader(ZabStateMachine observer) {
        observer.ready();
        observer.receive(LEADER, new Notification(LEADER, 0, 0, 7, Role.LEADING));
        observer.receive(3, new Notification(LEADER, 0, 0, 7, Role.FOLLOWING));
        long session = only(observer.ready(), FollowerInfo.class).session();
        observer.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        observer.receive(LEADER, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of()));
        observer.receive(LEADER, new NewLeader(session, 2, EPOCH, 0));
        observer.receive(LEADER, new UpToDate(session, 3, 0));
        assertTrue(observer.isServing());
        observer.ready();
        return session;
    }

    @Test
    void shouldFollowOnAsANonVoterOnceRemovedByACommittedReconfig() {
        ZabStateMachine observer = new ZabStateMachine(observerConfig(4), DurableState.empty(), 1);
        long session = syncWithLeader(observer);
        observer.changeMembers(5, new int[] {1, 2, 3}, new int[] {4});
        observer.ready();

        // Apache's QuorumPeer.updateLearnerType: a server missing from the view is a non-voting participant; its
        // leader is still a voter, so it goes on following it and serving (ApacheRemovedMemberProcessTest).
        observer.changeMembers(10, new int[] {1, 2, 3}, new int[0]);
        assertTrue(observer.isJoining(), "a non-voting member until a configuration names it again");
        assertEquals(Role.FOLLOWING, observer.role());
        assertEquals(LEADER, observer.leaderId());
        assertTrue(observer.isServing());
        assertTrue(observer.submit(txn("y")), "it forwards writes as any follower");
        observer.receive(LEADER, new Proposal(session, 4, Zxid.of(EPOCH, 1), txn("y")));
        observer.logSynced(Zxid.of(EPOCH, 1));
        observer.receive(LEADER, new Commit(session, 5, Zxid.of(EPOCH, 1)));
        Ready applied = observer.ready();
        assertEquals(1, applied.commits().size(), "it applies the leader's commits");
        assertTrue(applied.messages().stream().noneMatch(out -> out.message() instanceof Ack),
                "its votes and acks count for nothing, so it sends none");
    }

    @Test
    void shouldApplyCommitsAsAnObserverWithoutAcknowledgingProposals() {
        ZabStateMachine observer = new ZabStateMachine(observerConfig(4), DurableState.empty(), 1);
        long session = syncWithLeader(observer);
        long zxid = Zxid.of(EPOCH, 1);
        observer.receive(LEADER, new Proposal(session, 4, zxid, txn("x")));
        Ready appended = observer.ready();
        assertEquals(1, appended.appends().size());
        assertTrue(appended.messages().stream().noneMatch(m -> m.message() instanceof Ack),
                "no ack: it would count for nothing");
        observer.receive(LEADER, new Commit(session, 5, zxid));
        assertEquals(zxid, observer.ready().commits().get(0).zxid());
        assertTrue(observer.submit(txn("y")), "an observer forwards writes to the leader");
    }

    @Test
    void shouldTruncateAnObserverAheadOfTheNewLeaderInsteadOfStartingAnElection() {
        // The observer holds a proposal of epoch 1 that never committed; the new leader (voters 1 and 2) lacks it.
        List<LogEntry> log = List.of(new LogEntry(Zxid.of(1, 1), txn("committed")));
        ZabStateMachine leader = new ZabStateMachine(new ZabConfig(1, new int[] {1, 2}, new int[] {3}, 10, 5, 1,
                10_000), new DurableState(1, 1, 0, null, log), 1);
        leader.ready();
        leader.receive(2, new Notification(1, Zxid.of(1, 1), 1, 1, Role.LOOKING));
        assertEquals(Role.LEADING, leader.role());
        leader.receive(2, new FollowerInfo(200, 0, 1, Zxid.of(1, 1)));
        leader.receive(3, new FollowerInfo(300, 0, 1, Zxid.of(1, 2)));
        leader.ready();
        leader.receive(3, new AckEpoch(300, 1, true, 1, Zxid.of(1, 2)));
        assertEquals(Role.LEADING, leader.role(), "an observer ahead is no reason for a new election");
        leader.receive(2, new AckEpoch(200, 1, true, 1, Zxid.of(1, 1)));
        assertEquals(Role.LEADING, leader.role());
        List<Sync> syncs = leader.ready().messages().stream().filter(m -> m.to() == 3)
                .map(Ready.Outbound::message).filter(Sync.class::isInstance).map(Sync.class::cast).toList();
        assertEquals(SyncMode.TRUNC, syncs.get(0).mode());
        assertEquals(Zxid.of(1, 1), syncs.get(0).truncateZxid());
    }
}
