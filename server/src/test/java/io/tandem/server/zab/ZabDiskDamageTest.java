package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabSimulator.Tail;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A member whose disk was damaged restarts with its history set aside ("recovering"): it must not help elect anybody
 * until a leader has re-synced it, and no acknowledged write may be lost. Simulated with a perfect network; the
 * simulator's checkers run throughout.
 */
class ZabDiskDamageTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    private final ZabSimulator sim = new ZabSimulator(43, 3, Faults.none(),
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

    /**
     * The scenario: a write acknowledged by {A, C} only; A goes down; C's disk is damaged. B and C together
     * are a majority, but C no longer holds the write: they must not elect a leader (B would lose it). Once A is back,
     * A leads, C is re-synced and every member holds the write.
     */
    @Test
    void shouldNotElectWithARecoveringMemberAndLoseTheWriteItAcknowledged() {
        SimulatedNode a = awaitLeader();
        SimulatedNode c = sim.othersThan(a).get(0);
        SimulatedNode b = sim.othersThan(a).get(1);
        sim.isolate(b.id);
        assertTrue(sim.submit(a.id, txn("acked-by-a-and-c")));
        awaitApplied(c, "acked-by-a-and-c");
        long acked = sim.committedZxidOf("acked-by-a-and-c");
        assertTrue(b.machine.lastZxid() < acked, "B never saw the write");

        sim.crash(a.id, Tail.KEEP);
        sim.crash(c.id, Tail.KEEP);
        sim.corruptDisk(c.id);
        sim.restart(c.id);
        sim.heal();
        assertTrue(c.machine.isRecovering());

        sim.runTicks(150);
        assertNull(sim.establishedLeader(), "B and a recovering C must not establish a leader");
        assertEquals(Role.LOOKING, b.machine.role());
        assertTrue(c.machine.isRecovering() && c.disk.recovering, "C cannot re-sync without a leader");
        assertFalse(c.machine.isServing());

        sim.restart(a.id);
        SimulatedNode leader = awaitLeader();
        assertTrue(leader == a || leader == b);
        for (SimulatedNode node : sim.nodes) {
            awaitApplied(node, "acked-by-a-and-c");
        }
        assertFalse(c.disk.recovering, "the marker is gone once C is re-synced");
        assertFalse(c.machine.isRecovering());
        ZabSimulationTest.recover(sim);
        assertEquals(acked, sim.committedZxidOf("acked-by-a-and-c"));
    }

    /** A damaged follower rejoins a running ensemble, is synced in full, and counts again afterwards. */
    @Test
    void shouldResyncADamagedFollowerFromTheRunningLeader() {
        SimulatedNode leader = awaitLeader();
        for (int i = 0; i < 20; i++) {
            assertTrue(sim.submit(leader.id, txn("w" + i)));
        }
        SimulatedNode damaged = sim.othersThan(leader).get(0);
        SimulatedNode healthy = sim.othersThan(leader).get(1);
        awaitApplied(damaged, "w19");
        sim.crash(damaged.id, Tail.KEEP);
        sim.corruptDisk(damaged.id);
        sim.restart(damaged.id);
        assertTrue(damaged.machine.isRecovering());
        assertEquals(0, damaged.app.appliedZxid);
        awaitApplied(damaged, "w19");
        assertFalse(damaged.machine.isRecovering());
        assertEquals(leader, sim.establishedLeader(), "the running leader was not disturbed");

        // Now it counts: with the other follower gone, leader + re-synced member still commit.
        sim.crash(healthy.id, Tail.KEEP);
        assertTrue(sim.submit(leader.id, txn("after")));
        awaitApplied(damaged, "after");
        ZabSimulationTest.recover(sim);
    }

    /** A crash before the re-sync completes restarts still recovering, and the re-sync starts over. */
    @Test
    void shouldStayRecoveringAcrossACrashBeforeTheResyncCompletes() {
        SimulatedNode leader = awaitLeader();
        for (int i = 0; i < 5; i++) {
            assertTrue(sim.submit(leader.id, txn("w" + i)));
        }
        SimulatedNode damaged = sim.othersThan(leader).get(0);
        awaitApplied(damaged, "w4");
        sim.crash(damaged.id, Tail.KEEP);
        sim.corruptDisk(damaged.id);
        // Crash right before the epoch write that would complete the re-sync: the synced log is durable, the marker not gone.
        sim.crashWhen((node, ready) -> node == damaged && ready.recoveryComplete(),
                ZabSimulator.ReadyStep.PERSIST_EPOCHS, Tail.KEEP);
        sim.restart(damaged.id);
        assertTrue(sim.runUntil(() -> !damaged.isUp(), 200), "the re-sync never reached NEWLEADER");
        assertTrue(damaged.disk.recovering, "still recovering after the crash");
        sim.restart(damaged.id);
        assertTrue(damaged.machine.isRecovering());
        awaitApplied(damaged, "w4");
        assertFalse(damaged.disk.recovering);
        ZabSimulationTest.recover(sim);
    }

    @Test
    void shouldFindHolesBetweenTheSnapshotAndTheLog() {
        long s = Zxid.of(2, 5);
        assertNull(DurableState.firstGap(s, List.of(entry(2, 6), entry(2, 7), entry(3, 1), entry(3, 2))));
        assertNull(DurableState.firstGap(s, List.of(entry(2, 4), entry(2, 5), entry(2, 6))), "purge is per file");
        assertNull(DurableState.firstGap(s, List.of(entry(4, 1))), "whole epochs cannot be told apart from a hole");
        assertNull(DurableState.firstGap(0, List.of(entry(1, 1), entry(1, 2))));
        assertTrue(DurableState.firstGap(s, List.of(entry(2, 8))).contains("0x200000007"));
        assertTrue(DurableState.firstGap(s, List.of(entry(2, 6), entry(3, 2))) != null);
        assertTrue(DurableState.firstGap(0, List.of(entry(1, 2))) != null);
    }

    private static LogEntry entry(long epoch, long counter) {
        return new LogEntry(Zxid.of(epoch, counter), new byte[0]);
    }
}
