package io.tandem.storage.log;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Opens a log directory's segments: removes what a crash left half-done (files being deleted, cleaned or written,
 * and indexes whose log is gone), loads every segment, and unless the last shutdown was clean recovers each segment
 * from the one holding the recovery point on (re-reads, CRC-checks and re-indexes batches; a torn tail is cut off
 * and, as in Kafka, every later segment deleted, since nothing after it can be trusted to follow on from it).
 * Recovery hands each batch's partition leader epoch to the leader-epoch cache read from the checkpoint, so the
 * cache names every epoch the recovered records carry; {@link Log#open} then drops entries past the recovered end.
 */
final class LogLoader {
    private static final System.Logger LOG = System.getLogger(LogLoader.class.getName());

    /**
     * The segments found, oldest first; the leader-epoch cache; bytes of torn tail cut off; and the base offset from
     * which segments were recovered (null after a clean shutdown).
     */
    record Loaded(List<LogSegment> segments, LeaderEpochCache epochs, long tornBytes, Long recoverFrom) {
    }

    private LogLoader() {
    }

    static Loaded load(Path dir, LogConfig config, Log.Checkpoint checkpoint, boolean cleanShutdown, long now)
            throws IOException {
        // A directory this call creates is empty: nothing to finish, delete or list. A new topic's logs (the 50 of a
        // new __consumer_offsets, opened while a fresh node's first consumer waits) skip three directory scans each.
        boolean created = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        TreeSet<Long> bases = new TreeSet<>();
        if (!created) {
            // Before anything is listed: a compaction swap a crash interrupted is finished or undone.
            SegmentSwap.recover(dir);
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                for (Path file : stream) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(LogSegment.DELETED_SUFFIX) || name.endsWith(LogSegment.CLEANED_SUFFIX)
                            || name.endsWith(".tmp")) {
                        // Left by a crash during deletion, compaction or a checkpoint write: the originals are intact.
                        Files.delete(file);
                    } else if (name.endsWith(LogSegment.LOG_SUFFIX)) {
                        long base = parseBaseOffset(name.substring(0, name.length() - LogSegment.LOG_SUFFIX.length()));
                        if (base >= 0) {
                            bases.add(base);
                        } else {
                            LOG.log(Level.WARNING, "ignoring {0}: not a segment name", file);
                        }
                    }
                }
            }
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.{index,timeindex,txnindex}")) {
                for (Path file : stream) {
                    String name = file.getFileName().toString();
                    long base = parseBaseOffset(name.substring(0, name.indexOf('.')));
                    if (base >= 0 && !bases.contains(base)) {
                        Files.delete(file);
                    }
                }
            }
        }
        LeaderEpochCache epochs = new LeaderEpochCache(dir);
        List<LogSegment> loaded = new ArrayList<>();
        long torn = 0;
        Long recoverFrom = cleanShutdown ? null : bases.floor(checkpoint.recoveryPoint());
        if (!cleanShutdown && recoverFrom == null && !bases.isEmpty()) {
            recoverFrom = bases.first();
        }
        List<Long> ordered = new ArrayList<>(bases);
        for (int i = 0; i < ordered.size(); i++) {
            long base = ordered.get(i);
            if (recoverFrom != null && base >= recoverFrom) {
                LogSegment segment = LogSegment.loadAndRecover(dir, base, config, now, epochs);
                loaded.add(segment);
                int truncated = segment.recoveryTruncatedBytes();
                if (truncated > 0) {
                    torn += truncated;
                    LOG.log(Level.WARNING, "recovered {0}: cut {1} bytes of torn tail at offset {2}",
                            segment.logFile(), truncated, segment.nextOffset());
                    // Kafka's rule: nothing after a torn tail can be trusted to follow on from it.
                    for (int j = i + 1; j < ordered.size(); j++) {
                        String stem = LogSegment.fileName(ordered.get(j));
                        for (String suffix : new String[] {LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX,
                                LogSegment.TIME_INDEX_SUFFIX}) {
                            Files.deleteIfExists(dir.resolve(stem + suffix));
                        }
                        LOG.log(Level.WARNING, "deleted segment {0} after a torn tail", stem);
                    }
                    break;
                }
            } else {
                loaded.add(LogSegment.load(dir, base, config, now, epochs));
            }
        }
        return new Loaded(loaded, epochs, torn, recoverFrom);
    }

    /** The base offset a segment file name stem encodes (20 digits), or -1 when it is not one. */
    static long parseBaseOffset(String stem) {
        if (stem.length() != 20 || !stem.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(stem);
    }

}
