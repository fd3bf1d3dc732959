package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A pattern subscription picks up a topic created after it: with the classic protocol and with the consumer protocol
 * the client resolves a {@link Pattern} from its metadata (refreshed every second here) and subscribes to the names;
 * with the consumer protocol a {@link SubscriptionPattern} is resolved by the broker (KIP-848's SubscribedTopicRegex),
 * which must notice the new topic itself. Either way the new topic's partitions are assigned and read from the start.
 */
@ExtendWith(KafkaTargetExtension.class)
class PatternSubscriptionTest {
    /**
     * Apache Kafka 4.4 resolves a group's regexes again at most every 10 s (GroupMetadataManager's
     * REGEX_BATCH_REFRESH_MIN_INTERVAL_MS) once a topic appears: 22 s from create to records there, measured.
     */
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"classic", "consumer", "consumer-broker-regex"})
    void aPatternSubscriptionPicksUpATopicCreatedLater(String mode, KafkaTarget target) throws Exception {
        String prefix = unique("pattern");
        try (Admin admin = admin(target); KafkaProducer<String, String> producer = stringProducer(target)) {
            createTopic(admin, prefix + "-first", 1);
            Properties props = consumerProps(target, unique("pattern-group"), mode.startsWith("classic")
                    ? "classic" : "consumer");
            props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 1_000);
            try (KafkaConsumer<String, String> consumer =
                         new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
                if (mode.equals("consumer-broker-regex")) {
                    consumer.subscribe(new SubscriptionPattern(prefix + "-.*"));
                } else {
                    consumer.subscribe(Pattern.compile(Pattern.quote(prefix) + "-.*"));
                }
                List<String> received = new ArrayList<>();
                pollUntil(consumer, received, () -> consumer.assignment().size() == 1, "the first topic");
                assertEquals(Set.of(new TopicPartition(prefix + "-first", 0)), consumer.assignment());

                createTopic(admin, prefix + "-later", 2);
                producer.send(new ProducerRecord<>(prefix + "-later", 1, null, "on the later topic")).get();
                pollUntil(consumer, received, () -> received.contains("on the later topic"),
                        "the record on the topic created after the subscription");
                assertEquals(Set.of(new TopicPartition(prefix + "-first", 0), new TopicPartition(prefix + "-later", 0),
                        new TopicPartition(prefix + "-later", 1)), consumer.assignment());
            }
        }
    }

    private static void pollUntil(KafkaConsumer<String, String> consumer, List<String> received,
                                  java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; assignment " + consumer.assignment());
            }
            consumer.poll(Duration.ofMillis(100)).forEach(r -> received.add(r.value()));
        }
    }
}
