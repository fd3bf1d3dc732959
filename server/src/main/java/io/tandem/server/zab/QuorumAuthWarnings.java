package io.tandem.server.zab;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authentication and TLS trouble with the quorum's members, logged without flooding: a member with the wrong
 * credentials redials every {@link QuorumTransport#RECONNECT_DELAY_MS}, so its failures are warned about once per
 * peer every {@link #INTERVAL_MS} and logged at debug level in between. Keys are configured member ids only, so the
 * map is bounded by the configuration. Thread-safe: any event loop logs here.
 */
final class QuorumAuthWarnings {
    private static final Logger LOG = System.getLogger(QuorumTransport.class.getName());

    /** How often one peer's failures are warned about. */
    static final long INTERVAL_MS = 30_000;

    /** When each peer's trouble was last warned about. */
    private final Map<Integer, Long> lastWarned = new ConcurrentHashMap<>();

    /** Logs a problem with member {@code peer}: a warning at most every {@link #INTERVAL_MS}. */
    void warn(int peer, String format, Object... arguments) {
        long now = System.currentTimeMillis();
        Long last = lastWarned.get(peer);
        boolean warn = last == null || now - last >= INTERVAL_MS;
        if (warn) lastWarned.put(peer, now);
        LOG.log(warn ? Level.WARNING : Level.DEBUG, format, arguments);
    }

    /** A peer has proved who it is: its next trouble is warned about at once. */
    void succeeded(int peer) {
        lastWarned.remove(peer);
    }
}
