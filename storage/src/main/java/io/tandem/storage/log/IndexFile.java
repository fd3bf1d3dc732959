package io.tandem.storage.log;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fixed-entry-size index file, memory-mapped. The active segment's index is preallocated to
 * segment.index.bytes (only touched pages cost memory) and trimmed to its entries when the segment stops being
 * active or the log closes, so an index file's length tells how many entries it holds. Not thread-safe by itself:
 * the owning {@link LogSegment} serializes writers; readers see entries published through {@link #entries}.
 *
 * <p>An index whose file does not exist yet (a new segment) creates it only when its first entry is written
 * ({@link #materialize}): a missing file and an empty one mean the same to a reader, to recovery (the segment is
 * scanned from its start) and to the loader, and a new topic's logs then cost one file each (the .log) instead of
 * three, each created, preallocated and mapped. A new {@code __consumer_offsets} is 50 logs made while a fresh node's
 * first consumer waits for its coordinator (docs/profiles/kafka-latency.md). Kafka defers its indexes too: its
 * LazyIndex maps (and so creates) an index file on its first use.
 */
abstract class IndexFile implements Closeable {
    private final int entryBytes;
    protected final long baseOffset;
    private Path file;
    private int maxEntries;
    private MappedByteBuffer map;
    /** Written by the single writer, read by fetch threads. */
    private volatile int entries;

    IndexFile(Path file, long baseOffset, int maxIndexBytes, int entryBytes) throws IOException {
        this.file = file;
        this.baseOffset = baseOffset;
        this.entryBytes = entryBytes;
        if (!Files.exists(file)) {
            this.entries = 0;
            this.maxEntries = maxIndexBytes / entryBytes;
            return; // created with the first entry
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long existing = raf.length();
            if (existing % entryBytes != 0) {
                // Only a crash between preallocation and trimming leaves this; recovery rebuilds the index.
                existing = 0;
                raf.setLength(0);
            }
            // An existing index was trimmed to its entries when its segment became inactive or the log closed; only
            // an unclean shutdown leaves one preallocated, and then the segment is recovered, which resets it.
            this.entries = (int) (existing / entryBytes);
            this.maxEntries = existing == 0 ? maxIndexBytes / entryBytes : entries;
            raf.setLength((long) maxEntries * entryBytes);
            map = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, (long) maxEntries * entryBytes);
        }
    }

    /** The bytes the entries take, what a trimmed index file holds (Kafka's AbstractIndex.sizeInBytes). */
    final long sizeInBytes() {
        return (long) entries() * entryBytes;
    }

    final int entries() {
        return entries;
    }

    final boolean isFull() {
        return entries >= maxEntries;
    }

    final Path file() {
        return file;
    }

    /** The mapping, for reading entries below {@link #entries} (there are none before the file exists). */
    protected final MappedByteBuffer map() {
        return map;
    }

    /**
     * The mapping, for writing an entry: creates the file first if it does not exist yet. The segment materializes
     * its indexes before an append ({@link LogSegment#append}), so this creates nothing there; it covers the
     * remaining writers (recovery and the final time-index entry of a segment loaded without its index file).
     */
    protected final MappedByteBuffer writableMap() {
        if (map == null) {
            try {
                materialize();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return map;
    }

    /** Whether the file exists (false for a new segment's index until its first entry). */
    final boolean materialized() {
        return map != null;
    }

    /** Creates the file at its current capacity and maps it; nothing when it exists already. */
    final void materialize() throws IOException {
        if (map != null) return;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength((long) maxEntries * entryBytes);
            map = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, (long) maxEntries * entryBytes);
        }
    }

    protected final int entryBytes() {
        return entryBytes;
    }

    protected final void publishEntries(int count) {
        entries = count;
    }

    /** Relative offset to absolute; the relative form fits an int because segments roll before it would not. */
    protected final int relative(long offset) {
        long relative = offset - baseOffset;
        if (relative < 0 || relative > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " does not fit an index based at " + baseOffset);
        }
        return (int) relative;
    }

    /** The last entry index whose key is at most {@code target}, or -1, by binary search over the sorted keys. */
    protected final int floorEntry(long target) {
        int low = 0;
        int high = entries - 1;
        int found = -1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (key(mid) <= target) {
                found = mid;
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return found;
    }

    /** The sort key of entry {@code n} (absolute offset or timestamp). */
    protected abstract long key(int n);

    /** The absolute offset entry {@code n} refers to. */
    protected abstract long offsetOf(int n);

    /** Drops every entry referring to an offset at or after {@code offset}. */
    final void truncateTo(long offset) {
        int keep = entries;
        while (keep > 0 && offsetOf(keep - 1) >= offset) {
            keep--;
        }
        entries = keep;
    }

    final void reset() {
        entries = 0;
    }

    final void flush() {
        if (map != null) map.force();
    }

    /** Shrinks the file to its entries: called when the segment stops being active and at close. */
    final void trimToValidSize() throws IOException {
        resize((long) entries * entryBytes);
        maxEntries = entries;
    }

    /** Grows the file back to the preallocated size: called when a segment becomes active again after truncation. */
    final void expandTo(int maxIndexBytes) throws IOException {
        int wanted = Math.max(entries, maxIndexBytes / entryBytes);
        if (wanted != maxEntries) {
            resize((long) wanted * entryBytes);
            maxEntries = wanted;
        }
    }

    private void resize(long bytes) throws IOException {
        if (map == null) return; // no file yet: materialize creates it at the capacity set by the caller
        // No msync first: the mapping and the file share the page cache, so the new mapping sees every entry; making
        // them durable is flush()'s job (an msync here cost a disk flush per roll).
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
            map = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
    }

    final void renameTo(Path target) throws IOException {
        if (map != null) Files.move(file, target);
        file = target;
    }

    @Override
    public void close() throws IOException {
        trimToValidSize();
    }

    final void deleteFile() throws IOException {
        Files.deleteIfExists(file);
    }
}
