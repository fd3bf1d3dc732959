package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.compress.CompressionType;

/**
 * A view over one entry of a legacy message set (message format v0 or v1) in a {@link ByteBuf}: the log entry header
 * (offset, size) and the message it frames. Nothing is copied.
 *
 * <p>Layout (big-endian), with the CRC32 covering everything from {@code magic} to the end:
 * <pre>
 *  0 offset int64   8 size int32   12 crc uint32   16 magic int8   17 attributes int8
 * 18 timestamp int64 (v1 only)     then key (int32 length, -1 = null, bytes), value (same)
 * </pre>
 * Attributes: bits 0-2 compression, bit 3 timestamp type (v1). A compressed message is a wrapper whose value is a
 * compressed message set of inner messages; see {@link LegacyMessageSets}.
 */
public final class LegacyMessage {
    public static final byte MAGIC_V0 = 0;
    public static final byte MAGIC_V1 = 1;

    public static final int OFFSET_OFFSET = 0;
    public static final int SIZE_OFFSET = 8;
    public static final int CRC_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int ATTRIBUTES_OFFSET = 17;
    public static final int TIMESTAMP_OFFSET = 18;
    public static final int KEY_SIZE_OFFSET_V0 = 18;
    public static final int KEY_SIZE_OFFSET_V1 = 26;

    /** Message bytes besides key and value bytes (crc, magic, attributes, key and value lengths), v0. */
    public static final int MESSAGE_OVERHEAD_V0 = 14;
    /** As {@link #MESSAGE_OVERHEAD_V0} plus the timestamp, v1. */
    public static final int MESSAGE_OVERHEAD_V1 = 22;


    private final ByteBuf buf;
    private final int start;
    private final int keySize;
    private final int valueSizeIndex;
    private final int valueSize;

    private LegacyMessage(ByteBuf buf, int start, int keySize, int valueSizeIndex, int valueSize) {
        this.buf = buf;
        this.start = start;
        this.keySize = keySize;
        this.valueSizeIndex = valueSizeIndex;
        this.valueSize = valueSize;
    }

    /**
     * Views the entry starting at absolute {@code start}, which must lie completely before {@code end}. Checks the
     * framing (magic, sizes of key and value against the entry size); use {@link #ensureValid()} for the CRC.
     *
     * @throws CorruptRecordException if the bytes cannot be a complete v0/v1 message
     */
    public static LegacyMessage wrap(ByteBuf buf, int start, int end) {
        if (end - start < RecordBatch.LOG_OVERHEAD + MESSAGE_OVERHEAD_V0) {
            throw new CorruptRecordException("legacy message needs at least "
                    + (RecordBatch.LOG_OVERHEAD + MESSAGE_OVERHEAD_V0) + " bytes, got " + (end - start));
        }
        int size = buf.getInt(start + SIZE_OFFSET);
        byte magic = buf.getByte(start + MAGIC_OFFSET);
        if (magic != MAGIC_V0 && magic != MAGIC_V1) {
            throw new CorruptRecordException("legacy message magic is " + magic + ", expected 0 or 1");
        }
        int overhead = magic == MAGIC_V0 ? MESSAGE_OVERHEAD_V0 : MESSAGE_OVERHEAD_V1;
        if (size < overhead || size > end - start - RecordBatch.LOG_OVERHEAD) {
            throw new CorruptRecordException("legacy message size " + size + " does not fit between " + overhead
                    + " and the " + (end - start - RecordBatch.LOG_OVERHEAD) + " bytes present");
        }
        int messageEnd = start + RecordBatch.LOG_OVERHEAD + size;
        int keySizeIndex = start + (magic == MAGIC_V0 ? KEY_SIZE_OFFSET_V0 : KEY_SIZE_OFFSET_V1);
        int keySize = buf.getInt(keySizeIndex);
        if (keySize < -1 || keySize > messageEnd - keySizeIndex - 8) {
            throw new CorruptRecordException("legacy message key size " + keySize + " does not fit the message");
        }
        int valueSizeIndex = keySizeIndex + 4 + Math.max(keySize, 0);
        int valueSize = buf.getInt(valueSizeIndex);
        if (valueSize < -1 || valueSizeIndex + 4 + Math.max(valueSize, 0) != messageEnd) {
            throw new CorruptRecordException("legacy message value size " + valueSize
                    + " does not match the message size " + size);
        }
        return new LegacyMessage(buf, start, keySize, valueSizeIndex, valueSize);
    }

