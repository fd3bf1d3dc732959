package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabMessage.Ack;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabSimulator.ReadyStep;
import io.tandem.server.zab.ZabSimulator.Tail;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scenarios behind Apache ZooKeeper's Zab bugs, replayed on the simulator with a perfect network so that only the
 * scenario's own crashes and partitions happen. The simulator's checkers run throughout; each test also asserts the
 * scenario's specific outcome.
 */
class ZabRegressionTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    private final ZabSimulator sim = new ZabSimulator(42, 3, Faults.none(),
            new ZabConfig(1, new int[] {1}, 10, 5, 1, 1000));

    private static byte[] txn(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private SimulatedNode awaitLeader() {
        assertTrue(sim.runUntil(() -> sim.establishedLeader() != null, 200), "no leader established");
        return sim.establishedLeader();
    }

    private void awaitApplied(SimulatedNode node, String text) {
        assertTrue(sim.runUntilApplied(node, text, 200), text + " not applied on " + node.id);
    }

    private static List<Long> durableZxids(SimulatedNode node) {
        List<Long> zxids = new ArrayList<>();
        node.disk.synced.forEach(entry -> zxids.add(entry.zxid()));
        node.disk.unsynced.forEach(entry -> zxids.add(entry.zxid()));
        return zxids;
    }

    private void healAndConverge() {
        sim.heal();
        for (SimulatedNode node : sim.nodes) {
            if (!node.isUp()) {
                sim.restart(node.id);
            }
        }
        ZabSimulationTest.recover(sim);
    }

    /** ZOOKEEPER-1154: the leader that committed a write is absent from the next election. */
    @Test
    void shouldKeepACommittedWriteWhenItsLeaderMissesTheNextElection() {
        SimulatedNode leader = awaitLeader();
        SimulatedNode acker = sim.othersThan(leader).get(0);
        SimulatedNode lagging = sim.othersThan(leader).get(1);
        sim.isolate(lagging.id);
        assertTrue(sim.submit(leader.id, txn("w1")));
        awaitApplied(acker, "w1");
        sim.crash(leader.id, Tail.KEEP);
        sim.heal();

        SimulatedNode next = awaitLeader();
        assertEquals(acker.id, next.id, "only the server holding the committed write may win");
        awaitApplied(lagging, "w1");
        healAndConverge();
    }

    /** ZOOKEEPER-1156: a returning leader is truncated to exactly its uncommitted tail, not further. */
    @Test
    void shouldTruncateOnlyTheUncommittedTailOfAReturningLeader() {
        SimulatedNode leader = awaitLeader();
        assertTrue(sim.submit(leader.id, txn("w1")));
        assertTrue(sim.submit(leader.id, txn("w2")));
        for (SimulatedNode node : sim.nodes) {
            awaitApplied(node, "w2");
        }
        sim.isolate(leader.id);
        assertTrue(sim.submit(leader.id, txn("w3-uncommitted")));
        sim.runTicks(1);
        long uncommitted = leader.machine.lastZxid();
        assertTrue(uncommitted > sim.committedZxidOf("w2"));
        sim.crash(leader.id, Tail.KEEP);
        assertTrue(durableZxids(leader).contains(uncommitted));
        sim.heal();

        SimulatedNode next = awaitLeader();
        assertTrue(sim.submit(next.id, txn("w4")));
        awaitApplied(next, "w4");
        sim.restart(leader.id);
        awaitApplied(leader, "w4");

        List<Long> log = durableZxids(leader);
        assertFalse(log.contains(uncommitted), "the uncommitted proposal is truncated");
        assertTrue(log.contains(sim.committedZxidOf("w1")) && log.contains(sim.committedZxidOf("w2")),
                "committed transactions survive the truncation");
        assertEquals(-1, sim.committedZxidOf("w3-uncommitted"));
        healAndConverge();
    }

    /**
     * ZOOKEEPER-3023 / -4646: a follower that acknowledged NEWLEADER and then crashed, losing whatever was not yet
     * fsynced, must still hold everything the acknowledgement vouched for.
     */
    @Test
    void shouldHoldTheWholeSyncedLogAfterCrashingRightAfterAckingNewLeader() {
        SimulatedNode leader = awaitLeader();
        SimulatedNode lagging = sim.othersThan(leader).get(1);
        sim.isolate(lagging.id);
        for (int i = 1; i <= 5; i++) {
            assertTrue(sim.submit(leader.id, txn("w" + i)));
        }
        awaitApplied(leader, "w5");
        sim.crashWhen((node, ready) -> node == lagging && hasMessage(ready, AckNewLeader.class), ReadyStep.APPLY,
                Tail.LOSE);
        sim.heal();
        assertTrue(sim.runUntil(() -> !lagging.isUp(), 200), "the follower never acknowledged NEWLEADER");

        assertTrue(durableZxids(lagging).contains(sim.committedZxidOf("w5")), "the acked DIFF is durable");
        assertEquals(leader.machine.epoch(), lagging.disk.currentEpoch, "the acked epoch is durable");

        // Lose the leader too: the other two must still agree on every committed write.
        sim.crash(leader.id, Tail.LOSE);
        sim.restart(lagging.id);
        SimulatedNode next = awaitLeader();
        assertTrue(next != leader);
        healAndConverge();
        assertTrue(sim.committedZxidOf("w5") > 0);
    }

    /** ZOOKEEPER-4643: currentEpoch is written only after the log it vouches for is durable. */
    @Test
    void shouldNeverHaveCurrentEpochDurableWithoutTheSyncedLog() {
        SimulatedNode leader = awaitLeader();
        SimulatedNode lagging = sim.othersThan(leader).get(1);
        long epochBefore = lagging.disk.currentEpoch;
        // While the lagging server is away, the others move to a new epoch and commit in it.
        sim.isolate(lagging.id);
        sim.crash(leader.id, Tail.KEEP);
        sim.restart(leader.id);
        SimulatedNode next = awaitLeader();
        long newEpoch = next.machine.epoch();
        assertTrue(newEpoch > epochBefore);
        assertTrue(sim.submit(next.id, txn("w1")));
        awaitApplied(next, "w1");

        // Crash between the log fsync and the epoch write: the epoch must not have moved, the log may have.
        sim.crashWhen((node, ready) -> node == lagging && ready.currentEpoch() != Ready.NONE,
                ReadyStep.PERSIST_EPOCHS, Tail.LOSE);
        sim.heal();
        assertTrue(sim.runUntil(() -> !lagging.isUp(), 200));
        assertEquals(epochBefore, lagging.disk.currentEpoch);
        assertTrue(durableZxids(lagging).contains(sim.committedZxidOf("w1")));

        // Crash just after the epoch write, before the ack: both are durable.
        sim.restart(lagging.id);
        sim.crashWhen((node, ready) -> node == lagging && ready.currentEpoch() != Ready.NONE, ReadyStep.SEND,
                Tail.LOSE);
        assertTrue(sim.runUntil(() -> !lagging.isUp(), 200));
        assertEquals(newEpoch, lagging.disk.currentEpoch);
        assertTrue(durableZxids(lagging).contains(sim.committedZxidOf("w1")));
        healAndConverge();
    }

    /** ZOOKEEPER-4785: proposals arriving while a follower syncs (after NEWLEADER, before UPTODATE) stay durable. */
    @Test
    void shouldKeepProposalsThatRaceWithADiffSync() {
        SimulatedNode leader = awaitLeader();
        SimulatedNode lagging = sim.othersThan(leader).get(1);
        sim.isolate(lagging.id);
        for (int i = 1; i <= 3; i++) {
            assertTrue(sim.submit(leader.id, txn("old" + i)));
        }
        awaitApplied(leader, "old3");
        List<Long> ackedDuringSync = new ArrayList<>();
        sim.crashWhen((node, ready) -> {
            if (node != lagging
                    || node.machine.followerPhase() != ZabStateMachine.FollowerPhase.AWAITING_UPTODATE) {
                return false;
            }
            ready.messages().stream().map(Ready.Outbound::message).filter(Ack.class::isInstance)
                    .forEach(message -> ackedDuringSync.add(((Ack) message).zxid()));
            return !ackedDuringSync.isEmpty();
        }, ReadyStep.APPLY, Tail.LOSE);
        sim.heal();
        int written = 0;
        while (lagging.isUp() && written < 500) {
            sim.submit(leader.id, txn("racing" + written++));
            sim.runStep();
        }
        assertFalse(lagging.isUp(), "no proposal raced with the sync");
        for (long zxid : ackedDuringSync) {
            assertTrue(durableZxids(lagging).contains(zxid), "acked proposal " + Zxid.toString(zxid) + " is durable");
        }
        sim.crash(leader.id, Tail.LOSE);
        sim.restart(lagging.id);
        assertNotNull(awaitLeader());
        healAndConverge();
    }

    /**
     * A leader sends its proposals before its own fsync (so the two overlap): it crashes right after sending one,
     * before the fsync, losing it from its own disk. The followers hold it durably, a quorum without the leader, so
     * the next leader must commit it and the old one must learn it back; the checkers meanwhile require that nothing
     * was committed on fewer durable copies than a quorum.
     */
    @Test
    void shouldKeepAProposalTheLeaderSentBeforeCrashingInItsFsync() {
        SimulatedNode leader = awaitLeader();
        assertTrue(sim.submit(leader.id, txn("w0")));
        for (SimulatedNode node : sim.nodes) {
            awaitApplied(node, "w0");
        }
        sim.crashWhen((node, ready) -> node == leader && !ready.appends().isEmpty()
                && ready.messagesBeforeSync() > 0 && hasMessage(ready, Proposal.class), ReadyStep.SYNC, Tail.LOSE);
        assertTrue(sim.submit(leader.id, txn("w1")));
        assertFalse(leader.isUp(), "the leader crashed before its fsync");
        assertEquals(-1, sim.committedZxidOf("w1"), "nothing commits before a quorum is durable");
        assertTrue(sim.runUntil(() -> sim.othersThan(leader).stream().allMatch(follower -> follower.disk.synced
                .stream().anyMatch(entry -> new String(entry.txn(), StandardCharsets.UTF_8).equals("w1"))), 2),
                "the proposal sent before the leader's fsync reached both followers' disks");
        assertTrue(leader.disk.synced.stream().noneMatch(entry -> new String(entry.txn(),
                StandardCharsets.UTF_8).equals("w1")), "the crashed leader lost it");
        SimulatedNode next = awaitLeader();
        assertTrue(next != leader);
        awaitApplied(next, "w1");
        sim.restart(leader.id);
        awaitApplied(leader, "w1");
        healAndConverge();
    }

    private static boolean hasMessage(Ready ready, Class<?> type) {
        return ready.messages().stream().anyMatch(outbound -> type.isInstance(outbound.message()));
    }
}
