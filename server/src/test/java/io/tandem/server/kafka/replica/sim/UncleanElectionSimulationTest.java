package io.tandem.server.kafka.replica.sim;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The replication simulation with {@code unclean.leader.election.enable} on, for the topic or as the brokers' dynamic
 * default turned on part-way (see {@link SimUncleanElections}): the same faults elect out-of-sync replicas when no
 * in-sync one lives, and what still holds is checked: replicas agree below their high watermarks once the records an
 * unclean election lost are set aside, every replica ends with the final leader's log, and an acknowledged, committed
 * or consumed record vanishes only when an unclean leader lacked it. Each such loss is counted and printed per seed
 * with the seed's history digest. ({@link ReplicationSimulationTest}'s runs, with it off, count an out-of-sync leader
 * as a violation.)
 *
 * <p>{@code -Dreplsim.uncleanSeeds=N} runs N seeds per mode (default {@value #DEFAULT_SEEDS}) from
 * {@code -Dreplsim.seedBase} (default 1).
 */
class UncleanElectionSimulationTest {
    private static final java.util.logging.Logger KAFKA_LOGGER = java.util.logging.Logger.getLogger("io.tandem.server.kafka");
    private static java.util.logging.Level kafkaLogLevel;
    private static final int DEFAULT_SEEDS = 8;
    /** Seeds a broken rule is given to show up in. */
    private static final int MUTATION_SEEDS_MAX = 10;
    /** What each seed reports: how often an out-of-sync replica was elected and what that lost. */
    private static final List<String> REPORTED = List.of("unclean election", "acknowledged record lost to unclean election",
            "committed record lost to unclean election", "consumed record lost to unclean election",
            "consumer read a record lost to unclean election");

    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        kafkaLogLevel = KAFKA_LOGGER.getLevel();
        KAFKA_LOGGER.setLevel(java.util.logging.Level.SEVERE);
    }

    @AfterAll
    static void restore() {
        KAFKA_LOGGER.setLevel(kafkaLogLevel);
    }

    @ParameterizedTest
    @EnumSource(value = SimUncleanElections.Mode.class, names = {"TOPIC", "DYNAMIC_DEFAULT"})
    void shouldKeepReplicasAgreedAndLoseRecordsOnlyToUncleanElections(SimUncleanElections.Mode mode) throws Exception {
        int seeds = Integer.getInteger("replsim.uncleanSeeds", DEFAULT_SEEDS);
        long base = Long.getLong("replsim.seedBase", 1L);
        Map<String, Long> stats = new TreeMap<>();
        long acked = 0;
        for (long seed = base; seed < base + seeds; seed++) {
            ReplicationSimulator.Outcome outcome = run(seed, mode);
            StringBuilder line = new StringBuilder("unclean " + mode + " seed " + seed + " digest " + outcome.digest()
                    + ": acknowledged " + outcome.acked());
            for (String what : REPORTED) line.append(", ").append(what).append(' ')
                    .append(outcome.stats().getOrDefault(what, 0L));
            System.out.println(line);
            if (!outcome.violations().isEmpty()) {
                fail("seed " + seed + " (" + mode + ") broke replication: " + String.join("\n  ", outcome.violations()));
            }
            acked += outcome.acked();
            outcome.stats().forEach((what, count) -> stats.merge(what, count, Long::sum));
        }
        System.out.printf("unclean %s: seeds %d..%d, %d acknowledged, %s%n", mode, base, base + seeds - 1, acked,
                REPORTED.stream().map(w -> w + " " + stats.getOrDefault(w, 0L)).toList());
        assertTrue(acked > seeds * 100L, "the simulation must acknowledge real work, only " + acked);
        if (seeds >= DEFAULT_SEEDS) {
            assertTrue(stats.getOrDefault("unclean election", 0L) > 0, "no seed elected an out-of-sync replica: " + stats);
            if (mode == SimUncleanElections.Mode.DYNAMIC_DEFAULT) {
                assertEquals((long) seeds, stats.get("unclean election enabled as the broker default"));
            }
        }
    }

    @Test
    void shouldReplayASeedWithUncleanElectionExactly() throws Exception {
        ReplicationSimulator.Outcome first = run(5, SimUncleanElections.Mode.DYNAMIC_DEFAULT);
        ReplicationSimulator.Outcome again = run(5, SimUncleanElections.Mode.DYNAMIC_DEFAULT);
        assertEquals(first, again, "seed 5 ran differently the second time");
    }

    /**
     * With unclean election on, an acknowledged record may be lost only by electing a replica outside the ISR that
     * acknowledged it. acks=all answered at append (acks=1's rule) lets a record be acknowledged by an ISR whose
     * followers lack it; the checker must then find a loss by a replica of that ISR, rather than count it as a loss
     * unclean election allows.
     */
    @Test
    void shouldCatchAnAcknowledgedRecordLostByAReplicaOfTheIsrThatAcknowledgedIt() throws Exception {
        for (long seed = 1; seed <= MUTATION_SEEDS_MAX; seed++) {
            ReplicationSimulator.Outcome outcome = run(seed, SimUncleanElections.Mode.TOPIC,
                    ReplicationSimulator.Mutation.ACKS_ALL_ANSWERED_AT_APPEND);
            String caught = outcome.violations().stream().filter(v -> v.contains("that acknowledged the value"))
                    .findFirst().orElse(null);
            if (caught != null) {
                System.out.println("acks=all answered at append caught with unclean election by seed " + seed + ": "
                        + caught);
                return;
            }
        }
        fail("no seed of " + MUTATION_SEEDS_MAX + " caught an acknowledged record lost by a replica of its ISR");
    }

    private ReplicationSimulator.Outcome run(long seed, SimUncleanElections.Mode mode) throws Exception {
        return run(seed, mode, ReplicationSimulator.Mutation.NONE);
    }

    private ReplicationSimulator.Outcome run(long seed, SimUncleanElections.Mode mode,
                                             ReplicationSimulator.Mutation mutation) throws Exception {
        Path root = Files.createDirectories(ReplicationSimulationTest.logsRoot(dir).resolve("unclean-" + mode + "-"
                + seed));
        try {
            return new ReplicationSimulator(seed, mutation, root, true, true, ReplicationSimulator.FETCHING, mode).run();
        } catch (RuntimeException | Error e) {
            throw new AssertionError("seed " + seed + " (" + mode + ") failed", e);
        } finally {
            ReplicationSimulationTest.delete(root);
        }
    }
}
