package io.tandem.server.zab;

/** Always-on invariant checks: a broken invariant in consensus code must stop the node, never be compiled away. */
final class Checks {
    private Checks() {}

    static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalStateException(String.format(format, args));
        }
    }

    /** For checks on the per-write path: the zxids are formatted only when the check fails. */
    static void requireZxids(boolean condition, String format, long zxid, long otherZxid) {
        if (!condition) {
            throw new IllegalStateException(String.format(format, Zxid.toString(zxid), Zxid.toString(otherZxid)));
        }
    }
}
