package io.tandem.server.zookeeper;

import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Starts the ZooKeeper side of a Tandem node from its {@link TandemConfig}: zoo.cfg keys, data under dataDir/zookeeper. */
public final class ZooKeeperRole implements AutoCloseable {
    private final ZkServer server;

    private ZooKeeperRole(ZkServer server) {
        this.server = server;
    }

    public static ZooKeeperRole start(TandemConfig config) throws IOException {
        // A zoo.cfg dataDir names the ZooKeeper data directory itself; otherwise it lives under Tandem's data dir.
        String zooCfgDataDir = config.get("dataDir");
        Path dir = zooCfgDataDir != null ? Path.of(zooCfgDataDir) : config.dataDir().resolve("zookeeper");
        String host = config.get("clientPortAddress", "0.0.0.0");
        ZkServerConfig zkConfig = ZkServerConfig.from(host, config.zookeeperPort(), dir, config::get);
        String superDigest = config.get(Acls.SUPER_DIGEST_PROPERTY, System.getProperty(Acls.SUPER_DIGEST_PROPERTY));
        Files.createDirectories(dir);
        ZkStore store = ZkStores.open(dir, config.get("zookeeper.store", "disk"));
        return new ZooKeeperRole(ZkServer.start(zkConfig, store, superDigest));
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.close();
    }
}
