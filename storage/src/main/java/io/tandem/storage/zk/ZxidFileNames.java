package io.tandem.storage.zk;

/**
 * The names of Tandem's own per-zxid files (its transaction logs and snapshots): a prefix ({@code log.},
 * {@code snapshot.}) and the zxid as 16 hex digits, zero-padded (unlike Apache's names) so that names sort as their
 * zxids do.
 */
final class ZxidFileNames {
    private static final int HEX_DIGITS = 16;

    private ZxidFileNames() {
    }

    static String name(String prefix, long zxid) {
        return prefix + String.format("%016x", zxid);
    }

    /** The zxid in a file name of this prefix, or -1 when the name is not such a file's. */
    static long parse(String prefix, String name) {
        if (!name.startsWith(prefix) || name.length() != prefix.length() + HEX_DIGITS) {
            return -1;
        }
        try {
            return Long.parseUnsignedLong(name.substring(prefix.length()), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
