package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.compress.CompressionType;
import java.util.List;

/**
 * Converts between record batches v2 and legacy message sets v0/v1, as Kafka does when old clients produce
 * (up-conversion: the log only holds v2) and when old clients fetch (down-conversion).
 */
public final class RecordConversion {
    private RecordConversion() {
    }

    /**
     * Appends every logical record of a legacy message set to {@code target}, in order and at the builder's next
     * offsets (the broker assigns offsets on append; the producer's own offsets are meaningless). Legacy messages have
     * no headers; v0 messages have no timestamp, so their records get -1 as Kafka's up-conversion does. The caller
     * configures the builder (base offset, compression, timestamp type) and builds it.
     *
     * @return the number of records appended
     * @throws CorruptRecordException if the set is malformed or any message fails its CRC
     */
    public static int upConvert(ByteBuf legacySet, RecordBatchBuilder target, ByteBufAllocator allocator) {
        int count = 0;
        // Inner messages are checked one by one below; a wrapper's own CRC covers its compressed bytes.
        for (LegacyMessage entry : LegacyMessageSets.of(legacySet)) {
            if (entry.isCompressed()) {
                entry.ensureValid();
            }
        }
        try (LegacyMessageSets.DeepIterator records = LegacyMessageSets.of(legacySet).records(allocator)) {
            while (records.hasNext()) {
                LegacyRecord record = records.next();
                if (record.message().isCompressed()) {
                    throw new CorruptRecordException("nested compressed legacy message");
                }
                record.message().ensureValid();
                try {
                    target.append(record.timestamp(), record.key(), record.value(), List.of());
                } catch (IllegalArgumentException e) {
                    // Valid CRC but impossible content, e.g. a negative timestamp other than -1.
                    throw new CorruptRecordException("legacy record at offset " + record.offset()
                            + " cannot be converted: " + e.getMessage(), e);
                }
                count++;
            }
        }
        return count;
    }

    /**
     * Writes the records of the v2 batches in {@code batches} with offsets at or above {@code firstOffset} as a legacy
     * message set of magic {@code toMagic} into {@code out}. Each compressed batch becomes one compressed wrapper with
     * the same codec; uncompressed batches become plain messages. Control batches are dropped and headers are lost,
     * as in Kafka: old consumers know neither. A partial trailing batch (as a fetch may end with) is ignored.
     *
     * <p>zstd batches cannot be down-converted (no v0/v1 reader knows zstd): Kafka answers such fetches with
     * UNSUPPORTED_COMPRESSION_TYPE, so the broker must check {@link RecordBatch#compression()} first.
     *
     * @return the number of bytes written
     * @throws IllegalArgumentException if a batch to convert is zstd-compressed
     * @throws CorruptRecordException if a batch's records do not parse or cannot be expressed in the old format;
     *                                {@code out} may then hold a partial result, which the caller discards
     */
    public static int downConvert(ByteBuf batches, byte toMagic, long firstOffset, ByteBuf out,
                                  ByteBufAllocator allocator) {
        int start = out.writerIndex();
        for (RecordBatch batch : RecordBatches.of(batches)) {
            if (batch.isControl() || batch.lastOffset() < firstOffset) {
                continue;
            }
            CompressionType compression = batch.compression();
            if (compression == CompressionType.ZSTD) {
                throw new IllegalArgumentException("batch at offset " + batch.baseOffset()
                        + " is zstd-compressed and cannot be down-converted to magic " + toMagic);
            }
            try (LegacyMessageSetBuilder builder = LegacyMessageSetBuilder.create(out, toMagic, allocator)
                    .compression(compression);
                 RecordIterator records = batch.records(allocator)) {
                if (toMagic == LegacyMessage.MAGIC_V1 && batch.timestampType() == TimestampType.LOG_APPEND_TIME) {
                    builder.logAppendTime(batch.maxTimestamp());
                }
                boolean first = true;
                while (records.hasNext()) {
                    Record record = records.next();
                    if (record.offset() < firstOffset) {
                        continue;
                    }
                    if (first) {
                        builder.baseOffset(record.offset());
                        first = false;
                    }
                    try {
                        builder.appendWithOffset(record.offset(), record.timestamp(), record.key(), record.value());
                    } catch (IllegalArgumentException e) {
                        // Offsets that do not increase or a negative timestamp: the batch passed its CRC but its
                        // records cannot be expressed in the old format.
                        throw new CorruptRecordException("record at offset " + record.offset() + " of batch "
                                + batch.baseOffset() + " cannot be down-converted: " + e.getMessage(), e);
                    }
                }
                builder.build();
            }
        }
        return out.writerIndex() - start;
    }
}
