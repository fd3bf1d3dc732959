package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.kafka.wire.record.TimestampType;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * Key-based compaction for cleanup.policy=compact, following Kafka's cleaner:
 * <ul>
 * <li>Only whole segments below the active segment, the last stable offset (so the high watermark and every open
 *     transaction) and min.compaction.lag.ms are cleaned.</li>
 * <li>For each key the record with the highest offset in that range is kept; older ones go. Records without a key
 *     go too (Kafka's cleaner discards them as invalid for a compacted topic).</li>
 * <li>A tombstone (null value) is kept through the first cleaning, which stamps its batch with a delete horizon of
 *     now + delete.retention.ms; a later cleaning after the horizon removes it. Consumers reading from the start
 *     within delete.retention.ms therefore still see the delete.</li>
 * <li>Rewritten batches keep their base offset, last offset (so the producer's last sequence survives), producer
 *     fields, leader epoch, timestamp type and compression. When every record of a producer's last batch goes, an
 *     empty batch stays behind to keep the producer's state, as Kafka does: its last data batch, or its last marker
 *     when it has no data batch left.</li>
 * <li>Records of aborted transactions go; committed transactional records are compacted like any others. A
 *     transaction marker stays while any batch of its transaction is left; after that the first cleaning stamps it
 *     with a delete horizon of now + delete.retention.ms and a later one past the horizon removes it, as Kafka does
 *     (see {@link CleanedTransactions}). The aborted-transaction index keeps exactly the entries whose marker and
 *     data remain.</li>
 * </ul>
 * Segments are rewritten outside the log's lock into {@code .cleaned} files, adjacent small ones merged into one
 * ({@link #groupBySize}), then swapped in under the lock only if the segments are still the ones that were read
 * (truncation or retention may have replaced them meanwhile); {@link SegmentSwap} makes the swap crash-safe.
 *
 * <p>A pass checks before every batch it reads (as Kafka's cleaner checks at every read buffer) whether the log
 * started closing or its caller asked it to stop, and then gives up: a pass over a segment of a gigabyte takes
 * seconds, which a broker's close would otherwise wait out.
 */
final class LogCleaner {
    private static final System.Logger LOG = System.getLogger(LogCleaner.class.getName());
    /**
     * Keys held in memory per pass (each costs its bytes plus ~100 bytes of map overhead), the counterpart of Kafka's
     * log.cleaner.dedupe.buffer.size. A pass maps whole segments until it reaches this, then cleans those.
     */
    static final int KEYS_MAX = 500_000;

    private LogCleaner() {
    }

    /** What one cleaning pass did. */
    record Result(int segmentsRewritten, long recordsRemoved, long bytesBefore, long bytesAfter) {
        static final Result NOTHING = new Result(0, 0, 0, 0);
    }

    /**
     * Cleans when forced or when the uncleaned share of the cleanable bytes is above min.cleanable.dirty.ratio
     * (strictly, as Kafka's LogCleanerManager.grabFilthiestCompactedLog: a log exactly at the ratio waits).
     *
     * @param stopRequested asked before every batch the pass reads; true stops the pass
     * @throws LogCleaningAbortedException when {@code stopRequested} said so
     * @throws LogClosedException when the log started closing during the pass
     */
    static Result clean(Log log, boolean force, BooleanSupplier stopRequested) throws IOException {
        Runnable checkDone = () -> {
            if (stopRequested.getAsBoolean()) {
                throw new LogCleaningAbortedException("cleaning of " + log.dir() + " stopped");
            }
            log.ensureOpen();
        };
        LogConfig config = log.config();
        long now = log.clock().getAsLong();
        List<LogSegment> candidates = new ArrayList<>();
        long firstDirty = log.firstDirtyOffset();
        long dirtyBytes = 0;
        long totalBytes = 0;
        long earliestDirtyTimestamp = Long.MAX_VALUE;
        long truncations;
        List<AbortedTransaction> aborted = new ArrayList<>();
        log.lock().lock();
        try {
            truncations = log.truncationCount();
            LogSegment active = log.segments().lastEntry().getValue();
            // Above the last stable offset a transaction may still end either way, so nothing there is decided yet.
            long lastStable = log.lastStableOffset();
            for (LogSegment segment : log.segments().headMap(active.baseOffset(), false).values()) {
                if (segment.nextOffset() > lastStable || !segment.isEmpty()
                        && segment.largestTimestamp() > now - config.minCompactionLagMs()) {
                    break;
                }
                candidates.add(segment);
                totalBytes += segment.size();
                if (segment.nextOffset() > firstDirty) {
                    dirtyBytes += segment.size();
                }
            }
            // max.compaction.lag.ms, as Kafka's LogCleanerManager.maxCompactionDelay: the oldest first-batch timestamp
            // of the dirty segments below the active one, cleanable now or not.
            for (LogSegment segment : log.segments().headMap(active.baseOffset(), false).values()) {
                long first = segment.nextOffset() > firstDirty ? segment.firstBatchTimestamp() : -1;
                if (first > 0) {
                    earliestDirtyTimestamp = Math.min(earliestDirtyTimestamp, first);
                }
            }
            // An abort's index entry sits with its marker, which may lie beyond the cleanable range.
            for (LogSegment segment : log.segments().values()) {
                aborted.addAll(segment.txnIndex().overlapping(Long.MIN_VALUE, Long.MAX_VALUE));
            }
        } finally {
            log.lock().unlock();
        }
        // A forced pass also re-cleans already clean segments: that is when tombstones past their horizon go. A log
        // whose oldest dirty record waited longer than max.compaction.lag.ms is cleaned whatever its dirty ratio,
        // when anything is cleanable (Kafka's needCompactionNow).
        boolean overdue = earliestDirtyTimestamp < now - config.maxCompactionLagMs();
        boolean dirtyEnough = (double) dirtyBytes / Math.max(1, totalBytes) > config.minCleanableDirtyRatio();
        if (candidates.isEmpty() || !force && (dirtyBytes == 0 || !overdue && !dirtyEnough)) {
            return Result.NOTHING;
        }
        Map<ByteBuffer, Long> latest = new HashMap<>();
        CleanedTransactions mapTransactions = new CleanedTransactions(aborted);
        int mapped = 0;
        for (LogSegment segment : candidates) {
            if (latest.size() >= KEYS_MAX && mapped > 0) {
                // The key map is full: clean up to here now, the rest in a later pass. Records superseded only by
                // segments beyond this point are kept for now, which is safe.
                break;
            }
            mapped++;
            forEachBatch(segment, checkDone, batch -> {
                if (batch.isControl()) {
                    mapTransactions.isDiscardable(batch);
                    return;
                }
                if (mapTransactions.isAborted(batch)) {
                    return; // an aborted record must never supersede a committed one
                }
                try (RecordIterator records = batch.records()) {
                    while (records.hasNext()) {
                        Record record = records.next();
                        if (record.hasKey()) {
                            latest.put(ByteBuffer.wrap(ByteBufUtil.getBytes(record.key())), record.offset());
                        }
                    }
                }
            });
        }
        candidates = candidates.subList(0, mapped);
        long cleanableEnd = candidates.get(candidates.size() - 1).nextOffset();
        ProducerLastBatches lastBatches = ProducerLastBatches.of(log, checkDone);
        CleanedTransactions transactions = new CleanedTransactions(aborted);
        int rewritten = 0;
        long removed = 0;
        long before = 0;
        long after = 0;
        for (List<LogSegment> group : groupBySize(candidates, config.segmentBytes(), config.segmentIndexBytes(),
                cleanableEnd)) {
            SegmentRewrite rewrite = rewrite(log, group, latest, transactions, lastBatches, now, config, checkDone);
            if (rewrite == null) {
                continue;
            }
            if (SegmentSwap.replace(log, group, rewrite.cleaned, truncations)) {
                rewritten += group.size();
                removed += rewrite.removed;
                for (LogSegment segment : group) {
                    before += segment.size();
                }
                after += rewrite.cleaned.size();
            }
        }
        log.markCleanedUpTo(cleanableEnd);
        if (rewritten > 0) {
            LOG.log(Level.INFO, "compacted {0}: {1} segments rewritten, {2} records removed, {3} -> {4} bytes",
                    log.dir().getFileName(), rewritten, removed, before, after);
        }
        return new Result(rewritten, removed, before, after);
    }

    private record SegmentRewrite(LogSegment cleaned, long removed) {
    }

    /**
     * Writes the retained records of {@code group} (one segment, or adjacent ones merged as Kafka's cleaner merges
     * them) to one .cleaned segment with the first one's base offset; null when a single segment would not change.
     * A group is always rewritten: merging is a change in itself.
     */
    private static SegmentRewrite rewrite(Log log, List<LogSegment> group, Map<ByteBuffer, Long> latest,
            CleanedTransactions transactions, ProducerLastBatches lastBatches, long now, LogConfig config,
            Runnable checkDone) throws IOException {
        LogSegment cleaned = null;
        long removed = 0;
        boolean done = false;
        try {
            for (LogSegment segment : group) {
                CleanedBytes bytes = cleanSegment(segment, latest, transactions, lastBatches, now, config, checkDone);
                try {
                    removed += bytes.removed;
                    if (group.size() == 1 && !bytes.changed && bytes.entries
                            .equals(segment.txnIndex().overlapping(Long.MIN_VALUE, Long.MAX_VALUE))) {
                        return null;
                    }
                    if (cleaned == null) {
                        cleaned = LogSegment.create(log.dir(), group.get(0).baseOffset(), config, now,
                                LogSegment.CLEANED_SUFFIX);
                    }
                    if (bytes.output.isReadable()) {
                        cleaned.append(bytes.output);
                    }
                    // Only aborts whose data is still in the log keep an entry: a read_committed consumer drops the
                    // producer's records from firstOffset until it meets the marker, so an entry must never outlive
                    // its marker.
                    for (AbortedTransaction txn : bytes.entries) {
                        cleaned.txnIndex().append(txn);
                    }
                } finally {
                    bytes.output.release();
                }
            }
            cleaned.flush();
            cleaned.onBecomeInactive();
            done = true;
            return new SegmentRewrite(cleaned, removed);
        } finally {
            if (!done && cleaned != null) {
                cleaned.closeAndDelete();
            }
        }
    }

    /** One segment's retained batches, the records removed, whether anything changed, its retained abort entries. */
    private record CleanedBytes(ByteBuf output, long removed, boolean changed, List<AbortedTransaction> entries) {
    }

    private static CleanedBytes cleanSegment(LogSegment segment, Map<ByteBuffer, Long> latest,
            CleanedTransactions transactions, ProducerLastBatches lastBatches, long now, LogConfig config,
            Runnable checkDone) throws IOException {
        ByteBuf output = Unpooled.buffer(Math.max(64, segment.size()));
        long[] removed = {0};
        boolean[] changed = {false};
        boolean ok = false;
        try {
            forEachBatch(segment, checkDone, batch -> {
                boolean keepEmpty = lastBatches.mustKeep(batch);
                if (batch.isControl()) {
                    MarkerOutcome outcome =
                            rewriteMarker(output, batch, transactions.isDiscardable(batch), keepEmpty, now, config);
                    changed[0] |= outcome != MarkerOutcome.UNCHANGED;
                    if (outcome == MarkerOutcome.REMOVED) {
                        removed[0] += batch.recordCount();
                    }
                    return;
                }
                if (transactions.isAborted(batch)) {
                    if (batch.recordCount() > 0 || !keepEmpty) {
                        changed[0] = true;
                        removed[0] += batch.recordCount();
                        if (keepEmpty) {
                            writeBatch(output, batch, List.of(), batch.deleteHorizonMs());
                        }
                    } else {
                        output.writeBytes(batch.buffer(), batch.startIndex(), batch.sizeInBytes());
                    }
                    return;
                }
                List<Record> kept = new ArrayList<>();
                boolean keptTombstone = false;
                try (RecordIterator records = batch.records()) {
                    while (records.hasNext()) {
                        Record record = records.next();
                        if (!record.hasKey()) {
                            removed[0]++;
                            continue;
                        }
                        Long newest = latest.get(ByteBuffer.wrap(ByteBufUtil.getBytes(record.key())));
                        if (newest != null && record.offset() < newest) {
                            removed[0]++;
                            continue;
                        }
                        if (!record.hasValue()) {
                            if (batch.hasDeleteHorizon() && now >= batch.deleteHorizonMs()) {
                                removed[0]++;
                                continue;
                            }
                            keptTombstone = true;
                        }
                        kept.add(record);
                    }
                    boolean needsHorizon = keptTombstone && !batch.hasDeleteHorizon();
                    if (kept.size() == batch.recordCount() && !needsHorizon && (!kept.isEmpty() || keepEmpty)) {
                        output.writeBytes(batch.buffer(), batch.startIndex(), batch.sizeInBytes());
                        return;
                    }
                    changed[0] = true;
                    if (kept.isEmpty() && !keepEmpty) {
                        return;
                    }
                    long horizon = batch.hasDeleteHorizon() ? batch.deleteHorizonMs()
                            : keptTombstone ? now + config.deleteRetentionMs() : RecordBatch.NO_TIMESTAMP;
                    writeBatch(output, batch, kept, horizon);
                }
            });
            List<AbortedTransaction> entries = transactions.takeRetainedEntries();
            ok = true;
            return new CleanedBytes(output, removed[0], changed[0], entries);
        } finally {
            if (!ok) {
                output.release();
            }
        }
    }

    /**
     * Kafka's LogCleaner.groupSegmentsBySize: adjacent segments go together while their log bytes stay within
     * segment.bytes, each index's bytes within segment.index.bytes, and their offsets within an int of the first
     * base offset (the indexes store offsets relative to it); an empty segment joins whatever its offsets.
     */
    static List<List<LogSegment>> groupBySize(List<LogSegment> segments, int maxBytes, int maxIndexBytes,
            long firstUncleanableOffset) {
        List<List<LogSegment>> groups = new ArrayList<>();
        int i = 0;
        while (i < segments.size()) {
            List<LogSegment> group = new ArrayList<>();
            LogSegment first = segments.get(i);
            group.add(first);
            long logBytes = first.size();
            long indexBytes = first.offsetIndex().sizeInBytes();
            long timeIndexBytes = first.timeIndex().sizeInBytes();
            i++;
            while (i < segments.size()) {
                LogSegment next = segments.get(i);
                // As Kafka, the last offset of a segment is taken as the next one's base minus one.
                long lastOffset = (i + 1 < segments.size() ? segments.get(i + 1).baseOffset()
                        : firstUncleanableOffset) - 1;
                if (logBytes + next.size() > maxBytes
                        || indexBytes + next.offsetIndex().sizeInBytes() > maxIndexBytes
                        || timeIndexBytes + next.timeIndex().sizeInBytes() > maxIndexBytes
                        || next.size() != 0 && lastOffset - first.baseOffset() > Integer.MAX_VALUE) {
                    break;
                }
                group.add(next);
                logBytes += next.size();
                indexBytes += next.offsetIndex().sizeInBytes();
                timeIndexBytes += next.timeIndex().sizeInBytes();
                i++;
            }
            groups.add(group);
        }
        return groups;
    }


    private enum MarkerOutcome { UNCHANGED, STAMPED_WITH_HORIZON, REMOVED }

    /**
     * Writes a transaction marker as it should stay (or nothing when it goes) and says what became of it.
     * A marker that guards no data any more gets a delete horizon (now + delete.retention.ms) and goes at the first
     * cleaning past it, unless it is its producer's last batch, which stays, emptied, for the producer's state.
     */
    private static MarkerOutcome rewriteMarker(ByteBuf output, RecordBatch batch, boolean discardable, boolean keepEmpty,
            long now, LogConfig config) {
        boolean pastHorizon = discardable && batch.hasDeleteHorizon() && now >= batch.deleteHorizonMs();
        if (batch.recordCount() == 0 || pastHorizon) {
            if (keepEmpty) {
                if (batch.recordCount() == 0) {
                    output.writeBytes(batch.buffer(), batch.startIndex(), batch.sizeInBytes());
                    return MarkerOutcome.UNCHANGED;
                }
                writeBatch(output, batch, List.of(), batch.deleteHorizonMs());
            }
            return MarkerOutcome.REMOVED;
        }
        if (discardable && !batch.hasDeleteHorizon()) {
            List<Record> records = new ArrayList<>();
            try (RecordIterator iterator = batch.records()) {
                while (iterator.hasNext()) {
                    records.add(iterator.next());
                }
                writeBatch(output, batch, records, now + config.deleteRetentionMs());
            }
            return MarkerOutcome.STAMPED_WITH_HORIZON;
        }
        output.writeBytes(batch.buffer(), batch.startIndex(), batch.sizeInBytes());
        return MarkerOutcome.UNCHANGED;
    }

    /** Rebuilds {@code original} with only {@code kept}, preserving its header fields and its last offset. */
    private static void writeBatch(ByteBuf output, RecordBatch original, List<Record> kept, long deleteHorizonMs) {
        int start = output.writerIndex();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(output)) {
            builder.compression(original.compression())
                    .baseOffset(original.baseOffset())
                    .partitionLeaderEpoch(original.partitionLeaderEpoch())
                    .producer(original.producerId(), original.producerEpoch(), original.baseSequence())
                    .transactional(original.isTransactional())
                    .timestampType(original.timestampType());
            if (original.timestampType() == TimestampType.LOG_APPEND_TIME) {
                builder.logAppendTime(original.maxTimestamp());
            }
            if (deleteHorizonMs != RecordBatch.NO_TIMESTAMP) {
                builder.deleteHorizonMs(deleteHorizonMs);
            }
            for (Record record : kept) {
                builder.appendWithOffset(record.offset(), record.timestamp(), record.key(),
                        record.hasValue() ? record.value() : null, record.headers());
            }
            builder.build();
        }
        // Kafka keeps a compacted batch's last offset so the producer's last sequence number survives compaction.
        // The CRC covers the last offset delta, so it is recomputed.
        output.setInt(start + RecordBatch.LAST_OFFSET_DELTA_OFFSET, original.lastOffsetDelta());
        if (original.isControl()) {
            // The builder refuses data appends to a control batch; the marker's records were copied as plain
            // records, so the control bit is set here, before the CRC that covers it.
            int attributes = output.getShort(start + RecordBatch.ATTRIBUTES_OFFSET) | RecordBatch.CONTROL_MASK;
            output.setShort(start + RecordBatch.ATTRIBUTES_OFFSET, attributes);
        }
        CRC32C crc = new CRC32C();
        int covered = output.writerIndex() - start - RecordBatch.ATTRIBUTES_OFFSET;
        crc.update(output.nioBuffer(start + RecordBatch.ATTRIBUTES_OFFSET, covered));
        output.setInt(start + RecordBatch.CRC_OFFSET, (int) crc.getValue());
        RecordBatch.wrap(output, start).ensureValid();
    }

    /**
     * The batches that keep a producer's state (last sequence and epoch) and so stay, emptied if need be, as Kafka's
     * cleaner keeps them: the producer's last data batch, or its last marker when it has no data batch left.
     */
    private record ProducerLastBatches(Map<Long, Long> lastData, Map<Long, Long> lastAny) {
        static ProducerLastBatches of(Log log, Runnable checkDone) throws IOException {
            Map<Long, Long> lastData = new HashMap<>();
            Map<Long, Long> lastAny = new HashMap<>();
            for (LogSegment segment : log.segments().values()) {
                for (LogSegment.BatchPosition position : segment.batches()) {
                    checkDone.run(); // each position costs a read of the batch's header
                    long producerId = segment.producerIdAt(position);
                    if (producerId >= 0) {
                        lastAny.put(producerId, position.baseOffset());
                        if (!position.isControl()) {
                            lastData.put(producerId, position.baseOffset());
                        }
                    }
                }
            }
            return new ProducerLastBatches(lastData, lastAny);
        }

        boolean mustKeep(RecordBatch batch) {
            if (!batch.hasProducerId()) {
                return false;
            }
            Long data = lastData.get(batch.producerId());
            if (!batch.isControl()) {
                return data != null && data == batch.baseOffset();
            }
            return data == null && lastAny.getOrDefault(batch.producerId(), -1L) == batch.baseOffset();
        }
    }

    @FunctionalInterface
    private interface BatchVisitor {
        void visit(RecordBatch batch) throws IOException;
    }

    /** Visits every batch of {@code segment}, CRC checked, running {@code checkDone} before each one. */
    private static void forEachBatch(LogSegment segment, Runnable checkDone, BatchVisitor visitor) throws IOException {
        for (LogSegment.BatchPosition position : segment.batches()) {
            checkDone.run();
            ByteBuf bytes = segment.readBatch(position);
            try {
                RecordBatch batch = RecordBatch.wrap(bytes, 0);
                batch.ensureValid();
                visitor.visit(batch);
            } finally {
                bytes.release();
            }
        }
    }
}
