package io.tandem.storage.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What the {@link TxnLog} tests share: payloads that identify their zxid, and ways to write and read them back. */
final class TxnLogs {
    private TxnLogs() {
    }

    static byte[] payload(long zxid) {
        // Sizes vary (0 .. 40 bytes) so record boundaries fall at irregular offsets.
        int length = (int) ((zxid * 7) % 41);
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (zxid * 31 + i);
        }
        return bytes;
    }

    static List<Long> replay(TxnLog log, long afterZxid) throws IOException {
        List<Long> zxids = new ArrayList<>();
        log.forEach(afterZxid, (zxid, txn) -> {
            assertArrayEquals(payload(zxid), txn, "payload of zxid " + zxid);
            zxids.add(zxid);
        });
        return zxids;
    }

    static List<Long> range(long fromInclusive, long toInclusive) {
        List<Long> zxids = new ArrayList<>();
        for (long z = fromInclusive; z <= toInclusive; z++) {
            zxids.add(z);
        }
        return zxids;
    }

    /** Appends and syncs one record at a time, as a server does group by group: a full file rolls at each sync. */
    static void appendSyncedRange(TxnLog log, long from, long to) throws IOException {
        for (long z = from; z <= to; z++) {
            log.append(z, payload(z));
            log.sync();
        }
    }

    static void appendRange(TxnLog log, long from, long to) throws IOException {
        for (long z = from; z <= to; z++) {
            log.append(z, payload(z));
        }
    }

    /** The log files of {@code dir} in zxid order. */
    static List<Path> listFiles(Path dir) throws IOException {
        try (Stream<Path> stream = Files.list(dir)) {
            return stream.filter(p -> p.getFileName().toString().startsWith("log.")).sorted().toList();
        }
    }

    /** The byte position where the record with {@code zxid} starts in {@code file}. */
    static long recordStart(Path file, long zxid) throws IOException {
        try (FileChannel channel = FileChannel.open(file)) {
            LogFileFormat.ScanResult scan = LogFileFormat.scan(channel, channel.size(), 0, 0, zxid - 1, null);
            return scan.validEnd;
        }
    }
}
