package io.tandem.zk.wire;

/** Watch event types (WatcherEvent.type), with Apache's Watcher.Event.EventType ints. */
public enum EventType {
    NONE(-1),
    NODE_CREATED(1),
    NODE_DELETED(2),
    NODE_DATA_CHANGED(3),
    NODE_CHILDREN_CHANGED(4),
    DATA_WATCH_REMOVED(5),
    CHILD_WATCH_REMOVED(6),
    PERSISTENT_WATCH_REMOVED(7);

    private final int code;

    EventType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type with this int, or null when ZooKeeper defines none. */
    public static EventType fromCode(int code) {
        for (EventType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        return null;
    }
}
