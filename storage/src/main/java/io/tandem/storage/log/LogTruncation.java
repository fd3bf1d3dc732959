package io.tandem.storage.log;

import java.io.IOException;
import java.util.ArrayList;

/**
 * Replication truncation of a {@link Log}: cutting records at or after an offset (a follower diverging from its
 * leader) or deleting everything and starting empty at an offset (a follower far behind, or a log start past the
 * end). Runs under the log's lock; the leader-epoch checkpoint is written by the caller once the lock is released.
 */
final class LogTruncation {
    private LogTruncation() {
    }

    static void truncateTo(Log log, long offset) throws IOException {
        var segments = log.segments();
        if (offset >= log.logEndOffset()) {
            // Nothing to cut, but an epoch may start at the log end with nothing appended in it (a leader that
            // lost leadership before its first append): as Kafka's UnifiedLog, trim it, or a leader keeps
            // finding this follower diverging at its log end and it never catches up.
            log.leaderEpochs().truncateFromEnd(log.logEndOffset());
            return;
        }
        if (offset < log.logStartOffset() || offset <= segments.firstKey()) {
            truncateFullyAndStartAt(log, offset);
            return;
        }
        while (segments.lastKey() > offset) {
            LogSegment removed = segments.pollLastEntry().getValue();
            removed.closeAndDelete();
        }
        LogSegment active = segments.lastEntry().getValue();
        active.truncateTo(offset, log.clock().getAsLong());
        active.makeActive();
        log.truncatedTo(active.nextOffset(), log.logStartOffset());
    }

    static void truncateFullyAndStartAt(Log log, long offset) throws IOException {
        var segments = log.segments();
        for (LogSegment segment : new ArrayList<>(segments.values())) {
            segments.remove(segment.baseOffset());
            segment.closeAndDelete();
        }
        LogSegment created = LogSegment.create(log.dir(), offset, log.config(), log.clock().getAsLong(), "");
        created.makeActive();
        segments.put(offset, created);
        log.leaderEpochs().clear();
        log.truncatedTo(offset, offset);
    }
}
