package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A seed must replay exactly whatever ran before it in the JVM: run alone, after other seeds, or twice. Seeds 1028 and
 * 1082 of the member simulation once passed or failed depending on which seeds ran before them; this runs seeds in an
 * order that mixes them and compares each seed's fingerprint (its committed history, what it exercised, and with
 * members the clients' histories) across the runs. The fingerprints printed also let a refactoring of the simulator
 * show it still makes the same runs.
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
                + Integer.toHexString(sim.stats.toString().hashCode());
    }
}
