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

    public static Tandem start(TandemConfig config) throws IOException {
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

    /** {@code 127.0.0.1:port}, ready for a ZooKeeper client's connect string. */
    public String zookeeperConnect() { return "127.0.0.1:" + zookeeperPort(); }

    /** {@code 127.0.0.1:port}, ready for a Kafka client's bootstrap.servers. */
    public String bootstrapServers() { return "127.0.0.1:" + kafkaPort(); }

    public TandemConfig config() { return config; }

    /** The broker itself, for {@link TandemCluster}'s readiness checks; null if the Kafka role is off or closed. */
    KafkaBroker kafkaBroker() { return kafka; }

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
