package io.tandem.server.zookeeper;

import java.util.Random;
import java.util.function.LongSupplier;

/**
 * A client session. {@link #touch()} is called from Netty threads for every packet, everything else from the commit
 * thread; the session outlives connections and ends only by closeSession or expiry.
 */
final class Session {
    /** Apache's constant for deriving a session's password from its id, so passwords survive restarts unchanged. */
    private static final long PASSWORD_SECRET = 0xB3415C00L;
    static final int PASSWORD_BYTES = 16;

    final long id;
    volatile int timeoutMs;
    /** The clock the session's silence is measured on: System.nanoTime, or the simulator's virtual clock. */
    private final LongSupplier nanos;
    private volatile long lastSeenNanos;
    boolean closing;
    /** The connection the session is attached to, or null between connections. */
    volatile ServerConnection owner;

    Session(long id, int timeoutMs) {
        this(id, timeoutMs, System::nanoTime);
    }

    Session(long id, int timeoutMs, LongSupplier nanos) {
        this.id = id;
        this.timeoutMs = timeoutMs;
        this.nanos = nanos;
        this.lastSeenNanos = nanos.getAsLong();
    }

    void touch() {
        lastSeenNanos = nanos.getAsLong();
    }

    boolean isExpired(long nowNanos) {
        return isExpired(nowNanos, 1);
    }

    /** As {@link #isExpired(long)} with the timeout divided by {@code divisor} (1 but in a mutation test). */
    boolean isExpired(long nowNanos, int divisor) {
        return nowNanos - lastSeenNanos > timeoutMs * 1_000_000L / divisor;
    }

    /** When the session expires unless the client is heard from again, on the wall clock (for dump). */
    long expiresAtMillis(long nowMillis, long nowNanos) {
        return nowMillis + timeoutMs - (nowNanos - lastSeenNanos) / 1_000_000L;
    }

    static byte[] password(long sessionId) {
        byte[] password = new byte[PASSWORD_BYTES];
        new Random(sessionId ^ PASSWORD_SECRET).nextBytes(password);
        return password;
    }
}
