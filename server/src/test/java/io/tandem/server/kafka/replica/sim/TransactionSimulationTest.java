package io.tandem.server.kafka.replica.sim;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The replication simulation with transactional producers and read_committed readers beside its other clients
 * ({@link SimTransactions}), under the same faults: no read_committed reader sees an aborted or undecided record or
 * loses a committed one, the last stable offset never passes an open transaction, and every transaction ends once the
 * faults heal, and a seed replays to the same history digest. (Its first version caught Tandem's last stable offset
 * passing a transaction whose marker was not yet below the high watermark, which Kafka counts as unstable.)
 * {@code -Dtxnsim.seeds=N} runs N seeds (default {@value #DEFAULT_SEEDS}) from
 * {@code -Dtxnsim.seedBase} (default 1); {@code -Dtxnsim.digests=true} prints each seed's history digest.
 */
class TransactionSimulationTest {
    private static final java.util.logging.Logger KAFKA_LOGGER = java.util.logging.Logger.getLogger("io.tandem.server.kafka");
    private static java.util.logging.Level kafkaLogLevel;
    private static io.netty.util.ResourceLeakDetector.Level leakDetection;
    private static final int DEFAULT_SEEDS = 3;

    @TempDir
    Path dir;

    @BeforeAll
    static void quietAndFast() {
        leakDetection = io.netty.util.ResourceLeakDetector.getLevel();
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        kafkaLogLevel = KAFKA_LOGGER.getLevel();
        KAFKA_LOGGER.setLevel(java.util.logging.Level.SEVERE);
    }

    @AfterAll
    static void restore() {
        io.netty.util.ResourceLeakDetector.setLevel(leakDetection);
        KAFKA_LOGGER.setLevel(kafkaLogLevel);
    }

    @Test
    void readCommittedShouldSeeExactlyTheCommittedTransactionsThroughEveryFault() throws Exception {
        int seeds = Integer.getInteger("txnsim.seeds", DEFAULT_SEEDS);
        long base = Long.getLong("txnsim.seedBase", 1L);
        Map<String, Long> stats = new TreeMap<>();
        long started = System.nanoTime();
        String firstDigest = null;
        for (long seed = base; seed < base + seeds; seed++) {
            ReplicationSimulator.Outcome outcome = run(seed);
            if (firstDigest == null) firstDigest = outcome.digest();
            if (Boolean.getBoolean("txnsim.digests")) {
                System.out.println("transaction seed " + seed + " digest " + outcome.digest());
            }
            if (!outcome.violations().isEmpty()) {
                fail("seed " + seed + " broke transactions (replay: -Dtxnsim.seedBase=" + seed
                        + " -Dtxnsim.seeds=1): " + String.join("\n  ", outcome.violations()));
            }
            outcome.stats().forEach((what, count) -> stats.merge(what, count, Long::sum));
        }
        System.out.printf("transaction simulation: seeds %d..%d, %d ms%n  exercised: %s%n", base, base + seeds - 1,
                (System.nanoTime() - started) / 1_000_000, stats);
        for (String needed : new String[] {"transaction committed", "transaction aborted by the application",
                "transaction aborted after a failed batch", "transaction marker written", "transaction marker retried",
                "read_committed: committed transactional record read", "last stable offset held below the high watermark",
                "crash: a partition leader", "transactions checked at the end of a partition"}) {
            assertTrue(stats.getOrDefault(needed, 0L) > 0, "the seeds never exercised " + needed + ": " + stats);
        }
        assertTrue(stats.getOrDefault("transaction committed", 0L) > seeds * 10L, "real work committed: " + stats);
        // The seed replays exactly: its whole history (every counted event at its simulated time) gives one digest.
        assertEquals(firstDigest, run(base).digest(), "seed " + base + "'s history differed the second time");
    }

    private ReplicationSimulator.Outcome run(long seed) throws Exception {
        Path root = Files.createDirectories(dir.resolve("seed-" + seed + "-" + System.nanoTime()));
        try {
            return new ReplicationSimulator(seed, ReplicationSimulator.Mutation.NONE, root, true, true)
                    .withTransactions().run();
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }
}
