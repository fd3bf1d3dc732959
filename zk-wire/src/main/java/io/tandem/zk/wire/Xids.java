package io.tandem.zk.wire;

/** Reserved request/reply xids of the ZooKeeper client protocol; client requests use positive xids. */
public final class Xids {
    /** A watch notification (WatcherEvent) pushed by the server. */
    public static final int NOTIFICATION = -1;
    public static final int PING = -2;
    public static final int AUTH = -4;
    public static final int SET_WATCHES = -8;

    private Xids() {
    }
}
