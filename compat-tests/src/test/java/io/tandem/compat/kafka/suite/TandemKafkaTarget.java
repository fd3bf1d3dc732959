package io.tandem.compat.kafka.suite;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/** Tandem in-process on free ports; a restart reopens the same data directory on the same ports. */
final class TandemKafkaTarget implements KafkaTarget {
    private final Path dataDir;
    private final Map<String, String> settings;
    private Tandem tandem;
    private int kafkaPort;
    private int zookeeperPort;

    TandemKafkaTarget(Path dataDir, Map<String, String> settings) throws IOException {
        this.dataDir = dataDir;
        this.settings = Map.copyOf(settings);
        this.tandem = Tandem.start(config(0, 0));
        this.kafkaPort = tandem.kafkaPort();
        this.zookeeperPort = tandem.zookeeperPort();
        if (kafkaPort <= 0) {
            tandem.close();
            throw new IllegalStateException("Tandem started without a Kafka listener (kafkaPort() = " + kafkaPort
                    + "): the broker has not landed in this build");
        }
    }

    private TandemConfig config(int kafka, int zookeeper) {
        // The same test-friendly settings the Apache target gets, so both run under the same rules.
        TandemConfig config = TandemConfig.forTests(dataDir).kafkaPort(kafka).zookeeperPort(zookeeper)
                .set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.replication.factor", "1")
                .set("transaction.state.log.replication.factor", "1")
                .set("transaction.state.log.min.isr", "1")
                .set("transaction.state.log.num.partitions", "5")
                .set("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500")
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.heartbeat.interval.ms", "500");
        for (Map.Entry<String, String> e : settings.entrySet()) config = config.set(e.getKey(), e.getValue());
        return config;
    }

    @Override public String bootstrapServers() { return tandem.bootstrapServers(); }

    @Override public String name() { return "tandem"; }

    @Override
    public void restart() throws IOException {
        tandem.close();
        tandem = Tandem.start(config(kafkaPort, zookeeperPort));
    }

    @Override
    public void close() {
        if (tandem != null) {
            tandem.close();
            tandem = null;
        }
    }

    static KafkaTarget start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    /** With broker settings of the test's own on top of the suite's. */
    static KafkaTarget start(Path dataDir, Map<String, String> settings) {
        try {
            return new TandemKafkaTarget(dataDir, settings);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
