package io.tandem.storage.zk;

import io.tandem.storage.log.FileReads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * The byte layout of a transaction log file, shared by writing, recovery and replay so that all three agree.
 *
 * <pre>
 * file   := header record*
 * header := magic:int32 ("TLOG") version:int32
 * record := length:int32 crc:int32 zxid:int64 txn:byte[length]
 *           crc = CRC32C over (length, zxid, txn), so a damaged length field is caught as well.
 * </pre>
 * All integers are big-endian.
 */
final class LogFileFormat {
    static final int FILE_MAGIC = 0x544C4F47;
    static final int FORMAT_VERSION = 1;
    static final int FILE_HEADER_BYTES = 8;
    static final int RECORD_HEADER_BYTES = 16;
    /** A transaction larger than this is treated as a damaged length field (jute.maxbuffer is 1 MiB by default). */
    static final int TXN_BYTES_MAX = 64 << 20;
    static final String FILE_PREFIX = "log.";

    private LogFileFormat() {
    }

    static String fileName(long firstZxid) {
        return ZxidFileNames.name(FILE_PREFIX, firstZxid);
    }

    /** The first zxid encoded in a log file name, or -1 when the name is not a log file's. */
    static long parseFileName(String name) {
        return ZxidFileNames.parse(FILE_PREFIX, name);
    }

    static int crc(int length, long zxid, byte[] txn, int offset) {
        return crc(new CRC32C(), ByteBuffer.allocate(12), length, zxid, txn, offset);
    }

    /** The same CRC with a caller's checksum and 12-byte scratch buffer, reused by the writer for every record. */
    static int crc(CRC32C crc, ByteBuffer scratch, int length, long zxid, byte[] txn, int offset) {
        crc.reset();
        scratch.clear();
        scratch.putInt(length).putLong(zxid).flip();
        crc.update(scratch);
        crc.update(txn, offset, length);
        return (int) crc.getValue();
    }

    static ByteBuffer header() {
        return ByteBuffer.allocate(FILE_HEADER_BYTES).putInt(FILE_MAGIC).putInt(FORMAT_VERSION).flip();
    }

    static void readFully(FileChannel channel, ByteBuffer target, long position) throws IOException {
        FileReads.readFully(channel, target, position, "file");
    }

    /** Outcome of reading one file: where its valid records end, and why reading stopped early if it did. */
    static final class ScanResult {
        long validEnd;
        long firstZxid;
        long lastZxid;
        long records;
        /** Null when every byte up to the limit formed valid records. */
        String failure;
        long failurePosition = -1;
        /** Where a record header of zero bytes starts (preallocated space: the records end there), else -1. */
        long paddingFrom = -1;
    }

