package io.tandem.server.tls;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches key and trust store files and runs a reload when what one of them holds changes, as Apache ZooKeeper's
 * FileChangeWatcher does for {@code client.certReload} and {@code sslQuorumReloadCertFiles}, and beyond it for stores
 * reached through symbolic links.
 *
 * <p>The directory holding each file is watched (a file replaced by a rename is a new file, which a watch on the file
 * itself would miss), and so is the directory its links resolve to. Apache reloads on an event naming the store
 * file; that misses a Kubernetes secret, whose files are links through {@code ..data}, a link to a dated directory
 * that the kubelet swaps by renaming a new link over it: the directory sees events for {@code ..data} and the dated
 * directories, never for {@code keystore.p12}. So here any event in a watched directory makes the watcher compare each
 * store's {@link StoreFingerprint} (resolved path and content hash) with the one last loaded, and reload when one
 * differs; the directories watched follow the links as they are re-pointed. As a backstop for links re-pointed
 * outside every watched directory, the fingerprints are also compared every {@link #CHECK_MS} without an event.
 *
 * <p>A store that is missing or unreadable at that moment (deleted, or between the two renames of a swap) makes no
 * reload: the stores in force stay until a readable file appears. A file rewritten with the same bytes is no change.
 * The reload runs on this watcher's own daemon thread, never on a Netty event loop: reading a store and building a
 * context touch the disk. Events arriving within {@link #SETTLE_MS} of each other make one check, so a file written
 * in several steps is usually read once it is complete (a half-written one fails to load, the previous context
 * stays, and the next write's event brings the complete one).
 */
public final class StoreFileWatcher implements AutoCloseable {
    private static final Logger LOG = System.getLogger(StoreFileWatcher.class.getName());
    /** How long the watcher waits for further events after one before it compares the stores. */
    static final long SETTLE_MS = 100;
    /** How often the stores are compared without any event (hashing a few kilobytes: cheap). */
    static final long CHECK_MS = 10_000;

    private final WatchService service;
    /** The directories watched now; touched only by the constructor, then by the watcher's thread. */
    private final Map<WatchKey, Path> directories = new HashMap<>();
    /** Each store file as configured (absolute) and the fingerprint of what was last loaded from it. */
    private final Map<Path, StoreFingerprint> loaded = new LinkedHashMap<>();
    private final Runnable onChange;
    private final Thread thread;

    private StoreFileWatcher(String name, Collection<Path> watched, Runnable onChange) throws IOException {
        this.onChange = onChange;
        this.service = FileSystems.getDefault().newWatchService();
        try {
            for (Path file : watched) {
                Path absolute = file.toAbsolutePath().normalize();
                if (absolute.getParent() == null) {
                    throw new IOException("Key/trust store path does not have a parent: " + absolute);
                }
                loaded.put(absolute, StoreFingerprint.of(absolute));
            }
            IOException failure = watchDirectories();
            if (failure != null) throw failure;
        } catch (IOException | RuntimeException e) {
            service.close();
            throw e;
        }
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    /**
     * Starts watching {@code files} (null entries are skipped: a store that is not set is not watched);
     * {@code onChange} runs on the watcher's thread after what one of them holds changed. Close it to stop.
     */
    public static StoreFileWatcher start(String threadName, Collection<Path> files, Runnable onChange)
            throws IOException {
        StoreFileWatcher watcher = new StoreFileWatcher(threadName,
                files.stream().filter(Objects::nonNull).toList(), onChange);
        watcher.thread.start();
        return watcher;
    }

    /** The files watched, absolute. */
    public Set<Path> files() {
        return Set.copyOf(loaded.keySet());
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = service.poll(CHECK_MS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    drain(key);
                    WatchKey more;
                    while ((more = service.poll(SETTLE_MS, TimeUnit.MILLISECONDS)) != null) {
                        drain(more);
                    }
                }
                if (changed()) {
                    try {
                        onChange.run();
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, () -> "reloading " + loaded.keySet() + " failed: " + e);
                    }
                }
                IOException failure = watchDirectories();
                if (failure != null) {
                    LOG.log(Level.DEBUG, () -> "cannot watch a store's directory, retried on the next pass: "
                            + failure);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // Closed: the watcher stops.
        }
    }

    /** Any event (an overflow included) only prompts a comparison, so the events themselves are dropped. */
    private static void drain(WatchKey key) {
        key.pollEvents();
        key.reset();
    }

    /**
     * Whether every store is readable now and the bytes of one of them differ from what was last loaded (the same
     * bytes behind another link are no change); if so, the new fingerprints become the loaded ones (a reload that
     * then fails is not retried until the files change again).
     */
    private boolean changed() {
        Map<Path, StoreFingerprint> now = new LinkedHashMap<>();
        for (Path file : loaded.keySet()) {
            StoreFingerprint fingerprint = StoreFingerprint.of(file);
            if (fingerprint == null) return false;
            now.put(file, fingerprint);
        }
        boolean differs = false;
        for (Map.Entry<Path, StoreFingerprint> entry : now.entrySet()) {
            StoreFingerprint before = loaded.get(entry.getKey());
            differs |= before == null || !before.sha256().equals(entry.getValue().sha256());
        }
        // The resolved paths are kept even when the bytes are the same, so the directories watched follow the links.
        loaded.putAll(now);
        if (differs) LOG.log(Level.DEBUG, () -> "store files changed: " + now.values());
        return differs;
    }

    /**
     * Watches the directory of each store as configured and the one its links resolve to now, and stops watching a
     * directory no store leads to any more (a dated secret directory the kubelet removed), so at most two
     * directories per store are ever watched. Returns the first directory that could not be watched, null if none:
     * at start-up that is an error, later it is retried on the next pass.
     */
    private IOException watchDirectories() {
        Set<Path> wanted = new LinkedHashSet<>();
        for (Map.Entry<Path, StoreFingerprint> entry : loaded.entrySet()) {
            wanted.add(entry.getKey().getParent());
            StoreFingerprint fingerprint = entry.getValue();
            if (fingerprint != null && fingerprint.resolved().getParent() != null) {
                wanted.add(fingerprint.resolved().getParent());
            }
        }
        for (Iterator<Map.Entry<WatchKey, Path>> it = directories.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<WatchKey, Path> entry = it.next();
            if (!wanted.contains(entry.getValue()) || !entry.getKey().isValid()) {
                entry.getKey().cancel();
                it.remove();
            }
        }
        IOException failure = null;
        for (Path directory : wanted) {
            if (directories.containsValue(directory)) continue;
            try {
                directories.put(directory.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE), directory);
            } catch (IOException e) {
                if (failure == null) failure = e;
            }
        }
        return failure;
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, () -> "closing the store file watcher: " + e);
        }
        thread.interrupt();
    }
}
