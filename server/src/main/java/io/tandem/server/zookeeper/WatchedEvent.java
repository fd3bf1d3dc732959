package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperState;

/** A watch notification: event type, keeper state, the changed node's path and the zxid that caused it (-1 if none). */
record WatchedEvent(EventType type, KeeperState state, String path, long zxid) {
    static WatchedEvent of(EventType type, String path, long zxid) {
        return new WatchedEvent(type, KeeperState.SYNC_CONNECTED, path, zxid);
    }
}
