package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSets;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordConversion;
import io.tandem.kafka.wire.record.RecordIterator;

/**
 * The broker-side rewrites of produced records, as Kafka does them: old clients' v0/v1 message sets become v2
 * batches (the log only holds v2), and a topic whose compression.type is not "producer" gets its batches
 * recompressed with the topic's codec. Batches that need neither are appended as they came (no copy).
 */
public final class RecordConversions {
    private RecordConversions() {
    }

    /** The topic's target codec, or null for compression.type=producer (keep what the producer sent). */
    public static CompressionType topicCompression(String compressionType) {
        String type = compressionType.trim();
        if (type.equals("producer")) return null;
        if (type.equals("uncompressed")) return CompressionType.NONE;
        CompressionType codec = CompressionType.forConfigNameOrNull(type);
        if (codec == null) throw new IllegalArgumentException("unknown compression.type " + compressionType);
        return codec;
    }

    /**
     * A v2 buffer to append in place of {@code records}, or null when {@code records} can be appended as is.
     * The caller releases a returned buffer. The caller has validated {@code records} (see {@link LogValidator}):
     * nothing here checks a v2 batch's CRC, which the produce path computes once.
     *
     * @param logAppendTimeMs the broker time a LogAppendTime topic stamps, or -1 to keep the records' own timestamps
     * @throws CorruptRecordException when a legacy message set is malformed or fails its CRC
     */
    public static ByteBuf convertForAppend(ByteBuf records, CompressionType topicCodec, long logAppendTimeMs) {
        byte magic = RecordBatches.firstMagic(records);
        if (magic >= 0 && magic < RecordBatch.MAGIC) return upConvert(records, topicCodec, logAppendTimeMs);
        if (topicCodec == null || magic != RecordBatch.MAGIC) return null;
        boolean differs = false;
        for (RecordBatch batch : RecordBatches.of(records)) {
            if (!batch.isControl() && batch.compression() != topicCodec) differs = true;
        }
        return differs ? recompress(records, topicCodec, logAppendTimeMs) : null;
    }

    /**
     * One v2 batch holding every record of a legacy message set, compressed with {@code topicCodec}, or with the
     * producer's codec when that is null. Each legacy message's CRC32 is checked on the way (Kafka's
     * analyzeAndValidateRecords and LogValidator check the same ones), since the new batch gets a CRC of its own.
     */
    static ByteBuf upConvert(ByteBuf legacySet, CompressionType topicCodec, long logAppendTimeMs) {
        CompressionType codec = topicCodec;
        if (codec == null) {
            codec = CompressionType.NONE;
            for (LegacyMessage message : LegacyMessageSets.of(legacySet)) {
                if (message.isCompressed()) {
                    codec = message.compression();
                    break;
                }
            }
        }
        ByteBuf out = RecordBuffers.allocate(legacySet.readableBytes() + RecordBatch.HEADER_BYTES);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(codec)) {
            if (logAppendTimeMs >= 0) builder.logAppendTime(logAppendTimeMs);
            RecordConversion.upConvert(legacySet, builder, ByteBufAllocator.DEFAULT);
            builder.build();
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /**
     * The batches rewritten with {@code codec} (control batches keep theirs, as in Kafka). Kafka rebuilds them with
     * the topic's timestamp type: the records' own timestamps, or the log append time when one is given; building
     * them that way here means the log's LogAppendTime stamp finds nothing left to change and the new CRC is computed
     * once.
     */
    static ByteBuf recompress(ByteBuf records, CompressionType codec, long logAppendTimeMs) {
        ByteBuf out = RecordBuffers.allocate(records.readableBytes());
        try {
            for (RecordBatch batch : RecordBatches.of(records)) {
                try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(batch.isControl()
                        ? batch.compression() : codec)) {
                    builder.producer(batch.producerId(), batch.producerEpoch(), batch.baseSequence())
                            .transactional(batch.isTransactional());
                    if (logAppendTimeMs >= 0) builder.logAppendTime(logAppendTimeMs);
                    try (RecordIterator it = batch.records()) {
                        while (it.hasNext()) {
                            Record record = it.next();
                            builder.appendWithOffset(record.offset() - batch.baseOffset(), record.timestamp(),
                                    record.hasKey() ? record.key() : null, record.hasValue() ? record.value() : null,
                                    record.headers());
                        }
                    }
                    builder.build();
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Fetch v0-v3 clients read message format v0 (Fetch v0-1) or v1 (Fetch v2-3). */
    public static byte legacyMagicForFetch(short fetchVersion) {
        return fetchVersion <= 1 ? LegacyMessage.MAGIC_V0 : LegacyMessage.MAGIC_V1;
    }
}