    /**
     * Reads records from {@code FILE_HEADER_BYTES} up to {@code limit}, passing those with zxid greater than
     * {@code afterZxid} to {@code consumer} (may be null). Stops at the first record that is incomplete, fails its
     * CRC, or does not increase the zxid, and reports it instead of throwing, so the caller can decide between a torn
     * tail and corruption. Also stops, without failure, before the first record with zxid above {@code stopAboveZxid}.
     */
    static ScanResult scan(FileChannel channel, long limit, long previousZxid, long afterZxid, long stopAboveZxid,
            TxnConsumer consumer) throws IOException {
        ScanResult result = new ScanResult();
        result.validEnd = FILE_HEADER_BYTES;
        long position = FILE_HEADER_BYTES;
        long lastZxid = previousZxid;
        ByteBuffer window = ByteBuffer.allocate(64 << 10);
        long windowStart = position;
        window.limit(0);
        while (position < limit) {
            if (limit - position < RECORD_HEADER_BYTES) {
                fail(result, position, "incomplete record header");
                break;
            }
            // Refill the window so it holds at least the header at `position`.
            if (position + RECORD_HEADER_BYTES > windowStart + window.limit()) {
                windowStart = position;
                fillWindow(channel, window, windowStart, limit);
            }
            int offset = (int) (position - windowStart);
            int length = window.getInt(offset);
            int storedCrc = window.getInt(offset + 4);
            long zxid = window.getLong(offset + 8);
            if (length == 0 && storedCrc == 0 && zxid == 0) {
                // No record has zxid 0: this is the zero tail of a preallocated file (TxnLog checks it is all zero).
                result.paddingFrom = position;
                break;
            }
            if (length < 0 || length > TXN_BYTES_MAX) {
                fail(result, position, "implausible length " + length);
                break;
            }
            long end = position + RECORD_HEADER_BYTES + length;
            if (end > limit) {
                fail(result, position, "record of " + length + " bytes runs past the end");
                break;
            }
            byte[] txn = new byte[length];
            if (end <= windowStart + window.limit()) {
                window.get(offset + RECORD_HEADER_BYTES, txn);
            } else {
                readFully(channel, ByteBuffer.wrap(txn), position + RECORD_HEADER_BYTES);
            }
            if (crc(length, zxid, txn, 0) != storedCrc) {
                fail(result, position, "CRC mismatch");
                break;
            }
            if (zxid <= lastZxid) {
                fail(result, position, "zxid " + Long.toHexString(zxid) + " does not follow "
                        + Long.toHexString(lastZxid));
                break;
            }
            if (zxid > stopAboveZxid) {
                break;
            }
            if (result.records == 0) {
                result.firstZxid = zxid;
            }
            result.records++;
            lastZxid = zxid;
            result.lastZxid = zxid;
            position = end;
            result.validEnd = end;
            if (consumer != null && zxid > afterZxid) {
                consumer.accept(zxid, txn);
            }
        }
        return result;
    }

    /** Whether every byte of {@code channel} in [{@code from}, {@code limit}) is zero; reads 1 MiB at a time. */
    static boolean allZero(FileChannel channel, long from, long limit) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        for (long position = from; position < limit; position += chunk.limit()) {
            chunk.clear();
            chunk.limit((int) Math.min(chunk.capacity(), limit - position));
            readFully(channel, chunk, position);
            chunk.flip();
            while (chunk.remaining() >= Long.BYTES) {
                if (chunk.getLong() != 0) {
                    return false;
                }
            }
            while (chunk.hasRemaining()) {
                if (chunk.get() != 0) {
                    return false;
                }
            }
            chunk.rewind();
        }
        return true;
    }

    private static void fillWindow(FileChannel channel, ByteBuffer window, long start, long limit)
            throws IOException {
        window.clear();
        int wanted = (int) Math.min(window.capacity(), limit - start);
        window.limit(wanted);
        readFully(channel, window, start);
        window.flip();
    }

    private static void fail(ScanResult result, long position, String reason) {
        result.failure = reason;
        result.failurePosition = position;
    }

    /**
     * Whether any plausible, CRC-valid record with a zxid above {@code previousZxid} starts anywhere in
     * ({@code from}, {@code limit}). A damaged record followed by such a record is corruption in the middle of the
     * log; one followed by nothing valid is a torn tail (a write cut short, or pages never written before a crash).
     */
    static boolean validRecordFollows(FileChannel channel, long from, long limit, long previousZxid)
            throws IOException {
        long remaining = limit - from;
        if (remaining <= RECORD_HEADER_BYTES) {
            return false;
        }
        ByteBuffer rest = channel.map(FileChannel.MapMode.READ_ONLY, from, remaining);
        for (int at = 1; at + RECORD_HEADER_BYTES <= remaining; at++) {
            int length = rest.getInt(at);
            if (length < 0 || length > TXN_BYTES_MAX || at + RECORD_HEADER_BYTES + (long) length > remaining) {
                continue;
            }
            long zxid = rest.getLong(at + 8);
            if (zxid <= previousZxid) {
                continue;
            }
            byte[] txn = new byte[length];
            rest.get(at + RECORD_HEADER_BYTES, txn);
            if (crc(length, zxid, txn, 0) == rest.getInt(at + 4)) {
                return true;
            }
        }
        return false;
    }
}
