package io.tandem.storage.zk;

import static io.tandem.storage.zk.LogFileFormat.FILE_HEADER_BYTES;
import static io.tandem.storage.zk.LogFileFormat.FILE_MAGIC;
import static io.tandem.storage.zk.LogFileFormat.FORMAT_VERSION;

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
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@link TxnLog#open} does before the log takes appends: scans every file of the directory, cuts a torn tail of
 * the last file (and a last file that never held a record), and refuses damage followed by valid data with a
 * {@link CorruptLogException}, as described in {@link TxnLog}'s class comment.
 */
final class TxnLogRecovery {
    private static final System.Logger LOG = System.getLogger(TxnLog.class.getName());

    private TxnLogRecovery() {
    }

    /**
     * The recovered log: its files by first zxid, the last zxid, and the last file with the end of its records and
     * its size on disk (greater when a zero tail of preallocation follows the records); lastFile is null when empty.
     */
    record Recovered(TreeMap<Long, Path> files, long lastZxid, Path lastFile, long lastFileEnd, long lastFileSize,
                     long truncatedBytes) {
    }

    static Recovered recover(Path dir) throws IOException {
        Files.createDirectories(dir);
        TreeMap<Long, Path> found = listLogFiles(dir);
        long previousZxid = 0;
        long truncated = 0;
        Path lastFile = null;
        long lastFileEnd = 0;
        long lastFileSize = 0;
        List<Map.Entry<Long, Path>> entries = new ArrayList<>(found.entrySet());
        for (int i = 0; i < entries.size(); i++) {
            Path file = entries.get(i).getValue();
            long nameZxid = entries.get(i).getKey();
            boolean isLast = i == entries.size() - 1;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long size = channel.size();
                if (!hasValidHeader(channel, size)) {
                    if (isLast && isBlankOrShort(channel, size)) {
                        // Crashed while creating the file: it never held a record.
                        truncated += size;
                        found.remove(nameZxid);
                        channel.close();
                        Files.delete(file);
                        LOG.log(Level.WARNING, "removed transaction log file with incomplete header {0}", file);
                        continue;
                    }
                    throw new CorruptLogException(file, 0, "bad file header");
                }
                LogFileFormat.ScanResult scan =
                        LogFileFormat.scan(channel, size, previousZxid, Long.MAX_VALUE, Long.MAX_VALUE, null);
                if (scan.paddingFrom >= 0 && !LogFileFormat.allZero(channel, scan.paddingFrom, size)) {
                    // A zero record header with data after it: a torn write into the preallocated tail (only zeros
                    // or garbage follow) or damage in the middle of the records; decided below like any bad record.
                    scan.failure = "zero record header followed by non-zero bytes";
                    scan.failurePosition = scan.paddingFrom;
                }
                if (scan.failure != null) {
                    boolean tornTail = isLast
                            && !LogFileFormat.validRecordFollows(channel, scan.failurePosition, size, scan.records > 0
                                    ? scan.lastZxid : previousZxid);
                    if (!tornTail) {
                        throw new CorruptLogException(file, scan.failurePosition, scan.failure);
                    }
                    LOG.log(Level.WARNING, "truncating torn tail of {0} at byte {1} ({2} bytes): {3}", file,
                            scan.validEnd, size - scan.validEnd, scan.failure);
                    truncated += size - scan.validEnd;
                    channel.truncate(scan.validEnd);
                    channel.force(false);
                }
                if (scan.records == 0) {
                    if (!isLast) {
                        throw new CorruptLogException(file, FILE_HEADER_BYTES, "file holds no records");
                    }
                    // The first append after creating this file never became durable; the name promised a zxid that
                    // may now be reused differently, so the file goes.
                    found.remove(nameZxid);
                    channel.close();
                    Files.delete(file);
                    continue;
                }
                if (scan.firstZxid != nameZxid) {
                    throw new CorruptLogException(file, FILE_HEADER_BYTES, "first zxid "
                            + Long.toHexString(scan.firstZxid) + " does not match the file name");
                }
                previousZxid = scan.lastZxid;
                lastFile = file;
                lastFileEnd = scan.validEnd;
                lastFileSize = channel.size();
            }
        }
        if (truncated > 0) {
            DirectorySync.fsync(dir);
        }
        return new Recovered(found, previousZxid, lastFile, lastFileEnd, lastFileSize, truncated);
    }

    private static TreeMap<Long, Path> listLogFiles(Path dir) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, LogFileFormat.FILE_PREFIX + "*")) {
            for (Path file : stream) {
                long zxid = LogFileFormat.parseFileName(file.getFileName().toString());
                if (zxid >= 0) {
                    found.put(zxid, file);
                }
            }
        }
        return found;
    }

    private static boolean hasValidHeader(FileChannel channel, long size) throws IOException {
        if (size < FILE_HEADER_BYTES) {
            return false;
        }
        ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_BYTES);
        LogFileFormat.readFully(channel, header, 0);
        return header.getInt(0) == FILE_MAGIC && header.getInt(4) == FORMAT_VERSION;
    }

    /**
     * A header that is short or a file of zero bytes only: the file was created (and maybe preallocated) but its
     * header never reached the disk.
     */
    private static boolean isBlankOrShort(FileChannel channel, long size) throws IOException {
        return size < FILE_HEADER_BYTES || LogFileFormat.allZero(channel, 0, size);
    }
}
