package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kafka.network.InterBrokerClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The three-broker cluster the inter-broker security tests share ({@link InterBrokerSecurityClusterTest} for TLS and
 * SCRAM, {@link GssapiInterBrokerClusterTest} for Kerberos): brokers started with settings of their own, the warnings
 * of the brokers' channels captured (a broker that cannot authenticate to another says so there), and the two checks
 * both make: replication with a full ISR, and a broker that cannot authenticate kept out of the ISR.
 */
final class SecureBrokerCluster implements AutoCloseable {
    static final int BROKERS = 3;
    /** Held so the JUL logger (and the handler on it) is not collected while a test runs. */
    private static final Logger CHANNEL_LOG = Logger.getLogger(InterBrokerClient.class.getName());
    private static final int RECORDS = 30;

    final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                Object[] parameters = record.getParameters();
                String message = record.getMessage();
                if (parameters != null) message = java.text.MessageFormat.format(message, parameters);
                warnings.add(message);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private TandemCluster cluster;

    SecureBrokerCluster() {
        CHANNEL_LOG.addHandler(capture);
    }

    /**
     * Starts the brokers, broker N with {@code settings.apply(N)}, after {@code beforeBrokers}. The offsets topic keeps
     * one replica, a broker's default, rather than the cluster's three.
     */
    TandemCluster start(IntFunction<Map<String, String>> settings, TandemCluster.BeforeBrokers beforeBrokers)
            throws Exception {
        return start(settings, beforeBrokers, id -> true);
    }

    /** As {@link #start(IntFunction, TandemCluster.BeforeBrokers)}, waiting only for the brokers {@code awaited} accepts. */
    TandemCluster start(IntFunction<Map<String, String>> settings, TandemCluster.BeforeBrokers beforeBrokers,
                        java.util.function.IntPredicate awaited) throws Exception {
        cluster = TandemCluster.start(BROKERS, config -> {
            config.set("group.initial.rebalance.delay.ms", "0").set("offsets.topic.num.partitions", "1")
                    .set("offsets.topic.replication.factor", "1");
            settings.apply(Integer.parseInt(config.get("broker.id"))).forEach(config::set);
            return config;
        }, beforeBrokers, awaited);
        return cluster;
    }

    TandemCluster cluster() {
        return cluster;
    }

    /**
     * Creates {@code topic} (3 partitions, 3 replicas, min.insync.replicas=3, so each acks=all acknowledgement means
     * both followers fetched over the secure listener), writes 30 records, reads them back in a group, and checks
     * that every ISR is full and that no broker logged a failed authentication.
     */
    void assertReplicatesWithFullIsr(Map<String, Object> client, String topic) throws Exception {
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "3")))).all().get(60, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, topic, 3);
            Map<String, Object> producerSettings = new HashMap<>(client);
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings,
                    new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < RECORDS; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 3, null, "v" + i)).get(60, TimeUnit.SECONDS);
                }
            }
            Map<String, Object> consumerSettings = new HashMap<>(client);
            consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, topic + "-group");
            consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            List<String> received = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerSettings,
                    new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of(topic));
                long deadline = System.currentTimeMillis() + 60_000;
                while (received.size() < RECORDS && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        received.add(r.value());
                    }
                }
            }
            assertEquals(RECORDS, received.size(), received.toString());
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            for (TopicPartitionInfo p : description.partitions()) {
                assertEquals(3, p.isr().size(), "every replica is in sync: " + p);
            }
        }
        assertTrue(warnings.stream().noneMatch(w -> w.contains("cannot authenticate")), warnings.toString());
    }

    /**
     * Waits (30 s at most) for broker 3 to leave the ISR of {@code topic}'s partition 0, which brokers 1 and 2 keep,
     * and checks that it stays out: its connections keep failing, however long it tries.
     */
    static void assertBroker3LeavesTheIsrAndStaysOut(Admin admin, String topic, String why) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        List<Integer> isr = isr(admin, topic);
        while (isr.contains(3) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            isr = isr(admin, topic);
        }
        assertEquals(List.of(1, 2), isr, why);
        Thread.sleep(3_000);
        assertEquals(List.of(1, 2), isr(admin, topic), "it stays out");
    }

    private static List<Integer> isr(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).isr()
                .stream().map(n -> n.id()).sorted().toList();
    }

    @Override
    public void close() {
        CHANNEL_LOG.removeHandler(capture);
        if (cluster != null) cluster.close();
    }
}
