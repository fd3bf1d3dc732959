package io.tandem.server.kafka.replica;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LogConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Where a follower truncates when its leader answers a diverging epoch: Kafka's
 * AbstractFetcherThread.getOffsetTruncationState over the follower's own LeaderEpochCache.endOffsetFor, one row per
 * rule, on a real log holding epoch 2 at offsets 0-4 and epoch 6 at 5-7.
 */
class FollowerTruncationTest {
    private static final TopicPartition TP = new TopicPartition("diverged", 0);

    @TempDir
    Path dir;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final long now = System.currentTimeMillis();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    /** The leader's diverging epoch and its end offset, the offset the follower must truncate to, and why. */
    private record Row(String why, int leaderEpoch, long leaderEndOffset, long truncateTo) {
    }

    @Test
    void shouldTruncateByKafkasRulesForEveryKindOfDivergingEpoch() throws Exception {
        LogManager logs = new LogManager(dir, 1, () -> now, scheduler);
        Partition follower = logs.getOrCreate(TP, LogConfig.defaults());
        follower.makeLeader(2, List.of(1), 0, List.of(1), now);
        for (int i = 0; i < 5; i++) assertEquals(Errors.NONE.code(), append(follower, i));
        follower.makeLeader(6, List.of(1), 1, List.of(1), now);
        for (int i = 5; i < 8; i++) assertEquals(Errors.NONE.code(), append(follower, i));
        assertEquals(Map.of(2, 0L, 6, 5L), follower.log().leaderEpochs().entries());
        List<Row> table = List.of(
                new Row("an epoch unknown here (above every one): the leader's end", 9, 7, 7),
                new Row("an epoch unknown here, its end past this log's: the log end", 9, 20, 8),
                new Row("only a smaller epoch known here: where that one ends here", 4, 3, 5),
                new Row("the same epoch: the smaller end", 2, 3, 3),
                new Row("the same epoch ending later at the leader: where it ends here", 2, 7, 5),
                new Row("below every epoch here: where the first starts", 1, 4, 0),
                new Row("the latest epoch here: the leader's end within this log", 6, 7, 7));
        for (Row row : table) {
            assertEquals(row.truncateTo(), FollowerFetch.truncationOffset(follower.log().leaderEpochs(),
                    follower.logEndOffset(), row.leaderEpoch(), row.leaderEndOffset()), row.why());
        }
        logs.close();
    }

    private short append(Partition partition, int value) throws Exception {
        ByteBuf batch = Unpooled.buffer();
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
                builder.append(now, null, ("value-" + value).getBytes());
                builder.build();
            }
            return partition.append(batch, LogValidator.forCoordinator(now), 0).error();
        } finally {
            batch.release();
        }
    }
}
