package io.tandem.storage.zk.apache;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.Adler32;

/**
 * Reads Apache ZooKeeper's transaction logs ({@code FileTxnLog}) in {@code <dataLogDir>/version-2}:
 * <pre>
 * file   := header entry* zero-fill
 * header := magic:int32 "ZKLG"  version:int32 (2)  dbid:int64
 * entry  := checksum:int64  length:int32  txn:byte[length]  'B'      checksum = Adler32(txn)
 * txn    := TxnHeader, the txn record, and (3.6+) a TxnDigest
 * </pre>
 * Files are preallocated with zeros, so a zero length ends a file, as does an entry cut short or without its 'B'
 * (a crash mid-append): Apache reads on from the next file in both cases, and so does this reader. An entry whose
 * checksum does not match is damage, not a torn tail, and fails the read as Apache's does.
 */
public final class ApacheTxnLogReader {
    /** "ZKLG", Apache's {@code FileTxnLog.TXNLOG_MAGIC}. */
    public static final int MAGIC = 0x5A4B4C47;
    public static final int VERSION = 2;
    private static final int END_OF_ENTRY = 'B';

    @FunctionalInterface
    public interface EntryVisitor {
        void accept(byte[] txn) throws IOException;
    }

    /**
     * Visits, in order, the entries of every log file that can hold a zxid above {@code afterZxid}: the newest file
     * starting at or below it and every later one (Apache's {@code FileTxnLog.getLogFiles}). The caller skips entries
     * at or below {@code afterZxid}. Returns the number of entries visited.
     */
    public static long forEach(Path logDataDir, long afterZxid, int entryBytesMax, EntryVisitor visitor)
            throws IOException {
        long visited = 0;
        for (Path file : filesAfter(ApacheFiles.list(ApacheFiles.versionDir(logDataDir), ApacheFiles.LOG_PREFIX),
                afterZxid)) {
            visited += readFile(file, entryBytesMax, visitor);
        }
        return visited;
    }

    static List<Path> filesAfter(Map<Long, Path> logs, long afterZxid) {
        List<Path> files = new ArrayList<>();
        Path newestAtOrBelow = null;
        for (Map.Entry<Long, Path> log : logs.entrySet()) {
            if (log.getKey() <= afterZxid) {
                newestAtOrBelow = log.getValue();
            } else {
                files.add(log.getValue());
            }
        }
        if (newestAtOrBelow != null) {
            files.add(0, newestAtOrBelow);
        }
        return files;
    }

    private static long readFile(Path file, int entryBytesMax, EntryVisitor visitor) throws IOException {
        long visited = 0;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 64 << 10))) {
            int magic;
            int version;
            try {
                magic = in.readInt();
                version = in.readInt();
                in.readLong();
            } catch (EOFException e) {
                return 0; // created but never written: Apache skips it too
            }
            if (magic != MAGIC || version != VERSION) {
                throw new IOException(file + " is not an Apache ZooKeeper transaction log (magic 0x"
                        + Integer.toHexString(magic) + ", version " + version + "; expected \"ZKLG\" version "
                        + VERSION + ")");
            }
            long position = 16;
            Adler32 adler = new Adler32();
            while (true) {
                long checksum;
                int length;
                byte[] txn;
                try {
                    checksum = in.readLong();
                    length = in.readInt();
                    if (length == 0) {
                        return visited; // the zero fill after the last entry
                    }
                    if (length < 0 || length > entryBytesMax) {
                        throw new IOException(file + " is damaged: an entry of " + length + " bytes at byte "
                                + position + " (limit " + entryBytesMax + ")");
                    }
                    txn = new byte[length];
                    in.readFully(txn);
                    if (in.readByte() != END_OF_ENTRY) {
                        return visited; // a partial last entry
                    }
                } catch (EOFException e) {
                    return visited;
                }
                adler.reset();
                adler.update(txn);
                if (adler.getValue() != checksum) {
                    throw new IOException(file + " is damaged: checksum mismatch in the entry at byte " + position);
                }
                visitor.accept(txn);
                visited++;
                position += 8 + 4 + length + 1;
            }
        }
    }

    private ApacheTxnLogReader() {
    }
}
