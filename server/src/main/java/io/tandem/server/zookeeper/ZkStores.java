package io.tandem.server.zookeeper;

import java.io.IOException;
import io.tandem.storage.zk.DataDirs;

/** Picks the store behind the ZooKeeper server: {@code zookeeper.store=memory} for throwaway test servers, disk otherwise. */
final class ZkStores {
    static ZkStore open(DataDirs dirs, String kind, long preAllocBytes) throws IOException {
        if (kind.equals("memory")) {
            return ZkStore.inMemory();
        }
        return StorageZkStore.open(dirs, preAllocBytes);
    }

    private ZkStores() {
    }
}
