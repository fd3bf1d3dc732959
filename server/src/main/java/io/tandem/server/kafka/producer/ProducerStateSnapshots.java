package io.tandem.server.kafka.producer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * A partition's producer state on disk, as Kafka keeps it: {@code <20-digit offset>.snapshot} files in the partition
 * directory, each the state of every producer whose batches lie below that offset, written when a segment rolls and
 * at a clean shutdown. Opening a partition then restores the newest snapshot not past its log end and replays only
 * the batches after it, instead of reading the whole log, so a restart costs what the last segment holds.
 * <p>
 * The layout is Kafka's (version 1): version int16, crc uint32 (CRC-32C of everything after it), then an int32 count
 * of entries of producer id int64, epoch int16, last sequence int32, last offset int64, offset delta int32, timestamp
 * int64, coordinator epoch int32 and current transaction's first offset int64 (-1 here: the open transactions are the
 * log's own, kept by its transaction checkpoint). A snapshot that is torn or damaged is deleted with a warning and an
 * older one (or the whole log) is used instead.
 */
public final class ProducerStateSnapshots {
    private static final System.Logger LOG = System.getLogger(ProducerStateSnapshots.class.getName());
    static final String SUFFIX = ".snapshot";
    private static final short VERSION = 1;
    private static final int HEADER_BYTES = 2 + 4 + 4;
    private static final int ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
    /** Snapshots kept: the newest may be past a log end that a crash cut back, the one before it is not. */
    static final int KEPT = 3;

    private ProducerStateSnapshots() {
    }

    /** A restored table and the offset its snapshot was taken at (the batches from there on are to be replayed). */
    public record Loaded(long offset, ProducerStateTable table) {
    }

    /** Writes the table as of {@code endOffset} (write-then-rename, so a crash leaves no half file), keeps the newest. */
    public static void write(Path dir, long endOffset, ProducerStateTable table) throws IOException {
        List<ProducerStateTable.SnapshotEntry> entries = table.snapshotEntries();
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + entries.size() * ENTRY_BYTES);
        buffer.putShort(VERSION).putInt(0).putInt(entries.size());
        for (ProducerStateTable.SnapshotEntry e : entries) {
            buffer.putLong(e.producerId()).putShort(e.epoch()).putInt(e.lastSequence()).putLong(e.lastOffset())
                    .putInt(e.offsetDelta()).putLong(e.timestamp()).putInt(e.coordinatorEpoch()).putLong(-1);
        }
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 6, buffer.capacity() - 6);
        buffer.putInt(2, (int) crc.getValue());
        Path file = dir.resolve(name(endOffset));
        Path tmp = dir.resolve(name(endOffset) + ".tmp");
        Files.write(tmp, buffer.array());
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        TreeSet<Long> offsets = offsets(dir);
        while (offsets.size() > KEPT) Files.deleteIfExists(dir.resolve(name(offsets.pollFirst())));
    }

    /** The newest readable snapshot taken at or below {@code maxOffset}, or null when there is none. */
    public static Loaded loadLatest(Path dir, long maxOffset) throws IOException {
        for (Long offset : offsets(dir).descendingSet()) {
            if (offset > maxOffset) continue;
            Path file = dir.resolve(name(offset));
            try {
                return new Loaded(offset, read(Files.readAllBytes(file)));
            } catch (IOException | RuntimeException damaged) {
                LOG.log(System.Logger.Level.WARNING, "Deleting damaged producer state snapshot " + file + ": "
                        + damaged.getMessage());
                Files.deleteIfExists(file);
            }
        }
        return null;
    }

    /** Deletes the snapshots taken past {@code offset}: the log was truncated below them. */
    public static void deleteAbove(Path dir, long offset) throws IOException {
        for (long taken : offsets(dir)) {
            if (taken > offset) Files.deleteIfExists(dir.resolve(name(taken)));
        }
    }

    static ProducerStateTable read(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        if (bytes.length < HEADER_BYTES) throw new IOException("too short (" + bytes.length + " bytes)");
        short version = buffer.getShort();
        if (version != VERSION) throw new IOException("unknown version " + version);
        int expectedCrc = buffer.getInt();
        CRC32C crc = new CRC32C();
        crc.update(bytes, 6, bytes.length - 6);
        if ((int) crc.getValue() != expectedCrc) throw new IOException("CRC mismatch");
        int count = buffer.getInt();
        if (count < 0 || (long) count * ENTRY_BYTES != bytes.length - HEADER_BYTES) {
            throw new IOException("entry count " + count + " does not match the size " + bytes.length);
        }
        List<ProducerStateTable.SnapshotEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long producerId = buffer.getLong();
            short epoch = buffer.getShort();
            int lastSequence = buffer.getInt();
            long lastOffset = buffer.getLong();
            int offsetDelta = buffer.getInt();
            long timestamp = buffer.getLong();
            int coordinatorEpoch = buffer.getInt();
            buffer.getLong();
            entries.add(new ProducerStateTable.SnapshotEntry(producerId, epoch, lastSequence, lastOffset, offsetDelta,
                    timestamp, coordinatorEpoch));
        }
        return ProducerStateTable.restore(entries);
    }

    private static TreeSet<Long> offsets(Path dir) throws IOException {
        TreeSet<Long> offsets = new TreeSet<>();
        if (!Files.isDirectory(dir)) return offsets;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path file : files) {
                String stem = file.getFileName().toString();
                stem = stem.substring(0, stem.length() - SUFFIX.length());
                if (stem.length() == 20 && stem.chars().allMatch(Character::isDigit)) offsets.add(Long.parseLong(stem));
            }
        }
        return offsets;
    }

    private static String name(long offset) {
        return String.format("%020d", offset) + SUFFIX;
    }
}
