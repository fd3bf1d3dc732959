package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.compress.CompressionType;

/**
 * A view over one record batch of message format v2 (magic 2) held in a Netty {@link ByteBuf}. Nothing is copied:
 * accessors read the header in place and setters patch it in place.
 *
 * <p>Layout (big-endian), with the CRC32C covering everything from {@code attributes} to the end:
 * <pre>
 *  0 baseOffset int64       8 batchLength int32      12 partitionLeaderEpoch int32   16 magic int8
 * 17 crc uint32            21 attributes int16       23 lastOffsetDelta int32        27 baseTimestamp int64
 * 35 maxTimestamp int64    43 producerId int64       51 producerEpoch int16          53 baseSequence int32
 * 57 recordCount int32     61 records...
 * </pre>
 * Attributes: bits 0-2 compression, bit 3 timestamp type, bit 4 transactional, bit 5 control, bit 6 delete horizon
 * (then {@code baseTimestamp} holds the delete horizon).
 *
 * <p>The view neither retains nor releases the buffer: its owner keeps it alive while the view is used.
 */
public final class RecordBatch {
    public static final byte MAGIC = 2;

    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    public static final int RECORDS_OFFSET = 61;

    /** Bytes before {@code batchLength} starts counting: baseOffset and batchLength themselves. */
    public static final int LOG_OVERHEAD = 12;
    /** Size of a batch with no records: the whole fixed header. */
    public static final int HEADER_BYTES = RECORDS_OFFSET;

    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1L;

    static final int TRANSACTIONAL_MASK = 0x10;
    public static final int CONTROL_MASK = 0x20;
    static final int DELETE_HORIZON_MASK = 0x40;

    private final ByteBuf buf;
    private final int start;

    private RecordBatch(ByteBuf buf, int start) {
        this.buf = buf;
        this.start = start;
    }

    /**
     * Views the batch that starts at {@code buf}'s reader index. Checks only what is needed to read the header safely
     * (the whole batch is present, magic is 2, the length is at least a header); use {@link #ensureValid()} for the
     * CRC.
     *
     * @throws CorruptRecordException if the bytes cannot be a complete v2 batch
     */
    public static RecordBatch wrap(ByteBuf buf) {
        return wrap(buf, buf.readerIndex());
    }

    /** Views the batch that starts at absolute index {@code start} of {@code buf}; see {@link #wrap(ByteBuf)}. */
    public static RecordBatch wrap(ByteBuf buf, int start) {
        int available = buf.writerIndex() - start;
        if (available < HEADER_BYTES) {
            throw new CorruptRecordException("record batch needs at least " + HEADER_BYTES + " bytes, got "
                    + available);
        }
        byte magic = buf.getByte(start + MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new CorruptRecordException("record batch magic is " + magic + ", expected " + MAGIC);
        }
        int length = buf.getInt(start + LENGTH_OFFSET);
        if (length < HEADER_BYTES - LOG_OVERHEAD) {
            throw new CorruptRecordException("record batch length " + length + " is smaller than a batch header");
        }
        if (length > available - LOG_OVERHEAD) {
            throw new CorruptRecordException("record batch length " + length + " exceeds the "
                    + (available - LOG_OVERHEAD) + " bytes present");
        }
        return new RecordBatch(buf, start);
    }

    /** The buffer this view reads; the batch occupies {@link #sizeInBytes()} bytes from {@link #startIndex()}. */
    public ByteBuf buffer() {
        return buf;
    }

    public int startIndex() {
        return start;
    }

    /** The whole batch as a slice sharing the buffer's memory (not retained). */
    public ByteBuf slice() {
        return buf.slice(start, sizeInBytes());
    }

    public int sizeInBytes() {
        return LOG_OVERHEAD + batchLength();
    }

    public long baseOffset() {
        return buf.getLong(start + BASE_OFFSET_OFFSET);
    }

    public int batchLength() {
        return buf.getInt(start + LENGTH_OFFSET);
    }

