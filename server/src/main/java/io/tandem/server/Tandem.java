package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.zookeeper.ZooKeeperRole;
import java.io.IOException;

/**
 * The embedding API: {@code try (Tandem t = Tandem.start(TandemConfig.forTests(dir))) { ... t.zookeeperConnect() ... }}
 * starts a node in-process on the configured (or free) ports and {@link #close()} stops everything it started.
 */
public final class Tandem implements AutoCloseable {
    private final TandemConfig config;
    private ZooKeeperRole zookeeper;
    private KafkaBroker kafka;

    private Tandem(TandemConfig config) {
        this.config = config;
    }

    /**
     * Starts the configured roles. Every key is checked first ({@link ConfigKeys}): ignored ones are logged, one warning
     * per key; refused ones throw {@link ConfigException} before anything binds or writes.
     */
    public static Tandem start(TandemConfig config) throws IOException {
        ConfigKeys.validate(config.settings());
        Tandem tandem = new Tandem(config);
        try {
            if (config.has(TandemConfig.Role.ZOOKEEPER)) {
                tandem.zookeeper = ZooKeeperRole.start(config);
            }
            if (config.has(TandemConfig.Role.KAFKA)) {
                // The broker keeps its metadata in zookeeper.connect if set, else in this node's own ZooKeeper.
                String zookeeperConnect = config.get("zookeeper.connect");
                if (zookeeperConnect == null && tandem.zookeeper != null) zookeeperConnect = tandem.zookeeperConnect();
                tandem.kafka = KafkaBroker.start(config, zookeeperConnect);
            }
        } catch (IOException | RuntimeException e) {
            tandem.close();
            throw e;
        }
        return tandem;
    }

    /** The bound ZooKeeper client port (the real one when 0 was asked for), or -1 if that role is off. */
    public int zookeeperPort() { return zookeeper == null ? -1 : zookeeper.port(); }

    /** The bound Kafka port (the real one when 0 was asked for), or -1 if that role is off. */
    public int kafkaPort() { return kafka == null ? -1 : kafka.port(); }

    /** {@code host:port} for a ZooKeeper client's connect string: the bound address, 127.0.0.1 when bound to all. */
    public String zookeeperConnect() { return connectHost(config.get("clientPortAddress")) + ":" + zookeeperPort(); }

    /** {@code host:port} for a Kafka client's bootstrap.servers: the listener's address, 127.0.0.1 when bound to all. */
    public String bootstrapServers() {
        return connectHost(kafka == null ? null : kafka.config().bindHost()) + ":" + kafkaPort();
    }

    private static String connectHost(String bindHost) {
        if (bindHost == null || bindHost.isBlank() || bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
            return "127.0.0.1";
        }
        return bindHost.contains(":") ? "[" + bindHost.trim() + "]" : bindHost.trim();
    }

    public TandemConfig config() { return config; }

    @Override
    public void close() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
        if (zookeeper != null) {
            zookeeper.close();
            zookeeper = null;
        }
    }
}
