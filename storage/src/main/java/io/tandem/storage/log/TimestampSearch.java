package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordIterator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * ListOffsets by timestamp over a log's segments: the first record at or after a timestamp (the time index narrows
 * the search to a stretch of one segment, whose batch headers and then records are read), and the first record
 * carrying the log's largest timestamp. Reads only, without the log's lock, like {@link LogReader}.
 */
final class TimestampSearch {
    private TimestampSearch() {
    }

    /** The first record at or after the log start with timestamp at least {@code timestamp}. */
    static Optional<TimestampAndOffset> offsetForTimestamp(Log log, long timestamp) throws IOException {
        long start = log.logStartOffset();
        for (LogSegment segment : log.segments().values()) {
            if (segment.maxTimestampSoFar() >= timestamp && segment.nextOffset() > start) {
                long[] found = findOffsetByTimestamp(segment, timestamp, start);
                if (found != null) {
                    return Optional.of(new TimestampAndOffset(found[1], found[0],
                            log.leaderEpochs().epochAt(found[0])));
                }
            }
        }
        return Optional.empty();
    }

    /** The first record carrying the largest timestamp in the log (ListOffsets MAX_TIMESTAMP). */
    static Optional<TimestampAndOffset> offsetOfMaxTimestamp(Log log) throws IOException {
        LogSegment best = null;
        for (LogSegment segment : log.segments().values()) {
            if (segment.maxTimestampSoFar() >= 0 && (best == null
                    || segment.maxTimestampSoFar() > best.maxTimestampSoFar())) {
                best = segment;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        long[] found = offsetOfMaxTimestamp(best);
        return found == null ? Optional.empty()
                : Optional.of(new TimestampAndOffset(found[1], found[0], log.leaderEpochs().epochAt(found[0])));
    }

    /**
     * The first record of {@code segment} at or after {@code startingOffset} with timestamp at least
     * {@code timestamp}, as {offset, timestamp}, or null.
     */
    static long[] findOffsetByTimestamp(LogSegment segment, long timestamp, long startingOffset) throws IOException {
        long searchFrom = Math.max(segment.timeIndex().lookupStartOffset(timestamp), startingOffset);
        int limit = segment.size();
        int position = segment.offsetIndex().lookupPosition(searchFrom);
        ByteBuffer scratch = ByteBuffer.allocate(RecordBatch.HEADER_BYTES);
        while (position < limit) {
            LogSegment.BatchPosition batch = segment.headerAt(position, limit, scratch);
            if (batch == null) {
                return null;
            }
            if (batch.lastOffset() >= startingOffset && batch.maxTimestamp() >= timestamp) {
                long[] found = firstRecord(segment, batch,
                        r -> r.offset() >= startingOffset && r.timestamp() >= timestamp);
                if (found != null) {
                    return found;
                }
            }
            position += batch.size();
        }
        return null;
    }

    /** The first record whose timestamp is the segment's largest, as {offset, timestamp}, or null when empty. */
    static long[] offsetOfMaxTimestamp(LogSegment segment) throws IOException {
        long max = segment.maxTimestampSoFar();
        long offset = segment.offsetOfMaxTimestampSoFar();
        if (offset < 0) {
            return null;
        }
        int limit = segment.size();
        int position = segment.offsetIndex().lookupPosition(offset);
        ByteBuffer scratch = ByteBuffer.allocate(RecordBatch.HEADER_BYTES);
        while (position < limit) {
            LogSegment.BatchPosition batch = segment.headerAt(position, limit, scratch);
            if (batch == null) {
                break;
            }
            if (batch.maxTimestamp() == max) {
                long[] found = firstRecord(segment, batch, r -> r.timestamp() == max);
                if (found != null) {
                    return found;
                }
            }
            position += batch.size();
        }
        return new long[] {offset, max};
    }

    private static long[] firstRecord(LogSegment segment, LogSegment.BatchPosition position,
                                      Predicate<Record> wanted) throws IOException {
        ByteBuf bytes = segment.readBatch(position);
        try {
            RecordBatch batch = RecordBatch.wrap(bytes, 0);
            try (RecordIterator records = batch.records()) {
                while (records.hasNext()) {
                    Record record = records.next();
                    if (wanted.test(record)) {
                        return new long[] {record.offset(), record.timestamp()};
                    }
                }
            }
            return null;
        } finally {
            bytes.release();
        }
    }
}
