package io.tandem.bench.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.TimestampType;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogValidator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The broker's check of one produced v2 batch (LogValidator.validate: framing, CRC32C, the client checks and a walk
 * over every record), as the produce path runs it once per partition per request: a validator made for the request's
 * time, then the batch. The batch is what ProducerPerformance sends with its defaults (16 KB batches, uncompressed,
 * no keys, CreateTime), of 1 KB records or of 100-byte ones. Read {@code gc.alloc.rate.norm} (with {@code -prof gc})
 * as bytes per batch: it is exact where the times on a shared machine are not. Run: see docs/BENCHMARKS.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class LogValidatorBenchmark {
    private static final int BATCH_BYTES = 16 * 1024;
    private static final TopicPartition PARTITION = new TopicPartition("bench", 0);

    @Param({"1024", "100"})
    public int recordBytes;

    private ByteBuf batch;
    private long now;

    @Setup
    public void setUp() {
        now = System.currentTimeMillis();
        byte[] value = new byte[recordBytes];
        new Random(42).nextBytes(value);
        batch = Unpooled.directBuffer(BATCH_BYTES + 1024);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            for (int size = 0; size + recordBytes <= BATCH_BYTES; size += recordBytes + 8) {
                builder.append(now, null, value);
            }
            builder.build();
        }
        if (!(validate() instanceof LogValidator.Valid)) throw new IllegalStateException("the batch must be valid");
    }

    @Benchmark
    public LogValidator.Result validate() {
        LogValidator validator = new LogValidator(LogValidator.Origin.CLIENT, 1_048_588, null,
                TimestampType.CREATE_TIME, Long.MAX_VALUE, Long.MAX_VALUE, false, now);
        return validator.validate(batch, PARTITION);
    }
}
