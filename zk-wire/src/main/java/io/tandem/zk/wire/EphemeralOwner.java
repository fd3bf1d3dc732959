package io.tandem.zk.wire;

/**
 * What a znode's ephemeralOwner field encodes besides a session id (Apache's server-side EphemeralType, which the
 * transaction log and snapshots carry): 0 for a persistent node, {@link #CONTAINER} for a container, and for a TTL node
 * 0xff in the high byte, two reserved zero bytes, then the TTL in milliseconds. Clients see 0 for both markers.
 */
public final class EphemeralOwner {
    /** A container node's owner: the high bit only. */
    public static final long CONTAINER = Long.MIN_VALUE;
    /** Extended owners (TTL) carry 0xff in the high byte, so no real server id (at most 0xfe) can collide. */
    private static final long EXTENDED_MASK = 0xff00000000000000L;
    /** The extended type: 0x0000 for TTL, the only one Apache 3.9 defines. */
    private static final long EXTENDED_TYPE_MASK = 0x00ffff0000000000L;
    /** The largest TTL a node may have, in milliseconds (about 34 years). */
    public static final long TTL_MS_MAX = ~(EXTENDED_MASK | EXTENDED_TYPE_MASK);

    private EphemeralOwner() {
    }

    public static boolean isContainer(long owner) {
        return owner == CONTAINER;
    }

    public static boolean isTtl(long owner) {
        return (owner & EXTENDED_MASK) == EXTENDED_MASK && (owner & EXTENDED_TYPE_MASK) == 0;
    }

    /** A real session's ephemeral, as opposed to a persistent, container or TTL node. */
    public static boolean isSession(long owner) {
        return owner != 0 && !isContainer(owner) && !isTtl(owner);
    }

    /** Whether a create may carry this TTL (outside the range Apache answers BadArguments). */
    public static boolean isValidTtl(long ttlMs) {
        return ttlMs > 0 && ttlMs <= TTL_MS_MAX;
    }

    /** The owner of a TTL node; the TTL was checked with {@link #isValidTtl} when the create was prepared. */
    public static long ofTtl(long ttlMs) {
        return EXTENDED_MASK | ttlMs;
    }

    /** The TTL of a TTL node's owner, in milliseconds. */
    public static long ttlMsOf(long owner) {
        return owner & TTL_MS_MAX;
    }
}
