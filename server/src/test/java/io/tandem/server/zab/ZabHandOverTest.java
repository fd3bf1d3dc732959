package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.ZabMessage.Notification;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A reconfig that leaves the leader out, on the simulator: as Apache 3.9's Leader.tryToCommit with
 * getDesignatedLeader and QuorumPeer.processReconfig / updateVote / updateServerState, the COMMIT names the voter
 * that leads next, it leads at once (discovery picks the next epoch, as Apache's Leader.lead does) and everyone else,
 * the old leader included, follows it without a single election notification. The simulator's safety checkers run
 * throughout.
 */
class ZabHandOverTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();

    private static final ZabConfig LIMITS = new ZabConfig(1, new int[] {1}, 10, 5, 1, 1000);

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

    private static SimulatedConnections.Params prompt() {
        return new SimulatedConnections.Params(0, 1.0, 0, 2, 0, 0, 3, 10, false, 2);
    }

    @Test
    void shouldHandLeadershipToTheDesignatedVoterWithoutAnElectionWhenAReconfigRemovesTheLeader() {
        handOver(false);
    }

    @Test
    void shouldHandLeadershipToTheDesignatedVoterWithoutAnElectionWhenAReconfigMakesTheLeaderAnObserver() {
        handOver(true);
    }

    private static void handOver(boolean leaderObserves) {
        for (long seed = 1; seed <= 8; seed++) {
            ZabSimulator sim = new ZabSimulator(seed, 3, Faults.none(), LIMITS, prompt());
            sim.readMembersWith(READER);
            assertTrue(sim.runUntil(() -> sim.establishedLeader() != null, 200), "seed " + seed + ": no leader");
            SimulatedNode old = sim.establishedLeader();
            assertTrue(sim.submit(old.id, txn("w1")));
            assertTrue(sim.runUntil(() -> appliedEverywhere(sim, "w1"), 100), "seed " + seed);
            long epoch = old.machine.epoch();
            String rest = Arrays.stream(sim.nodes).filter(n -> n != old).map(n -> Integer.toString(n.id))
                    .reduce((a, b) -> a + "," + b).orElseThrow();
            List<String> notifications = new ArrayList<>();
            sim.readyObserver = (node, ready) -> ready.messages().stream()
                    .filter(m -> m.message() instanceof Notification)
                    .forEach(m -> notifications.add(node.id + "->" + m.to() + " " + m.message()));

            assertTrue(sim.submit(old.id, txn("config " + rest + "/" + (leaderObserves ? old.id : ""))));
            assertTrue(sim.runUntil(() -> {
                SimulatedNode leader = sim.establishedLeader();
                return leader != null && leader != old && leader.machine.epoch() > epoch
                        && old.machine.leaderId() == leader.id && old.machine.isServing();
            }, 100), "seed " + seed + ": no handover: "
                    + Arrays.stream(sim.nodes).map(n -> n.machine.toString()).toList());
            SimulatedNode next = sim.establishedLeader();
            assertEquals(List.of(), notifications, "seed " + seed + ": an election ran");
            assertEquals(epoch + 1, next.machine.epoch(), "seed " + seed + ": the next epoch, chosen by discovery");
            assertTrue(leaderObserves ? old.machine.isObserver() && !old.machine.isJoining()
                    : old.machine.isJoining(), "seed " + seed + ": the old leader follows without a vote");

            assertTrue(sim.submit(next.id, txn("w2")));
            assertTrue(sim.runUntil(() -> appliedEverywhere(sim, "w2"), 100), "seed " + seed);
        }
    }

    private static boolean appliedEverywhere(ZabSimulator sim, String text) {
        long zxid = sim.committedZxidOf(text);
        if (zxid < 0) {
            return false;
        }
        for (SimulatedNode node : sim.nodes) {
            if (node.isUp() && node.app.appliedZxid < zxid) {
                return false;
            }
        }
        return true;
    }
}
