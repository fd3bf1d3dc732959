package io.tandem.storage.log;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The read side of a {@link Log}: fetches and the aborted transactions a read_committed fetch reports. Reads take no
 * lock: they look only at segment sizes published after complete writes, and detect a concurrent close or retention
 * (which raises the log start offset before it unlinks a segment) instead of excluding it.
 */
final class LogReader {
    private LogReader() {
    }

    /** See {@link Log#read}. */
    static LogSlice read(Log log, long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch)
            throws IOException {
        if (log.isClosed()) {
            throw new LogClosedException("log " + log.dir() + " is closed");
        }
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        if (offset < start || offset > end) {
            throw new OffsetOutOfRangeException("offset " + offset + " is outside [" + start + ", " + end + "] of "
                    + log.dir().getFileName());
        }
        long limit = Math.min(maxOffsetExclusive, end);
        var segments = log.segments();
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
        if (entry == null) {
            entry = segments.firstEntry();
        }
        while (entry != null) {
            LogSegment segment = entry.getValue();
            LogSlice slice = offset < end ? SegmentSlicer.read(segment, offset, maxBytes, limit, minOneBatch) : null;
            Map.Entry<Long, LogSegment> next = slice == null ? segments.higherEntry(entry.getKey()) : null;
            if (slice == null && next == null) {
                slice = new LogSlice(segment.channel(), segment.logFile(), segment.size(), 0, end, end);
            }
            if (slice != null) {
                // Retention raises the log start before it unlinks a segment; seeing it raised past the offset means
                // the segment holding it went while this read looked for it, and the next segment's data would skip
                // records.
                if (offset < log.logStartOffset()) {
                    throw new OffsetOutOfRangeException("offset " + offset + " was deleted during the read; log start "
                            + "is now " + log.logStartOffset());
                }
                return slice;
            }
            entry = next;
        }
        // Only a close empties the segment map.
        throw new LogClosedException("log " + log.dir() + " is closed");
    }

    /** See {@link Log#abortedTransactions}. */
    static List<AbortedTransaction> abortedTransactions(Log log, long fetchOffset, long upperBoundOffset) {
        List<AbortedTransaction> result = new ArrayList<>();
        var segments = log.segments();
        Long from = segments.floorKey(fetchOffset);
        // A transaction's ABORT marker follows its records, so its entry sits in the fetch offset's segment or later.
        for (LogSegment segment : (from == null ? segments : segments.tailMap(from, true)).values()) {
            result.addAll(segment.txnIndex().overlapping(fetchOffset, upperBoundOffset));
        }
        return result;
    }
}
