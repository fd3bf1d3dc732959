package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;

/** Test helpers that build record bytes with the official Kafka client classes, and sample records to put in them. */
final class KafkaRecords {
    private KafkaRecords() {
    }

    /** A record as the tests describe it, independent of either implementation. */
    record Sample(long timestamp, byte[] key, byte[] value, List<String[]> headers) {
        org.apache.kafka.common.header.Header[] kafkaHeaders() {
            org.apache.kafka.common.header.Header[] result = new org.apache.kafka.common.header.Header[headers.size()];
            for (int i = 0; i < result.length; i++) {
                String[] header = headers.get(i);
                result[i] = new RecordHeader(header[0],
                        header[1] == null ? null : header[1].getBytes(StandardCharsets.UTF_8));
            }
            return result;
        }
    }

    /** Varied records: null and empty keys and values, headers with null values, a large compressible value. */
    static List<Sample> samples(int count, long baseTimestamp, boolean withHeaders) {
        Random random = new Random(count * 31L + baseTimestamp);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] key = i % 5 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value;
            if (i % 7 == 3) {
                value = null;
            } else if (i % 7 == 4) {
                value = new byte[0];
            } else if (i % 11 == 5) {
                value = ("large value " + i + " ").repeat(2000).getBytes(StandardCharsets.UTF_8);
            } else {
                value = new byte[random.nextInt(200)];
                random.nextBytes(value);
            }
            List<String[]> headers = new ArrayList<>();
            if (withHeaders && i % 3 != 0) {
                headers.add(new String[] {"h" + i, "value-" + i});
                headers.add(new String[] {"ünïcode", i % 2 == 0 ? null : ""});
            }
            samples.add(new Sample(Math.max(0, baseTimestamp + i * 3L - (i % 4 == 1 ? 50 : 0)), key, value, headers));
        }
        return samples;
    }

    static Compression kafkaCompression(CompressionType type) {
        return Compression.of(type.configName).build();
    }

    static org.apache.kafka.common.record.TimestampType kafkaTimestampType(TimestampType type) {
        return org.apache.kafka.common.record.TimestampType.forName(type.configName);
    }

    /** Builds one batch (or legacy message set) with Kafka's MemoryRecordsBuilder. */
    static ByteBuffer build(byte magic, CompressionType compression, TimestampType timestampType, long baseOffset,
                            long logAppendTime, long producerId, short producerEpoch, int baseSequence,
                            boolean transactional, int partitionLeaderEpoch, List<Sample> samples) {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, magic, kafkaCompression(compression),
                kafkaTimestampType(timestampType), baseOffset, logAppendTime, producerId, producerEpoch, baseSequence,
                transactional, partitionLeaderEpoch);
        long offset = baseOffset;
        for (Sample sample : samples) {
            if (magic >= 2) {
                builder.appendWithOffset(offset++, sample.timestamp(), sample.key(), sample.value(),
                        sample.kafkaHeaders());
            } else {
                builder.appendWithOffset(offset++, sample.timestamp(), sample.key(), sample.value());
            }
        }
        return builder.build().buffer();
    }

    static ByteBuffer buildV2(CompressionType compression, long baseOffset, List<Sample> samples) {
        return build(RecordBatch.MAGIC, compression, TimestampType.CREATE_TIME, baseOffset, RecordBatch.NO_TIMESTAMP,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, false,
                RecordBatch.NO_PARTITION_LEADER_EPOCH, samples);
    }

    /** Copies into a Netty buffer, heap or direct, so both kinds of memory get exercised. */
    static ByteBuf toByteBuf(ByteBuffer buffer, boolean direct) {
        ByteBuf result = direct ? Unpooled.directBuffer(buffer.remaining()) : Unpooled.buffer(buffer.remaining());
        result.writeBytes(buffer.duplicate());
        return result;
    }

    static ByteBuffer toByteBuffer(ByteBuf buf) {
        ByteBuffer result = ByteBuffer.allocate(buf.readableBytes());
        buf.getBytes(buf.readerIndex(), result);
        result.flip();
        return result;
    }

    static byte[] bytes(ByteBuf buf) {
        if (buf == null) {
            return null;
        }
        byte[] result = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), result);
        return result;
    }

    static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] result = new byte[buffer.remaining()];
        buffer.duplicate().get(result);
        return result;
    }
}