    public int partitionLeaderEpoch() {
        return buf.getInt(start + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return buf.getByte(start + MAGIC_OFFSET);
    }

    /** The stored CRC32C, as an unsigned value. */
    public long crc() {
        return buf.getUnsignedInt(start + CRC_OFFSET);
    }

    public short attributes() {
        return buf.getShort(start + ATTRIBUTES_OFFSET);
    }

    public int lastOffsetDelta() {
        return buf.getInt(start + LAST_OFFSET_DELTA_OFFSET);
    }

    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** The next offset after this batch, where the following batch must start. */
    public long nextOffset() {
        return lastOffset() + 1;
    }

    /** The first record's timestamp, or the delete horizon when {@link #hasDeleteHorizon()}. */
    public long baseTimestamp() {
        return buf.getLong(start + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return buf.getLong(start + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buf.getLong(start + PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buf.getShort(start + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buf.getInt(start + BASE_SEQUENCE_OFFSET);
    }

    /** The last record's sequence number, wrapping past Integer.MAX_VALUE as Kafka does; -1 without a sequence. */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        long last = (long) base + lastOffsetDelta();
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }

    public int recordCount() {
        return buf.getInt(start + RECORD_COUNT_OFFSET);
    }

    /**
     * The batch's codec.
     *
     * @throws CorruptRecordException for the undefined codec ids 5..7
     */
    public CompressionType compression() {
        return RecordAttributes.compression(attributes(), "record batch");
    }

    public boolean isCompressed() {
        return RecordAttributes.isCompressed(attributes());
    }

    public TimestampType timestampType() {
        return RecordAttributes.timestampType(attributes());
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    public boolean hasDeleteHorizon() {
        return (attributes() & DELETE_HORIZON_MASK) != 0;
    }

    /** The delete horizon (ms) set by log compaction, or -1 when the batch has none. */
    public long deleteHorizonMs() {
        return hasDeleteHorizon() ? baseTimestamp() : NO_TIMESTAMP;
    }

    public boolean hasProducerId() {
        return producerId() != NO_PRODUCER_ID;
    }

    /** The CRC32C the batch's bytes actually have, from attributes to the end. */
    public long computeCrc() {
        return Checksums.crc32c(buf, start + ATTRIBUTES_OFFSET, sizeInBytes() - ATTRIBUTES_OFFSET);
    }

    /**
     * Whether the stored CRC matches the bytes, and nothing else (Kafka's {@code DefaultRecordBatch.isValid}): a
     * produce checks the count and the records separately, with their own error codes.
     */
    public boolean hasValidCrc() {
        return crc() == computeCrc();
    }

    /** Whether the stored CRC matches the bytes and the record count is plausible. */
    public boolean isValid() {
        return recordCount() >= 0 && crc() == computeCrc();
    }

    /** @throws CorruptRecordException if {@link #isValid()} is false, saying why */
    public void ensureValid() {
        int count = recordCount();
        if (count < 0) {
            throw new CorruptRecordException("record batch has a negative record count " + count);
        }
        long stored = crc();
        long computed = computeCrc();
        if (stored != computed) {
            throw new CorruptRecordException("record batch at offset " + baseOffset() + " is corrupt: stored crc "
                    + stored + ", computed crc " + computed);
        }
    }

    /** Patches the base offset, which the CRC does not cover (the broker assigns offsets on append). */
    public void setBaseOffset(long baseOffset) {
        buf.setLong(start + BASE_OFFSET_OFFSET, baseOffset);
    }

    /** Patches the base offset so that the last record lands on {@code lastOffset}, keeping the deltas. */
    public void setLastOffset(long lastOffset) {
        setBaseOffset(lastOffset - lastOffsetDelta());
    }

    /** Patches the partition leader epoch, which the CRC does not cover (the leader stamps it on append). */
    public void setPartitionLeaderEpoch(int epoch) {
        buf.setInt(start + PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    /**
     * Sets the max timestamp and the timestamp type bit. Both are covered by the CRC, so the CRC is recomputed when
     * either changes. The broker uses this with {@link TimestampType#LOG_APPEND_TIME} and its clock; readers then
     * report that time for every record of the batch.
     */
    public void setMaxTimestamp(TimestampType type, long maxTimestamp) {
        if (type == TimestampType.NO_TIMESTAMP_TYPE) {
            throw new IllegalArgumentException("a v2 batch always has a timestamp type");
        }
        short attributes = attributes();
        short updated = (short) (type == TimestampType.LOG_APPEND_TIME
                ? attributes | RecordAttributes.TIMESTAMP_TYPE_MASK
                : attributes & ~RecordAttributes.TIMESTAMP_TYPE_MASK);
        if (updated == attributes && maxTimestamp() == maxTimestamp) {
            return;
        }
        buf.setShort(start + ATTRIBUTES_OFFSET, updated);
        buf.setLong(start + MAX_TIMESTAMP_OFFSET, maxTimestamp);
        writeCrc();
    }

    /** Recomputes and stores the CRC after a change to covered bytes. */
    void writeCrc() {
        buf.setInt(start + CRC_OFFSET, (int) computeCrc());
    }

    /** Iterates the records, decompressing with the default allocator; see {@link #records(ByteBufAllocator)}. */
    public RecordIterator records() {
        return records(ByteBufAllocator.DEFAULT);
    }

    /**
     * Iterates the records. For an uncompressed batch every record's key, value and header values are slices of this
     * batch's buffer (no copy). For a compressed batch the records section is decompressed once into a buffer from
     * {@code allocator}, which the iterator releases when closed; records stay readable until then.
     *
     * @throws InvalidRecordException while iterating, if the records do not parse or do not match the header
     * @throws CorruptRecordException if the codec is unknown or the records section does not decompress
     */
    public RecordIterator records(ByteBufAllocator allocator) {
        return new RecordIterator(this, allocator, RecordIterator.DECOMPRESSED_BYTES_MAX);
    }

    /**
     * As {@link #records(ByteBufAllocator)}, refusing (as corrupt) a compressed batch whose records section
     * decompresses to more than {@code decompressedBytesMax} bytes.
     */
    public RecordIterator records(ByteBufAllocator allocator, int decompressedBytesMax) {
        return new RecordIterator(this, allocator, decompressedBytesMax);
    }

    @Override
    public String toString() {
        return "RecordBatch(baseOffset=" + baseOffset() + ", lastOffset=" + lastOffset() + ", records=" + recordCount()
                + ", bytes=" + sizeInBytes() + ", compression=" + (attributes() & CompressionType.ATTRIBUTE_MASK)
                + ", timestampType=" + timestampType() + ", producerId=" + producerId() + ", producerEpoch="
                + producerEpoch() + ", baseSequence=" + baseSequence() + ", transactional=" + isTransactional()
                + ", control=" + isControl() + ")";
    }
}
