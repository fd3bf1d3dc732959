package io.tandem.zk.wire;

/** Connection states reported with watch events (WatcherEvent.state), with Apache's Event.KeeperState ints. */
public enum KeeperState {
    UNKNOWN(-1),
    DISCONNECTED(0),
    NO_SYNC_CONNECTED(1),
    SYNC_CONNECTED(3),
    AUTH_FAILED(4),
    CONNECTED_READ_ONLY(5),
    SASL_AUTHENTICATED(6),
    EXPIRED(-112),
    CLOSED(7);

    private final int code;

    KeeperState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The state with this int, or null when ZooKeeper defines none. */
    public static KeeperState fromCode(int code) {
        for (KeeperState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        return null;
    }
}
