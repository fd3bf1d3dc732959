package io.tandem.server.zab;

import io.tandem.storage.zk.CorruptLogException;
import io.tandem.storage.zk.DataDirs;
import io.tandem.storage.zk.Snapshot;
import io.tandem.storage.zk.SnapshotBody;
import io.tandem.storage.zk.SnapshotStore;
import io.tandem.storage.zk.TxnLog;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * A member's Zab data on real files under its data dir: the {@link TxnLog} in {@value #LOG_DIR} (under dataLogDir when
 * that is set apart, see {@link DataDirs}), a
 * {@link SnapshotStore} in {@value #SNAPSHOT_DIR}, the epoch files (text, like ZooKeeper's, each replaced atomically
 * and fsynced) and the {@value #RECOVERING_MARKER} marker.
 *
 * <p>{@link #open} checks what it reads. Damage (a log record or file header failing its checksum, a newest snapshot
 * that does not verify, an unreadable currentEpoch, a hole between the snapshot and the log) does not stop an ensemble
 * member: the damaged files move to {@code corrupt-<time>/} (never deleted), the durable marker is written and the
 * member starts with an empty history but the same acceptedEpoch, so that it counts in no quorum and serves nothing
 * until a leader has re-synced it (see {@link ZabStateMachine}). acceptedEpoch is the member's promise to leaders and a
 * damaged one cannot be rebuilt safely, so that, like any damage on a single server (nobody to re-sync from), refuses
 * to start.
 */
public final class FileZabDisk implements ZabDisk {
    private static final Logger LOG = System.getLogger(FileZabDisk.class.getName());

    /** Present while this member's history is set aside and not yet re-synced from a leader. */
    public static final String RECOVERING_MARKER = "recovering";
    static final String LOG_DIR = DataDirs.LOG_DIR;
    static final String SNAPSHOT_DIR = "zab-snapshots";
    static final String ACCEPTED_EPOCH = "acceptedEpoch";
    static final String CURRENT_EPOCH = "currentEpoch";
    /** Snapshots kept after a compaction: the newest, and one before it in case the newest is found damaged. */
    private static final int SNAPSHOTS_KEPT = 2;
    private static final DateTimeFormatter ASIDE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /**
     * System property: the size at which the log starts a new file (default {@link TxnLog#DEFAULT_ROLL_BYTES}).
     * Purging after a snapshot deletes whole files only, so tests that prove a purge set it small.
     */
    public static final String LOG_ROLL_BYTES_PROPERTY = "tandem.zab.logRollBytes";

    private final Path dataDir;
    /** The log's directory: {@value #LOG_DIR} under dataDir, or under dataLogDir when that is another directory. */
    private final Path logDir;
    /** The log's preallocation block (zoo.cfg's preAllocSize, else zookeeper.preAllocSize; 0: none). */
    private final long preAllocBytes;
    private final SnapshotStore snapshots;
    private TxnLog log;
    private final LogSyncStats logStats = new LogSyncStats();
    private DurableState loadedState;

    private FileZabDisk(DataDirs dirs, long preAllocBytes) throws IOException {
        this.dataDir = dirs.dataDir();
        this.logDir = dirs.log();
        this.preAllocBytes = preAllocBytes;
        dirs.prepare();
        this.snapshots = SnapshotStore.open(dataDir.resolve(SNAPSHOT_DIR));
    }

    /** Opens (or creates) the Zab data under {@code dataDir}, setting damaged history aside as described above. */
    public static FileZabDisk open(ZabConfig config, Path dataDir) throws IOException {
        return open(config, dataDir, TxnLog.configuredPreAllocBytes());
    }

    /** As {@link #open(ZabConfig, Path)}, the log preallocated in blocks of {@code preAllocBytes} (0: none). */
    public static FileZabDisk open(ZabConfig config, Path dataDir, long preAllocBytes) throws IOException {
        return open(config, DataDirs.of(dataDir), preAllocBytes);
    }

    /** As {@link #open(ZabConfig, Path, long)}, the log under {@code dirs}' data log directory. */
    public static FileZabDisk open(ZabConfig config, DataDirs dirs, long preAllocBytes) throws IOException {
        FileZabDisk disk = new FileZabDisk(dirs, preAllocBytes);
        disk.load(config);
        return disk;
    }

    private static long logRollBytes() {
        String value = System.getProperty(LOG_ROLL_BYTES_PROPERTY);
        if (value == null || value.isBlank()) {
            return TxnLog.DEFAULT_ROLL_BYTES;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(LOG_ROLL_BYTES_PROPERTY + " must be a number of bytes: " + value, e);
        }
    }

    /** What was on disk at open: the state the machine starts from. */
    public DurableState loaded() {
        return loadedState;
    }

    private void load(ZabConfig config) throws IOException {
        long acceptedEpoch = readAcceptedEpoch();
        Path marker = dataDir.resolve(RECOVERING_MARKER);
        Loaded loaded = null;
        String damage;
        if (Files.exists(marker)) {
            damage = "a re-sync from the leader after earlier damage had not finished (" + marker + " is present)";
        } else {
            Loaded[] holder = new Loaded[1];
            damage = load(acceptedEpoch, holder);
            loaded = holder[0];
        }
        if (damage != null) {
            if (config.voters().length == 1 && config.isVoter(config.myId())) {
                throw new IOException("Zab data in " + dataDir + " is damaged: " + damage + ". This server is the "
                        + "only voter, so no other member holds a copy to re-sync from; it refuses to start rather "
                        + "than serve with transactions missing. Restore " + dataDir + " from a backup, or move it "
                        + "aside to start with empty data.");
            }
            boolean resumed = Files.exists(marker);
            Path aside = setAside(damage);
            LOG.log(Level.WARNING, "server {0}: {1}: {2}. {3}; this member starts with an empty history and is "
                    + "recovering: it serves no clients and counts in no election or quorum until a leader has "
                    + "re-synced it", config.myId(), resumed ? "still recovering" : "Zab data damaged", damage,
                    aside == null ? "Nothing to set aside"
                            : (resumed ? "The unfinished re-sync is kept in " : "The damaged files are kept in ")
                                    + aside);
            this.log = TxnLog.open(logDir, logRollBytes(), preAllocBytes);
            loaded = new Loaded(DurableState.recovering(acceptedEpoch));
        } else {
            this.log = loaded.log;
        }
        this.loadedState = loaded.durable;
    }

    @Override
    public SnapshotData writeSnapshot(long zxid, SnapshotData snapshot) throws IOException {
        if (snapshot instanceof Stored stored && stored.zxid == zxid && stored.store == snapshots) {
            return snapshot; // written by the application's snapshot thread through writeSnapshot(zxid, body)
        }
        return stored(zxid, snapshots.write(zxid, out -> {
            try (InputStream in = snapshot.open()) {
                in.transferTo(out);
            }
        }));
    }

    /**
     * Writes a snapshot of the application's state streamed by {@code body}, on the caller's thread (the application's
     * snapshot thread, while the Zab thread goes on): the result is handed to Zab with {@link ZabServer#compact}.
     */
    public SnapshotData writeSnapshot(long zxid, SnapshotBody body) throws IOException {
        return stored(zxid, snapshots.write(zxid, body));
    }

    private SnapshotData stored(long zxid, Snapshot snapshot) throws IOException {
        return new Stored(snapshots, zxid, SnapshotData.of(snapshot));
    }

    /** A snapshot in this disk's store: writing it again is a no-op. */
    private record Stored(SnapshotStore store, long zxid, SnapshotData data) implements SnapshotData {
        @Override
        public long size() {
            return data.size();
        }

        @Override
        public InputStream open() throws IOException {
            return data.open();
        }
    }

    @Override
    public void retainNewestSnapshots() throws IOException {
        snapshots.retain(SNAPSHOTS_KEPT);
    }

    @Override
    public void truncateAfter(long zxid) throws IOException {
        log.truncateAfter(zxid);
    }

    @Override
    public void append(long zxid, byte[] txn) throws IOException {
        log.append(zxid, txn);
        // Only transactions reach an ensemble member's log, as only proposals reach Apache's SyncRequestProcessor.
        logStats.queued(1);
        logStats.appended(1);
    }

    @Override
    public void sync() throws IOException {
        long started = System.nanoTime();
        log.sync();
        logStats.synced((System.nanoTime() - started) / 1_000_000);
    }

    /** mntr's figures about this log, as Apache's SyncRequestProcessor and FileTxnLog count them. */
    public LogSyncStats logStats() {
        return logStats;
    }

    @Override
    public void writeAcceptedEpoch(long epoch) throws IOException {
        writeEpoch(ACCEPTED_EPOCH, epoch);
    }

    @Override
    public void writeCurrentEpoch(long epoch) throws IOException {
        writeEpoch(CURRENT_EPOCH, epoch);
    }

    @Override
    public void clearRecovering() throws IOException {
        Files.deleteIfExists(dataDir.resolve(RECOVERING_MARKER));
        fsyncDirectory(dataDir);
    }

    @Override
    public void purgeBefore(long zxid) throws IOException {
        log.purgeBefore(zxid);
    }

    @Override
    public boolean isRecovering() {
        return Files.exists(dataDir.resolve(RECOVERING_MARKER));
    }

    @Override
    public long lastZxid() {
        return log.lastZxid();
    }

    @Override
    public void close() throws IOException {
        log.close();
    }

    /** What {@link #load} read: the state for the machine and the open log. */
    private static final class Loaded {
        final DurableState durable;
        final TxnLog log;

        Loaded(DurableState durable) {
            this(durable, null);
        }

        Loaded(DurableState durable, TxnLog log) {
            this.durable = durable;
            this.log = log;
        }
    }

    /**
     * Reads the log, the newest snapshot and currentEpoch, checking each; returns null with {@code result[0]} set, or
     * a description of the first damage found (file and offset) with nothing left open.
     */
    private String load(long acceptedEpoch, Loaded[] result) throws IOException {
        TxnLog opened;
        try {
            opened = TxnLog.open(logDir, logRollBytes(), preAllocBytes);
        } catch (CorruptLogException e) {
            return describe(e);
        }
        try {
            long snapshotZxid = 0;
            SnapshotData snapshot = null;
            List<Snapshot> all = snapshots.newestFirst();
            if (!all.isEmpty()) {
                Snapshot newest = all.get(0);
                // An older snapshot is no substitute: the log may have been purged up to the newest one.
                if (!snapshots.verifies(newest)) {
                    opened.close();
                    return "snapshot " + newest.file() + " (" + Files.size(newest.file())
                            + " bytes): its checksum or framing does not verify";
                }
                snapshotZxid = newest.zxid();
                snapshot = stored(snapshotZxid, newest);
            }
            List<LogEntry> entries = new ArrayList<>();
            try {
                opened.forEach(snapshotZxid, (zxid, txn) -> entries.add(new LogEntry(zxid, txn)));
            } catch (CorruptLogException e) {
                opened.close();
                return describe(e);
            }
            String gap = DurableState.firstGap(snapshotZxid, entries);
            if (gap != null) {
                opened.close();
                return "a hole between snapshot " + Zxid.toString(snapshotZxid) + " and the log in "
                        + logDir + ": " + gap;
            }
            long currentEpoch;
            try {
                currentEpoch = readEpoch(CURRENT_EPOCH);
            } catch (IOException e) {
                opened.close();
                return e.getMessage();
            }
            if (currentEpoch > acceptedEpoch) {
                // readAcceptedEpoch refuses this already; kept so the invariant never reaches the machine.
                opened.close();
                return dataDir.resolve(CURRENT_EPOCH) + " holds epoch " + currentEpoch + ", above acceptedEpoch "
                        + acceptedEpoch;
            }
            result[0] = new Loaded(new DurableState(acceptedEpoch, currentEpoch, snapshotZxid, snapshot, entries),
                    opened);
            return null;
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    private static String describe(CorruptLogException e) {
        return "transaction log " + e.file() + " at byte " + e.position() + ": "
                + e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2);
    }

    /**
     * Makes the member start over: first the durable marker (a crash from here on restarts recovering), then the
     * history moves to a fresh {@code corrupt-<time>} directory. acceptedEpoch stays (a copy goes along for the
     * operator). Returns that directory, or null when there was nothing to move.
     */
    private Path setAside(String damage) throws IOException {
        Path marker = dataDir.resolve(RECOVERING_MARKER);
        if (!Files.exists(marker)) {
            writeDurably(RECOVERING_MARKER, "recovering since " + Instant.now() + ": " + damage + "\n");
        }
        List<String> toMove = new ArrayList<>();
        for (String name : new String[] {SNAPSHOT_DIR, CURRENT_EPOCH, CURRENT_EPOCH + ".tmp",
                ACCEPTED_EPOCH + ".tmp"}) {
            if (Files.exists(dataDir.resolve(name)) && !isEmptyDirectory(dataDir.resolve(name))) {
                toMove.add(name);
            }
        }
        boolean moveLog = Files.exists(logDir) && !isEmptyDirectory(logDir);
        if (toMove.isEmpty() && !moveLog) {
            return null;
        }
        String stamp = ASIDE_TIME.format(Instant.now());
        Path aside = dataDir.resolve("corrupt-" + stamp);
        for (int i = 2; Files.exists(aside); i++) {
            aside = dataDir.resolve("corrupt-" + stamp + "-" + i);
        }
        Files.createDirectory(aside);
        for (String name : toMove) {
            Files.move(dataDir.resolve(name), aside.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        }
        if (moveLog) {
            // A log kept under dataLogDir (often another disk) is set aside on its own disk, in a directory of the
            // same name, so that the move stays atomic.
            Path logAside = logDir.getParent().equals(dataDir) ? aside
                    : logDir.getParent().resolve(aside.getFileName());
            Files.createDirectories(logAside);
            Files.move(logDir, logAside.resolve(LOG_DIR), StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(logAside);
            fsyncDirectory(logDir.getParent());
        }
        if (Files.exists(dataDir.resolve(ACCEPTED_EPOCH))) {
            Files.copy(dataDir.resolve(ACCEPTED_EPOCH), aside.resolve(ACCEPTED_EPOCH));
        }
        Files.writeString(aside.resolve("README"), "Zab data set aside at " + Instant.now() + " because of: "
                + damage + "\nThe member re-synced from the leader; this copy is kept for inspection only.\n",
                StandardCharsets.UTF_8);
        fsyncDirectory(aside);
        fsyncDirectory(dataDir);
        Files.createDirectories(dataDir.resolve(SNAPSHOT_DIR));
        return aside;
    }

    private static boolean isEmptyDirectory(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (var entries = Files.list(path)) {
            return entries.findAny().isEmpty();
        }
    }

    /**
     * acceptedEpoch is this member's promise never to follow an older epoch. Without it, an older leader could use this
     * member to commit behind a newer epoch's back, and nothing the other members hold can rebuild it safely: so damage
     * here refuses to start, and says what an operator can do.
     */
    private long readAcceptedEpoch() throws IOException {
        Path file = dataDir.resolve(ACCEPTED_EPOCH);
        String advice = ". acceptedEpoch is this member's promise to leaders and cannot be rebuilt automatically, so "
                + "the member refuses to start. Write into " + file + " the highest acceptedEpoch found in the zab "
                + "directory of any other member and start it again (damaged history, if any, is then set aside and "
                + "re-synced from the leader).";
        long accepted;
        try {
            accepted = readEpoch(ACCEPTED_EPOCH);
        } catch (IOException e) {
            throw new IOException(e.getMessage() + advice, e);
        }
        // currentEpoch is only ever written after acceptedEpoch and never above it: if it is, or if it exists without
        // acceptedEpoch, either file may be the damaged one, and a too-low promise must not be trusted.
        if (Files.exists(dataDir.resolve(CURRENT_EPOCH))) {
            long current;
            try {
                current = readEpoch(CURRENT_EPOCH);
            } catch (IOException e) {
                return accepted; // a damaged currentEpoch only costs the history: the member recovers
            }
            if (!Files.exists(file)) {
                throw new IOException(file + " is missing while " + CURRENT_EPOCH + " holds " + current + advice);
            }
            if (current > accepted) {
                throw new IOException(file + " holds " + accepted + ", below " + CURRENT_EPOCH + " " + current
                        + ": one of them is damaged" + advice);
            }
        }
        return accepted;
    }

    /** Epoch files hold the number as text, like ZooKeeper's. */
    private void writeEpoch(String name, long value) throws IOException {
        writeDurably(name, value + "\n");
    }

    /** Replaces file {@code name} in the data dir atomically: a temp file, fsynced, renamed, the rename fsynced. */
    private void writeDurably(String name, String text) throws IOException {
        Path temp = dataDir.resolve(name + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
        Files.move(temp, dataDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(dataDir);
    }

    /** Makes the rename itself durable (Linux allows fsync on a directory opened for reading). */
    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
                throw e;
            }
        }
    }

    private long readEpoch(String name) throws IOException {
        Path file = dataDir.resolve(name);
        if (!Files.exists(file)) {
            return 0;
        }
        String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        String text = raw.strip();
        try {
            // Exactly what writeEpoch writes, give or take white space: any other byte (a NUL, a sign) is damage.
            if (!raw.matches("\\s*[0-9]{1,19}\\s*")) {
                throw new NumberFormatException("not a decimal number");
            }
            long epoch = Long.parseLong(text);
            if (epoch < 0 || epoch > Zxid.EPOCH_MAX) {
                throw new NumberFormatException("out of range");
            }
            return epoch;
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold an epoch: '" + text.replaceAll("[^\\x20-\\x7e]", "?")
                    + "'", e);
        }
    }
}
