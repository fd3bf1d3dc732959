package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Test batches built and read back with the official Kafka client classes, so the log is checked against Kafka's own
 * understanding of the format rather than against itself.
 */
final class Batches {
    private Batches() {
    }

    /** One batch of {@code count} records "k{i}"="v{i}" with timestamps {@code timestamp + i}; offsets start at 0. */
    static ByteBuf batch(int count, long timestamp) {
        return batch(count, timestamp, Compression.NONE);
    }

    static ByteBuf batch(int count, long timestamp, Compression compression) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024 + count * 64), compression,
                TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < count; i++) {
            builder.append(timestamp + i, bytes("k" + i), bytes("v" + i));
        }
        return Unpooled.wrappedBuffer(builder.build().buffer());
    }

    /** One batch of key/value pairs (a null value is a tombstone), all with {@code timestamp}. */
    static ByteBuf keyed(long timestamp, Compression compression, String... keyValues) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024 + keyValues.length * 64),
                compression, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < keyValues.length; i += 2) {
            builder.append(timestamp, bytes(keyValues[i]), keyValues[i + 1] == null ? null : bytes(keyValues[i + 1]));
        }
        return Unpooled.wrappedBuffer(builder.build().buffer());
    }

    /** A batch whose records already carry offsets from {@code baseOffset}: what a follower receives. */
    static ByteBuf withOffsets(long baseOffset, int count, long timestamp, int leaderEpoch) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024 + count * 64),
                RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE, TimestampType.CREATE_TIME, baseOffset,
                RecordBatch.NO_TIMESTAMP, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                RecordBatch.NO_SEQUENCE, false, leaderEpoch);
        for (int i = 0; i < count; i++) {
            builder.appendWithOffset(baseOffset + i, timestamp + i, ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return Unpooled.wrappedBuffer(builder.build().buffer());
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A record as Kafka's client reads it. */
    record Read(long offset, long timestamp, String key, String value, long batchBaseOffset) {
    }

    /** Parses a slice with Kafka's client classes, checking each batch's CRC the way a consumer does. */
    static List<Read> parse(LogSlice slice) throws IOException {
        ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
        try {
            return parse(bytes.nioBuffer());
        } finally {
            bytes.release();
        }
    }

    static List<Read> parse(ByteBuffer buffer) {
        List<Read> result = new ArrayList<>();
        for (var batch : MemoryRecords.readableRecords(buffer).batches()) {
            batch.ensureValid();
            for (Record record : batch) {
                result.add(new Read(record.offset(), record.timestamp(), string(record.key()),
                        string(record.value()), batch.baseOffset()));
            }
        }
        return result;
    }

    static List<Long> offsets(List<Read> reads) {
        return reads.stream().map(Read::offset).toList();
    }

    private static String string(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
