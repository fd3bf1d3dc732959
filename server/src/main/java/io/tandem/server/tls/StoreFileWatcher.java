package io.tandem.server.tls;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches key and trust store files and runs a reload when one of them is written, as Apache ZooKeeper's
 * FileChangeWatcher does for {@code client.certReload} and {@code sslQuorumReloadCertFiles}: the directory holding each
 * file is watched (a file replaced by a rename is a new file, which a watch on the file itself would miss), a creation
 * or modification of a watched name triggers the reload, a deletion does not (the stores in force stay until a new
 * file appears), and an overflow (events lost) triggers it too, to be safe.
 *
 * <p>The reload runs on this watcher's own daemon thread, never on a Netty event loop: reading a store and building a
 * context touch the disk. Events arriving within {@link #SETTLE_MS} of each other make one reload, so a file written in
 * several steps is read once it is complete rather than once per write (Apache reloads per event and may read a
 * half-written file; it then keeps its previous context, as {@code onChange} should).
 */
public final class StoreFileWatcher implements AutoCloseable {
    private static final Logger LOG = System.getLogger(StoreFileWatcher.class.getName());
    /** How long the watcher waits for further events after one before it reloads. */
    static final long SETTLE_MS = 100;

    private final WatchService service;
    private final Map<WatchKey, Path> directories = new HashMap<>();
    private final Set<Path> files = new LinkedHashSet<>();
    private final Runnable onChange;
    private final Thread thread;

    private StoreFileWatcher(String name, Collection<Path> watched, Runnable onChange) throws IOException {
        this.onChange = onChange;
        this.service = FileSystems.getDefault().newWatchService();
        try {
            for (Path file : watched) {
                Path absolute = file.toAbsolutePath().normalize();
                Path directory = absolute.getParent();
                if (directory == null) {
                    throw new IOException("Key/trust store path does not have a parent: " + absolute);
                }
                files.add(absolute);
                if (!directories.containsValue(directory)) {
                    directories.put(directory.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                            StandardWatchEventKinds.ENTRY_MODIFY), directory);
                }
            }
        } catch (IOException | RuntimeException e) {
            service.close();
            throw e;
        }
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    /**
     * Starts watching {@code files} (null entries are skipped: a store that is not set is not watched);
     * {@code onChange} runs on the watcher's thread after one of them is created or modified. Close it to stop.
     */
    public static StoreFileWatcher start(String threadName, Collection<Path> files, Runnable onChange)
            throws IOException {
        StoreFileWatcher watcher = new StoreFileWatcher(threadName,
                files.stream().filter(java.util.Objects::nonNull).toList(), onChange);
        watcher.thread.start();
        return watcher;
    }

    /** The files watched, absolute. */
    public Set<Path> files() {
        return Set.copyOf(files);
    }

    private void run() {
        try {
            while (true) {
                boolean changed = handle(service.take());
                WatchKey more;
                while ((more = service.poll(SETTLE_MS, TimeUnit.MILLISECONDS)) != null) {
                    changed |= handle(more);
                }
                if (changed) {
                    try {
                        onChange.run();
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, () -> "reloading " + files + " failed: " + e);
                    }
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // Closed: the watcher stops.
        }
    }

    /** Whether the key's events name a watched file (or were lost); re-arms the key. */
    private boolean handle(WatchKey key) {
        Path directory = directories.get(key);
        boolean changed = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                changed = true;
            } else if (directory != null && event.context() instanceof Path name
                    && files.contains(directory.resolve(name))) {
                changed = true;
            }
        }
        key.reset();
        return changed;
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
