package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.Compression;
import io.tandem.kafka.wire.compress.CompressionType;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * Writes a legacy message set (magic 0 or 1) into a caller's buffer at its writer index, as Kafka's
 * MemoryRecordsBuilder does for old formats. Uncompressed: one entry per record, written immediately. Compressed:
 * inner messages are collected in a scratch buffer and written at {@link #build()} as one wrapper message whose offset
 * is the last inner offset; v1 inner offsets are relative to the base offset, v0 inner offsets are absolute. A v1
 * wrapper's timestamp is the log append time, or else the largest inner timestamp.
 */
public final class LegacyMessageSetBuilder implements AutoCloseable {
    private final ByteBuf out;
    private final ByteBufAllocator allocator;
    private final byte magic;
    private final int start;

    private CompressionType compression = CompressionType.NONE;
    private TimestampType timestampType;
    private long logAppendTime = RecordBatch.NO_TIMESTAMP;
    private long baseOffset;

    private ByteBuf scratch;
    private boolean started;
    private boolean built;
    private int recordCount;
    private long lastOffset = -1;
    private long maxTimestamp = RecordBatch.NO_TIMESTAMP;

    private LegacyMessageSetBuilder(ByteBuf out, byte magic, ByteBufAllocator allocator) {
        if (magic != LegacyMessage.MAGIC_V0 && magic != LegacyMessage.MAGIC_V1) {
            throw new IllegalArgumentException("legacy message sets have magic 0 or 1, not " + magic);
        }
        this.out = out;
        this.magic = magic;
        this.allocator = allocator;
        this.start = out.writerIndex();
        this.timestampType = magic == LegacyMessage.MAGIC_V0 ? TimestampType.NO_TIMESTAMP_TYPE
                : TimestampType.CREATE_TIME;
    }

    public static LegacyMessageSetBuilder create(ByteBuf out, byte magic) {
        return new LegacyMessageSetBuilder(out, magic, ByteBufAllocator.DEFAULT);
    }

    public static LegacyMessageSetBuilder create(ByteBuf out, byte magic, ByteBufAllocator allocator) {
        return new LegacyMessageSetBuilder(out, magic, allocator);
    }

    /** Any codec but zstd, which Kafka allows only from message format v2 on. */
    public LegacyMessageSetBuilder compression(CompressionType compression) {
        checkNotStarted();
        if (compression == CompressionType.ZSTD) {
            throw new IllegalArgumentException("zstd is not supported by message format v" + magic);
        }
        this.compression = compression;
        return this;
    }

    /** v1 only: every message (or the wrapper) carries the broker's append time and the LogAppendTime bit. */
    public LegacyMessageSetBuilder logAppendTime(long logAppendTime) {
        checkNotStarted();
        if (magic == LegacyMessage.MAGIC_V0) {
            throw new IllegalStateException("message format v0 has no timestamps");
        }
        this.timestampType = TimestampType.LOG_APPEND_TIME;
        this.logAppendTime = logAppendTime;
        return this;
    }

    public LegacyMessageSetBuilder baseOffset(long baseOffset) {
        checkNotStarted();
        this.baseOffset = baseOffset;
        return this;
    }

    public int recordCount() {
        return recordCount;
    }

    public long nextOffset() {
        return recordCount == 0 ? baseOffset : lastOffset + 1;
    }

    public LegacyMessageSetBuilder append(long timestamp, ByteBuf key, ByteBuf value) {
        return appendWithOffset(nextOffset(), timestamp, key, value);
    }

    public LegacyMessageSetBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key == null ? null : Unpooled.wrappedBuffer(key),
                value == null ? null : Unpooled.wrappedBuffer(value));
    }

    /** Appends at a given offset, above the previous one. The timestamp is ignored for v0. */
    public LegacyMessageSetBuilder appendWithOffset(long offset, long timestamp, ByteBuf key, ByteBuf value) {
        if (built) {
            throw new IllegalStateException("message set is already built");
        }
        if (recordCount > 0 && offset <= lastOffset) {
            throw new IllegalArgumentException("offset " + offset + " is not above the previous offset " + lastOffset);
        }
        if (offset < baseOffset) {
            throw new IllegalArgumentException("offset " + offset + " is below the base offset " + baseOffset);
        }
        if (timestamp < 0 && timestamp != RecordBatch.NO_TIMESTAMP) {
            throw new IllegalArgumentException("invalid negative timestamp " + timestamp);
        }
        started = true;
        long effectiveTimestamp = magic == LegacyMessage.MAGIC_V0 ? RecordBatch.NO_TIMESTAMP
                : timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : timestamp;
        if (compression == CompressionType.NONE) {
            writeMessage(out, offset, CompressionType.NONE, effectiveTimestamp, key, value);
        } else {
            if (scratch == null) {
                scratch = allocator.heapBuffer(1024);
            }
            long innerOffset = magic == LegacyMessage.MAGIC_V0 ? offset : offset - baseOffset;
            writeMessage(scratch, innerOffset, CompressionType.NONE, effectiveTimestamp, key, value);
        }
        recordCount++;
        lastOffset = offset;
        if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        return this;
    }

    /** Writes one entry: offset, size, crc, magic, attributes, [timestamp], key, value. */
    private void writeMessage(ByteBuf target, long offset, CompressionType codec, long timestamp, ByteBuf key,
                              ByteBuf value) {
        int entryStart = target.writerIndex();
        target.writeLong(offset);
        target.writeInt(0); // size, patched below
        target.writeInt(0); // crc, patched below
        target.writeByte(magic);
        int attributes = codec.id;
        if (magic == LegacyMessage.MAGIC_V1) {
            if (timestampType == TimestampType.LOG_APPEND_TIME) {
                attributes |= RecordAttributes.TIMESTAMP_TYPE_MASK;
            }
            target.writeByte(attributes);
            target.writeLong(timestamp);
        } else {
            target.writeByte(attributes);
        }
        writeBytesField(target, key);
        writeBytesField(target, value);
        int size = target.writerIndex() - entryStart - RecordBatch.LOG_OVERHEAD;
        target.setInt(entryStart + LegacyMessage.SIZE_OFFSET, size);
        long crc = Checksums.crc32(target, entryStart + LegacyMessage.MAGIC_OFFSET,
                target.writerIndex() - entryStart - LegacyMessage.MAGIC_OFFSET);
        target.setInt(entryStart + LegacyMessage.CRC_OFFSET, (int) crc);
    }

    private static void writeBytesField(ByteBuf target, ByteBuf bytes) {
        if (bytes == null) {
            target.writeInt(-1);
        } else {
            target.writeInt(bytes.readableBytes());
            target.writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
        }
    }

    /**
     * Finishes the set (writing the compressed wrapper, if any) and returns the number of bytes written to the
     * target. An empty set writes nothing.
     */
    public int build() {
        if (built) {
            throw new IllegalStateException("message set is already built");
        }
        built = true;
        if (scratch != null) {
            try {
                int wrapperStart = out.writerIndex();
                long wrapperTimestamp = timestampType == TimestampType.LOG_APPEND_TIME ? logAppendTime : maxTimestamp;
                out.writeLong(lastOffset);
                out.writeInt(0);
                out.writeInt(0);
                out.writeByte(magic);
                int attributes = compression.id;
                if (magic == LegacyMessage.MAGIC_V1) {
                    if (timestampType == TimestampType.LOG_APPEND_TIME) {
                        attributes |= RecordAttributes.TIMESTAMP_TYPE_MASK;
                    }
                    out.writeByte(attributes);
                    out.writeLong(wrapperTimestamp);
                } else {
                    out.writeByte(attributes);
                }
                out.writeInt(-1); // a wrapper has no key
                int valueSizeIndex = out.writerIndex();
                out.writeInt(0);
                try (OutputStream compressed = Compression.wrapForOutput(compression, new ByteBufOutputStream(out),
                        magic)) {
                    scratch.readBytes(compressed, scratch.readableBytes());
                } catch (IOException e) {
                    throw new UncheckedIOException("compressing into a memory buffer failed", e);
                }
                out.setInt(valueSizeIndex, out.writerIndex() - valueSizeIndex - 4);
                out.setInt(wrapperStart + LegacyMessage.SIZE_OFFSET,
                        out.writerIndex() - wrapperStart - RecordBatch.LOG_OVERHEAD);
                long crc = Checksums.crc32(out, wrapperStart + LegacyMessage.MAGIC_OFFSET,
                        out.writerIndex() - wrapperStart - LegacyMessage.MAGIC_OFFSET);
                out.setInt(wrapperStart + LegacyMessage.CRC_OFFSET, (int) crc);
            } finally {
                scratch.release();
                scratch = null;
            }
        }
        return out.writerIndex() - start;
    }

    @Override
    public void close() {
        if (scratch != null) {
            scratch.release();
            scratch = null;
        }
        built = true;
    }

    private void checkNotStarted() {
        if (started || built) {
            throw new IllegalStateException("message set settings must come before the first record");
        }
    }
}
