package io.tandem.server.kafka.txn;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real Java 3.9.1 producer, a transaction version 0 client (Produce up to v11, AddPartitionsToTxn v3), against
 * the verification Kafka 3.9 and 4.x brokers apply by default: a committed and an aborted transaction over both
 * partitions go through, every first batch per partition verified with the coordinator, and a read_committed consumer
 * sees exactly the committed records. kafka-clients 3.9 cannot share the class path with the 4.4 client of the test
 * scope, so it runs from its own class loader (the jar the build copies for AdvertisedVersionsTest), driven through
 * reflection.
 */
class Kafka39ProducerVerificationTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;

    @Test
    void aKafka39TransactionalProducerShouldCommitAndAbortWithVerificationOn() throws Exception {
        Path jar = Path.of(System.getProperty("server.oldClientsJar", "target/kafka-old/kafka-clients-old.jar"));
        Path slf4j = jar.resolveSibling("slf4j-api.jar");
        assertTrue(Files.exists(jar), "the build should have copied kafka-clients 3.9 to " + jar);
        try (TxnProtocolNode node = TxnProtocolNode.start(dir);
             URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL(), slf4j.toUri().toURL()},
                     ClassLoader.getPlatformClassLoader())) {
            Properties config = new Properties();
            config.put("bootstrap.servers", node.tandem.bootstrapServers());
            config.put("transactional.id", "kafka39");
            config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
            config.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
            config.put("max.block.ms", "30000");
            Producer39 producer = new Producer39(loader, config);
            try {
                producer.call("initTransactions");
                producer.call("beginTransaction");
                producer.send(0, "committed-0");
                producer.send(1, "committed-1");
                producer.send(0, "committed-2");
                producer.call("commitTransaction");
                producer.call("beginTransaction");
                producer.send(1, "aborted-0");
                producer.send(0, "aborted-1");
                producer.call("abortTransaction");
                producer.call("beginTransaction");
                producer.send(1, "committed-3");
                producer.call("commitTransaction");
            } finally {
                producer.call("close");
            }
            assertEquals(List.of("committed-0", "committed-1", "committed-2", "committed-3"),
                    readCommitted(node.tandem.bootstrapServers(), 4));
        }
    }

    private static List<String> readCommitted(String bootstrap, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
            long deadline = System.currentTimeMillis() + 30_000;
            while (values.size() < expected && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
            // Nothing else arrives: the aborted records stay hidden once the LSO is past them.
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) values.add(r.value());
        }
        values.sort(null);
        return values;
    }

    /** A kafka-clients 3.9 KafkaProducer from its own class loader. */
    private static final class Producer39 {
        private final ClassLoader loader;
        private final Object producer;
        private final Constructor<?> record;
        private final Method send;

        Producer39(ClassLoader loader, Properties config) throws Exception {
            this.loader = loader;
            Class<?> producerClass = loader.loadClass("org.apache.kafka.clients.producer.KafkaProducer");
            assertNotSame(org.apache.kafka.clients.producer.KafkaProducer.class, producerClass);
            Class<?> recordClass = loader.loadClass("org.apache.kafka.clients.producer.ProducerRecord");
            this.record = recordClass.getConstructor(String.class, Integer.class, Object.class, Object.class);
            this.send = producerClass.getMethod("send", recordClass);
            this.producer = inLoader(() -> producerClass.getConstructor(Properties.class).newInstance(config));
        }

        void send(int partition, String value) throws Exception {
            Future<?> sent = (Future<?>) send.invoke(producer, record.newInstance(TOPIC, partition, null, value));
            sent.get(30, TimeUnit.SECONDS);
        }

        void call(String method) throws Exception {
            inLoader(() -> producer.getClass().getMethod(method).invoke(producer));
        }

        /** Kafka loads configured classes (the serializers) through the context class loader. */
        private Object inLoader(Step step) throws Exception {
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(loader);
            try {
                return step.run();
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            } finally {
                thread.setContextClassLoader(previous);
            }
        }
    }

    private interface Step {
        Object run() throws Exception;
    }
}
