package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One segment of a partition log: {@code <base offset, 20 digits>.log} holding v2 record batches back to back, with
 * its sparse {@code .index} and {@code .timeindex}. One writer at a time (the owning {@link Log}'s lock); readers
 * run concurrently and only look at bytes below the published {@link #size()}.
 */
final class LogSegment implements Closeable {
    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    static final String TXN_INDEX_SUFFIX = ".txnindex";
    /** Attribute bits of a v2 batch header (see kafka-wire's RecordBatch), read here from headers alone. */
    private static final int TRANSACTIONAL_ATTRIBUTE = 0x10;
    private static final int CONTROL_ATTRIBUTE = 0x20;
    static final String DELETED_SUFFIX = ".deleted";
    static final String CLEANED_SUFFIX = ".cleaned";
    /** A cleaned segment about to replace its originals (see {@link SegmentSwap}). */
    static final String SWAP_SUFFIX = ".swap";
    private static final int HEADER_BYTES = RecordBatch.HEADER_BYTES;

    private final long baseOffset;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private final TransactionIndex txnIndex;
    private final int indexIntervalBytes;
    private final int maxIndexBytes;
    private Path logFile;

    /** Published after the bytes are written, so a reader never sees a position past complete data. */
    private volatile int size;
    private volatile long nextOffset;
    private volatile long maxTimestampSoFar = RecordBatch.NO_TIMESTAMP;
    private volatile long offsetOfMaxTimestampSoFar = -1;
    private int bytesSinceLastIndexEntry;
    private int recoveryTruncatedBytes;
    /** When the segment rolls by time (Kafka's roll decision and its state). */
    private final SegmentRollClock rollClock;

    private LogSegment(Path dir, long baseOffset, LogConfig config, String suffix) throws IOException {
        this.baseOffset = baseOffset;
        this.logFile = dir.resolve(fileName(baseOffset) + LOG_SUFFIX + suffix);
        this.channel = FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.indexIntervalBytes = config.indexIntervalBytes();
        this.maxIndexBytes = config.segmentIndexBytes();
        this.offsetIndex = new OffsetIndex(dir.resolve(fileName(baseOffset) + INDEX_SUFFIX + suffix), baseOffset,
                maxIndexBytes);
        this.timeIndex = new TimeIndex(dir.resolve(fileName(baseOffset) + TIME_INDEX_SUFFIX + suffix), baseOffset,
                maxIndexBytes);
        this.txnIndex = new TransactionIndex(dir.resolve(fileName(baseOffset) + TXN_INDEX_SUFFIX + suffix));
        long fileSize = channel.size();
        if (fileSize > Integer.MAX_VALUE) {
            throw new IOException("segment " + logFile + " is larger than 2 GiB");
        }
        this.size = (int) fileSize;
        this.nextOffset = baseOffset;
        this.rollClock = new SegmentRollClock(config.randomSegmentJitter());
    }

    static String fileName(long offset) {
        // Zero-padded to 20 digits, Kafka's names; by hand: String.format's parsing took a quarter of a new log's
        // opening CPU (a new __consumer_offsets opens 50).
        String digits = Long.toString(offset);
        if (offset < 0 || digits.length() >= 20) return String.format("%020d", offset);
        return "00000000000000000000".substring(digits.length()) + digits;
    }

    /** Creates an empty segment (or a fresh one for compaction output, with {@code suffix} ".cleaned"). */
    static LogSegment create(Path dir, long baseOffset, LogConfig config, long nowMs, String suffix)
            throws IOException {
        LogSegment segment = new LogSegment(dir, baseOffset, config, suffix);
        if (segment.size != 0) {
            segment.channel.truncate(0);
            segment.size = 0;
        }
        segment.offsetIndex.reset();
        segment.timeIndex.reset();
        segment.txnIndex.reset();
        segment.rollClock.start(nowMs, RecordBatch.NO_TIMESTAMP);
        return segment;
    }

    /**
     * Opens an existing segment trusting its bytes up to the last index entry (it was flushed before the recovery
     * point); the rest is scanned to find the next offset and largest timestamp. Indexes that fail their sanity check
     * are rebuilt from the log.
     */
    static LogSegment load(Path dir, long baseOffset, LogConfig config, long nowMs, LeaderEpochCache epochs)
            throws IOException {
        LogSegment segment = new LogSegment(dir, baseOffset, config, "");
        if (!segment.offsetIndex.isSane(Math.max(segment.size, 1)) || segment.size == 0
                && segment.offsetIndex.entries() > 0) {
            segment.recover(epochs);
        } else {
            segment.scanTail();
            if (!segment.timeIndex.isSane(segment.nextOffset)) {
                segment.recover(epochs);
            }
        }
        segment.rollClock.start(nowMs, segment.firstBatchTimestamp());
        return segment;
    }

    /** Opens an existing segment and rebuilds its indexes from its batches; see {@link #recover}. */
    static LogSegment loadAndRecover(Path dir, long baseOffset, LogConfig config, long nowMs,
            LeaderEpochCache epochs) throws IOException {
        LogSegment segment = new LogSegment(dir, baseOffset, config, "");
        segment.recoveryTruncatedBytes = segment.recover(epochs);
        segment.rollClock.start(nowMs, segment.firstBatchTimestamp());
        return segment;
    }

    /** Bytes {@link #loadAndRecover} cut off as a torn tail. */
    int recoveryTruncatedBytes() {
        return recoveryTruncatedBytes;
    }

    /** The segment becomes the active one again: give its indexes room to grow. */
    void makeActive() throws IOException {
        offsetIndex.expandTo(maxIndexBytes);
        timeIndex.expandTo(maxIndexBytes);
    }

    long baseOffset() {
        return baseOffset;
    }

    int size() {
        return size;
    }

    /** The offset after the last batch; the base offset when empty. */
    long nextOffset() {
        return nextOffset;
    }

    boolean isEmpty() {
        return size == 0;
    }

    long maxTimestampSoFar() {
        return maxTimestampSoFar;
    }

    Path logFile() {
        return logFile;
    }

    FileChannel channel() {
        return channel;
    }

    long rollJitterMs() {
        return rollClock.jitterMs();
    }

    /** Whether the segment rolls by time before an append (see {@link SegmentRollClock#shouldRoll}). */
    boolean shouldRollByTime(long nowMs, long maxTimestampInMessages, long maxSegmentMs) {
        return rollClock.shouldRoll(size == 0, nowMs, maxTimestampInMessages, maxSegmentMs);
    }

    /** The newest timestamp in the segment for retention; the file's modification time when no batch has one. */
    long largestTimestamp() throws IOException {
        long max = maxTimestampSoFar;
        return max >= 0 ? max : Files.getLastModifiedTime(logFile).toMillis();
    }

    boolean indexIsFull() {
        return offsetIndex.isFull() || timeIndex.isFull();
    }

    /**
     * Appends batches whose offsets are already assigned, increasing and above {@link #nextOffset()}. The caller has
     * validated them.
     */
    void append(ByteBuf batches) throws IOException {
        int start = batches.readerIndex();
        int length = batches.readableBytes();
        if ((long) size + length > Integer.MAX_VALUE) {
            throw new IllegalStateException("segment " + logFile + " would exceed 2 GiB");
        }
        int position = size;
        if (bytesSinceLastIndexEntry + length > indexIntervalBytes) {
            // This append may write index entries: a new segment's index files are created now, before its bytes
            // (IndexFile: created with the first entry), so a failure to create them fails the append cleanly.
            offsetIndex.materialize();
            timeIndex.materialize();
        }
        // Through fresh NIO views of the bytes, never the buffer's own channel transfer: a produce request's records
        // are a slice of the connection's read buffer, which its event loop may go on filling behind them while this
        // (request) thread writes, and Netty 4.2's adaptive buffers transfer to a channel through the one NIO view
        // they cache, resetting it under the event loop's writes (which then land at the buffer's start:
        // LogAppendFromSharedBufferTest). nioBuffers(index, length) returns new views and changes nothing shared.
        long written = 0;
        for (ByteBuffer part : batches.nioBuffers(start, length)) {
            int end = part.limit();
            while (part.hasRemaining()) {
                // A heap part in pieces: the JDK caches a direct buffer as large as each write per thread (FileReads).
                if (!part.isDirect()) part.limit((int) Math.min(end, (long) part.position() + FileReads.CHUNK_BYTES));
                written += channel.write(part, position + written);
                part.limit(end);
            }
        }
        if (written != length) {
            throw new IllegalStateException("wrote " + written + " of " + length + " bytes to " + logFile);
        }
        long next = nextOffset;
        int end = position;
        long appendMaxTimestamp = RecordBatch.NO_TIMESTAMP;
        for (RecordBatch batch : RecordBatches.of(batches)) {
            if (batch.baseOffset() < next) {
                throw new IllegalStateException("batch at offset " + batch.baseOffset() + " does not follow "
                        + next + " in " + logFile);
            }
            end += batch.sizeInBytes();
            next = batch.nextOffset();
            appendMaxTimestamp = Math.max(appendMaxTimestamp, batch.maxTimestamp());
        }
        if (end != position + length) {
            throw new IllegalStateException("appended bytes end inside a batch in " + logFile);
        }
        // Publish the data before the index entries that point into it: a reader that sees an entry must also see
        // the bytes it points at.
        if (position == 0) {
            rollClock.firstAppend(appendMaxTimestamp);
        }
        nextOffset = next;
        size = end;
        int batchPosition = position;
        for (RecordBatch batch : RecordBatches.of(batches)) {
            indexBatch(batch.lastOffset(), batch.maxTimestamp(), batchPosition, batch.sizeInBytes());
            batchPosition += batch.sizeInBytes();
        }
    }

    private void indexBatch(long lastOffset, long maxTimestamp, int position, int batchBytes) {
        if (maxTimestamp > maxTimestampSoFar) {
            maxTimestampSoFar = maxTimestamp;
            offsetOfMaxTimestampSoFar = lastOffset;
        }
        if (bytesSinceLastIndexEntry > indexIntervalBytes) {
            offsetIndex.append(lastOffset, position);
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
            bytesSinceLastIndexEntry = 0;
        }
        bytesSinceLastIndexEntry += batchBytes;
    }

    /** Where a batch sits in the file, the offsets it covers, and the header fields the log itself needs. */
    record BatchPosition(int position, int size, long baseOffset, long lastOffset, long maxTimestamp,
                         short attributes, long producerId) {
        boolean isTransactional() {
            return (attributes & TRANSACTIONAL_ATTRIBUTE) != 0;
        }

        boolean isControl() {
            return (attributes & CONTROL_ATTRIBUTE) != 0;
        }
    }

    TransactionIndex txnIndex() {
        return txnIndex;
    }

    OffsetIndex offsetIndex() {
        return offsetIndex;
    }

    TimeIndex timeIndex() {
        return timeIndex;
    }

    /** The offset of the first record carrying {@link #maxTimestampSoFar()}; -1 when no batch has a timestamp. */
    long offsetOfMaxTimestampSoFar() {
        return offsetOfMaxTimestampSoFar;
    }

    /** Reads the batch header at {@code position}; null when less than a header remains below {@code limit}. */
    BatchPosition headerAt(int position, int limit, ByteBuffer scratch) throws IOException {
        if (limit - position < HEADER_BYTES) {
            return null;
        }
        scratch.clear();
        readFully(scratch, position);
        int batchBytes = RecordBatch.LOG_OVERHEAD + scratch.getInt(RecordBatch.LENGTH_OFFSET);
        long base = scratch.getLong(RecordBatch.BASE_OFFSET_OFFSET);
        long last = base + scratch.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
        return new BatchPosition(position, batchBytes, base, last,
                scratch.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET), scratch.getShort(RecordBatch.ATTRIBUTES_OFFSET),
                scratch.getLong(RecordBatch.PRODUCER_ID_OFFSET));
    }

    private void readFully(ByteBuffer target, long position) throws IOException {
        FileReads.readFully(channel, target, position, logFile);
    }

    /** The first batch whose last offset is at least {@code offset}, searching from the offset index hint. */
    BatchPosition translateOffset(long offset) throws IOException {
        int position = offsetIndex.lookupPosition(offset);
        int limit = size;
        ByteBuffer scratch = ByteBuffer.allocate(HEADER_BYTES);
        while (position < limit) {
            BatchPosition batch = headerAt(position, limit, scratch);
            if (batch == null) {
                return null;
            }
            if (batch.lastOffset() >= offset) {
                return batch;
            }
            position += batch.size();
        }
        return null;
    }

    /** Reads the whole batch at {@code batch} into a new buffer the caller releases. */
    ByteBuf readBatch(BatchPosition batch) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(batch.size());
        readFully(bytes, batch.position());
        return Unpooled.wrappedBuffer(bytes.array());
    }

    /** Every batch header from the start, in order: for the cleaner and for tests. */
    java.util.List<BatchPosition> batches() throws IOException {
        java.util.List<BatchPosition> result = new java.util.ArrayList<>();
        int limit = size;
        int position = 0;
        ByteBuffer scratch = ByteBuffer.allocate(HEADER_BYTES);
        while (position < limit) {
            BatchPosition batch = headerAt(position, limit, scratch);
            if (batch == null) {
                break;
            }
            result.add(batch);
            position += batch.size();
        }
        return result;
    }

    /**
     * Rebuilds the indexes from the batches, checking each batch's framing, CRC and offset order, and truncates the
     * file at the first batch that fails: a torn tail from a crash mid-write. Returns the bytes cut off. Each valid
     * batch's partition leader epoch goes to {@code epochs} (kept only when newer than the latest known one, as
     * Kafka's LogSegment.recover does): an epoch whose records reached the file but whose checkpoint line did not
     * (a crash between the append and the checkpoint's write) is found again.
     */
    int recover(LeaderEpochCache epochs) throws IOException {
        offsetIndex.expandTo(maxIndexBytes);
        timeIndex.expandTo(maxIndexBytes);
        offsetIndex.reset();
        timeIndex.reset();
        maxTimestampSoFar = RecordBatch.NO_TIMESTAMP;
        offsetOfMaxTimestampSoFar = -1;
        bytesSinceLastIndexEntry = 0;
        long fileSize = channel.size();
        int limit = (int) Math.min(fileSize, Integer.MAX_VALUE);
        int position = 0;
        long next = baseOffset;
        ByteBuffer scratch = ByteBuffer.allocate(HEADER_BYTES);
        while (position < limit) {
            BatchPosition header = headerAt(position, limit, scratch);
            if (header == null || header.size() < HEADER_BYTES || (long) position + header.size() > limit
                    || scratch.get(RecordBatch.MAGIC_OFFSET) != RecordBatch.MAGIC
                    || header.baseOffset() < next || header.lastOffset() < header.baseOffset()) {
                break;
            }
            ByteBuf bytes = readBatch(header);
            try {
                if (!RecordBatch.wrap(bytes, 0).isValid()) {
                    break;
                }
            } catch (CorruptRecordException e) {
                break;
            } finally {
                bytes.release();
            }
            indexBatch(header.lastOffset(), header.maxTimestamp(), position, header.size());
            epochs.assign(scratch.getInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET), header.baseOffset());
            position += header.size();
            next = header.lastOffset() + 1;
        }
        int truncated = (int) (fileSize - position);
        if (truncated > 0) {
            channel.truncate(position);
        }
        size = position;
        nextOffset = next;
        return truncated;
    }

    /** Recomputes the next offset and largest timestamp from the batches after the last offset index entry. */
    private void scanTail() throws IOException {
        int limit = size;
        int position = offsetIndex.lastPosition();
        long next = baseOffset;
        long max = timeIndex.lastTimestamp();
        long offsetOfMax = max >= 0 ? timeIndex.offsetOf(timeIndex.entries() - 1) : -1;
        ByteBuffer scratch = ByteBuffer.allocate(HEADER_BYTES);
        int bytesSince = 0;
        while (position < limit) {
            BatchPosition batch = headerAt(position, limit, scratch);
            if (batch == null) {
                break;
            }
            if (batch.maxTimestamp() > max) {
                max = batch.maxTimestamp();
                offsetOfMax = batch.lastOffset();
            }
            next = batch.lastOffset() + 1;
            position += batch.size();
            bytesSince += batch.size();
        }
        nextOffset = next;
        maxTimestampSoFar = max;
        offsetOfMaxTimestampSoFar = offsetOfMax;
        bytesSinceLastIndexEntry = bytesSince;
    }

    /**
     * The largest timestamp of the first batch (Kafka's LogSegment.getFirstBatchTimestamp), or -1 when the segment is
     * empty or the batch has none: max.compaction.lag.ms is counted from it.
     */
    long firstBatchTimestamp() throws IOException {
        BatchPosition first = headerAt(0, size, ByteBuffer.allocate(HEADER_BYTES));
        return first == null ? RecordBatch.NO_TIMESTAMP : first.maxTimestamp();
    }

    /**
     * Drops every batch whose last offset is at least {@code offset} (a batch holding {@code offset} goes whole).
     * Returns the bytes removed. A segment left empty counts its age from {@code nowMs} again, as Kafka's.
     */
    int truncateTo(long offset, long nowMs) throws IOException {
        BatchPosition from = translateOffset(offset);
        if (from == null) {
            return 0;
        }
        int removed = size - from.position();
        offsetIndex.expandTo(maxIndexBytes);
        timeIndex.expandTo(maxIndexBytes);
        offsetIndex.truncateTo(from.baseOffset());
        timeIndex.truncateTo(from.baseOffset());
        txnIndex.truncateTo(from.baseOffset());
        size = from.position();
        channel.truncate(from.position());
        scanTail();
        if (size == 0) {
            nextOffset = baseOffset;
            rollClock.start(nowMs, RecordBatch.NO_TIMESTAMP);
        }
        return removed;
    }

    void flush() throws IOException {
        channel.force(true);
        offsetIndex.flush();
        timeIndex.flush();
        txnIndex.flush();
    }

    /** The segment stops being active: record the final largest timestamp and trim the preallocated indexes. */
    void onBecomeInactive() throws IOException {
        if (offsetOfMaxTimestampSoFar >= 0 && !timeIndex.isFull()) {
            timeIndex.materialize();
            timeIndex.maybeAppend(maxTimestampSoFar, offsetOfMaxTimestampSoFar);
        }
        offsetIndex.trimToValidSize();
        timeIndex.trimToValidSize();
    }

    /** Renames the files with {@code suffix} (".deleted" before delayed deletion). */
    void renameTo(String suffix) throws IOException {
        Path dir = logFile.getParent();
        String stem = fileName(baseOffset);
        Path target = dir.resolve(stem + LOG_SUFFIX + suffix);
        Files.move(logFile, target);
        logFile = target;
        offsetIndex.renameTo(dir.resolve(stem + INDEX_SUFFIX + suffix));
        timeIndex.renameTo(dir.resolve(stem + TIME_INDEX_SUFFIX + suffix));
        txnIndex.renameTo(dir.resolve(stem + TXN_INDEX_SUFFIX + suffix));
    }

    /** Renames ".cleaned" files to their final names (compaction swap). */
    void renameToFinal() throws IOException {
        Path dir = logFile.getParent();
        String stem = fileName(baseOffset);
        Path target = dir.resolve(stem + LOG_SUFFIX);
        Files.move(logFile, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        logFile = target;
        Path index = dir.resolve(stem + INDEX_SUFFIX);
        Path timeIndexFile = dir.resolve(stem + TIME_INDEX_SUFFIX);
        Files.deleteIfExists(index);
        Files.deleteIfExists(timeIndexFile);
        offsetIndex.renameTo(index);
        timeIndex.renameTo(timeIndexFile);
        // A non-empty cleaned transaction index replaces the original in one rename, so no crash leaves the segment
        // without the entries that hide its aborted records; an empty one has no file, so the original is deleted.
        Path txnIndexFile = dir.resolve(stem + TXN_INDEX_SUFFIX);
        if (txnIndex.isEmpty()) {
            Files.deleteIfExists(txnIndexFile);
        }
        txnIndex.renameTo(txnIndexFile);
    }

    @Override
    public void close() throws IOException {
        try {
            if (channel.isOpen()) {
                onBecomeInactive();
            }
        } finally {
            channel.close();
        }
    }

    /** Closes the file without touching any path: the files were already replaced by a compacted segment. */
    void closeChannel() throws IOException {
        channel.close();
    }

    /** The producer id of the batch at {@code batch} (-1 when it has none). */
    long producerIdAt(BatchPosition batch) throws IOException {
        ByteBuffer field = ByteBuffer.allocate(8);
        readFully(field, batch.position() + RecordBatch.PRODUCER_ID_OFFSET);
        return field.getLong(0);
    }

    void closeAndDelete() throws IOException {
        channel.close();
        Files.deleteIfExists(logFile);
        offsetIndex.deleteFile();
        timeIndex.deleteFile();
        txnIndex.deleteFile();
    }

    /** The type of the control record in the control batch at {@code batch} (ABORT or COMMIT for markers). */
    ControlRecordType controlTypeAt(BatchPosition batch) throws IOException {
        ByteBuf bytes = readBatch(batch);
        try {
            return controlType(RecordBatch.wrap(bytes, 0));
        } finally {
            bytes.release();
        }
    }

    static ControlRecordType controlType(RecordBatch batch) {
        try (RecordIterator records = batch.records()) {
            if (!records.hasNext()) {
                return null;
            }
            Record first = records.next();
            return first.hasKey() ? ControlRecordType.parse(first.key()) : null;
        }
    }

    @Override
    public String toString() {
        return "LogSegment(" + logFile + ", base=" + baseOffset + ", next=" + nextOffset + ", size=" + size + ")";
    }
}
