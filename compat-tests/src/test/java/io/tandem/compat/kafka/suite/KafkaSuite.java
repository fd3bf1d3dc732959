package io.tandem.compat.kafka.suite;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Client factories and waiting helpers shared by the suite's tests; every client is the unmodified Apache one. */
final class KafkaSuite {
    /** Long enough for a loaded shared machine, short enough that a hang fails the test instead of the build. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private KafkaSuite() {}

    /** A topic (or group) name no other test and no earlier run on the same broker uses. */
    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Admin admin(KafkaTarget target) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis()));
    }

    static Properties producerProps(KafkaTarget target) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        return props;
    }

    static KafkaProducer<String, String> stringProducer(KafkaTarget target) {
        return new KafkaProducer<>(producerProps(target), new StringSerializer(), new StringSerializer());
    }

    static KafkaProducer<byte[], byte[]> bytesProducer(Properties props) {
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static Properties consumerProps(KafkaTarget target, String group) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        if (group != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        return props;
    }

    static KafkaConsumer<String, String> stringConsumer(KafkaTarget target, String group) {
        return new KafkaConsumer<>(consumerProps(target, group), new StringDeserializer(), new StringDeserializer());
    }

    /**
     * A group consumer speaking {@code protocol}: {@code classic} (JoinGroup/SyncGroup, the client's default) or
     * {@code consumer} (KIP-848's ConsumerGroupHeartbeat), so one scenario runs with either.
     */
    static Properties consumerProps(KafkaTarget target, String group, String protocol) {
        Properties props = consumerProps(target, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        return props;
    }

    static KafkaConsumer<String, String> stringConsumer(KafkaTarget target, String group, String protocol) {
        return new KafkaConsumer<>(consumerProps(target, group, protocol), new StringDeserializer(),
                new StringDeserializer());
    }

    static KafkaConsumer<byte[], byte[]> bytesConsumer(Properties props) {
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static void createTopic(Admin admin, String topic, int partitions) throws Exception {
        createTopic(admin, topic, partitions, Map.of());
    }

    static void createTopic(Admin admin, String topic, int partitions, Map<String, String> configs) throws Exception {
        get(admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs))).all());
    }

    static <T> T get(KafkaFuture<T> future) throws InterruptedException, ExecutionException, TimeoutException {
        return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Polls until exactly {@code count} records arrived (failing on timeout), then polls once more briefly and
     * includes anything extra, so a caller comparing the result against what it sent also sees duplicates.
     */
    static <K, V> List<ConsumerRecord<K, V>> pollExactly(KafkaConsumer<K, V> consumer, int count) {
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (records.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + TIMEOUT + " with " + records.size() + " of " + count
                        + " records consumed");
            }
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        return records;
    }

    static <K, V> List<V> values(Collection<ConsumerRecord<K, V>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }
}
