package io.tandem.server.zookeeper;

import java.io.IOException;
import java.nio.file.Path;

/** Picks the store behind the ZooKeeper server. */
final class ZkStores {
    static ZkStore open(Path dir, String kind) throws IOException {
        if (kind.equals("memory")) {
            return ZkStore.inMemory();
        }
        return ZkStore.inMemory();
    }

    private ZkStores() {
    }
}
