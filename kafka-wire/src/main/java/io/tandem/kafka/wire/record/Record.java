package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One record read from a v2 batch. Offset, timestamp and sequence are already absolute (the batch's base plus this
 * record's deltas). Key, value and headers are read lazily from the underlying buffer and returned as slices that share
 * its memory: they are valid as long as the batch buffer (or the {@link RecordIterator} for a compressed batch) is.
 */
public final class Record {
    private final long offset;
    private final long timestamp;
    private final int sequence;
    private final byte attributes;
    private final int sizeInBytes;
    private final ByteBuf data;
    private final int keyIndex;
    private final int keySize;
    private final int valueIndex;
    private final int valueSize;
    private final int headersIndex;
    private final int headerCount;

    Record(long offset, long timestamp, int sequence, byte attributes, int sizeInBytes, ByteBuf data, int keyIndex,
           int keySize, int valueIndex, int valueSize, int headersIndex, int headerCount) {
        this.offset = offset;
        this.timestamp = timestamp;
        this.sequence = sequence;
        this.attributes = attributes;
        this.sizeInBytes = sizeInBytes;
        this.data = data;
        this.keyIndex = keyIndex;
        this.keySize = keySize;
        this.valueIndex = valueIndex;
        this.valueSize = valueSize;
        this.headersIndex = headersIndex;
        this.headerCount = headerCount;
    }

    public long offset() {
        return offset;
    }

    public long timestamp() {
        return timestamp;
    }

    /** The producer sequence of this record, or -1 when the batch has none. */
    public int sequence() {
        return sequence;
    }

    /** The per-record attributes byte (unused by Kafka so far, always 0 when Kafka writes it). */
    public byte attributes() {
        return attributes;
    }

    /** Encoded size including the leading length varint. */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    public boolean hasKey() {
        return keySize >= 0;
    }

    /** Key size in bytes, or -1 for a null key. */
    public int keySize() {
        return keySize;
    }

    /** The key as a slice of the batch's memory, or {@code null}. */
    public ByteBuf key() {
        return keySize < 0 ? null : data.slice(keyIndex, keySize);
    }

    public boolean hasValue() {
        return valueSize >= 0;
    }

    /** Value size in bytes, or -1 for a null value (a tombstone). */
    public int valueSize() {
        return valueSize;
    }

    /** The value as a slice of the batch's memory, or {@code null}. */
    public ByteBuf value() {
        return valueSize < 0 ? null : data.slice(valueIndex, valueSize);
    }

    public int headerCount() {
        return headerCount;
    }

    /** The headers, decoded now (their structure was validated when the record was read). */
    public List<Header> headers() {
        if (headerCount == 0) {
            return Collections.emptyList();
        }
        List<Header> headers = new ArrayList<>(headerCount);
        Varint.Cursor cursor = new Varint.Cursor(headersIndex);
        int limit = data.capacity();
        for (int i = 0; i < headerCount; i++) {
            int keyLength = Varint.readInt(data, cursor, limit);
            String key = data.toString(cursor.index, keyLength, StandardCharsets.UTF_8);
            cursor.index += keyLength;
            int valueLength = Varint.readInt(data, cursor, limit);
            ByteBuf value = null;
            if (valueLength >= 0) {
                value = data.slice(cursor.index, valueLength);
                cursor.index += valueLength;
            }
            headers.add(new Header(key, value));
        }
        return headers;
    }

    /**
     * Kafka's own wording for a v2 record (its DefaultRecord), which the broker quotes back to producers in record
     * errors; a null key or value counts as 0 bytes there.
     */
    @Override
    public String toString() {
        return "DefaultRecord(offset=" + offset + ", timestamp=" + timestamp + ", key=" + Math.max(keySize, 0)
                + " bytes, value=" + Math.max(valueSize, 0) + " bytes)";
    }
}
