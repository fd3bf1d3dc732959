package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A seed must replay exactly whatever ran before it in the JVM: run alone, after other seeds, or twice. Seeds 1028 and
 * 1082 of the member simulation once passed or failed depending on which seeds ran before them; this runs seeds in an
 * order that mixes them and compares each seed's fingerprint (its committed history, what it exercised, and with
 * members the clients' histories) across the runs. The fingerprints printed also let a refactoring of the simulator
 * show it still makes the same runs. A fingerprint includes the run's {@link EventTrace} hash (every message delivered,
 * with its step and content, and every traced event), so two runs match only if they did the same things in the same
 * order, not merely committed the same history.
 */
class SimulatorRepeatabilityTest {
    static final java.util.logging.Logger ZAB_LOGGER = ZabSimulationTest.quietZabLogging();
    static final java.util.logging.Logger ZK_LOGGER = EnsembleCommitSimulationTest.quietZooKeeperLogging();

    private static final int FAULTY_TICKS = 300;

    @Test
    void shouldReplayAMemberSeedTheSameAfterOtherSeedsInOneJvm() {
        long[] order = {1028, 1082, 1080, 1081, 1028, 1082};
        List<String> fingerprints = new ArrayList<>();
        for (long seed : order) {
            fingerprints.add(memberRun(seed));
        }
        System.out.println("member fingerprints " + java.util.Arrays.toString(order) + ": " + fingerprints);
        assertEquals(fingerprints.get(0), fingerprints.get(4), "member seed 1028 first and after other seeds");
        assertEquals(fingerprints.get(1), fingerprints.get(5), "member seed 1082 first and after other seeds");
    }

    /**
     * Long runs: {@code -Dzab.repeatMemberSeeds=N -Dzab.repeatMemberSeedBase=B} runs member seeds B..B+N-1, then all of
     * them again, and compares each seed's two fingerprints (by default a short range).
     */
    @Test
    void shouldReplayEveryMemberSeedOfARangeTheSameTheSecondTime() {
        int seeds = Integer.getInteger("zab.repeatMemberSeeds", 4);
        long base = Long.getLong("zab.repeatMemberSeedBase", 1000L);
        List<String> first = new ArrayList<>();
        for (long seed = base; seed < base + seeds; seed++) {
            first.add(memberRun(seed));
        }
        List<String> differing = new ArrayList<>();
        for (long seed = base; seed < base + seeds; seed++) {
            String again = memberRun(seed);
            if (!again.equals(first.get((int) (seed - base)))) {
                differing.add(first.get((int) (seed - base)) + " then " + again);
            }
        }
        // One digest of the whole range, to compare from one JVM to the next.
        System.out.println("member seeds " + base + ".." + (base + seeds - 1) + " replayed, range digest "
                + Integer.toHexString(first.hashCode()) + "; differing: " + differing);
        assertEquals(List.of(), differing, "member seeds whose second run differed from their first");
    }

    @Test
    void shouldReplayASeedTheSameAfterOtherSeedsInOneJvm() {
        long[] order = {7, 3, 11, 7, 3};
        List<String> fingerprints = new ArrayList<>();
        for (long seed : order) {
            ZabSimulator sim = ZabSimulator.randomized(seed);
            sim.runTicks(FAULTY_TICKS);
            ZabSimulationTest.recover(sim);
            fingerprints.add(fingerprint(sim));
        }
        System.out.println("fingerprints " + java.util.Arrays.toString(order) + ": " + fingerprints);
        assertEquals(fingerprints.get(0), fingerprints.get(3), "seed 7 first and after other seeds");
        assertEquals(fingerprints.get(1), fingerprints.get(4), "seed 3 first and after other seeds");
    }

    /**
     * Member seeds with reconfigs and containers, each run twice with other seeds between, event for event. Two sources
     * of divergence were found this way: the leader's ContainerSweeper swept on the real clock (so a container was
     * deleted at another step, or not at all, from one run to the next: seed 1001 diverged every time), and the
     * member's open connections were a set ordered by identity hash codes (its session touches, in that order, went
     * to the leader in another order). {@code -Dzab.repeatWorkloadSeeds=N -Dzab.repeatWorkloadSeedBase=B} for more.
     */
    @Test
    void shouldReplayMemberSeedsWithReconfigsAndContainersEventForEvent() {
        int seeds = Integer.getInteger("zab.repeatWorkloadSeeds", 6);
        long base = Long.getLong("zab.repeatWorkloadSeedBase", 1000L);
        List<String> first = new ArrayList<>();
        Map<String, Integer> committedTypes = new TreeMap<>();
        for (long seed = base; seed < base + seeds; seed++) {
            ZabSimulator sim = EnsembleCommitSimulationTest.run(seed, false);
            first.add(fingerprint(sim) + "/" + Integer.toHexString(sim.zkClients().history().hashCode()));
            countTypes(sim, committedTypes);
        }
        System.out.println("member seeds " + base + ".." + (base + seeds - 1) + " committed " + committedTypes);
        assertTrue(committedTypes.getOrDefault("deleteContainer", 0) > 0,
                "the seeds swept containers: " + committedTypes);
        assertTrue(committedTypes.getOrDefault("reconfig", 0) > 0, "the seeds committed reconfigs: " + committedTypes);
        List<String> differing = new ArrayList<>();
        for (long seed = base + seeds - 1; seed >= base; seed--) { // the other way round: other seeds ran between
            String again = memberRun(seed);
            String before = first.get((int) (seed - base));
            if (!again.equals(before)) {
                differing.add(before + " then " + again);
            }
        }
        assertEquals(List.of(), differing, "member seeds whose second run differed from their first");
    }

    /** Counts the committed member transactions by type (createSession, reconfig, deleteContainer...). */
    private static void countTypes(ZabSimulator sim, Map<String, Integer> counts) {
        for (LogEntry entry : sim.checker().committed()) {
            if (entry.txn().length == 0) {
                continue;
            }
            int type = TxnHeader.read(new JuteInput(Unpooled.wrappedBuffer(entry.txn()), Integer.MAX_VALUE)).type();
            counts.merge(OpCode.name(type), 1, Integer::sum);
        }
    }

    /** A whole member seed as EnsembleCommitSimulationTest runs it: faults, recovery, and every end-of-run check. */
    private static String memberRun(long seed) {
        ZabSimulator sim = EnsembleCommitSimulationTest.run(seed, false);
        return fingerprint(sim) + "/" + Integer.toHexString(sim.zkClients().history().hashCode());
    }

    /** The committed history (zxids and bytes) and what the run exercised, as one short string. */
    static String fingerprint(ZabSimulator sim) {
        long hash = 17;
        for (LogEntry entry : sim.checker().committed()) {
            hash = hash * 31 + entry.zxid();
            hash = hash * 31 + java.util.Arrays.hashCode(entry.txn());
        }
        return sim.seed + ":" + sim.checker().committed().size() + ":" + Long.toHexString(hash) + ":"
                + Integer.toHexString(sim.stats.toString().hashCode()) + ":" + sim.events.hash();
    }
}
