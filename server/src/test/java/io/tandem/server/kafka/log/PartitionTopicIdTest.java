package io.tandem.server.kafka.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.storage.log.LogConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica remembers the topic id it was made for (Kafka's partition.metadata), across restarts; a controller naming
 * another id means the replica belongs to a deleted topic of the same name that missed its StopReplica, and it is
 * emptied (the replication simulation's seed 10 found old records in the re-created topic).
 */
class PartitionTopicIdTest {
    private static final TopicPartition TP = new TopicPartition("doomed", 0);
    private static final UUID OLD = new UUID(1, 1);
    private static final UUID NEW = new UUID(2, 2);

    @TempDir
    Path dir;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final long now = System.currentTimeMillis();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void shouldKeepTheReplicaForItsOwnTopicIdAndEmptyItForAnotherOne() throws Exception {
        LogManager logs = new LogManager(dir, 1, () -> now, scheduler);
        Partition partition = logs.getOrCreate(TP, LogConfig.defaults());
        assertNull(partition.topicId());
        assertFalse(partition.adoptTopicId(OLD), "a replica no controller named yet takes the id as it is");
        partition.makeLeader(3, List.of(1), 0, List.of(1), now);
        for (int i = 0; i < 5; i++) assertEquals(Errors.NONE.code(), append(partition, i).error());
        assertFalse(partition.adoptTopicId(OLD), "its own id again changes nothing");
        assertEquals(5, partition.logEndOffset());
        assertTrue(Files.readString(partition.log().dir().resolve(Partition.TOPIC_ID_FILE)).startsWith("version: 0\n"));
        // No close: the broker is killed; the id outlives the process.

        LogManager reopened = new LogManager(dir, 1, () -> now, scheduler);
        Partition stale = reopened.getOrCreate(TP, LogConfig.defaults());
        assertEquals(OLD, stale.topicId());
        assertEquals(5, stale.logEndOffset());
        assertTrue(stale.adoptTopicId(NEW), "another id: the replica of a deleted topic");
        assertEquals(0, stale.logEndOffset());
        assertEquals(0, stale.highWatermark());
        assertEquals(0, stale.leaderEpoch(), "the new topic's leader epochs start again at 0");
        assertEquals(Partition.NO_LEADER, stale.leaderId());
        stale.makeLeader(0, List.of(1), 0, List.of(1), now);
        assertEquals(Errors.NONE.code(), append(stale, 0).error(), "the same producer starts again in the new topic");
        assertEquals(NEW, stale.topicId());
        reopened.close();
        LogManager third = new LogManager(dir, 1, () -> now, scheduler);
        assertEquals(NEW, third.getOrCreate(TP, LogConfig.defaults()).topicId());
        third.close();
    }

    private Partition.AppendResult append(Partition partition, int sequence) throws Exception {
        ByteBuf batch = Unpooled.buffer();
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).producer(42, (short) 0, sequence)) {
                builder.append(now, null, ("value-" + sequence).getBytes());
                builder.build();
            }
            return partition.append(batch, LogValidator.forCoordinator(now), 0);
        } finally {
            batch.release();
        }
    }
}
