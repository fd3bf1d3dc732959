package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The Java clients the share-group cluster tests drive a {@link TandemCluster} with, and two lookups they share. */
final class ShareClusterClients {
    private ShareClusterClients() {
    }

    static Admin admin(TandemCluster cluster) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        return Admin.create(p);
    }

    /** {@code records} records of value {@code value} into each of the topic's first {@code partitions} partitions. */
    static void produce(TandemCluster cluster, String topic, int partitions, int records, String value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(topic, partition, null, value));
            }
            producer.flush();
        }
    }

    /** A share consumer acknowledging explicitly, at most 10 records a poll. */
    static KafkaShareConsumer<String, String> shareConsumer(TandemCluster cluster, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * An internal topic made on first use, as {@code broker} knows it once every partition has a leader: creating one
     * returns as soon as it is written (as Kafka answers the first FindCoordinator at once), and the controller
     * elects its leaders after.
     */
    static TopicInfo led(KafkaBroker broker, Supplier<TopicInfo> create) throws InterruptedException {
        String name = create.get().name();
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            TopicInfo known = broker.metadata().knownTopic(name);
            if (known != null && known.replicas().keySet().stream()
                    .allMatch(p -> known.states().get(p) != null && known.states().get(p).leader() >= 0)) {
                return known;
            }
            if (System.currentTimeMillis() > deadline) throw new AssertionError("no leaders for " + name + " in time");
            Thread.sleep(10);
        }
    }

    /**
     * A cluster of {@code brokers} with one {@code __consumer_offsets} and one share-state partition (so every
     * share-partition's state is at one share coordinator) and share heartbeats every 500 ms.
     */
    static TandemCluster startWithOneShareCoordinator(Path dir, int brokers) throws IOException {
        return TandemCluster.start(dir, brokers, c -> c
                .set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.num.partitions", "1")
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "500"));
    }

    /** Creates the offsets and share-state topics, waits for their leaders, and returns the share coordinator. */
    static int shareCoordinator(TandemCluster cluster) throws InterruptedException {
        KafkaBroker any = cluster.broker(1).kafkaBroker();
        led(any, () -> any.topics().ensureOffsetsTopic());
        return leader(led(any, () -> any.shareStateTopic().ensureTopic()), 0);
    }

    static int leader(TopicInfo topic, int partition) {
        return topic.states().get(partition).leader();
    }

    static UUID toUuid(org.apache.kafka.common.Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }
}
