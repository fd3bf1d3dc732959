package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The machine driven by hand, one message at a time: what each input must produce. */
class ZabStateMachineTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    static final int LEADER = 1;
    static final int ME = 2;
    static final long EPOCH = 1;

    static byte[] txn(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A follower (server 2 of 1, 2, 3) that joined leader 1 and answered its FOLLOWERINFO; returns its session. */
    private static long joinLeader(ZabStateMachine machine) {
        machine.ready();
        machine.receive(LEADER, new Notification(LEADER, 0, 0, 7, Role.LEADING));
        machine.receive(3, new Notification(LEADER, 0, 0, 7, Role.FOLLOWING));
        assertEquals(Role.FOLLOWING, machine.role());
        Ready ready = machine.ready();
        FollowerInfo info = only(ready, FollowerInfo.class);
        return info.session();
    }

    static <T> T only(Ready ready, Class<T> type) {
        List<T> found = ready.messages().stream().map(Ready.Outbound::message).filter(type::isInstance)
                .map(type::cast).toList();
        assertEquals(1, found.size(), "expected one " + type.getSimpleName() + " in " + ready.messages());
        return found.get(0);
    }

    private static ZabStateMachine newFollower() {
        return new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3), DurableState.empty(), 1);
    }

    @Test
    void shouldElectTheVoterWithTheHighestEpochThenZxidThenId() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3),
                new DurableState(3, 3, 0, null, List.of(new LogEntry(Zxid.of(3, 5), txn("x")))), 1);
        machine.ready();
        // Server 3 has a higher id but an older epoch: server 2's vote must win, and 3 adopting it completes a quorum.
        machine.receive(3, new Notification(3, Zxid.of(2, 9), 2, 1, Role.LOOKING));
        assertEquals(Role.LOOKING, machine.role());
        machine.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        machine.tick();
        machine.tick();
        assertEquals(Role.LEADING, machine.role());
    }

    @Test
    void shouldDecideWithoutTheFinalizeWaitWhenEveryVoterThatHasNotVotedIsUnreachable() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3),
                new DurableState(3, 3, 0, null, List.of(new LogEntry(Zxid.of(3, 5), txn("x")))), 1);
        machine.ready();
        machine.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        assertEquals(Role.LOOKING, machine.role(), "a quorum agrees, but server 1 might still send a better vote");
        machine.peerDisconnected(1);
        machine.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        assertEquals(Role.LEADING, machine.role(), "server 1 is known gone: no better vote can come, decide at once");
    }

    @Test
    void shouldStillWaitForAVoterThatWasUnreachableButHasSpokenSince() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3),
                new DurableState(3, 3, 0, null, List.of(new LogEntry(Zxid.of(3, 5), txn("x")))), 1);
        machine.ready();
        machine.peerDisconnected(1);
        machine.receive(1, new Notification(1, Zxid.of(2, 1), 2, 0, Role.LOOKING)); // an older round: reconnected
        machine.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        assertEquals(Role.LOOKING, machine.role(), "server 1 is reachable again, so the finalize wait applies");
    }

    @Test
    void shouldDecideWhenTheDriversFinalizeWaitEndsUnlessABetterVoteRestartedIt() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3),
                new DurableState(3, 3, 0, null, List.of(new LogEntry(Zxid.of(3, 5), txn("x")))), 1);
        machine.ready();
        assertEquals(-1, machine.finalizeWait(), "no quorum agrees yet");
        machine.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        long wait = machine.finalizeWait();
        assertTrue(wait >= 0, "a quorum agrees: the finalize wait runs");
        machine.receive(1, new Notification(1, Zxid.of(3, 9), 3, 1, Role.LOOKING)); // better: server 1 has more
        machine.finalizeElection(wait);
        assertEquals(Role.LOOKING, machine.role(), "the wait that ended was for a vote that has been replaced");
        machine.receive(3, new Notification(1, Zxid.of(3, 9), 3, 1, Role.LOOKING));
        assertEquals(Role.FOLLOWING, machine.role(), "every voter agrees: no wait at all");

        ZabStateMachine other = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3),
                new DurableState(3, 3, 0, null, List.of(new LogEntry(Zxid.of(3, 5), txn("x")))), 1);
        other.ready();
        other.receive(3, new Notification(ME, Zxid.of(3, 5), 3, 1, Role.LOOKING));
        other.finalizeElection(other.finalizeWait());
        assertEquals(Role.LEADING, other.role(), "no better vote came during the wait");
        assertEquals(-1, other.finalizeWait());
    }

    @Test
    void shouldAckNewLeaderOnlyInTheReadyThatPersistsTheSyncedLogAndCurrentEpoch() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        Ready afterLeaderInfo = machine.ready();
        assertEquals(EPOCH, afterLeaderInfo.acceptedEpoch(), "acceptedEpoch is written before ACKEPOCH leaves");
        assertTrue(only(afterLeaderInfo, AckEpoch.class).fresh());

        LogEntry first = new LogEntry(Zxid.of(0, 1), txn("a"));
        LogEntry second = new LogEntry(Zxid.of(0, 2), txn("b"));
        machine.receive(LEADER, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of(first, second)));
        machine.receive(LEADER, new NewLeader(session, 2, EPOCH, second.zxid()));
        Ready ready = machine.ready();
        // ZOOKEEPER-3023/-4646: the ack promises the DIFF is durable; ZOOKEEPER-4643: the epoch only with its log.
        assertEquals(List.of(first, second), ready.appends());
        assertTrue(ready.needsLogSync());
        assertEquals(EPOCH, ready.currentEpoch());
        assertEquals(second.zxid(), only(ready, AckNewLeader.class).zxid());
        assertTrue(ready.commits().isEmpty(), "nothing is applied before UPTODATE or COMMIT");
    }

    @Test
    void shouldPersistAndAckProposalsArrivingBetweenNewLeaderAndUpToDateAndApplyThemInOrder() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        machine.ready();
        LogEntry old = new LogEntry(Zxid.of(0, 1), txn("old"));
        machine.receive(LEADER, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of(old)));
        machine.receive(LEADER, new NewLeader(session, 2, EPOCH, old.zxid()));
        // ZOOKEEPER-4785: proposals racing with the sync must be logged and acked like any other, after NEWLEADER.
        machine.receive(LEADER, new Proposal(session, 3, Zxid.of(EPOCH, 1), txn("p1")));
        machine.receive(LEADER, new Proposal(session, 4, Zxid.of(EPOCH, 2), txn("p2")));
        Ready ready = machine.ready();
        assertEquals(3, ready.appends().size());
        assertEquals(EPOCH, ready.currentEpoch());
        List<ZabMessage> sent = ready.messages().stream().map(Ready.Outbound::message).toList();
        assertInstanceOf(AckNewLeader.class, sent.get(0));
        assertEquals(Zxid.of(EPOCH, 1), ((Ack) sent.get(1)).zxid());
        assertEquals(Zxid.of(EPOCH, 2), ((Ack) sent.get(2)).zxid());

        machine.receive(LEADER, new UpToDate(session, 5, old.zxid()));
        machine.receive(LEADER, new Commit(session, 6, Zxid.of(EPOCH, 2)));
        Ready applied = machine.ready();
        assertEquals(List.of(old.zxid(), Zxid.of(EPOCH, 1), Zxid.of(EPOCH, 2)),
                applied.commits().stream().map(LogEntry::zxid).toList());
        assertTrue(machine.isServing());
    }

    @Test
    void shouldStartAnElectionAtOnceWhenTheConnectionToItsLeaderCloses() {
        ZabStateMachine machine = newFollower();
        joinLeader(machine);
        machine.peerDisconnected(3);
        assertEquals(Role.FOLLOWING, machine.role(), "losing another follower changes nothing");
        machine.peerDisconnected(LEADER);
        assertEquals(Role.LOOKING, machine.role(), "no need to wait syncLimit ticks for a leader known to be gone");
        assertTrue(machine.ready().messages().stream().map(Ready.Outbound::message)
                .anyMatch(Notification.class::isInstance), "the election starts with a notification to the others");
    }

    @Test
    void shouldLookAgainAtOnceWhenTheMemberItFollowsBacksAnotherLeader() {
        ZabStateMachine machine = newFollower();
        joinLeader(machine);
        machine.receive(LEADER, new Notification(LEADER, 0, 0, 7, Role.LOOKING));
        assertEquals(Role.FOLLOWING, machine.role(), "a vote for itself may be from just before it decided to lead");
        machine.receive(LEADER, new Notification(3, 0, 0, 7, Role.LOOKING));
        assertEquals(Role.LOOKING, machine.role(), "it backs server 3: it will never answer the FOLLOWERINFO");

        ZabStateMachine other = newFollower();
        joinLeader(other);
        other.receive(LEADER, new Notification(3, 0, 0, 8, Role.FOLLOWING));
        assertEquals(Role.LOOKING, other.role(), "it follows server 3");

        ZabStateMachine synced = newFollower();
        long session = joinLeader(synced);
        synced.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        synced.receive(LEADER, new Notification(3, 0, 0, 7, Role.LOOKING));
        assertEquals(Role.FOLLOWING, synced.role(), "once the leader has answered, its session decides, not old votes");
    }

    @Test
    void shouldResendItsVoteAndFollowerInfoAsSoonAsAConnectionComesUp() {
        ZabStateMachine machine = newFollower();
        machine.ready(); // the first notifications went nowhere: no connection was up yet
        machine.peerConnected(3);
        Notification vote = only(machine.ready(), Notification.class);
        assertEquals(Role.LOOKING, vote.senderState());
        assertEquals(ME, vote.leader());

        long session = joinLeader(machine);
        machine.peerConnected(3);
        assertTrue(machine.ready().messages().stream().noneMatch(out -> out.message() instanceof FollowerInfo),
                "a connection to another member does not restart the session with the leader");
        machine.peerConnected(LEADER); // the FOLLOWERINFO was sent before the connection to the leader was up
        FollowerInfo again = only(machine.ready(), FollowerInfo.class);
        assertTrue(again.session() > session, "a fresh session supersedes the unanswered one");
    }

    @Test
    void shouldLeaveTheLeaderRatherThanApplyACommitItDoesNotHold() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        machine.receive(LEADER, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of()));
        machine.receive(LEADER, new NewLeader(session, 2, EPOCH, 0));
        machine.ready();
        machine.receive(LEADER, new Commit(session, 3, Zxid.of(EPOCH, 4)));
        Ready ready = machine.ready();
        assertTrue(ready.commits().isEmpty());
        assertEquals(Role.LOOKING, machine.role());
    }

    @Test
    void shouldRejectALeaderProposingAnEpochOlderThanTheOneAccepted() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3), new DurableState(5, 4, 0, null,
                List.of()), 1);
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, 3));
        Ready ready = machine.ready();
        assertEquals(Ready.NONE, ready.acceptedEpoch());
        assertTrue(ready.messages().stream().noneMatch(out -> out.message() instanceof AckEpoch));
        assertEquals(Role.LOOKING, machine.role());
    }

    @Test
    void shouldAckAnAlreadyAcceptedEpochWithoutCountingItAsFresh() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(ME, 1, 2, 3), new DurableState(5, 4, 0, null,
                List.of()), 1);
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, 5));
        assertFalse(only(machine.ready(), AckEpoch.class).fresh());
    }

    @Test
    void shouldDropMessagesFromUnknownIdsStaleSessionsAndDuplicates() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(9, new LeaderInfo(session, 0, EPOCH));
        machine.receive(LEADER, new LeaderInfo(session - 1, 0, EPOCH));
        assertTrue(machine.ready().isEmpty());
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        assertEquals(1, machine.ready().messages().size());
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        assertTrue(machine.ready().isEmpty(), "a duplicate is dropped");
        assertEquals(Role.FOLLOWING, machine.role());
    }

    @Test
    void shouldEndTheSessionWhenAMessageIsMissing() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        machine.receive(LEADER, new NewLeader(session, 2, EPOCH, 0));
        assertEquals(Role.LOOKING, machine.role());
        assertEquals(Ready.NONE, machine.ready().currentEpoch());
    }

    @Test
    void shouldRefuseATruncationBelowWhatItHasCommitted() {
        ZabStateMachine machine = newFollower();
        long session = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(session, 0, EPOCH));
        LogEntry first = new LogEntry(Zxid.of(0, 1), txn("a"));
        LogEntry second = new LogEntry(Zxid.of(0, 2), txn("b"));
        machine.receive(LEADER, new Sync(session, 1, SyncMode.DIFF, 0, 0, null, List.of(first, second)));
        machine.receive(LEADER, new NewLeader(session, 2, EPOCH, second.zxid()));
        machine.receive(LEADER, new UpToDate(session, 3, second.zxid()));
        machine.ready();
        assertEquals(second.zxid(), machine.committedZxid());
        for (int tick = 0; tick < 7 && machine.role() != Role.LOOKING; tick++) {
            machine.tick(); // the leader falls silent; the follower looks again
        }
        assertEquals(Role.LOOKING, machine.role());

        long next = joinLeader(machine);
        machine.receive(LEADER, new LeaderInfo(next, 0, EPOCH + 1));
        machine.receive(LEADER, new Sync(next, 1, SyncMode.TRUNC, first.zxid(), 0, null, List.of()));
        Ready ready = machine.ready();
        assertEquals(Ready.NONE, ready.truncateAfterZxid(), "committed transactions are never truncated");
        assertEquals(second.zxid(), machine.lastZxid());
        assertEquals(Role.LOOKING, machine.role());
    }

    @Test
    void shouldSendALongDiffInBoundedChunksBeforeNewLeader() {
        int entrySize = ZabStateMachine.SYNC_CHUNK_BYTES_MAX / 3 + 1;
        List<LogEntry> log = new java.util.ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            log.add(new LogEntry(Zxid.of(1, i), new byte[entrySize]));
        }
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2), new DurableState(1, 1, 0, null, log), 1);
        leader.ready();
        leader.receive(2, new Notification(1, Zxid.of(1, 7), 1, 1, Role.LOOKING));
        assertEquals(Role.LEADING, leader.role());
        leader.receive(2, new FollowerInfo(100, 0, 1, 0));
        LeaderInfo info = only(leader.ready(), LeaderInfo.class);
        leader.receive(2, new AckEpoch(100, 1, true, 0, 0));
        List<ZabMessage> sent = leader.ready().messages().stream().map(Ready.Outbound::message)
                .filter(m -> m instanceof Sync || m instanceof NewLeader).toList();
        // Two entries fit under the chunk bound, so seven travel in four SYNCs, then NEWLEADER.
        assertEquals(5, sent.size());
        List<LogEntry> received = new java.util.ArrayList<>();
        for (ZabMessage message : sent.subList(0, 4)) {
            Sync sync = (Sync) message;
            assertEquals(SyncMode.DIFF, sync.mode());
            assertTrue(sync.entries().size() <= 2);
            received.addAll(sync.entries());
        }
        assertEquals(log, received);
        assertEquals(new NewLeader(100, ((NewLeader) sent.get(4)).seq(), info.epoch(), Zxid.of(1, 7)), sent.get(4));
    }

    @Test
    void shouldCommitAsASingleVoterAsSoonAsItsOwnFsyncIsReported() {
        ZabStateMachine machine = new ZabStateMachine(ZabConfig.of(1, 1), DurableState.empty(), 1);
        assertTrue(machine.isEstablishedLeader());
        Ready start = machine.ready();
        assertEquals(1, start.acceptedEpoch());
        assertEquals(1, start.currentEpoch());
        assertTrue(machine.submit(txn("x")));
        Ready ready = machine.ready();
        assertEquals(1, ready.appends().size());
        assertEquals(List.of(), ready.commits(), "nothing is durable anywhere before the fsync");
        machine.logSynced(ready.appends().get(0).zxid());
        Ready committed = machine.ready();
        assertEquals(ready.appends(), committed.commits());
        assertArrayEquals(txn("x"), committed.commits().get(0).txn());
        assertEquals(Zxid.of(1, 1), committed.commits().get(0).zxid());
    }

    @Test
    void shouldSendProposalsBeforeItsFsyncButCountItsOwnAckOnlyAfterIt() {
        // Voters 1 (leading), 2 and 3: a follower's ack plus the leader's own make a quorum, but only once the leader's
        // fsync is done. Counting its unsynced log would commit what a single member holds durably.
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3), DurableState.empty(), 1);
        leader.ready();
        leader.receive(2, new Notification(1, 0, 0, 1, Role.LOOKING));
        leader.finalizeElection(leader.finalizeWait()); // the driver's finalize wait ends: 3 never voted
        assertEquals(Role.LEADING, leader.role());
        leader.ready();
        leader.receive(2, new FollowerInfo(200, 0, 0, 0));
        leader.ready();
        leader.receive(2, new AckEpoch(200, 1, true, 0, 0));
        leader.ready();
        leader.receive(2, new AckNewLeader(200, 2, 0));
        assertTrue(leader.isEstablishedLeader());
        leader.ready();

        assertTrue(leader.submit(txn("x")));
        Ready proposed = leader.ready();
        long zxid = proposed.appends().get(0).zxid();
        assertEquals(1, proposed.messagesBeforeSync(), "the proposal may leave before the leader's fsync");
        assertInstanceOf(Proposal.class, proposed.messages().get(0).message());
        leader.receive(2, new Ack(200, 3, zxid));
        assertEquals(List.of(), leader.ready().commits(), "one durable copy is no quorum of three");
        leader.logSynced(zxid);
        Ready committed = leader.ready();
        assertEquals(proposed.appends(), committed.commits());
        assertEquals(1, committed.messages().stream().filter(m -> m.message() instanceof Commit).count());
    }

    @Test
    void shouldRefuseWritesWhileLookingAndBeyondTheOutstandingBound() {
        ZabStateMachine looking = newFollower();
        assertFalse(looking.submit(txn("x")));
        ZabStateMachine leader = new ZabStateMachine(ZabConfig.of(1, 1, 2, 3).withOutstandingProposalsMax(2),
                DurableState.empty(), 1);
        assertNull(leader.followerPhase());
        assertFalse(leader.submit(txn("x")), "not established yet");
    }
}
