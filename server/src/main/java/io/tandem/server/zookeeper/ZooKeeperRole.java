package io.tandem.server.zookeeper;

import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

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
        Map<String, String> servers = serverLines(config);
        if (!servers.isEmpty()) {
            // server.N lines make this node a member of an ensemble; without them it stays standalone.
            int myId = myId(config, dir);
            return new ZooKeeperRole(ZkServer.startEnsemble(zkConfig, superDigest, myId, config.settings(),
                    dir.resolve("zab")));
        }
        ZkStore store = ZkStores.open(dir, config.get("zookeeper.store", "disk"));
        return new ZooKeeperRole(ZkServer.start(zkConfig, store, superDigest));
    }

    private static Map<String, String> serverLines(TandemConfig config) {
        Map<String, String> servers = new TreeMap<>();
        for (Map.Entry<String, String> entry : config.settings().entrySet()) {
            if (entry.getKey().matches("server\\.\\d+")) {
                servers.put(entry.getKey(), entry.getValue());
            }
        }
        return servers;
    }

    /** The node id: a {@code myid} setting (--set myid=N) wins over the {@code myid} file in the data directory. */
    static int myId(TandemConfig config, Path dir) throws IOException {
        String value = config.get("myid");
        String source = "the myid setting";
        if (value == null) {
            Path file = dir.resolve("myid");
            if (!Files.exists(file)) {
                throw new IllegalArgumentException("server.N lines are configured but this node has no id: write N to "
                        + file + " or pass --set myid=N");
            }
            value = Files.readString(file, StandardCharsets.US_ASCII);
            source = file.toString();
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + " does not hold a server id: '" + value.trim() + "'");
        }
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.close();
    }
}
