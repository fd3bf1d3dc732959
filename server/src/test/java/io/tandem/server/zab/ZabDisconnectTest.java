package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabSimulator.Tail;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The transport's disconnect notifications on the simulator, as named scenarios: the fast failover paths they enable
 * (a follower leaves a leader whose connection closed; an election decides once every voter that has not voted is
 * known unreachable) and the flawed notifications of the real world (late, after the connection is back; false).
 * The simulator's safety checkers run throughout.
 */
class ZabDisconnectTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    private static final int SYNC_LIMIT = 5;
    private static final ZabConfig LIMITS = new ZabConfig(1, new int[] {1}, 10, SYNC_LIMIT, 1, 1000);

    /** A prompt, honest transport: closes are seen within two steps, redials every three. */
    private static SimulatedConnections.Params prompt() {
        return new SimulatedConnections.Params(0, 1.0, 0, 2, 0, 0, 3, 10, false, 2);
    }

    private static byte[] txn(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static SimulatedNode awaitLeader(ZabSimulator sim) {
        assertTrue(sim.runUntil(() -> sim.establishedLeader() != null, 200), "no leader established");
        return sim.establishedLeader();
    }

    private static void awaitEverywhere(ZabSimulator sim, String text) {
        assertTrue(sim.runUntil(() -> {
            for (SimulatedNode node : sim.nodes) {
                if (node.isUp() && !applied(sim, node, text)) {
                    return false;
                }
            }
            return true;
        }, 200), text + " not applied on every live node");
    }

    private static boolean applied(ZabSimulator sim, SimulatedNode node, String text) {
        for (LogEntry entry : sim.checker().committed()) {
            if (new String(entry.txn(), StandardCharsets.UTF_8).equals(text)) {
                return node.app.appliedZxid >= entry.zxid();
            }
        }
        return false;
    }

    /** Crashes the established leader and returns the steps until another leader is established in a newer epoch. */
    private static int crashLeaderAndTimeFailover(ZabSimulator sim) {
        SimulatedNode old = sim.establishedLeader();
        long oldEpoch = old.machine.epoch();
        sim.crash(old.id, Tail.KEEP);
        for (int steps = 1; steps <= 200 * ZabSimulator.TICK_STEPS; steps++) {
            sim.runStep();
            SimulatedNode leader = sim.establishedLeader();
            if (leader != null && leader != old && leader.machine.epoch() > oldEpoch) {
                return steps;
            }
        }
        throw new AssertionError("no new leader after the crash of " + old.id);
    }

    @Test
    void shouldFailOverBeforeSyncLimitWhenTheTransportReportsTheLeaderGone() {
        ZabSimulator withNotices = new ZabSimulator(42, 3, Faults.none(), LIMITS, prompt());
        awaitLeader(withNotices);
        assertTrue(withNotices.submit(withNotices.establishedLeader().id, txn("w1")));
        awaitEverywhere(withNotices, "w1");
        int fast = crashLeaderAndTimeFailover(withNotices);
        assertTrue(fast < SYNC_LIMIT * ZabSimulator.TICK_STEPS, "failover took " + fast + " steps");
        assertEquals(2L, withNotices.stats.get("follower looking at once: leader disconnected"));
        assertTrue(withNotices.stats.getOrDefault("election decided early: the rest unreachable", 0L) > 0,
                "the election waited for the crashed leader's vote: " + withNotices.stats);
        assertTrue(withNotices.submit(withNotices.establishedLeader().id, txn("w2")));
        awaitEverywhere(withNotices, "w2");
        ZabSimulationTest.recover(withNotices);

        // The same scenario without notifications waits for the leader's silence to exceed syncLimit.
        ZabSimulator silent = new ZabSimulator(42, 3, Faults.none(), LIMITS);
        awaitLeader(silent);
        int slow = crashLeaderAndTimeFailover(silent);
        assertTrue(slow > SYNC_LIMIT * ZabSimulator.TICK_STEPS, "failover without notices took only " + slow);
        System.out.println("failover after a leader crash: " + fast + " steps with disconnect notices, " + slow
                + " without (" + ZabSimulator.TICK_STEPS + " steps a tick)");
    }

    @Test
    void shouldFailOverTwiceInFiveNodesWithTwoMembersDown() {
        ZabSimulator sim = new ZabSimulator(43, 5, Faults.none(), LIMITS, prompt());
        awaitLeader(sim);
        assertTrue(sim.submit(sim.establishedLeader().id, txn("w1")));
        awaitEverywhere(sim, "w1");
        int first = crashLeaderAndTimeFailover(sim);
        assertTrue(sim.submit(sim.establishedLeader().id, txn("w2")));
        awaitEverywhere(sim, "w2");
        int second = crashLeaderAndTimeFailover(sim);
        assertTrue(first < SYNC_LIMIT * ZabSimulator.TICK_STEPS && second < SYNC_LIMIT * ZabSimulator.TICK_STEPS,
                "failovers took " + first + " and " + second + " steps");
        assertTrue(sim.submit(sim.establishedLeader().id, txn("w3")));
        awaitEverywhere(sim, "w3");
        ZabSimulationTest.recover(sim); // restarts both, requires identical replicas
    }

    @Test
    void shouldRejoinWhenALateNoticeArrivesAfterTheConnectionIsBack() {
        // Every notice waits in the inbox for half a tick or more; the dialler is back after two steps.
        SimulatedConnections.Params late = new SimulatedConnections.Params(0, 1.0, 0, 1, 1.0, 0, 1, 10, false, 2);
        ZabSimulator sim = new ZabSimulator(44, 3, Faults.none(), LIMITS, late);
        SimulatedNode leader = awaitLeader(sim);
        long epoch = leader.machine.epoch();
        assertTrue(sim.submit(leader.id, txn("before")));
        awaitEverywhere(sim, "before");
        SimulatedNode follower = sim.nodes[leader.id == 1 ? 1 : 0];
        sim.dropConnection(follower.id, leader.id);
        assertTrue(sim.runUntil(() -> sim.connectionUp(follower.id, leader.id), 5));
        assertTrue(sim.runUntil(() -> sim.stats.containsKey("disconnect notified late, connection back"), 10),
                "the late notice never came: " + sim.stats);
        assertTrue(sim.submit(leader.id, txn("after")));
        awaitEverywhere(sim, "after");
        assertTrue(sim.runUntil(() -> follower.machine.isServing() && follower.machine.leaderId() == leader.id, 50),
                "the follower did not rejoin its leader");
        assertEquals(epoch, leader.machine.epoch(), "the leader kept its quorum and its epoch throughout");
        ZabSimulationTest.recover(sim);
    }

    @Test
    void shouldSurviveFalseNoticesAboutLiveConnections() {
        ZabSimulator sim = new ZabSimulator(45, 3, Faults.none(), LIMITS, prompt());
        SimulatedNode leader = awaitLeader(sim);
        long epoch = leader.machine.epoch();
        SimulatedNode follower = sim.nodes[leader.id == 1 ? 1 : 0];
        assertTrue(sim.runUntil(() -> follower.machine.isServing(), 50));
        // The leader hears its follower is gone (it keeps the session: silence, not notices, ends it there)...
        sim.deliverDisconnect(leader, follower.id);
        assertTrue(leader.machine.isEstablishedLeader());
        assertTrue(follower.machine.isServing());
        // ...and the follower hears its leader is gone: it looks, is told who leads, and rejoins the same epoch.
        sim.deliverDisconnect(follower, leader.id);
        assertFalse(follower.machine.isServing());
        assertTrue(sim.submit(leader.id, txn("w1")));
        awaitEverywhere(sim, "w1");
        assertTrue(sim.runUntil(() -> follower.machine.isServing(), 50), "the follower did not rejoin");
        assertEquals(epoch, follower.machine.epoch());
        assertNotNull(sim.establishedLeader());
        assertEquals(epoch, sim.establishedLeader().machine.epoch());
        ZabSimulationTest.recover(sim);
    }
}
