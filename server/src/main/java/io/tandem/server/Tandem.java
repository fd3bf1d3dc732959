package io.tandem.server;

import java.io.IOException;

/**
 * The embedding API: {@code try (Tandem t = Tandem.start(TandemConfig.forTests(dir))) { ... t.zookeeperConnect() ... }}
 * starts a node in-process on the configured (or free) ports and {@link #close()} stops everything it started.
 */
public final class Tandem implements AutoCloseable {
    private final TandemConfig config;

    private Tandem(TandemConfig config) {
        this.config = config;
    }

    public static Tandem start(TandemConfig config) throws IOException {
        // The ZooKeeper server and the Kafka broker are started here as they land.
        return new Tandem(config);
    }

    /** The bound ZooKeeper client port (the real one when 0 was asked for), or -1 if that role is off. */
    public int zookeeperPort() { return -1; }

    /** The bound Kafka port (the real one when 0 was asked for), or -1 if that role is off. */
    public int kafkaPort() { return -1; }

    /** {@code 127.0.0.1:port}, ready for a ZooKeeper client's connect string. */
    public String zookeeperConnect() { return "127.0.0.1:" + zookeeperPort(); }

    /** {@code 127.0.0.1:port}, ready for a Kafka client's bootstrap.servers. */
    public String bootstrapServers() { return "127.0.0.1:" + kafkaPort(); }

    public TandemConfig config() { return config; }

    @Override
    public void close() {
    }
}
