package io.tandem.zk.wire;

/** Modes of an addWatch request (AddWatchRequest.mode), with Apache's ZooDefs.AddWatchModes ints. */
public enum AddWatchMode {
    PERSISTENT(0),
    PERSISTENT_RECURSIVE(1);

    private final int code;

    AddWatchMode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The mode with this int, or null when ZooKeeper defines none (it answers BadArguments). */
    public static AddWatchMode fromCode(int code) {
        for (AddWatchMode mode : values()) {
            if (mode.code == code) {
                return mode;
            }
        }
        return null;
    }
}
