package io.tandem.zk.wire;

/** Watch kinds named by checkWatches/removeWatches (CheckWatchesRequest.type), with Apache's Watcher.WatcherType ints. */
public enum WatcherType {
    CHILDREN(1),
    DATA(2),
    ANY(3),
    PERSISTENT(4),
    PERSISTENT_RECURSIVE(5);

    private final int code;

    WatcherType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The kind with this int, or null when ZooKeeper defines none. */
    public static WatcherType fromCode(int code) {
        for (WatcherType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        return null;
    }
}