    public ByteBuf buffer() {
        return buf;
    }

    public int startIndex() {
        return start;
    }

    /** The entry, log header included, as a slice sharing the buffer's memory (not retained). */
    public ByteBuf slice() {
        return buf.slice(start, sizeInBytes());
    }

    /** Bytes of the whole entry, log header included. */
    public int sizeInBytes() {
        return RecordBatch.LOG_OVERHEAD + messageSize();
    }

    public long offset() {
        return buf.getLong(start + OFFSET_OFFSET);
    }

    /** Patches the offset, which the CRC does not cover. */
    public void setOffset(long offset) {
        buf.setLong(start + OFFSET_OFFSET, offset);
    }

    public int messageSize() {
        return buf.getInt(start + SIZE_OFFSET);
    }

    public long crc() {
        return buf.getUnsignedInt(start + CRC_OFFSET);
    }

    public long computeCrc() {
        return Checksums.crc32(buf, start + MAGIC_OFFSET, sizeInBytes() - MAGIC_OFFSET);
    }

    public boolean isValid() {
        return crc() == computeCrc();
    }

    /** @throws CorruptRecordException if the stored CRC does not match the bytes */
    public void ensureValid() {
        long stored = crc();
        long computed = computeCrc();
        if (stored != computed) {
            throw new CorruptRecordException("legacy message at offset " + offset() + " is corrupt: stored crc "
                    + stored + ", computed crc " + computed);
        }
    }

    public byte magic() {
        return buf.getByte(start + MAGIC_OFFSET);
    }

    public byte attributes() {
        return buf.getByte(start + ATTRIBUTES_OFFSET);
    }

    /** @throws CorruptRecordException for the undefined codec ids 5..7 */
    public CompressionType compression() {
        return RecordAttributes.compression(attributes(), "legacy message");
    }

    public boolean isCompressed() {
        return RecordAttributes.isCompressed(attributes());
    }

    /** NO_TIMESTAMP_TYPE for v0; for v1, the attribute bit. */
    public TimestampType timestampType() {
        if (magic() == MAGIC_V0) {
            return TimestampType.NO_TIMESTAMP_TYPE;
        }
        return RecordAttributes.timestampType(attributes());
    }

    /** The v1 timestamp, or -1 for v0. */
    public long timestamp() {
        return magic() == MAGIC_V0 ? RecordBatch.NO_TIMESTAMP : buf.getLong(start + TIMESTAMP_OFFSET);
    }

    /**
     * Sets the v1 timestamp and timestamp type bit and rewrites the CRC (both are covered), as the broker does for
     * LogAppendTime. Not applicable to v0, which has no timestamp.
     */
    public void setTimestamp(TimestampType type, long timestamp) {
        if (magic() == MAGIC_V0) {
            throw new IllegalStateException("message format v0 has no timestamp");
        }
        byte attributes = attributes();
        byte updated = (byte) (type == TimestampType.LOG_APPEND_TIME
                ? attributes | RecordAttributes.TIMESTAMP_TYPE_MASK
                : attributes & ~RecordAttributes.TIMESTAMP_TYPE_MASK);
        buf.setByte(start + ATTRIBUTES_OFFSET, updated);
        buf.setLong(start + TIMESTAMP_OFFSET, timestamp);
        buf.setInt(start + CRC_OFFSET, (int) computeCrc());
    }

    public int keySize() {
        return keySize;
    }

    public ByteBuf key() {
        return keySize < 0 ? null : buf.slice(valueSizeIndex - keySize, keySize);
    }

    public int valueSize() {
        return valueSize;
    }

    public ByteBuf value() {
        return valueSize < 0 ? null : buf.slice(valueSizeIndex + 4, valueSize);
    }

    @Override
    public String toString() {
        return "LegacyMessage(offset=" + offset() + ", magic=" + magic() + ", attributes=" + attributes()
                + ", timestamp=" + timestamp() + ", keySize=" + keySize + ", valueSize=" + valueSize + ")";
    }
}
