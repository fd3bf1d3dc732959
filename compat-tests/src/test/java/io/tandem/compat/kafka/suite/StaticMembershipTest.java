package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.UnreleasedInstanceIdException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * KIP-345 static membership: a member that comes back under its group.instance.id keeps its partitions, with the
 * classic protocol and with the consumer protocol (KIP-848), where the other members' epochs do not move either.
 */
@ExtendWith(KafkaTargetExtension.class)
class StaticMembershipTest {

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void aStaticMemberRejoiningKeepsItsPartitionsWithoutARebalance(String protocol, KafkaTarget target)
            throws Exception {
        String topic = newTopic(target, "static", 4);
        String group = unique("static-group");
        try (KafkaConsumer<String, String> a = consumer(target, group, "instance-a", protocol)) {
            KafkaConsumer<String, String> b = consumer(target, group, "instance-b", protocol);
            Set<TopicPartition> ofB;
            try {
                a.subscribe(List.of(topic));
                b.subscribe(List.of(topic));
                pollUntilSplit(a, b);
                ofB = b.assignment();
                assertEquals(2, ofB.size());
            } finally {
                b.close(); // a static member does not leave the group on close
            }
            int generation = a.groupMetadata().generationId();
            try (KafkaConsumer<String, String> bAgain = consumer(target, group, "instance-b", protocol)) {
                bAgain.subscribe(List.of(topic));
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (bAgain.assignment().isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the returning static member got no assignment");
                    }
                    bAgain.poll(Duration.ofMillis(100));
                    a.poll(Duration.ofMillis(10));
                }
                assertEquals(ofB, bAgain.assignment(), "the same partitions come back to instance-b");
                a.poll(Duration.ofMillis(500));
                assertEquals(generation, a.groupMetadata().generationId(), "no rebalance for the other member");
            }
        }
    }

    @Test
    void aSecondConsumerWithTheSameInstanceIdFencesTheFirst(KafkaTarget target) throws Exception {
        String topic = newTopic(target, "static-fence", 2);
        String group = unique("fence-group");
        try (KafkaConsumer<String, String> first = consumer(target, group, "instance-x", "classic");
             KafkaConsumer<String, String> second = consumer(target, group, "instance-x", "classic")) {
            first.subscribe(List.of(topic));
            pollUntilAssigned(first, 2, "the first member never got its partitions");
            second.subscribe(List.of(topic));
            pollUntilAssigned(second, 2, "the second member with the same instance id never took over");
            assertThrows(FencedInstanceIdException.class, () -> {
                long until = System.nanoTime() + TIMEOUT.toNanos();
                while (System.nanoTime() < until) {
                    first.poll(Duration.ofMillis(100));
                    first.commitSync();
                }
            });
        }
    }

    /**
     * With the consumer protocol the instance id is not taken over while its member is alive: Kafka answers the
     * newcomer's heartbeat UNRELEASED_INSTANCE_ID (fatal to it) and the member holding the id keeps its partitions.
     */
    @Test
    void aConsumerProtocolMemberTakingTheInstanceIdOfALiveOneIsRefused(KafkaTarget target) throws Exception {
        String topic = newTopic(target, "static-unreleased", 2);
        String group = unique("unreleased-group");
        try (KafkaConsumer<String, String> first = consumer(target, group, "instance-y", "consumer");
             KafkaConsumer<String, String> second = consumer(target, group, "instance-y", "consumer")) {
            first.subscribe(List.of(topic));
            pollUntilAssigned(first, 2, "the first member never got its partitions");
            second.subscribe(List.of(topic));
            assertThrows(UnreleasedInstanceIdException.class, () -> {
                long until = System.nanoTime() + TIMEOUT.toNanos();
                while (System.nanoTime() < until) {
                    second.poll(Duration.ofMillis(100));
                }
            });
            assertEquals(Set.of(), second.assignment());
            first.poll(Duration.ofMillis(500));
            assertEquals(2, first.assignment().size(), "the live member keeps its partitions");
        }
    }

    /** A new topic of {@code partitions} partitions, its name {@code prefix} made unique. */
    private static String newTopic(KafkaTarget target, String prefix, int partitions) throws Exception {
        String topic = unique(prefix);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, partitions);
        }
        return topic;
    }

    private static void pollUntilAssigned(KafkaConsumer<String, String> consumer, int partitions, String failure) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (consumer.assignment().size() != partitions) {
            if (System.nanoTime() > deadline) throw new AssertionError(failure);
            consumer.poll(Duration.ofMillis(100));
        }
    }

    private static void pollUntilSplit(KafkaConsumer<String, String> a, KafkaConsumer<String, String> b) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (a.assignment().size() != 2 || b.assignment().size() != 2) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no 2+2 split: " + a.assignment() + " / " + b.assignment());
            }
            a.poll(Duration.ofMillis(100));
            b.poll(Duration.ofMillis(100));
        }
    }

    private static KafkaConsumer<String, String> consumer(KafkaTarget target, String group, String instance,
                                                          String protocol) {
        Properties props = consumerProps(target, group, protocol);
        props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instance);
        // The consumer protocol takes the session timeout from the broker and refuses the client setting.
        if (protocol.equals("classic")) props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
