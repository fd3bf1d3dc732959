package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.compress.CompressionType;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Walks the records of one v2 batch, checking each record's framing against the batch header exactly as Kafka does
 * (declared sizes, record count, no trailing bytes). A record that does not parse throws
 * {@link InvalidRecordException}; a batch whose codec is unknown or whose records section does not decompress throws
 * a plain {@link CorruptRecordException}. Close it when done: for a compressed batch it owns the decompressed buffer,
 * and records read from it are invalid afterwards.
 *
 * <p>{@link #advance()} reads the next record with the same checks without creating a {@link Record}: its fields are
 * then read from the iterator ({@link #offset()}, {@link #timestamp()}, {@link #hasKey()}), which is what the
 * broker's produce path does for every record it validates, so that it allocates nothing per record.
 */
public final class RecordIterator implements Iterator<Record>, AutoCloseable {
    /**
     * Largest decompressed records section accepted by default. A batch is bounded by the broker's message size
     * limit, but its decompressed form is not; this stops a small compressed batch from exhausting memory. Kafka's
     * own broker validates with streaming readers and has no fixed bound; 256 MiB is far above any real batch.
     */
    public static final int DECOMPRESSED_BYTES_MAX = 256 * 1024 * 1024;
    /** Smallest possible encoded record: length, attributes, timestamp delta, offset delta, key, value, headers. */
    private static final int RECORD_BYTES_MIN = 7;

    private final long baseOffset;
    private final long baseTimestamp;
    private final long logAppendTime;
    private final int baseSequence;
    private final int recordCount;
    private final ByteBuf data;
    private final boolean ownsData;
    private final int limit;
    private final Varint.Cursor cursor;
    private int returned;
    private boolean closed;
    // The record advance() read last (next() builds a Record from them).
    private long offset;
    private long timestamp;
    private int sequence;
    private byte attributes;
    private int sizeInBytes;
    private int keyIndex;
    private int keySize;
    private int valueIndex;
    private int valueSize;
    private int headersIndex;
    private int headerCount;

    RecordIterator(RecordBatch batch, ByteBufAllocator allocator, int decompressedBytesMax) {
        this.baseOffset = batch.baseOffset();
        this.baseTimestamp = batch.baseTimestamp();
        this.logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME
                ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
        this.baseSequence = batch.baseSequence();
        this.recordCount = batch.recordCount();
        if (recordCount < 0) {
            throw new InvalidRecordException("record batch has a negative record count " + recordCount);
        }
        CompressionType compression = batch.compression();
        int recordsStart = batch.startIndex() + RecordBatch.RECORDS_OFFSET;
        int recordsEnd = batch.startIndex() + batch.sizeInBytes();
        if (recordCount == 0) {
            // Compaction leaves empty batches behind to keep producer state; Kafka reads them without touching
            // the (absent) records section, whatever codec the header names.
            this.data = batch.buffer();
            this.ownsData = false;
            this.cursor = new Varint.Cursor(recordsEnd);
            this.limit = recordsEnd;
        } else if (compression == CompressionType.NONE) {
            if ((long) recordCount * RECORD_BYTES_MIN > recordsEnd - recordsStart) {
                throw new InvalidRecordException("record batch declares " + recordCount + " records in only "
                        + (recordsEnd - recordsStart) + " bytes");
            }
            this.data = batch.buffer();
            this.ownsData = false;
            this.cursor = new Varint.Cursor(recordsStart);
            this.limit = recordsEnd;
        } else {
            this.data = BoundedDecompression.decompress(compression,
                    batch.buffer().slice(recordsStart, recordsEnd - recordsStart), RecordBatch.MAGIC, allocator,
                    decompressedBytesMax);
            this.ownsData = true;
            this.cursor = new Varint.Cursor(0);
            this.limit = data.writerIndex();
        }
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            return false;
        }
        if (returned < recordCount) {
            return true;
        }
        if (cursor.index != limit) {
            throw new InvalidRecordException("record batch has " + (limit - cursor.index)
                    + " bytes after its " + recordCount + " declared records");
        }
        return false;
    }

    @Override
    public Record next() {
        if (!advance()) {
            throw new NoSuchElementException();
        }
        return current();
    }

    /**
     * Reads the next record, checking it as {@link #next()} does, and returns false when there is none (after
     * checking that no bytes follow the last one). Until the next call, {@link #offset()}, {@link #timestamp()},
     * {@link #hasKey()} and {@link #current()} describe it.
     */
    public boolean advance() {
        if (!hasNext()) {
            return false;
        }
        readRecord();
        returned++;
        return true;
    }

    /** The absolute offset of the record {@link #advance()} read. */
    public long offset() {
        return offset;
    }

    /** The timestamp of the record {@link #advance()} read (the batch's for LogAppendTime). */
    public long timestamp() {
        return timestamp;
    }

    /** Whether the record {@link #advance()} read has a key. */
    public boolean hasKey() {
        return keySize >= 0;
    }

    /** The record {@link #advance()} read, as an object (valid as long as the iterator's data is). */
    public Record current() {
        if (returned == 0) {
            throw new IllegalStateException("no record read yet");
        }
        return new Record(offset, timestamp, sequence, attributes, sizeInBytes, data, keyIndex, keySize, valueIndex,
                valueSize, headersIndex, headerCount);
    }

    private void readRecord() {
        int recordStart = cursor.index;
        int bodySize = Varint.readInt(data, cursor, limit);
        int bodyStart = cursor.index;
        if (bodySize < 0 || bodySize > limit - bodyStart) {
            throw new InvalidRecordException("record declares " + bodySize + " bytes but "
                    + (limit - bodyStart) + " remain in the batch");
        }
        int bodyEnd = bodyStart + bodySize;
        if (bodySize < 1) {
            throw new InvalidRecordException("record is empty");
        }
        byte attributes = data.getByte(cursor.index++);
        long timestampDelta = Varint.readLong(data, cursor, bodyEnd);
        int offsetDelta = Varint.readInt(data, cursor, bodyEnd);
        int keySize = Varint.readInt(data, cursor, bodyEnd);
        int keyIndex = cursor.index;
        skipBytes(keySize, bodyEnd, "key");
        int valueSize = Varint.readInt(data, cursor, bodyEnd);
        int valueIndex = cursor.index;
        skipBytes(valueSize, bodyEnd, "value");
        int headerCount = Varint.readInt(data, cursor, bodyEnd);
        if (headerCount < 0) {
            throw new InvalidRecordException("record has a negative header count " + headerCount);
        }
        int headersIndex = cursor.index;
        for (int i = 0; i < headerCount; i++) {
            int headerKeySize = Varint.readInt(data, cursor, bodyEnd);
            if (headerKeySize < 0) {
                throw new InvalidRecordException("record header has a null or negative key size " + headerKeySize);
            }
            skipBytes(headerKeySize, bodyEnd, "header key");
            skipBytes(Varint.readInt(data, cursor, bodyEnd), bodyEnd, "header value");
        }
        if (cursor.index != bodyEnd) {
            throw new InvalidRecordException("record declares " + bodySize + " bytes but its fields take "
                    + (cursor.index - bodyStart));
        }
        this.offset = baseOffset + offsetDelta;
        this.timestamp = logAppendTime != RecordBatch.NO_TIMESTAMP ? logAppendTime : baseTimestamp + timestampDelta;
        this.sequence = baseSequence == RecordBatch.NO_SEQUENCE ? RecordBatch.NO_SEQUENCE
                : incrementSequence(baseSequence, offsetDelta);
        this.attributes = attributes;
        this.sizeInBytes = bodyEnd - recordStart;
        this.keyIndex = keyIndex;
        this.keySize = keySize;
        this.valueIndex = valueIndex;
        this.valueSize = valueSize;
        this.headersIndex = headersIndex;
        this.headerCount = headerCount;
    }

    /** Skips a length-prefixed field's bytes; -1 means null, anything below that is corrupt. */
    private void skipBytes(int size, int bodyEnd, String field) {
        if (size < -1) {
            throw new InvalidRecordException("record " + field + " has an invalid size " + size);
        }
        if (size > 0) {
            if (size > bodyEnd - cursor.index) {
                throw new InvalidRecordException("record " + field + " of " + size + " bytes overruns the record");
            }
            cursor.index += size;
        }
    }

    /** Sequence numbers wrap from Integer.MAX_VALUE to 0, as in Kafka. */
    static int incrementSequence(int sequence, int increment) {
        if (sequence > Integer.MAX_VALUE - increment) {
            return increment - (Integer.MAX_VALUE - sequence) - 1;
        }
        return sequence + increment;
    }

    /** Releases the decompressed buffer, if any. Records read from this iterator must not be used afterwards. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (ownsData) {
                data.release();
            }
        }
    }
}
