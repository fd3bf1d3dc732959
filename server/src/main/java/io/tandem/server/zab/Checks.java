package io.tandem.server.zab;

/** Always-on invariant checks: a broken invariant in consensus code must stop the node, never be compiled away. */
final class Checks {
    private Checks() {}

    static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalStateException(String.format(format, args));
        }
    }
}
