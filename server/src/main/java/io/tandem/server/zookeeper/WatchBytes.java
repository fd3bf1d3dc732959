package io.tandem.server.zookeeper;

import java.util.HashMap;
import java.util.Map;

/**
 * The memory client watches hold, per connection and in total, against a limit for each. Apache 3.9 has none: its
 * WatchManager (and the bitmap-based WatchManagerOptimized, chosen with {@code zookeeper.watchManagerName}) only makes
 * each watch cheaper, so one client setting exists-watches on millions of absent paths grows the server's watch tables
 * until the heap is gone. Here a watch is counted as {@link #ENTRY_BYTES} plus its path's characters, once per
 * connection, path and kind (data or child; a second mode on the same entry is free). A request that would pass a
 * limit (a read with a watch, addWatch, a reconnecting client's setWatches) is not answered: its connection is closed
 * with a WARNING naming the limit ({@link Exceeded}, {@link Responder}). Apache refuses a request it has no room for
 * the same way (a frame past jute.maxbuffer, a client past maxClientCnxns, a request its RequestThrottler drops as
 * stale: the connection closes), and every client library handles a lost connection: the Java and C clients report
 * CONNECTIONLOSS and reconnect, kazoo raises ConnectionLoss and reconnects. An error code would not do: Apache sends
 * QUOTA_EXCEEDED (-125) only for writes past an enforced quota, and kazoo 2.8 has no mapping for it (its connection
 * thread dies on the unknown code and the client hangs). The session survives; its reconnect re-sets the watches it
 * held, which fit, and the refused one was never recorded by the client. Commit thread only.
 */
final class WatchBytes {
    /** Accounted watch bytes one connection may hold; the system property overrides {@link #PER_CONNECTION_DEFAULT}. */
    static final String PER_CONNECTION_PROPERTY = "tandem.zookeeper.watchBytesPerConnection";
    /** Accounted watch bytes all connections together may hold; overrides {@link #totalDefault()}. */
    static final String TOTAL_PROPERTY = "tandem.zookeeper.watchBytesTotal";
    /**
     * 64 MiB: about 500,000 watches on 40-character paths for one connection, far more than Curator's, kazoo's or the
     * client suites' tests set, and more than a TreeCache over a large tree needs.
     */
    static final long PER_CONNECTION_DEFAULT = 64L << 20;
    /**
     * What one watch costs besides its path, estimated from the objects it takes on a 64-bit JVM with compressed
     * pointers: an entry in each of the manager's two maps (path to watcher, watcher to paths: a 32-byte hash node and
     * a table slot each) and the path String's own header and array header (about 40 bytes).
     */
    static final long ENTRY_BYTES = 100;

    private final long perConnectionMax;
    private final long totalMax;
    /** Per watcher: its accounted bytes (one-element arrays, changed in place). */
    private final Map<Watcher, long[]> byWatcher = new HashMap<>();
    private long total;

    WatchBytes(long perConnectionMax, long totalMax) {
        this.perConnectionMax = perConnectionMax;
        this.totalMax = totalMax;
    }

    /** The limits from the system properties, else the defaults. */
    static WatchBytes configured() {
        return new WatchBytes(Long.getLong(PER_CONNECTION_PROPERTY, PER_CONNECTION_DEFAULT),
                Long.getLong(TOTAL_PROPERTY, totalDefault()));
    }

    /** A quarter of the heap (and never below one connection's limit): watches alone cannot fill it. */
    static long totalDefault() {
        return Math.max(PER_CONNECTION_DEFAULT, Runtime.getRuntime().maxMemory() / 4);
    }

    static long cost(String path) {
        return ENTRY_BYTES + path.length();
    }

    long perConnectionMax() {
        return perConnectionMax;
    }

    long totalMax() {
        return totalMax;
    }

    /** Whether {@code bytes} more fit under both limits for {@code watcher}. */
    boolean admits(Watcher watcher, long bytes) {
        if (bytes == 0) return true;
        long[] held = byWatcher.get(watcher);
        return (held == null ? 0 : held[0]) + bytes <= perConnectionMax && total + bytes <= totalMax;
    }

    long heldBy(Watcher watcher) {
        long[] held = byWatcher.get(watcher);
        return held == null ? 0 : held[0];
    }

    long total() {
        return total;
    }

    void charge(Watcher watcher, String path) {
        long bytes = cost(path);
        byWatcher.computeIfAbsent(watcher, w -> new long[1])[0] += bytes;
        total += bytes;
    }

    void refund(Watcher watcher, String path) {
        long[] held = byWatcher.get(watcher);
        if (held == null) return;
        long bytes = cost(path);
        held[0] -= bytes;
        total -= bytes;
    }

    /** A closed connection: its watches are gone, and so is its entry. */
    void forget(Watcher watcher) {
        long[] held = byWatcher.remove(watcher);
        if (held != null) total -= held[0];
    }

    void clear() {
        byWatcher.clear();
        total = 0;
    }

    /**
     * A request would pass a watch limit: it is not answered and its connection is closed (see the class comment).
     * Carries the figures for the log line; no stack trace (it is an expected outcome, not a bug).
     */
    static final class Exceeded extends RuntimeException {
        Exceeded(String path, long held, long perConnectionMax, long total, long totalMax) {
            super("a watch on " + path + " would pass the watch limits: the connection holds " + held + " bytes of "
                    + "watches (limit " + perConnectionMax + ", " + PER_CONNECTION_PROPERTY + "), all connections "
                    + total + " (limit " + totalMax + ", " + TOTAL_PROPERTY + ")", null, false, false);
        }
    }
}
