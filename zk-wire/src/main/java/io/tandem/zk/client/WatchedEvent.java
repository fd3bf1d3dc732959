package io.tandem.zk.client;

import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperState;

/**
 * A watch notification or a connection state change. Node events carry the znode path (relative to the chroot);
 * state changes have type {@link EventType#NONE} and a null path.
 */
public record WatchedEvent(EventType type, KeeperState state, String path) {
}
