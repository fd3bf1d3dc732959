package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.Compression;
import io.tandem.kafka.wire.compress.CompressionType;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes one v2 record batch into a caller's buffer, starting at its writer index. Configure the header first, append
 * records, then {@link #build()}, which fills in the header and CRC and returns a view of the finished batch.
 *
 * <p>Uncompressed records are written straight into the target buffer. Compressed records are first written to a
 * scratch buffer from the allocator and compressed into the target at {@link #build()}; {@link #close()} releases the
 * scratch if the builder is abandoned.
 */
public final class RecordBatchBuilder implements AutoCloseable {
    private final ByteBuf out;
    private final ByteBufAllocator allocator;
    private final int start;

    private CompressionType compression = CompressionType.NONE;
    private TimestampType timestampType = TimestampType.CREATE_TIME;
    private long baseOffset;
    private long logAppendTime = RecordBatch.NO_TIMESTAMP;
    private long deleteHorizonMs = RecordBatch.NO_TIMESTAMP;
    private long producerId = RecordBatch.NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private int partitionLeaderEpoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;
    private boolean transactional;
    private boolean control;

    /** Where records go: {@code out} itself, or the scratch buffer when compressing. Null until the first append. */
    private ByteBuf records;
    private int recordCount;
    private long lastOffset = -1;
    private long baseTimestamp = RecordBatch.NO_TIMESTAMP;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private boolean built;

    private RecordBatchBuilder(ByteBuf out, ByteBufAllocator allocator) {
        this.out = out;
        this.allocator = allocator;
        this.start = out.writerIndex();
    }

    /** A builder appending to {@code out}; compressed batches use the default allocator for scratch space. */
    public static RecordBatchBuilder create(ByteBuf out) {
        return new RecordBatchBuilder(out, ByteBufAllocator.DEFAULT);
    }

    public static RecordBatchBuilder create(ByteBuf out, ByteBufAllocator allocator) {
        return new RecordBatchBuilder(out, allocator);
    }

    public RecordBatchBuilder compression(CompressionType compression) {
        checkNotStarted();
        this.compression = compression;
        return this;
    }

    /** CREATE_TIME (the records' own timestamps) by default; LOG_APPEND_TIME needs {@link #logAppendTime(long)}. */
    public RecordBatchBuilder timestampType(TimestampType timestampType) {
        checkNotStarted();
        if (timestampType == TimestampType.NO_TIMESTAMP_TYPE) {
            throw new IllegalArgumentException("a v2 batch always has a timestamp type");
        }
        this.timestampType = timestampType;
        return this;
    }

    /** Sets LOG_APPEND_TIME with the broker's clock: readers then report this time for every record. */
    public RecordBatchBuilder logAppendTime(long logAppendTime) {
        timestampType(TimestampType.LOG_APPEND_TIME);
        this.logAppendTime = logAppendTime;
        return this;
    }

    /** Marks the batch as rewritten by compaction; {@code baseTimestamp} then holds this horizon. */
    public RecordBatchBuilder deleteHorizonMs(long deleteHorizonMs) {
        checkNotStarted();
        this.deleteHorizonMs = deleteHorizonMs;
        return this;
    }

    public RecordBatchBuilder baseOffset(long baseOffset) {
        checkNotStarted();
        this.baseOffset = baseOffset;
        return this;
    }

    /** The idempotent/transactional producer's identity and the sequence of the first record. */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        checkNotStarted();
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    public RecordBatchBuilder transactional(boolean transactional) {
        checkNotStarted();
        this.transactional = transactional;
        return this;
    }

    /** A control batch holds only control records (transaction markers); set by the control append methods. */
    public RecordBatchBuilder control(boolean control) {
        checkNotStarted();
        this.control = control;
        return this;
    }

    public RecordBatchBuilder partitionLeaderEpoch(int partitionLeaderEpoch) {
        checkNotStarted();
        this.partitionLeaderEpoch = partitionLeaderEpoch;
        return this;
    }

    public int recordCount() {
        return recordCount;
    }

    /** The offset the next {@link #append} gets. */
    public long nextOffset() {
        return recordCount == 0 ? baseOffset : lastOffset + 1;
    }

    /** Appends a record at the next offset. Key, value and header values are copied from their readable bytes. */
    public RecordBatchBuilder append(long timestamp, ByteBuf key, ByteBuf value, List<Header> headers) {
        return appendWithOffset(nextOffset(), timestamp, key, value, headers);
    }

    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key == null ? null : Unpooled.wrappedBuffer(key),
                value == null ? null : Unpooled.wrappedBuffer(value), List.of());
    }

    /**
     * Appends a record at a given offset, which must be above the previous record's (gaps are allowed, as after
     * compaction or when converting a legacy message set).
     */
    public RecordBatchBuilder appendWithOffset(long offset, long timestamp, ByteBuf key, ByteBuf value,
                                               List<Header> headers) {
        if (control) {
            throw new IllegalStateException("a control batch holds only control records");
        }
        return write(offset, timestamp, key, value, headers);
    }

    /** Appends a transaction marker; the batch becomes a transactional control batch. */
    public RecordBatchBuilder appendEndTxnMarker(long timestamp, EndTxnMarker marker) {
        if (recordCount == 0) {
            control = true;
            transactional = true;
        } else if (!control) {
            throw new IllegalStateException("a control record cannot join a batch of data records");
        }
        ByteBuf key = Unpooled.buffer(ControlRecordType.KEY_BYTES);
        marker.type().writeKey(key);
        ByteBuf value = Unpooled.buffer(EndTxnMarker.VALUE_BYTES);
        marker.writeValue(value);
        return write(nextOffset(), timestamp, key, value, List.of());
    }

    private RecordBatchBuilder write(long offset, long timestamp, ByteBuf key, ByteBuf value, List<Header> headers) {
        if (built) {
            throw new IllegalStateException("batch is already built");
        }
        if (recordCount > 0 && offset <= lastOffset) {
            throw new IllegalArgumentException("offset " + offset + " is not above the previous offset " + lastOffset);
        }
        if (offset < baseOffset || offset - baseOffset > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " is out of the batch's range from " + baseOffset);
        }
        if (timestamp < 0 && timestamp != RecordBatch.NO_TIMESTAMP) {
            throw new IllegalArgumentException("invalid negative timestamp " + timestamp);
        }
        if (records == null) {
            startRecords();
        }
        if (recordCount == 0) {
            baseTimestamp = deleteHorizonMs != RecordBatch.NO_TIMESTAMP ? deleteHorizonMs : timestamp;
        }
        int offsetDelta = (int) (offset - baseOffset);
        long timestampDelta = timestamp - baseTimestamp;
        int bodySize = 1 + Varint.sizeOfLong(timestampDelta) + Varint.sizeOfInt(offsetDelta)
                + bytesFieldSize(key) + bytesFieldSize(value) + Varint.sizeOfInt(headers.size());
        for (Header header : headers) {
            int keyLength = ByteBufUtil.utf8Bytes(header.key());
            bodySize += Varint.sizeOfInt(keyLength) + keyLength + bytesFieldSize(header.value());
        }
        Varint.writeInt(records, bodySize);
        records.writeByte(0);
        Varint.writeLong(records, timestampDelta);
        Varint.writeInt(records, offsetDelta);
        writeBytesField(key);
        writeBytesField(value);
        Varint.writeInt(records, headers.size());
        for (Header header : headers) {
            Varint.writeInt(records, ByteBufUtil.utf8Bytes(header.key()));
            ByteBufUtil.writeUtf8(records, header.key());
            writeBytesField(header.value());
        }
        recordCount++;
        lastOffset = offset;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        return this;
    }

    private void startRecords() {
        if (compression == CompressionType.NONE) {
            out.writeZero(RecordBatch.HEADER_BYTES);
            records = out;
        } else {
            out.writeZero(RecordBatch.HEADER_BYTES);
            records = allocator.heapBuffer(1024);
        }
    }

    private static int bytesFieldSize(ByteBuf bytes) {
        if (bytes == null) {
            return 1;
        }
        int length = bytes.readableBytes();
        return Varint.sizeOfInt(length) + length;
    }

    private void writeBytesField(ByteBuf bytes) {
        if (bytes == null) {
            Varint.writeInt(records, -1);
            return;
        }
        Varint.writeInt(records, bytes.readableBytes());
        records.writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
    }

    /**
     * Compresses (if configured), writes the header and CRC, and returns a view of the finished batch in the target
     * buffer. A builder with no records writes an empty batch, as compaction does to keep producer state.
     */
    public RecordBatch build() {
        if (built) {
            throw new IllegalStateException("batch is already built");
        }
        if (timestampType == TimestampType.LOG_APPEND_TIME && logAppendTime == RecordBatch.NO_TIMESTAMP) {
            throw new IllegalStateException("LOG_APPEND_TIME needs the log append time");
        }
        if (records == null) {
            startRecords();
        }
        built = true;
        if (records != out && recordCount == 0) {
            // An empty batch has no records section at all, even when its header names a codec (as Kafka writes).
            records.release();
        } else if (records != out) {
            try (OutputStream compressed = Compression.wrapForOutput(compression, new ByteBufOutputStream(out),
                    RecordBatch.MAGIC)) {
                records.readBytes(compressed, records.readableBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("compressing into a memory buffer failed", e);
            } finally {
                records.release();
            }
        }
        int attributes = compression.id
                | (timestampType == TimestampType.LOG_APPEND_TIME ? RecordAttributes.TIMESTAMP_TYPE_MASK : 0)
                | (transactional ? RecordBatch.TRANSACTIONAL_MASK : 0)
                | (control ? RecordBatch.CONTROL_MASK : 0)
                | (deleteHorizonMs != RecordBatch.NO_TIMESTAMP ? RecordBatch.DELETE_HORIZON_MASK : 0);
        out.setLong(start + RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        out.setInt(start + RecordBatch.LENGTH_OFFSET, out.writerIndex() - start - RecordBatch.LOG_OVERHEAD);
        out.setInt(start + RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        out.setByte(start + RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        out.setShort(start + RecordBatch.ATTRIBUTES_OFFSET, attributes);
        out.setInt(start + RecordBatch.LAST_OFFSET_DELTA_OFFSET,
                recordCount == 0 ? 0 : (int) (lastOffset - baseOffset));
        out.setLong(start + RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        out.setLong(start + RecordBatch.MAX_TIMESTAMP_OFFSET,
                timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : maxTimestamp);
        out.setLong(start + RecordBatch.PRODUCER_ID_OFFSET, producerId);
        out.setShort(start + RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        out.setInt(start + RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        out.setInt(start + RecordBatch.RECORD_COUNT_OFFSET, recordCount);
        RecordBatch batch = RecordBatch.wrap(out, start);
        batch.writeCrc();
        return batch;
    }

    /** Releases the scratch buffer of an unfinished compressed batch; a no-op after {@link #build()}. */
    @Override
    public void close() {
        if (!built && records != null && records != out) {
            built = true;
            records.release();
        }
    }

    private void checkNotStarted() {
        if (records != null || built) {
            throw new IllegalStateException("batch header settings must come before the first record");
        }
    }
}
