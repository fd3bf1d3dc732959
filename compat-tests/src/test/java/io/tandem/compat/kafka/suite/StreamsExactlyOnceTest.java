package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * An unmodified Kafka Streams application with {@code processing.guarantee=exactly_once_v2}: a count per key over an
 * input topic, with its changelog and repartition topics created by Streams itself, its state and output committed in
 * transactions with the group's offsets. A read_committed reader of the output sees, for each key, a final count that
 * equals the records sent for it, and the application's group has committed the whole input.
 */
@ExtendWith(KafkaTargetExtension.class)
class StreamsExactlyOnceTest {
    private static final int KEYS = 5;
    private static final int RECORDS = 200;

    @TempDir
    Path stateDir;

    @Test
    void anExactlyOnceCountingApplicationCountsEveryInputRecordOnce(KafkaTarget target) throws Exception {
        String input = unique("eos-in");
        String output = unique("eos-out");
        String application = unique("eos-app");
        try (Admin admin = admin(target)) {
            createTopic(admin, input, 2);
            createTopic(admin, output, 2);
        }
        StreamsBuilder builder = new StreamsBuilder();
        // Re-keyed first, so the count goes through a repartition topic as well as a changelog.
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .selectKey((key, value) -> value.substring(0, value.indexOf('-')))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count()
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, application);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        Map<String, Long> sent = new HashMap<>();
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            for (int i = 0; i < RECORDS; i++) {
                String key = "k" + (i % KEYS);
                producer.send(new ProducerRecord<>(input, Integer.toString(i), key + "-" + i));
                sent.merge(key, 1L, Long::sum);
            }
            producer.flush();
        }

        CountDownLatch running = new CountDownLatch(1);
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING) running.countDown();
            });
            streams.start();
            assertTrue(running.await(60, TimeUnit.SECONDS), "the application reached RUNNING");

            Map<String, Long> latest = new HashMap<>();
            Properties consumerProps = consumerProps(target, null);
            consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString());
            try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
                    new LongDeserializer())) {
                List<TopicPartition> partitions = List.of(new TopicPartition(output, 0), new TopicPartition(output, 1));
                reader.assign(partitions);
                reader.seekToBeginning(partitions);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (!latest.equals(sent)) {
                    assertTrue(System.nanoTime() < deadline, "final counts " + sent + " never all seen; last " + latest);
                    for (ConsumerRecord<String, Long> r : reader.poll(Duration.ofMillis(200))) {
                        latest.put(r.key(), r.value());
                        assertTrue(r.value() <= sent.get(r.key()), "a count above the records sent: " + r);
                    }
                }
            }
            assertEquals(sent, latest);
        }
        try (Admin admin = admin(target)) {
            StreamsExactlyOnceRestartTest.assertInputCommitted(admin, application, input, RECORDS);
        }
    }
}
