package io.tandem.server.kafka.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with thousands of partitions opens them at start-up and closes them at a stop on several threads at once.
 * A clean stop closes the logs of many partitions on several threads at once (each close fsyncs a few files, so one
 * after the other a node with 10,000 partitions took minutes to stop): every log must still end up closed, with its
 * records, its producer snapshot at the log end and its checkpoint, so the next start skips recovery for all of them.
 */
class LogManagerManyPartitionsTest {
    /** More partitions than closing threads, so several threads each close several logs. */
    private static final int PARTITIONS = LogManager.IO_THREADS * 5 + 3;
    private static final int BATCHES = 3;

    @TempDir
    Path dir;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final long now = System.currentTimeMillis();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void aCleanStopOfManyPartitionsLeavesEveryLogWithItsRecordsAndProducersAndNothingToRecover() throws Exception {
        LogManager first = new LogManager(dir, 1, () -> now, scheduler);
        List<Partition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            Partition partition = first.getOrCreate(new TopicPartition("many", p), LogConfig.defaults());
            partition.makeLeader(1, List.of(1), 0, List.of(1), now);
            for (int sequence = 0; sequence < BATCHES; sequence++) {
                assertEquals(Errors.NONE.code(), append(partition, 100L + p, sequence).error());
            }
            partitions.add(partition);
        }
        first.close();

        assertTrue(Files.exists(dir.resolve(LogManager.CLEAN_SHUTDOWN_FILE)), "the clean-shutdown marker is left");
        LogManager reopened = new LogManager(dir, 1, () -> now, scheduler);
        for (int p = 0; p < PARTITIONS; p++) {
            Partition partition = reopened.getOrCreate(new TopicPartition("many", p), LogConfig.defaults());
            assertEquals(BATCHES, partition.logEndOffset(), "records of partition " + p);
            assertEquals(BATCHES, partition.producerStateReplayedFrom(),
                    "partition " + p + " found its producer snapshot at the log end and replayed nothing");
            partition.makeLeader(2, List.of(1), 0, List.of(1), now);
            // The producer's next sequence is accepted: its state came back from the snapshot written at close.
            assertEquals(Errors.NONE.code(), append(partition, 100L + p, BATCHES).error(), "partition " + p);
        }
        reopened.close();
    }

    @Test
    void partitionsOpenedAtStartUpWhileRequestsAskForThemAreEachOpenedOnce() throws Exception {
        LogManager first = new LogManager(dir, 1, () -> now, scheduler);
        Map<TopicPartition, LogConfig> all = new LinkedHashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition("many", p);
            all.put(tp, LogConfig.defaults());
            Partition partition = first.getOrCreate(tp, LogConfig.defaults());
            partition.makeLeader(1, List.of(1), 0, List.of(1), now);
            assertEquals(Errors.NONE.code(), append(partition, 100L + p, 0).error());
        }
        first.close();

        LogManager reopened = new LogManager(dir, 1, () -> now, scheduler);
        // A request may name a partition while the start-up opens it: both must get the one open log.
        List<Partition> askedFor = new CopyOnWriteArrayList<>();
        Thread requests = new Thread(() -> {
            for (TopicPartition tp : all.keySet()) {
                try {
                    askedFor.add(reopened.getOrCreate(tp, LogConfig.defaults()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        requests.start();
        reopened.openAll(all);
        requests.join();

        assertEquals(PARTITIONS, reopened.partitions().size());
        for (Partition asked : askedFor) {
            assertSame(reopened.get(asked.topicPartition()), asked, "one log for " + asked.topicPartition());
        }
        for (TopicPartition tp : all.keySet()) assertEquals(1, reopened.get(tp).logEndOffset(), tp + " records");
        reopened.close();
    }

    private Partition.AppendResult append(Partition partition, long producerId, int sequence) throws IOException {
        ByteBuf batch = Unpooled.buffer();
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).producer(producerId, (short) 0, sequence)) {
                builder.append(now, null, ("value-" + sequence).getBytes());
                builder.build();
            }
            return partition.append(batch, LogValidator.forCoordinator(now), 0);
        } finally {
            batch.release();
        }
    }
}
