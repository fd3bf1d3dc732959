package io.tandem.storage.log;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Map;

/**
 * Retention of a {@link Log}: which segments go by time, by size and below the log start offset, and how a segment
 * goes (unlinked at once, its files renamed and deleted after file.delete.delay.ms). Called under the log's lock.
 */
final class LogRetention {
    private static final System.Logger LOG = System.getLogger(LogRetention.class.getName());

    private LogRetention() {
    }

    /** See {@link Log#deleteOldSegments()}. */
    static int deleteOldSegments(Log log) throws IOException {
        int deleted = deleteSegmentsBelowLogStart(log);
        LogConfig c = log.config();
        if (!c.delete()) {
            return deleted;
        }
        long now = log.clock().getAsLong();
        if (c.retentionMs() >= 0) {
            long cutoff = now - c.retentionMs();
            while (log.segments().size() > 1 && expired(log, log.segments().firstEntry().getValue(), cutoff)) {
                deleteSegment(log, log.segments().firstEntry().getValue());
                deleted++;
            }
            // As in Kafka: when everything older went, an expired active segment is rolled and deleted too, so
            // an idle topic still empties; the log end offset stays where it was.
            LogSegment active = log.segments().lastEntry().getValue();
            if (log.segments().size() == 1 && !active.isEmpty() && expired(log, active, cutoff)) {
                log.rollAt(log.logEndOffset());
                deleteSegment(log, active);
                deleted++;
            }
        }
        if (c.retentionBytes() >= 0) {
            long excess = log.sizeInBytes() - c.retentionBytes();
            while (log.segments().size() > 1) {
                LogSegment oldest = log.segments().firstEntry().getValue();
                if (excess - oldest.size() < 0 || oldest.nextOffset() > log.highWatermark()) {
                    break;
                }
                excess -= oldest.size();
                deleteSegment(log, oldest);
                deleted++;
            }
        }
        if (deleted > 0) {
            log.leaderEpochs().truncateFromStart(log.logStartOffset());
        }
        return deleted;
    }

    private static boolean expired(Log log, LogSegment segment, long cutoffMs) throws IOException {
        return segment.largestTimestamp() < cutoffMs && segment.nextOffset() <= log.highWatermark();
    }

    static int deleteSegmentsBelowLogStart(Log log) throws IOException {
        int deleted = 0;
        while (log.segments().size() > 1) {
            Map.Entry<Long, LogSegment> oldest = log.segments().firstEntry();
            long nextBase = log.segments().higherKey(oldest.getKey());
            if (nextBase > log.logStartOffset()) {
                break;
            }
            deleteSegment(log, oldest.getValue());
            deleted++;
        }
        return deleted;
    }

    /** Removes the segment from the log now; its files are renamed and deleted after file.delete.delay.ms. */
    private static void deleteSegment(Log log, LogSegment segment) throws IOException {
        Long nextBase = log.segments().higherKey(segment.baseOffset());
        if (nextBase != null) {
            // Before unlinking: a concurrent read that misses the segment must find its offset out of range.
            log.raiseLogStartOffset(nextBase);
        }
        log.segments().remove(segment.baseOffset());
        segment.renameTo(LogSegment.DELETED_SUFFIX);
        log.runLater(() -> {
            try {
                segment.closeAndDelete();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete " + segment.logFile(), e);
            }
        }, log.config().fileDeleteDelayMs());
    }
}
