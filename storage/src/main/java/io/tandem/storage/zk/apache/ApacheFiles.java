package io.tandem.storage.zk.apache;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Where Apache ZooKeeper 3.9 keeps its files: {@code <dataDir>/version-2/snapshot.<zxid>} and
 * {@code <dataLogDir>/version-2/log.<zxid>}, the zxid in lower-case hex without padding (Apache's
 * {@code Util.makeSnapshotName} / {@code makeLogName}). Compressed snapshots ({@code .gz}, {@code .snappy}) are
 * listed so that they can be refused by name rather than skipped silently.
 */
public final class ApacheFiles {
    /** Apache's {@code FileTxnSnapLog.version} directory under dataDir and dataLogDir. */
    public static final String VERSION_DIR = "version-2";
    public static final String SNAPSHOT_PREFIX = "snapshot";
    public static final String LOG_PREFIX = "log";

    /** {@code <dir>/version-2}. */
    public static Path versionDir(Path dataDir) {
        return dataDir.resolve(VERSION_DIR);
    }

    /** Whether {@code dataDir} holds Apache snapshots or transaction logs. */
    public static boolean holdsApacheData(Path dataDir) throws IOException {
        Path dir = versionDir(dataDir);
        return Files.isDirectory(dir) && (!list(dir, SNAPSHOT_PREFIX).isEmpty() || !list(dir, LOG_PREFIX).isEmpty());
    }

    /** The files named {@code <prefix>.<hex zxid>[.<suffix>]} in {@code dir}, by zxid ascending. */
    public static NavigableMap<Long, Path> list(Path dir, String prefix) throws IOException {
        NavigableMap<Long, Path> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, prefix + ".*")) {
            for (Path file : stream) {
                long zxid = zxidOf(file.getFileName().toString(), prefix);
                if (zxid >= 0) {
                    files.put(zxid, file);
                }
            }
        }
        return files;
    }

    /** The zxid in {@code <prefix>.<hex>[.<suffix>]}, or -1 when the name is not of that shape (as Apache's Util). */
    static long zxidOf(String name, String prefix) {
        String[] parts = name.split("\\.");
        if (parts.length < 2 || parts.length > 3 || !parts[0].equals(prefix)) {
            return -1;
        }
        try {
            return Long.parseLong(parts[1], 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String snapshotName(long zxid) {
        return SNAPSHOT_PREFIX + "." + Long.toHexString(zxid);
    }

    private ApacheFiles() {
    }
}
