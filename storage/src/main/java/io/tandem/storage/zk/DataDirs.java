package io.tandem.storage.zk;

import io.tandem.storage.zk.apache.ApacheFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where a ZooKeeper server's files go, decided in this one place: the transaction log under {@code dataLogDir}, the
 * snapshots and everything else under {@code dataDir} (Apache's FileTxnSnapLog(dataLogDir, dataDir); dataLogDir
 * defaults to dataDir). Tandem's own layout is kept inside each: the log is always {@value #LOG_DIR}/ below the
 * directory that would hold it under dataDir, so a server whose two directories are one keeps its old paths.
 */
public record DataDirs(Path dataDir, Path dataLogDir) {
    /** The log's folder, relative to the (possibly nested) data log directory. */
    public static final String LOG_DIR = "log";
    /** Apache's FileTxnSnapLog.ZOOKEEPER_DATADIR_AUTOCREATE: false refuses a missing directory instead of creating it. */
    public static final String AUTOCREATE_PROPERTY = "zookeeper.datadir.autocreate";

    public DataDirs {
        dataDir = dataDir.normalize();
        dataLogDir = dataLogDir.normalize();
    }

    /** The log and everything else in one directory (dataLogDir not set). */
    public static DataDirs of(Path dataDir) {
        return new DataDirs(dataDir, dataDir);
    }

    /** The same sub-directory under both, e.g. an ensemble member's {@code zab/}. */
    public DataDirs resolve(String child) {
        return new DataDirs(dataDir.resolve(child), dataLogDir.resolve(child));
    }

    /**
     * The pair for {@code dir}, a directory inside dataDir (a member's {@code zab/}): its twin at the same relative
     * path inside dataLogDir holds its log. A directory outside dataDir keeps its log inside itself.
     */
    public DataDirs below(Path dir) {
        Path normal = dir.normalize();
        if (!separate() || !normal.startsWith(dataDir)) {
            return of(normal);
        }
        return new DataDirs(normal, dataLogDir.resolve(dataDir.relativize(normal)));
    }

    /** The directory holding the transaction log files. */
    public Path log() {
        return dataLogDir.resolve(LOG_DIR);
    }

    /** Whether the log lives apart from the rest (dataLogDir set to another directory). */
    public boolean separate() {
        return !dataDir.equals(dataLogDir);
    }

    /**
     * What Apache's FileTxnSnapLog constructor checks before anything is read: each directory exists (created unless
     * {@value #AUTOCREATE_PROPERTY} is false) and is writable, and with two directories, no log was left in dataDir.
     * Apache refuses "Snapshot directory has log files"; here a log folder under dataDir holding files means the
     * server ran before with its log there, and starting on an empty dataLogDir would silently lose every write in
     * it, so it is refused naming the move that fixes it. Apache's own files are checked as Apache checks them
     * ({@link #checkApacheFiles}).
     */
    public void prepare() throws IOException {
        prepare(dataDir, "data directory");
        prepare(dataLogDir, "data log directory");
        if (!separate()) {
            return;
        }
        checkApacheFiles();
        Path misplaced = dataDir.resolve(LOG_DIR);
        if (holdsFiles(misplaced)) {
            throw new IOException("Snapshot directory has log files: " + misplaced + " holds a transaction log while "
                    + "dataLogDir is " + dataLogDir + ". Check if dataLogDir and dataDir configuration is correct; to "
                    + "keep this data, stop the server and move " + misplaced + " to " + log() + ".");
        }
    }

    /**
     * Apache's FileTxnSnapLog checkLogDir and checkSnapDir, for the files an Apache server left in these directories
     * (ZOOKEEPER-2967): with two directories, a {@code log.*} file in dataDir's {@code version-2} or a
     * {@code snapshot.*} file in dataLogDir's is refused with Apache's message, the directory named after it. Apache's
     * logs left in dataDir would otherwise be passed over (Apache's and Tandem's start-up read logs from dataLogDir
     * only), and every write in them lost without a word.
     */
    public void checkApacheFiles() throws IOException {
        Path snapDir = ApacheFiles.versionDir(dataDir);
        Path logDir = ApacheFiles.versionDir(dataLogDir);
        if (snapDir.toString().equals(logDir.toString())) {
            return;
        }
        if (holdsNamed(logDir, ApacheFiles.SNAPSHOT_PREFIX + ".")) {
            throw new IOException("Log directory has snapshot files. Check if dataLogDir and dataDir configuration is "
                    + "correct. (" + logDir + " holds Apache's snapshot files; dataDir is " + dataDir + ")");
        }
        if (holdsNamed(snapDir, ApacheFiles.LOG_PREFIX + ".")) {
            throw new IOException("Snapshot directory has log files. Check if dataLogDir and dataDir configuration is "
                    + "correct. (" + snapDir + " holds Apache's transaction log files; dataLogDir is " + dataLogDir
                    + ")");
        }
    }

    /** Whether {@code dir} holds an entry whose name starts with {@code prefix} (Apache's Util.isLogFileName / ...). */
    private static boolean holdsNamed(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(file -> file.getFileName().toString().startsWith(prefix));
        }
    }

    private static void prepare(Path dir, String what) throws IOException {
        if (!Files.isDirectory(dir)) {
            boolean autocreate = Boolean.parseBoolean(System.getProperty(AUTOCREATE_PROPERTY, "true"));
            if (!autocreate) {
                throw new IOException("Missing " + what + " " + dir + ", automatic data directory creation is "
                        + "disabled (" + AUTOCREATE_PROPERTY + " is false). Please create this directory manually.");
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new IOException("Unable to create " + what + " " + dir + ": " + e, e);
            }
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("Cannot write to " + what + " " + dir);
        }
    }

    private static boolean holdsFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(Files::isRegularFile);
        }
    }
}
