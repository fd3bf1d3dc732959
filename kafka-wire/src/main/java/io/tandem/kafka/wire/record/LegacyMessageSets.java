package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The entries of a legacy message set (magic 0 or 1) in a buffer, as old producers send them and old consumers expect
 * them. {@link #iterator()} walks the top-level entries (stopping cleanly at a partial trailing entry, as for
 * {@link RecordBatches}); {@link #records(ByteBufAllocator)} also unwraps compressed wrappers into their inner
 * records with absolute offsets.
 */
public final class LegacyMessageSets implements Iterable<LegacyMessage> {
    private final ByteBuf buf;
    private final int start;
    private final int end;
    private final int entryBytesMax;

    private LegacyMessageSets(ByteBuf buf, int entryBytesMax) {
        this.buf = buf;
        this.start = buf.readerIndex();
        this.end = buf.writerIndex();
        this.entryBytesMax = entryBytesMax;
    }

    /** The message set in {@code buf}'s readable bytes; the buffer's indexes are not changed. */
    public static LegacyMessageSets of(ByteBuf buf) {
        return new LegacyMessageSets(buf, Integer.MAX_VALUE);
    }

    /** As {@link #of(ByteBuf)}, rejecting any entry larger than {@code entryBytesMax}. */
    public static LegacyMessageSets of(ByteBuf buf, int entryBytesMax) {
        return new LegacyMessageSets(buf, entryBytesMax);
    }

    /** Bytes taken by the complete entries at the front of the buffer. */
    public int validBytes() {
        int index = start;
        while (true) {
            int size = RecordBatches.nextEntrySize(buf, index, end, entryBytesMax);
            if (size < 0) {
                return index - start;
            }
            index += size;
        }
    }

    /** Top-level entries: plain messages and compressed wrappers. */
    @Override
    public Iterator<LegacyMessage> iterator() {
        return new Iterator<>() {
            private int index = start;
            private LegacyMessage next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    int size = RecordBatches.nextEntrySize(buf, index, end, entryBytesMax);
                    if (size < 0) {
                        return false;
                    }
                    next = LegacyMessage.wrap(buf, index, index + size);
                    index += size;
                }
                return true;
            }

            @Override
            public LegacyMessage next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                LegacyMessage message = next;
                next = null;
                return message;
            }
        };
    }

    /** Every logical record, unwrapping compressed wrappers; see {@link DeepIterator}. */
    public DeepIterator records(ByteBufAllocator allocator) {
        return new DeepIterator(iterator(), allocator);
    }

    public DeepIterator records() {
        return records(ByteBufAllocator.DEFAULT);
    }

    /**
     * Walks the logical records. Wrapper CRCs are not checked here (call {@link LegacyMessage#ensureValid()} on
     * {@link LegacyRecord#message()}, which for inner records is the inner message). Decompressed wrappers are held
     * until {@link #close()}, so every record returned stays readable until then.
     */
    public static final class DeepIterator implements Iterator<LegacyRecord>, AutoCloseable {
        private final Iterator<LegacyMessage> entries;
        private final ByteBufAllocator allocator;
        private final ArrayDeque<LegacyRecord> pending = new ArrayDeque<>();
        private final List<ByteBuf> decompressed = new ArrayList<>();

        DeepIterator(Iterator<LegacyMessage> entries, ByteBufAllocator allocator) {
            this.entries = entries;
            this.allocator = allocator;
        }

        @Override
        public boolean hasNext() {
            while (pending.isEmpty()) {
                if (!entries.hasNext()) {
                    return false;
                }
                LegacyMessage entry = entries.next();
                if (entry.isCompressed()) {
                    unwrap(entry);
                } else {
                    pending.add(new LegacyRecord(entry.offset(), entry.timestamp(), entry.timestampType(),
                            entry.key(), entry.value(), entry));
                }
            }
            return true;
        }

        @Override
        public LegacyRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return pending.poll();
        }

        private void unwrap(LegacyMessage wrapper) {
            ByteBuf value = wrapper.value();
            if (value == null) {
                throw new CorruptRecordException("compressed legacy message at offset " + wrapper.offset()
                        + " has a null value");
            }
            ByteBuf inner = BoundedDecompression.decompress(wrapper.compression(), value, wrapper.magic(), allocator,
                    RecordIterator.DECOMPRESSED_BYTES_MAX);
            decompressed.add(inner);
            List<LegacyMessage> messages = new ArrayList<>();
            int index = inner.readerIndex();
            int end = inner.writerIndex();
            while (index < end) {
                int size = RecordBatches.nextEntrySize(inner, index, end, Integer.MAX_VALUE);
                if (size < 0) {
                    throw new CorruptRecordException("compressed legacy message at offset " + wrapper.offset()
                            + " ends with a partial inner message");
                }
                LegacyMessage message = LegacyMessage.wrap(inner, index, index + size);
                if (message.magic() != wrapper.magic()) {
                    throw new CorruptRecordException("inner message magic " + message.magic()
                            + " does not match its wrapper's magic " + wrapper.magic());
                }
                if (message.isCompressed()) {
                    throw new CorruptRecordException("inner messages must not be compressed");
                }
                messages.add(message);
                index += size;
            }
            if (messages.isEmpty()) {
                throw new CorruptRecordException("compressed legacy message at offset " + wrapper.offset()
                        + " holds no messages");
            }
            // v1 wrappers carry the absolute offset of their last message and inner offsets relative to it;
            // v0 inner messages carry absolute offsets. Like Kafka, keep inner offsets as they are when the wrapper's
            // offset would make them negative: producers such as kafka-python leave the wrapper offset at 0.
            long offsetBase = wrapper.magic() == LegacyMessage.MAGIC_V0 ? 0
                    : wrapper.offset() - messages.get(messages.size() - 1).offset();
            if (offsetBase < 0) {
                offsetBase = 0;
            }
            // A v1 wrapper's timestamp type applies to its inner messages; its timestamp only for LogAppendTime.
            TimestampType type = wrapper.timestampType();
            boolean logAppendTime = type == TimestampType.LOG_APPEND_TIME;
            for (LegacyMessage message : messages) {
                pending.add(new LegacyRecord(offsetBase + message.offset(),
                        logAppendTime ? wrapper.timestamp() : message.timestamp(), type,
                        message.key(), message.value(), message));
            }
        }

        @Override
        public void close() {
            for (ByteBuf buffer : decompressed) {
                buffer.release();
            }
            decompressed.clear();
            pending.clear();
        }
    }
}
