package io.tandem.server.zab;

/**
 * A zxid is {@code (epoch << 32) | counter}: the high half names the leader's epoch, the low half counts that leader's
 * proposals from 1. Comparing zxids as longs therefore orders first by epoch, then by proposal order.
 */
public final class Zxid {
    /** The counter is 32 bits wide; a leader that exhausts it must step down so a new epoch restarts the count. */
    public static final long COUNTER_MAX = 0xFFFF_FFFFL;
    /** Epochs share the long with the counter; the top bit stays clear so zxids remain non-negative. */
    public static final long EPOCH_MAX = 0x7FFF_FFFFL;

    private Zxid() {}

    public static long of(long epoch, long counter) {
        Checks.require(epoch >= 0 && epoch <= EPOCH_MAX, "epoch out of range: %d", epoch);
        Checks.require(counter >= 0 && counter <= COUNTER_MAX, "counter out of range: %d", counter);
        return (epoch << 32) | counter;
    }

    public static long epoch(long zxid) {
        return zxid >>> 32;
    }

    public static long counter(long zxid) {
        return zxid & COUNTER_MAX;
    }

    public static String toString(long zxid) {
        return "0x" + Long.toHexString(zxid);
    }
}
