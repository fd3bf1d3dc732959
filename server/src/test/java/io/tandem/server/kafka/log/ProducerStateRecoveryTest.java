package io.tandem.server.kafka.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.ProducerStateSnapshots;
import io.tandem.server.kafka.producer.ProducerStateTable;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted broker gets its idempotent producers' state back without reading its whole log: the state is
 * snapshotted at each segment roll and at a clean shutdown (Kafka's {@code .snapshot} files), and opening a partition
 * replays only the batches after the newest snapshot. Retries are still recognised and gaps still refused.
 */
class ProducerStateRecoveryTest {
    private static final TopicPartition TP = new TopicPartition("events", 0);
    private static final long PRODUCER = 42;
    /** Small segments, so a few batches roll the log several times. */
    private static final LogConfig SMALL_SEGMENTS = LogConfig.defaults().withSegmentBytes(2048);

    @TempDir
    Path dir;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final long now = System.currentTimeMillis();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void aCrashedBrokerReplaysOnlyTheBatchesAfterTheLastSnapshotAndStillKnowsItsProducers() throws Exception {
        LogManager first = new LogManager(dir, 1, () -> now, scheduler);
        Partition partition = leader(first);
        for (int sequence = 0; sequence < 40; sequence++) assertAppended(partition, sequence);
        assertTrue(partition.log().segmentCount() > 3, "the log rolled several times");
        // No close: the broker is gone as after SIGKILL; its files stay as they are.

        LogManager reopened = new LogManager(dir, 1, () -> now, scheduler);
        Partition recovered = leader(reopened);
        assertTrue(recovered.producerStateReplayedFrom() > recovered.logStartOffset(),
                "replay began at a snapshot (" + recovered.producerStateReplayedFrom() + "), not at the log start");
        assertTrue(recovered.producerStateReplayedFrom() >= recovered.log().activeSegmentBaseOffset() - 10,
                "at most the last segment or so replayed");
        // The last batch retried is a duplicate answered with its offset; a gap is refused; the next one appends.
        Partition.AppendResult retry = append(recovered, 39);
        assertEquals(Errors.NONE.code(), retry.error());
        assertEquals(39, retry.baseOffset());
        assertEquals(40, recovered.logEndOffset(), "the retry was not appended again");
        assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), append(recovered, 45).error());
        assertAppended(recovered, 40);
        reopened.close();

        LogManager clean = new LogManager(dir, 1, () -> now, scheduler);
        Partition afterCleanStop = leader(clean);
        assertEquals(afterCleanStop.logEndOffset(), afterCleanStop.producerStateReplayedFrom(),
                "after a clean shutdown nothing is replayed");
        assertEquals(Errors.NONE.code(), append(afterCleanStop, 40).error(), "the last batch is still a duplicate");
        assertEquals(41, afterCleanStop.logEndOffset());
        assertAppended(afterCleanStop, 41);
        clean.close();
    }

    @Test
    void aDamagedSnapshotIsDeletedAndAnOlderOneOrTheLogUsedInstead() throws Exception {
        LogManager first = new LogManager(dir, 1, () -> now, scheduler);
        Partition partition = leader(first);
        for (int sequence = 0; sequence < 20; sequence++) assertAppended(partition, sequence);
        first.close();
        Path partitionDir = partition.log().dir();
        List<Path> snapshots = snapshots(partitionDir);
        assertTrue(!snapshots.isEmpty(), "a clean close leaves a snapshot");
        Path newest = snapshots.get(snapshots.size() - 1);
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 1] ^= 0x5a;
        Files.write(newest, bytes);

        LogManager reopened = new LogManager(dir, 1, () -> now, scheduler);
        Partition recovered = leader(reopened);
        assertTrue(Files.notExists(newest), "the damaged snapshot was deleted");
        assertEquals(Errors.NONE.code(), append(recovered, 19).error());
        assertEquals(20, recovered.logEndOffset(), "the retried batch was recognised from the older state");
        assertAppended(recovered, 20);
        reopened.close();
    }

    @Test
    void snapshotsRoundTripAndThoseAboveATruncationGo() throws Exception {
        ProducerStateTable table = new ProducerStateTable();
        table.record(7, (short) 2, 10, 5, 100, 104, now);
        table.recordMarker(8, (short) 1, 3, now);
        Files.createDirectories(dir);
        ProducerStateSnapshots.write(dir, 105, table);
        ProducerStateSnapshots.Loaded loaded = ProducerStateSnapshots.loadLatest(dir, 105);
        assertEquals(105, loaded.offset());
        assertEquals(table.snapshotEntries().stream().sorted(java.util.Comparator.comparingLong(
                ProducerStateTable.SnapshotEntry::producerId)).toList(), loaded.table().snapshotEntries().stream()
                .sorted(java.util.Comparator.comparingLong(ProducerStateTable.SnapshotEntry::producerId)).toList());
        assertTrue(loaded.table().check(7, (short) 2, 10, 5).isDuplicate());
        assertNull(ProducerStateSnapshots.loadLatest(dir, 104), "no snapshot at or below 104");
        ProducerStateSnapshots.deleteAbove(dir, 100);
        assertNull(ProducerStateSnapshots.loadLatest(dir, Long.MAX_VALUE));
    }

    private Partition leader(LogManager logs) throws IOException {
        Partition partition = logs.getOrCreate(TP, SMALL_SEGMENTS);
        partition.makeLeader(1, List.of(1), 0, List.of(1), now);
        return partition;
    }

    private void assertAppended(Partition partition, int sequence) throws IOException {
        long before = partition.logEndOffset();
        Partition.AppendResult result = append(partition, sequence);
        assertEquals(Errors.NONE.code(), result.error(), "sequence " + sequence);
        assertEquals(before, result.baseOffset());
    }

    private Partition.AppendResult append(Partition partition, int sequence) throws IOException {
        ByteBuf batch = Unpooled.buffer();
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).producer(PRODUCER, (short) 0, sequence)) {
                builder.append(now, null, ("value-" + sequence + "-" + "x".repeat(200)).getBytes());
                builder.build();
            }
            return partition.append(batch, LogValidator.forCoordinator(now), 0);
        } finally {
            batch.release();
        }
    }

    private static List<Path> snapshots(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".snapshot")).sorted().toList();
        }
    }
}
