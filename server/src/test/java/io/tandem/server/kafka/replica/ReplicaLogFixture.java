package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real logs the replica tests stand on: a {@link LogManager} with its own scheduler and a clock fixed at the
 * test's start, one-record appends, and the log of two leader epochs the divergence tests read. Registered with
 * {@code @RegisterExtension}, it closes every log it opened and its scheduler after each test.
 */
final class ReplicaLogFixture implements AfterEachCallback {
    final long now = System.currentTimeMillis();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<LogManager> opened = new ArrayList<>();

    /** A log manager for this broker over the directory, closed after the test. */
    LogManager logs(Path dir, int brokerId) throws IOException {
        LogManager logs = new LogManager(dir, brokerId, () -> now, scheduler);
        opened.add(logs);
        return logs;
    }

    /**
     * A partition of broker 1, its only replica, holding epoch 2 at offsets 0-4 and epoch 6 at 5-7: the log both
     * sides of a diverging epoch (the leader answering it, the follower truncating by it) are tested on.
     */
    Partition twoEpochLog(Path dir, TopicPartition tp) throws Exception {
        Partition partition = logs(dir, 1).getOrCreate(tp, LogConfig.defaults());
        partition.makeLeader(2, List.of(1), 0, List.of(1), now);
        for (int i = 0; i < 5; i++) assertEquals(Errors.NONE.code(), append(partition, i));
        partition.makeLeader(6, List.of(1), 1, List.of(1), now);
        for (int i = 5; i < 8; i++) assertEquals(Errors.NONE.code(), append(partition, i));
        assertEquals(Map.of(2, 0L, 6, 5L), partition.log().leaderEpochs().entries());
        return partition;
    }

    /** Appends one record as a leader would and answers its error code. */
    short append(Partition partition, int value) throws Exception {
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

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        try {
            for (LogManager logs : opened) logs.close();
        } finally {
            scheduler.shutdownNow();
        }
    }
}
