package io.tandem.storage.log;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's transaction index ({@code <base>.txnindex}): the aborted transactions whose ABORT marker lies in this
 * segment, as 34-byte entries (version: int16 = 0, producerId: int64, firstOffset: int64, lastOffset: int64,
 * lastStableOffset: int64). read_committed fetches report the aborted transactions overlapping the fetched range so
 * the consumer can drop their records. Entries are also kept in memory: a segment rarely holds many.
 */
final class TransactionIndex {
    static final int ENTRY_BYTES = 34;
    static final short VERSION = 0;

    private Path file;
    private final List<AbortedTransaction> entries = new ArrayList<>();

    TransactionIndex(Path file) throws IOException {
        this.file = file;
        if (Files.exists(file)) {
            byte[] bytes = Files.readAllBytes(file);
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            // A partial trailing entry is a write cut short by a crash; recovery rewrites the file if it matters.
            while (buffer.remaining() >= ENTRY_BYTES) {
                short version = buffer.getShort();
                AbortedTransaction txn = new AbortedTransaction(buffer.getLong(), buffer.getLong(), buffer.getLong(),
                        buffer.getLong());
                if (version != VERSION) {
                    throw new IOException("transaction index " + file + " has unsupported version " + version);
                }
                entries.add(txn);
            }
        }
    }

    synchronized void append(AbortedTransaction txn) throws IOException {
        if (!entries.isEmpty() && txn.lastOffset() <= entries.get(entries.size() - 1).lastOffset()) {
            throw new IllegalStateException("aborted transaction " + txn + " does not follow the last one in " + file);
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek((long) entries.size() * ENTRY_BYTES);
            raf.write(encode(txn));
        }
        entries.add(txn);
    }

    /** Aborted transactions with records in [fromOffset, toOffsetExclusive). */
    synchronized List<AbortedTransaction> overlapping(long fromOffset, long toOffsetExclusive) {
        List<AbortedTransaction> result = new ArrayList<>();
        for (AbortedTransaction txn : entries) {
            if (txn.lastOffset() >= fromOffset && txn.firstOffset() < toOffsetExclusive) {
                result.add(txn);
            }
        }
        return result;
    }

    synchronized boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Drops entries whose marker is at or after {@code offset} (the log was truncated there). */
    synchronized void truncateTo(long offset) throws IOException {
        if (entries.removeIf(txn -> txn.lastOffset() >= offset)) {
            rewrite();
        }
    }

    synchronized void reset() throws IOException {
        entries.clear();
        Files.deleteIfExists(file);
    }

    synchronized void flush() throws IOException {
        if (Files.exists(file)) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.getFD().sync();
            }
        }
    }

    synchronized void renameTo(Path target) throws IOException {
        if (Files.exists(file)) {
            Files.move(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        file = target;
    }

    synchronized void deleteFile() throws IOException {
        Files.deleteIfExists(file);
    }

    private void rewrite() throws IOException {
        ByteBuffer all = ByteBuffer.allocate(entries.size() * ENTRY_BYTES);
        for (AbortedTransaction txn : entries) {
            all.put(encode(txn));
        }
        Files.write(file, all.array());
    }

    private static byte[] encode(AbortedTransaction txn) {
        return ByteBuffer.allocate(ENTRY_BYTES).putShort(VERSION).putLong(txn.producerId())
                .putLong(txn.firstOffset()).putLong(txn.lastOffset()).putLong(txn.lastStableOffset()).array();
    }
}
