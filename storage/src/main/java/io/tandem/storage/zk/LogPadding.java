package io.tandem.storage.zk;

import java.io.IOException;
import java.io.RandomAccessFile;

/**
 * The preallocation of the log file being written ({@link TxnLog}'s class comment): how far the file extends on disk
 * ahead of its records, and how far that tail is written as zeros. Guarded by the {@link TxnLog}'s monitor.
 */
final class LogPadding {
    /** Apache pads once fewer than this many bytes of the block remain ahead of the write position. */
    private static final long PREALLOC_MARGIN_BYTES = 4096;
    /** Zeros are written in pieces of this size when a block is preallocated. */
    private static final int ZERO_FILL_CHUNK_BYTES = 1 << 20;
    /**
     * The zeros are written from one array of this size, kept for the log's life: a new 1 MiB array per chunk was the
     * log-sync thread's largest allocation once transactions were serialized into a reused buffer.
     */
    private static final int ZEROS_BYTES = 64 << 10;

    /** The preallocation block (0: none). */
    private final long preAllocBytes;
    /** The size of the file on disk: its records plus the zero padding ahead of them. */
    private long paddedBytes;
    /** How far the padding is written as zeros (beyond, up to {@link #paddedBytes}, it is sparse). */
    private long zeroedBytes;
    /** Allocated at the first fill (a log without preallocation never needs it). */
    private byte[] zeros;

    LogPadding(long preAllocBytes) {
        this.preAllocBytes = preAllocBytes;
    }

    /** A file is now the one written: {@code fileBytes} long on disk, known zero-written up to {@code zeroedTo}. */
    void reset(long fileBytes, long zeroedTo) {
        paddedBytes = fileBytes;
        zeroedBytes = zeroedTo;
    }

    /**
     * Apache's FilePadding, before a write into {@code current} (positioned at {@code currentBytes}, where it is
     * left) that ends at {@code writeEnd}: once a write would come within {@link #PREALLOC_MARGIN_BYTES} of the
     * file's end, the file grows to the next whole block (or by a block), its new tail reading as zeros. The size then
     * changes once per block instead of with every fsync'd append.
     */
    void padAhead(RandomAccessFile current, long writeEnd, long currentBytes) throws IOException {
        if (preAllocBytes <= 0 || writeEnd + PREALLOC_MARGIN_BYTES < zeroedBytes) {
            return;
        }
        if (writeEnd + PREALLOC_MARGIN_BYTES >= paddedBytes) {
            long size = writeEnd > paddedBytes ? writeEnd + preAllocBytes : paddedBytes + preAllocBytes;
            size -= size % preAllocBytes;
            if (size < writeEnd + PREALLOC_MARGIN_BYTES) {
                size += preAllocBytes;
            }
            current.setLength(size);
            paddedBytes = size;
        }
        // The block's space is also written as zeros, a chunk ahead of the records at a time: a sparse tail (Apache
        // writes one byte at the new end) would still allocate blocks, ext4 converting extents, at every sync
        // (docs/profiles/zk-writes.md, finding 5), while zeros written once leave a later fsync of records over them
        // no metadata to record. Chunks, not the whole block at once, so the fsync that carries the zeros to disk
        // writes 1 MiB more, not 64.
        long zeroEnd = Math.min(paddedBytes,
                writeEnd + PREALLOC_MARGIN_BYTES + ZERO_FILL_CHUNK_BYTES
                        - (writeEnd + PREALLOC_MARGIN_BYTES) % ZERO_FILL_CHUNK_BYTES);
        if (zeroEnd > zeroedBytes) {
            long from = Math.max(zeroedBytes, writeEnd);
            if (zeros == null) {
                zeros = new byte[ZEROS_BYTES];
            }
            current.seek(from);
            for (long at = from; at < zeroEnd; at += zeros.length) {
                current.write(zeros, 0, (int) Math.min(zeros.length, zeroEnd - at));
            }
            current.seek(currentBytes);
            zeroedBytes = zeroEnd;
        }
    }

    /** Cuts a file that gets no more records back to them; a crash before this reaches the disk leaves a zero tail. */
    static void trim(RandomAccessFile file, long recordBytes) throws IOException {
        if (file.length() > recordBytes) {
            file.setLength(recordBytes);
        }
    }
}
