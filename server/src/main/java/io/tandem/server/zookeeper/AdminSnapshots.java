package io.tandem.server.zookeeper;

import io.tandem.storage.zk.apache.ApacheSnapshotReader;
import io.tandem.storage.zk.apache.ApacheSnapshotWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Apache 3.9's {@code snapshot} and {@code restore} admin commands (Commands.SnapshotCommand / RestoreCommand), after
 * {@link AdminAuth} has let the caller through: each checks its switch ({@code admin.snapshot.enabled},
 * {@code admin.restore.enabled}; off: 503), then its rate limiter (one call per {@code admin.rateLimiterIntervalInMS},
 * default 5 minutes; over: 429), then acts; a failure is 500 with a null error and a log line, as in Apache.
 *
 * <p>The snapshot is Apache's snapshot file (ApacheTreeFormat inside ApacheSnapshotWriter's framing: header, sessions,
 * ACL cache, nodes, seals, digest and last-zxid sections), fuzzy as Apache's: the commit thread only records the zxid
 * and copies the sessions, and the tree is walked (each node copied under its monitor, {@link SnapshotFormat#walk}),
 * written and fsynced on a snapshot thread of its own while writes go on committing, into a temporary file under
 * {@code <dataDir>/admin-snapshots}, then streamed from the handler thread and deleted. As with Apache's, the file with
 * the log's transactions after its {@code last_zxid} gives the tree (replay over a fuzzy walk: {@link SnapshotFormat});
 * its last-zxid section is the tree's zxid after the walk, as Apache writes it; {@code ?streaming=false} answers only the headers. Restore reads such a file
 * (Apache's or Tandem's) from the request body and replaces the tree and sessions of a standalone server
 * ({@link StandaloneCommit#restore}); an ensemble member refuses it, since one member's tree replaced outside Zab would
 * part from the others'.
 */
final class AdminSnapshots {
    private static final Logger LOG = System.getLogger(AdminSnapshots.class.getName());
    static final String SNAPSHOT_ENABLED = "admin.snapshot.enabled";
    static final String RESTORE_ENABLED = "admin.restore.enabled";
    static final String RATE_LIMITER_INTERVAL = "admin.rateLimiterIntervalInMS";
    /** Apache's default rate-limiter interval: 5 minutes. */
    static final long RATE_LIMITER_INTERVAL_MS_DEFAULT = 300_000;
    static final String STREAMING = "streaming";
    static final String HEADER_LAST_ZXID = "last_zxid";
    static final String HEADER_SNAPSHOT_SIZE = "snapshot_size";
    static final String SNAPSHOT_DIR = "admin-snapshots";
    static final int SERVICE_UNAVAILABLE = 503;
    static final int TOO_MANY_REQUESTS = 429;
    static final int INTERNAL_ERROR = 500;
    /** Snapshots asked for while one is being written that wait for it (more are refused): each holds a handler. */
    static final int SNAPSHOTS_WAITING_MAX = 1;
    /** How long the snapshot thread waits for the commit thread's last zxid after its walk. */
    static final long COMMIT_THREAD_WAIT_MS = 10_000;

    /** The three switches, as read from zoo.cfg or Apache's {@code zookeeper.admin.*} system properties. */
    record Settings(boolean snapshotEnabled, boolean restoreEnabled, long rateLimiterIntervalMs) {
        static final Settings DEFAULT = new Settings(true, true, RATE_LIMITER_INTERVAL_MS_DEFAULT);

        /** {@code get} gives a zoo.cfg key's value or null; Apache's system property is the fallback, as in Apache. */
        static Settings from(java.util.function.Function<String, String> get) {
            return new Settings(flag(get, SNAPSHOT_ENABLED), flag(get, RESTORE_ENABLED),
                    Long.parseLong(value(get, RATE_LIMITER_INTERVAL, Long.toString(RATE_LIMITER_INTERVAL_MS_DEFAULT))
                            .trim()));
        }

        private static boolean flag(java.util.function.Function<String, String> get, String key) {
            // Apache's Boolean.parseBoolean: anything but "true" (any case) is false.
            return Boolean.parseBoolean(value(get, key, "true").trim());
        }

        private static String value(java.util.function.Function<String, String> get, String key, String dflt) {
            String value = get.apply(key);
            if (value == null) value = System.getProperty("zookeeper." + key);
            return value == null ? dflt : value;
        }
    }

    /**
     * Apache's util.RateLimiter with a rate of 1: one call per fixed window, the first window starting at creation
     * and a new one at the first call after it ends.
     */
    static final class RateLimiter {
        private final long intervalMs;
        private long windowStartMs = nowMs();
        private boolean used;

        RateLimiter(long interval, TimeUnit unit) {
            this.intervalMs = unit.toMillis(interval);
        }

        synchronized boolean allow() {
            long now = nowMs();
            if (now > windowStartMs + intervalMs) {
                used = false;
                windowStartMs = now;
            }
            if (used) return false;
            used = true;
            return true;
        }

        private static long nowMs() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
        }
    }

    private final ZkServer server;
    private final Settings settings;
    private final RateLimiter snapshotLimiter;
    private final RateLimiter restoreLimiter;
    private final Path dir;
    /**
     * Where snapshots are walked, written and fsynced: neither the commit thread (writes go on meanwhile) nor an
     * event loop. One at a time, as Apache's synchronized takeSnapshot; one more may wait, the rest are refused (500).
     */
    private final java.util.concurrent.ThreadPoolExecutor snapshotThread = new java.util.concurrent.ThreadPoolExecutor(
            1, 1, 30, TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(SNAPSHOTS_WAITING_MAX),
            work -> {
                Thread thread = new Thread(work, "zk-admin-snapshot");
                thread.setDaemon(true);
                return thread;
            });

    AdminSnapshots(ZkServer server, Settings settings) {
        snapshotThread.allowCoreThreadTimeOut(true);
        this.server = server;
        this.settings = settings;
        // Apache 3.9.5 builds the snapshot's limiter with TimeUnit.MICROSECONDS and the restore's with MILLISECONDS
        // from the same setting, so a snapshot may come every 0.3 s by default and a restore every 5 minutes.
        this.snapshotLimiter = new RateLimiter(settings.rateLimiterIntervalMs(), TimeUnit.MICROSECONDS);
        this.restoreLimiter = new RateLimiter(settings.rateLimiterIntervalMs(), TimeUnit.MILLISECONDS);
        this.dir = server.config.dataDir().resolve(SNAPSHOT_DIR);
        removeLeftovers();
    }

    /** Files a crash left behind while one was being streamed or restored. */
    private void removeLeftovers() {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) deleteTree(file);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not clear " + dir, e);
        }
    }

    CompletableFuture<AdminResponse> snapshot(String primary, Map<String, String> args) {
        Map<String, Object> json = AdminCommands.response(primary, new LinkedHashMap<>(), null);
        if (!settings.snapshotEnabled()) {
            LOG.log(Level.WARNING, "Snapshot command is disabled (" + SNAPSHOT_ENABLED + "=false)");
            return done(new AdminResponse(json, SERVICE_UNAVAILABLE, Map.of(), null));
        }
        if (!snapshotLimiter.allow()) {
            LOG.log(Level.WARNING, "Snapshot request was rate limited");
            return done(new AdminResponse(json, TOO_MANY_REQUESTS, Map.of(), null));
        }
        boolean streaming = !args.containsKey(STREAMING) || Boolean.parseBoolean(args.get(STREAMING));
        Path work;
        try {
            Files.createDirectories(dir);
            work = Files.createTempDirectory(dir, "snapshot-");
        } catch (IOException e) {
            return done(failed(json, "taking the snapshot", e));
        }
        // The commit thread only records where the walk starts and copies the sessions (Apache's FileTxnSnapLog.save
        // names the file after lastProcessedZxid before its walk); the walk and the fsync run on the snapshot thread.
        return server.call(() -> new Object[] {server.tree.lastProcessedZxid(),
                SnapshotFormat.sessionTimeouts(server.sessions.byId())}).thenApplyAsync(start -> {
            long zxid = (Long) start[0];
            @SuppressWarnings("unchecked")
            Map<Long, Integer> sessions = (Map<Long, Integer>) start[1];
            try {
                Path file = ApacheSnapshotWriter.write(work, zxid,
                        ApacheTreeFormat.writeFuzzy(server.tree, sessions, zxid)::writeTo,
                        this::lastProcessedZxidNow);
                return new Object[] {zxid, file};
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, snapshotThread).handle((written, failure) -> {
            if (failure != null) {
                deleteTree(work);
                return failed(json, "taking the snapshot", unwrap(failure));
            }
            long zxid = (Long) written[0];
            Path file = (Path) written[1];
            try {
                // One flat file to stream and delete; the directory ApacheSnapshotWriter made goes now.
                Path flat = Files.move(file, dir.resolve(work.getFileName() + ".snapshot"));
                deleteTree(work);
                long size = Files.size(flat);
                Map<String, String> headers = new LinkedHashMap<>();
                headers.put(HEADER_LAST_ZXID, "0x" + Long.toHexString(zxid));
                headers.put(HEADER_SNAPSHOT_SIZE, Long.toString(size));
                if (streaming) return new AdminResponse(json, 200, headers, flat);
                Files.delete(flat);
                return new AdminResponse(json, 200, headers, null);
            } catch (IOException e) {
                deleteTree(work);
                return failed(json, "taking the snapshot", e);
            }
        });
    }

    /**
     * The tree's last processed zxid once the walk is done, asked of the commit thread: Apache's FileSnap writes
     * DataTree.lastProcessedZxid after its walk into the last-zxid section, which its restore takes as the tree's
     * zxid, so zxids after a restore go on beyond every change the fuzzy walk may have seen.
     */
    private long lastProcessedZxidNow() {
        try {
            return server.call(server.tree::lastProcessedZxid).get(COMMIT_THREAD_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new UncheckedIOException(new IOException("the commit thread did not answer its last zxid", e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException("interrupted"));
        }
    }

    CompletableFuture<AdminResponse> restore(String primary, byte[] body) {
        Map<String, Object> json = AdminCommands.response(primary, new LinkedHashMap<>(), null);
        if (!settings.restoreEnabled()) {
            LOG.log(Level.WARNING, "Restore command is disabled (" + RESTORE_ENABLED + "=false)");
            return done(new AdminResponse(json, SERVICE_UNAVAILABLE, Map.of(), null));
        }
        if (!restoreLimiter.allow()) {
            LOG.log(Level.WARNING, "Restore request was rate limited");
            return done(new AdminResponse(json, TOO_MANY_REQUESTS, Map.of(), null));
        }
        if (!(server.commitPath() instanceof StandaloneCommit standalone)) {
            return done(new AdminResponse(AdminCommands.response(primary, new LinkedHashMap<>(),
                    "Tandem restores a standalone server only: an ensemble member's tree replaced outside Zab would "
                            + "part from the other members'"), INTERNAL_ERROR, Map.of(), null));
        }
        Path file;
        try {
            Files.createDirectories(dir);
            file = Files.createTempFile(dir, "restore-", ".snapshot");
            Files.write(file, body);
        } catch (IOException e) {
            return done(failed(json, "restoring", e));
        }
        // Queued behind any admin snapshot being walked (Apache's takeSnapshot and restoreFromSnapshot are both
        // synchronized on the server), so no walk ever sees the tree half replaced; the restore itself runs on the
        // commit thread.
        return CompletableFuture.supplyAsync(() -> server.call(() -> {
            try {
                long zxid = standalone.restore(file);
                // Connections whose sessions the snapshot does not hold end now, as their next request would.
                for (ServerConnection connection : server.listener.connections()) {
                    long session = connection.sessionId;
                    if (session != 0 && !server.sessions.byId().containsKey(session)) connection.closeNow();
                }
                return zxid;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).join(), snapshotThread).handle((zxid, failure) -> {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete " + file, e);
            }
            if (failure != null) return failed(json, "restoring", unwrap(failure));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put(HEADER_LAST_ZXID, zxid);
            LOG.log(Level.INFO, () -> "Restored the tree from a snapshot at zxid 0x" + Long.toHexString(zxid) + ": "
                    + server.tree.nodeCount() + " znodes");
            return AdminResponse.ok(AdminCommands.response(primary, data, null));
        });
    }

    /** Reads an Apache snapshot file into {@code tree} and {@code sessions}; returns the last zxid it records. */
    static long readApache(Path file, DataTree tree, Map<Long, Session> sessions, int fieldBytesMax)
            throws IOException {
        try (ApacheSnapshotReader reader = ApacheSnapshotReader.open(file)) {
            ApacheTreeFormat.read(reader, tree, sessions, fieldBytesMax);
            long zxid = reader.finish();
            // Apache's restore reads the last processed zxid section too (serializeLastProcessedZxid.enabled).
            if (zxid < 0) throw new IOException("the snapshot has no last processed zxid section");
            tree.setLastProcessedZxid(zxid);
            return zxid;
        }
    }

    private static AdminResponse failed(Map<String, Object> json, String what, Throwable cause) {
        LOG.log(Level.WARNING, "Exception occurred when " + what + " via the admin command", cause);
        return new AdminResponse(json, INTERNAL_ERROR, Map.of(), null);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        return cause instanceof UncheckedIOException unchecked ? unchecked.getCause() : cause;
    }

    private static CompletableFuture<AdminResponse> done(AdminResponse response) {
        return CompletableFuture.completedFuture(response);
    }

    private static void deleteTree(Path path) {
        try {
            if (Files.isDirectory(path)) {
                try (DirectoryStream<Path> children = Files.newDirectoryStream(path)) {
                    for (Path child : children) deleteTree(child);
                }
            }
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not delete " + path, e);
        }
    }
}
