package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The v2 batches in a buffer of concatenated batches (a produce request's records, a log segment slice, a fetch
 * response's records). Iteration yields one {@link RecordBatch} view per complete batch and stops cleanly at a
 * partial trailing batch, which a fetch response may legitimately end with. Bad sizes and foreign magic bytes throw
 * {@link CorruptRecordException}. Only the header fields needed for framing are checked; call
 * {@link RecordBatch#ensureValid()} for the CRC.
 */
public final class RecordBatches implements Iterable<RecordBatch> {
    /** Bytes up to and including the magic byte, which sits at the same offset in every message format. */
    public static final int HEADER_BYTES_UP_TO_MAGIC = RecordBatch.MAGIC_OFFSET + 1;
    /** The smallest legal size field of any format: a v0 message with null key and value. */
    static final int LEGACY_SIZE_MIN = 14;

    private final ByteBuf buf;
    private final int start;
    private final int end;
    private final int batchBytesMax;

    private RecordBatches(ByteBuf buf, int batchBytesMax) {
        this.buf = buf;
        this.start = buf.readerIndex();
        this.end = buf.writerIndex();
        this.batchBytesMax = batchBytesMax;
    }

    /** The batches in {@code buf}'s readable bytes; the buffer's indexes are not changed. */
    public static RecordBatches of(ByteBuf buf) {
        return new RecordBatches(buf, Integer.MAX_VALUE);
    }

    /**
     * As {@link #of(ByteBuf)}, treating any batch larger than {@code batchBytesMax} as corrupt. This is for input where
     * an oversized size field can only mean damage (a log segment, a replica fetch). A produce request is different:
     * Kafka answers MESSAGE_TOO_LARGE there, so iterate with {@link #of(ByteBuf)} and compare
     * {@link RecordBatch#sizeInBytes()} with max.message.bytes.
     */
    public static RecordBatches of(ByteBuf buf, int batchBytesMax) {
        return new RecordBatches(buf, batchBytesMax);
    }

    /**
     * The magic byte of the first entry in {@code buf}'s readable bytes (2 for batches, 0 or 1 for legacy message
     * sets), or -1 if fewer than {@link #HEADER_BYTES_UP_TO_MAGIC} bytes are readable.
     */
    public static byte firstMagic(ByteBuf buf) {
        if (buf.readableBytes() < HEADER_BYTES_UP_TO_MAGIC) {
            return -1;
        }
        return buf.getByte(buf.readerIndex() + RecordBatch.MAGIC_OFFSET);
    }

    /**
     * Size of the next complete entry (any magic) at absolute {@code index}, or -1 if the bytes up to {@code end} hold
     * only part of one. Shared with the legacy reader so both frame entries identically.
     */
    static int nextEntrySize(ByteBuf buf, int index, int end, int entryBytesMax) {
        int remaining = end - index;
        if (remaining < HEADER_BYTES_UP_TO_MAGIC) {
            return -1;
        }
        int size = buf.getInt(index + RecordBatch.LENGTH_OFFSET);
        if (size < LEGACY_SIZE_MIN) {
            throw new CorruptRecordException("record size " + size + " is smaller than the minimum "
                    + LEGACY_SIZE_MIN);
        }
        if (size > entryBytesMax - RecordBatch.LOG_OVERHEAD) {
            throw new CorruptRecordException("record batch of " + ((long) size + RecordBatch.LOG_OVERHEAD)
                    + " bytes exceeds the maximum " + entryBytesMax);
        }
        int entrySize = size + RecordBatch.LOG_OVERHEAD;
        if (remaining < entrySize) {
            return -1;
        }
        byte magic = buf.getByte(index + RecordBatch.MAGIC_OFFSET);
        if (magic < 0 || magic > RecordBatch.MAGIC) {
            throw new CorruptRecordException("invalid magic byte " + magic + " at record batch position "
                    + index);
        }
        if (magic == RecordBatch.MAGIC && entrySize < RecordBatch.HEADER_BYTES) {
            throw new CorruptRecordException("record batch size " + entrySize + " is smaller than the v2 header");
        }
        return entrySize;
    }

    /**
     * Bytes taken by the complete batches at the front of the buffer (the rest, if any, is a partial batch). Kafka
     * silently trims such a partial tail from produced records before appending them.
     */
    public int validBytes() {
        int index = start;
        while (true) {
            int size = nextEntrySize(buf, index, end, batchBytesMax);
            if (size < 0) {
                return index - start;
            }
            index += size;
        }
    }

    @Override
    public Iterator<RecordBatch> iterator() {
        return new Iterator<>() {
            private int index = start;
            private RecordBatch next;

            @Override
            public boolean hasNext() {
                if (next != null) {
                    return true;
                }
                int size = nextEntrySize(buf, index, end, batchBytesMax);
                if (size < 0) {
                    return false;
                }
                byte magic = buf.getByte(index + RecordBatch.MAGIC_OFFSET);
                if (magic != RecordBatch.MAGIC) {
                    throw new CorruptRecordException("found a message set of magic " + magic + " where record"
                            + " batches (magic 2) were expected");
                }
                next = RecordBatch.wrap(buf, index);
                index += size;
                return true;
            }

            @Override
            public RecordBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                RecordBatch batch = next;
                next = null;
                return batch;
            }
        };
    }
}
