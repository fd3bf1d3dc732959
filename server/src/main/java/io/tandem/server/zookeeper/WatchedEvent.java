package io.tandem.server.zookeeper;

/** A watch notification: event type, keeper state, the changed node's path and the zxid that caused it (-1 if none). */
record WatchedEvent(int type, int state, String path, long zxid) {
    static WatchedEvent of(int type, String path, long zxid) {
        return new WatchedEvent(type, OpCodes.STATE_SYNC_CONNECTED, path, zxid);
    }
}
