package io.tandem.storage.log;

import io.tandem.kafka.wire.record.RecordBatch;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Replaces a run of segments by one cleaned segment, and finishes or undoes such a replacement that a crash
 * interrupted, as Kafka's UnifiedLog.replaceSegments and LogLoader do it:
 * <ol>
 * <li>the cleaned segment's files are renamed from {@code .cleaned} to {@code .swap}, the log file first;</li>
 * <li>it takes the originals' place in the segment map; the originals are renamed {@code .deleted} (deleted after
 *     file.delete.delay.ms, so fetches holding their channels finish);</li>
 * <li>the {@code .swap} files get their final names, the log file first.</li>
 * </ol>
 * At open ({@link #recover}): {@code .deleted} files go; {@code .cleaned} files go, and so does any {@code .swap}
 * file at or above the lowest of their base offsets (its segment's renaming to {@code .swap} never completed, so
 * the originals are all there); a remaining {@code .swap} log file covers the offsets from its base to its last
 * batch, so every other segment file in that range is an original the crash left behind and goes; then the
 * {@code .swap} files take their final names. Every crash point leaves either the originals or the cleaned segment.
 */
final class SegmentSwap {
    private static final System.Logger LOG = System.getLogger(SegmentSwap.class.getName());

    private SegmentSwap() {
    }

    /**
     * Puts {@code cleaned} in place of {@code originals} (adjacent, oldest first, the first with the same base offset)
     * if they are still the log's segments and no truncation ran since {@code truncations}; otherwise deletes
     * {@code cleaned} and returns false.
     */
    static boolean replace(Log log, List<LogSegment> originals, LogSegment cleaned, long truncations)
            throws IOException {
        log.lock().lock();
        try {
            boolean current = !log.isClosing() && log.truncationCount() == truncations;
            for (LogSegment original : originals) {
                // A truncation shortens segments in place, so the same segment object may no longer hold what was
                // read; retention may have removed one.
                current &= log.segments().get(original.baseOffset()) == original;
            }
            if (!current) {
                cleaned.closeAndDelete();
                return false;
            }
            cleaned.renameTo(LogSegment.SWAP_SUFFIX);
            // The cleaned segment replaces the first original under the same key before the others leave, so a
            // lock-free read always finds a segment holding its offset.
            log.segments().put(cleaned.baseOffset(), cleaned);
            for (LogSegment original : originals.subList(1, originals.size())) {
                log.segments().remove(original.baseOffset());
            }
            for (LogSegment original : originals) {
                retire(log, original);
            }
            cleaned.renameTo("");
        } finally {
            log.lock().unlock();
        }
        // Outside the lock (no fsync runs under it): the renames reach the disk soon, in the order the file system
        // journals them, which is the order above.
        syncDirectory(log.dir());
        return true;
    }

    /** Renames a replaced segment {@code .deleted} and deletes it once fetches that may hold its channel are done. */
    private static void retire(Log log, LogSegment original) throws IOException {
        String stem = LogSegment.fileName(original.baseOffset());
        // An earlier pass may have left a segment of the same base waiting for deletion under these names: that one
        // is already out of the log, and its open channel keeps its bytes for fetches still reading it.
        for (String suffix : new String[] {LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX,
                LogSegment.TIME_INDEX_SUFFIX, LogSegment.TXN_INDEX_SUFFIX}) {
            Files.deleteIfExists(log.dir().resolve(stem + suffix + LogSegment.DELETED_SUFFIX));
        }
        original.renameTo(LogSegment.DELETED_SUFFIX);
        log.runLater(() -> {
            try {
                original.closeAndDelete();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete " + original.logFile(), e);
            }
        }, log.config().fileDeleteDelayMs());
    }

    /** Finishes or undoes the replacements a crash interrupted in {@code dir}; see the class comment. */
    static void recover(Path dir) throws IOException {
        List<Path> swaps = new ArrayList<>();
        long minCleaned = Long.MAX_VALUE;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path file : stream) {
                String name = file.getFileName().toString();
                if (name.endsWith(LogSegment.DELETED_SUFFIX) || name.endsWith(".tmp")) {
                    Files.delete(file);
                } else if (name.endsWith(LogSegment.CLEANED_SUFFIX)) {
                    long base = baseOffsetOf(name);
                    if (base >= 0) minCleaned = Math.min(minCleaned, base);
                    Files.delete(file);
                } else if (name.endsWith(LogSegment.SWAP_SUFFIX)) {
                    swaps.add(file);
                }
            }
        }
        long swapStart = Long.MAX_VALUE;
        long swapEnd = Long.MIN_VALUE;
        List<Path> valid = new ArrayList<>();
        for (Path swap : swaps) {
            String name = swap.getFileName().toString();
            long base = baseOffsetOf(name);
            if (base < 0 || base >= minCleaned) {
                LOG.log(Level.INFO, "deleting {0}: its cleaning was interrupted before the swap", swap);
                Files.delete(swap);
                continue;
            }
            valid.add(swap);
            if (name.endsWith(LogSegment.LOG_SUFFIX + LogSegment.SWAP_SUFFIX)) {
                swapStart = Math.min(swapStart, base);
                swapEnd = Math.max(swapEnd, nextOffset(swap, base));
            }
        }
        if (valid.isEmpty()) return;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path file : stream) {
                String name = file.getFileName().toString();
                long base = baseOffsetOf(name);
                if (!name.endsWith(LogSegment.SWAP_SUFFIX) && base >= swapStart && base < swapEnd) {
                    LOG.log(Level.INFO, "deleting {0}: replaced by a cleaned segment before a crash", file);
                    Files.delete(file);
                }
            }
        }
        for (Path swap : valid) {
            String name = swap.getFileName().toString();
            Path target = dir.resolve(name.substring(0, name.length() - LogSegment.SWAP_SUFFIX.length()));
            LOG.log(Level.INFO, "completing the interrupted swap of {0}", swap);
            Files.move(swap, target);
        }
        syncDirectory(dir);
    }

    /** The base offset a segment file's name starts with (20 digits and a dot), or -1. */
    private static long baseOffsetOf(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? -1 : LogLoader.parseBaseOffset(name.substring(0, dot));
    }

    /**
     * The offset after the last whole batch of a {@code .swap} log file (its base when it has none): the cleaner
     * wrote and flushed it before the swap began, so its batches are whole.
     */
    private static long nextOffset(Path logFile, long base) throws IOException {
        long next = base;
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.LAST_OFFSET_DELTA_OFFSET + 4);
        try (FileChannel channel = FileChannel.open(logFile, StandardOpenOption.READ)) {
            long size = channel.size();
            long position = 0;
            while (position + header.capacity() <= size) {
                header.clear();
                while (header.hasRemaining() && channel.read(header, position + header.position()) > 0) {
                    // read until the header is complete
                }
                long batchBase = header.getLong(0);
                int length = header.getInt(8);
                next = batchBase + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET) + 1;
                position += 12L + length;
            }
        }
        return next;
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
