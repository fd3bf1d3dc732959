package io.tandem.server.zookeeper;

import java.io.IOException;
import java.nio.file.Path;

/** Picks the store behind the ZooKeeper server: {@code zookeeper.store=memory} for throwaway test servers, disk otherwise. */
final class ZkStores {
    static ZkStore open(Path dir, String kind, long preAllocBytes) throws IOException {
        if (kind.equals("memory")) {
            return ZkStore.inMemory();
        }
        return StorageZkStore.open(dir, preAllocBytes);
    }

    private ZkStores() {
    }
}
