package io.tandem.server.kafka.replica.sim;

import io.tandem.server.kafka.replica.ReplicaFetcherConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded, replayable simulations of a three-broker cluster replicating one topic (RF 3, min.insync.replicas 2,
 * acks=all) through crashes, restarts, network partitions, ZooKeeper session expiry and slow disks, driving the
 * production replica manager, partitions, logs and controller (see {@link ReplicationSimulator}).
 *
 * <p>{@code -Dreplsim.seed=N} replays one seed; {@code -Dreplsim.seeds=N} runs N seeds (default
 * {@value #DEFAULT_SEEDS}) from {@code -Dreplsim.seedBase} (default 1); {@code -Dreplsim.mutation=NAME} replays the one
 * seed with a broken rule.
 */
class ReplicationSimulationTest {
    /**
     * The simulation makes the brokers log thousands of expected refusals; they are kept quiet while it runs, and the
     * level is given back afterwards (tests that run later in the same JVM read the broker's warnings).
     */
    private static final java.util.logging.Logger KAFKA_LOGGER = java.util.logging.Logger.getLogger("io.tandem.server.kafka");
    private static java.util.logging.Level kafkaLogLevel;

    private static final int DEFAULT_SEEDS = 50;
    /** How many seeds a deliberately broken rule gets to be caught in. */
    private static final int MUTATION_SEEDS_MAX = 20;

    @TempDir
    Path dir;

    private static io.netty.util.ResourceLeakDetector.Level leakDetection;

    /**
     * Paranoid leak tracking records a stack trace at every touch of a tracked buffer, which is most of a seed's
     * time here; the simulation's own buffers are untracked (see SimBroker.BUFFERS), so it is off while it runs.
     */
    @org.junit.jupiter.api.BeforeAll
    static void quietAndFast() {
        leakDetection = io.netty.util.ResourceLeakDetector.getLevel();
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        kafkaLogLevel = KAFKA_LOGGER.getLevel();
        KAFKA_LOGGER.setLevel(java.util.logging.Level.SEVERE);
    }

    @org.junit.jupiter.api.AfterAll
    static void restore() {
        io.netty.util.ResourceLeakDetector.setLevel(leakDetection);
        KAFKA_LOGGER.setLevel(kafkaLogLevel);
    }

    @Test
    void shouldLoseNoAcknowledgedRecordAndKeepReplicasAgreedBelowTheHighWatermarkForEverySeed() throws Exception {
        String single = System.getProperty("replsim.seed");
        if (single != null) {
            ReplicationSimulator.Outcome outcome = run(Long.parseLong(single.trim()),
                    ReplicationSimulator.Mutation.valueOf(System.getProperty("replsim.mutation", "NONE")));
            System.out.println("replication seed " + single + ": " + outcome);
            if (!outcome.violations().isEmpty()) fail("seed " + single + " broke replication: " + outcome.violations());
            return;
        }
        int seeds = Integer.getInteger("replsim.seeds", DEFAULT_SEEDS);
        long base = Long.getLong("replsim.seedBase", 1L);
        long acked = 0;
        long consumed = 0;
        long epochs = 0;
        Map<String, Long> stats = new TreeMap<>();
        long started = System.nanoTime();
        for (long seed = base; seed < base + seeds; seed++) {
            ReplicationSimulator.Outcome outcome = run(seed, ReplicationSimulator.Mutation.NONE);
            // For comparing runs in separate JVMs (docs/BENCHMARKS.md): each seed's history digest, one line each.
            if (Boolean.getBoolean("replsim.digests")) System.out.println("replication seed " + seed + " digest "
                    + outcome.digest());
            if (!outcome.violations().isEmpty()) {
                fail("seed " + seed + " broke replication (replay: -Dreplsim.seed=" + seed + "): "
                        + String.join("\n  ", outcome.violations()));
            }
            acked += outcome.acked();
            consumed += outcome.consumed();
            epochs += outcome.controllerEpochs();
            outcome.stats().forEach((what, count) -> stats.merge(what, count, Long::sum));
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("replication simulation: seeds %d..%d, %d acknowledged records, %d consumed, %d controller "
                + "epochs, %d ms%n  exercised: %s%n", base, base + seeds - 1, acked, consumed, epochs, millis, stats);
        assertTrue(acked > seeds * 100L, "the simulation must acknowledge real work, only " + acked);
        assertTrue(consumed > seeds * 100L, "the consumer must read real work, only " + consumed);
        if (seeds >= DEFAULT_SEEDS) {
            for (String needed : new String[] {"crash: any broker", "crash: the controller", "crash: a partition leader",
                    "partition: broker cut off from brokers", "partition: broker cut off from all",
                    "partition: one link cut", "ZooKeeper session expired", "slow disk", "broker restarted",
                    "follower truncated", "follower told it diverges", "AlterPartition answered",
                    "AlterPartition refused", "ISR shrink proposed", "ISR expand proposed",
                    "stale controller request refused",
                    "produce refused: NOT_ENOUGH_REPLICAS", "produce refused: NOT_LEADER_OR_FOLLOWER",
                    "produce outcome unknown (timed out)", "replica fetch lost, retried",
                    "controller request lost, retried", "idempotent produce acknowledged",
                    "idempotent produce acknowledged after a retry", "idempotent produce timed out, retried",
                    "idempotent produce refused: NOT_LEADER_OR_FOLLOWER", "topic deletion requested", "topic deleted",
                    "deleted topic created again", "deleted topic: produce acknowledged",
                    "deleted topic checked at the end", "reassignment started", "moved partition checked at the end",
                    "deleted topic: deletion waited for a broker",
                    "moved partition: produce acknowledged", "incremental replica fetch served",
                    "replica fetch answered early by a leadership change"}) {
                assertTrue(stats.getOrDefault(needed, 0L) > 0, "the seeds never exercised " + needed + ": " + stats);
            }
            assertTrue(epochs > seeds * 2L, "controllers must fail over, only " + epochs + " epochs");
        }
    }

    @Test
    void shouldReplayASeedExactly() throws Exception {
        ReplicationSimulator.Outcome first = run(7, ReplicationSimulator.Mutation.NONE);
        ReplicationSimulator.Outcome again = run(7, ReplicationSimulator.Mutation.NONE);
        assertEquals(first, again, "seed 7 ran differently the second time");
        assertTrue(first.stats().getOrDefault("broker restarted", 0L) > 0, "seed 7 must exercise faults: " + first);
    }

    /**
     * The whole history of a seed, not only its counts, repeats: the same events at the same simulated times and the
     * same final logs give the same digest; another seed gives another, so the digest is not a constant.
     */
    @Test
    void shouldGiveASeedTheSameHistoryDigestEveryRun() throws Exception {
        ReplicationSimulator.Outcome first = run(3, ReplicationSimulator.Mutation.NONE);
        ReplicationSimulator.Outcome again = run(3, ReplicationSimulator.Mutation.NONE);
        assertEquals(first.digest(), again.digest(), "seed 3's history differed the second time");
        ReplicationSimulator.Outcome other = run(4, ReplicationSimulator.Mutation.NONE);
        assertNotEquals(first.digest(), other.digest(), "seeds 3 and 4 must not share a history");
    }

    /**
     * Seed 14: the new controller's LeaderAndIsr for the leader's own epoch reached the leader after the answer to its
     * AlterPartition (a newer partition epoch); applying it put the old ISR back, and every later ISR change was
     * refused, so a caught-up replica stayed out of the ISR for good.
     */
    @Test
    void shouldBringACaughtUpReplicaBackIntoTheIsrWhenAnOlderLeaderAndIsrArrivesLate() throws Exception {
        Path root = Files.createDirectories(logsRoot().resolve("liveness-14"));
        ReplicationSimulator.Outcome outcome;
        try {
            outcome = new ReplicationSimulator(14, ReplicationSimulator.Mutation.NONE, root, true, false).run();
        } finally {
            delete(root);
        }
        assertEquals(java.util.List.of(), outcome.violations());
    }

    /**
     * The follower's Fetch carries replica.fetch.wait.max.ms from production's ReplicaFetcherConfig, and the simulated
     * leader parks a fetch without news for exactly that long (an append answers it early): at 1200 ms (Kafka's
     * default is 500, the simulation's replica.lag.time.max.ms 2000) every fetch that waited out its time waited
     * 1200 ms, while the default settings wait 500 ms, and the seed stays correct either way.
     */
    @Test
    void shouldParkIdleReplicaFetchesForTheConfiguredWait() throws Exception {
        ReplicaFetcherConfig slower = new ReplicaFetcherConfig(SimBroker.FETCH_BYTES_MAX, 1_200, 1,
                ReplicaFetcherConfig.RESPONSE_BYTES_MAX_DEFAULT, SimFetcher.BACKOFF_MS);
        assertEquals(Map.of("replica fetch answered after waiting 1200 ms", true), waits(runWith(3, slower)));
        assertEquals(Map.of("replica fetch answered after waiting 500 ms", true),
                waits(runWith(3, ReplicationSimulator.FETCHING)));
    }

    private ReplicationSimulator.Outcome runWith(long seed, ReplicaFetcherConfig fetching)
            throws Exception {
        Path root = Files.createDirectories(logsRoot().resolve("fetch-wait-" + fetching.waitMaxMs() + "-" + seed));
        ReplicationSimulator.Outcome outcome;
        try {
            outcome = new ReplicationSimulator(seed, ReplicationSimulator.Mutation.NONE, root, true, true, fetching)
                    .run();
        } finally {
            delete(root);
        }
        assertEquals(java.util.List.of(), outcome.violations());
        assertTrue(outcome.stats().getOrDefault("replica fetch answered early by an append", 0L) > 0,
                "parked fetches were answered by appends: " + outcome.stats());
        return outcome;
    }

    /** Each wait that parked fetches ran out after, and whether some did. */
    private static Map<String, Boolean> waits(ReplicationSimulator.Outcome outcome) {
        Map<String, Boolean> waits = new TreeMap<>();
        outcome.stats().forEach((what, count) -> {
            if (what.startsWith("replica fetch answered after waiting ")) waits.put(what, count > 0);
        });
        return waits;
    }

    /** Seeds 15 and 86 replayed with the liveness check on: both left a replica out of the ISR for good before. */
    @Test
    void shouldBringEveryReplicaBackAfterAnEmptyEpochOrALeaderWhoseEndpointWasUnknown() throws Exception {
        for (long seed : new long[] {15, 86}) {
            Path root = Files.createDirectories(logsRoot().resolve("liveness-" + seed));
            ReplicationSimulator.Outcome outcome;
            try {
                outcome = new ReplicationSimulator(seed, ReplicationSimulator.Mutation.NONE, root, true, false).run();
            } finally {
                delete(root);
            }
            assertEquals(java.util.List.of(), outcome.violations(), "seed " + seed);
        }
    }

    /**
     * Seed 10: a broker missed the StopReplica of the deleted topic, and the topic made again under the same name
     * reused its old log (old records in the new topic). Seed 1: the controller that saw the deletion request died
     * before acting on it, and its successor never looked, so the topic stayed marked for deletion for good.
     */
    @Test
    void shouldStartAReCreatedTopicEmptyAndFinishADeletionAskedOfADeadController() throws Exception {
        for (long seed : new long[] {10, 1}) {
            Path root = Files.createDirectories(logsRoot().resolve("deletion-" + seed));
            ReplicationSimulator.Outcome outcome;
            try {
                outcome = new ReplicationSimulator(seed, ReplicationSimulator.Mutation.NONE, root, true, true).run();
            } finally {
                delete(root);
            }
            assertEquals(java.util.List.of(), outcome.violations(), "seed " + seed);
            assertTrue(outcome.stats().getOrDefault("topic deleted", 0L) > 0, "seed " + seed + ": " + outcome);
        }
    }

    /**
     * Seed 45: UpdateMetadata named the re-created topic while the broker's ZooKeeper session had expired; reading the
     * topic the cache lacked threw out of the whole request instead of failing that partition alone.
     */
    @Test
    void shouldApplyTheRestOfAControllerRequestWhenATopicCannotBeReadFromAnExpiredSession() throws Exception {
        Path root = Files.createDirectories(logsRoot().resolve("expired-45"));
        ReplicationSimulator.Outcome outcome;
        try {
            outcome = new ReplicationSimulator(45, ReplicationSimulator.Mutation.NONE, root, true, true).run();
        } finally {
            delete(root);
        }
        assertEquals(java.util.List.of(), outcome.violations());
    }

    /**
     * Seeds 178 and 281: a move replacing one in progress dropped a replica the first was adding but left it in the
     * ISR, and the controller refused every ISR expansion naming it, so the move never finished (281: the dropped
     * replica also kept leading). Seeds 150 and 262: a leader elected without a follower's uncommitted records
     * answered that follower's older epoch as undefined, so it never truncated them and never rejoined the ISR.
     * Seed 182: the dropped replica was the controller's own broker and kept its log for good.
     */
    @Test
    void shouldFinishAMoveThatReplacedAnotherAndTruncateAFollowerAheadOfItsNewLeader() throws Exception {
        for (long seed : new long[] {178, 281, 150, 262, 182}) {
            ReplicationSimulator.Outcome outcome = run(seed, ReplicationSimulator.Mutation.NONE);
            assertEquals(java.util.List.of(), outcome.violations(), "seed " + seed);
            assertTrue(outcome.stats().getOrDefault("moved partition checked at the end", 0L) > 0, "seed " + seed);
        }
    }

    @Test
    void shouldCatchAcksAllAnsweredAtAppend() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.ACKS_ALL_ANSWERED_AT_APPEND);
    }

    @Test
    void shouldCatchFollowersToldTheLogEndAsHighWatermark() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.FOLLOWERS_TOLD_LOG_END_AS_HW);
    }

    @Test
    void shouldCatchConsumersReadingPastTheHighWatermark() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.CONSUMERS_READ_PAST_HW);
    }

    @Test
    void shouldCatchTwoControllersInOneEpoch() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.CONTROLLER_EPOCH_NOT_STORED);
    }

    /**
     * The idempotent producers' retries (same batch, same sequence, across leader changes) sent without a producer
     * id: the exactly-once check must find a record twice.
     */
    @Test
    void shouldCatchRetriesDuplicatingRecordsWithoutIdempotence() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.RETRIES_WITHOUT_IDEMPOTENCE);
    }

    /** Brokers that keep a deleted topic's log unknowingly: the re-created topic must be found holding old records. */
    @Test
    void shouldCatchAReplicaOfADeletedTopicReusedByItsNewIncarnation() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.STALE_REPLICA_KEPT, "a re-created topic must start empty");
    }

    /** Brokers that keep the replicas a reassignment removed: the final check must find one outside the target. */
    @Test
    void shouldCatchAReplicaKeptAfterAReassignmentRemovedIt() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.REMOVED_REPLICAS_KEPT, "keeps a replica of " + SimReassignment.TOPIC);
    }

    /** Brokers that keep a deleted topic's replicas: one must be found outside the re-created topic's replicas. */
    @Test
    void shouldCatchAReplicaOfADeletedTopicLeftOnItsBroker() throws Exception {
        assertCaught(ReplicationSimulator.Mutation.DELETED_REPLICAS_KEPT, "a replica of a deleted incarnation survived");
    }

    private void assertCaught(ReplicationSimulator.Mutation mutation) throws Exception {
        assertCaught(mutation, "");
    }

    /** The broken rule must be caught by the checker whose violation reads {@code fragment} (any, when empty). */
    private void assertCaught(ReplicationSimulator.Mutation mutation, String fragment) throws Exception {
        for (long seed = 1; seed <= MUTATION_SEEDS_MAX; seed++) {
            ReplicationSimulator.Outcome outcome = run(seed, mutation);
            String caught = outcome.violations().stream().filter(v -> v.contains(fragment)).findFirst().orElse(null);
            if (caught != null) {
                System.out.println("mutation " + mutation + " caught by seed " + seed + ": " + caught);
                return;
            }
        }
        fail("no seed of " + MUTATION_SEEDS_MAX + " caught the broken rule " + mutation
                + (fragment.isEmpty() ? "" : " with a violation reading '" + fragment + "'"));
    }

    /**
     * Where the brokers' logs go: a memory file system when the machine has one (a crash closes its logs, and the
     * fsyncs that does on a real disk cost a loaded CI machine more than the whole simulated run), else the test's
     * temporary directory. {@code -Dreplsim.dir} chooses another.
     */
    private Path logsRoot() throws java.io.IOException {
        return logsRoot(dir);
    }

    /** Where a seed's logs go: -Dreplsim.dir, else a memory file system, else {@code fallback}. */
    static Path logsRoot(Path fallback) throws java.io.IOException {
        String chosen = System.getProperty("replsim.dir");
        if (chosen != null) return Files.createDirectories(Path.of(chosen));
        Path memory = Path.of("/dev/shm");
        if (Files.isDirectory(memory) && Files.isWritable(memory)) {
            return Files.createTempDirectory(memory, "tandem-replsim-");
        }
        return fallback;
    }

    private ReplicationSimulator.Outcome run(long seed, ReplicationSimulator.Mutation mutation) throws Exception {
        Path root = Files.createDirectories(logsRoot().resolve(mutation + "-" + seed));
        try {
            return new ReplicationSimulator(seed, mutation, root).run();
        } catch (RuntimeException | Error e) {
            throw new AssertionError("seed " + seed + " (" + mutation + ") failed; replay with -Dreplsim.seed=" + seed, e);
        } finally {
            delete(root);
        }
    }

    /** Deletes a seed's logs (and the memory file system directory made for them). */
    static void delete(Path root) throws java.io.IOException {
        Path parent = root.getParent();
        Path delete = parent.getFileName().toString().startsWith("tandem-replsim-") ? parent : root;
        try (Stream<Path> files = Files.walk(delete)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
