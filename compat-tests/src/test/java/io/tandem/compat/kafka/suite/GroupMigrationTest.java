package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KIP-848 online migration under the brokers' default {@code group.consumer.migration.policy} (bidirectional), the
 * same against Tandem and against Apache Kafka: a consumer-protocol member joining a live classic group turns it into
 * a consumer group whose classic members keep being served, and its leaving turns it back into a classic group. An
 * empty group (its members gone, its offsets kept) is taken over by whichever protocol its next member speaks, under
 * any policy, and that member resumes from the committed offsets.
 */
@ExtendWith(KafkaTargetExtension.class)
class GroupMigrationTest {
    private static final Duration PATIENCE = Duration.ofSeconds(90);

    private static KafkaConsumer<String, String> consumer(KafkaTarget target, String group, String protocol) {
        Properties props = consumerProps(target, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static void pollUntil(List<KafkaConsumer<String, String>> consumers, BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            for (KafkaConsumer<String, String> c : consumers) c.poll(Duration.ofMillis(100));
        }
    }

    /** Every member owns something, and together they own each partition exactly once. */
    @SafeVarargs
    private static boolean splitBetween(int partitions, KafkaConsumer<String, String>... members) {
        Set<TopicPartition> union = new HashSet<>();
        int total = 0;
        for (KafkaConsumer<String, String> m : members) {
            if (m.assignment().isEmpty()) return false;
            union.addAll(m.assignment());
            total += m.assignment().size();
        }
        return union.size() == partitions && total == partitions;
    }

    private static GroupType type(Admin admin, String group) throws Exception {
        return get(admin.listGroups().all()).stream().filter(g -> g.groupId().equals(group)).findFirst()
                .orElseThrow().type().orElseThrow();
    }

    @Test
    void aConsumerProtocolMemberUpgradesALiveClassicGroupAndItsLeavingDowngradesIt(KafkaTarget target)
            throws Exception {
        String topic = unique("migrate");
        String group = unique("migrate-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 4);
            try (KafkaConsumer<String, String> c1 = consumer(target, group, "classic");
                 KafkaConsumer<String, String> c2 = consumer(target, group, "classic")) {
                c1.subscribe(List.of(topic));
                c2.subscribe(List.of(topic));
                pollUntil(List.of(c1, c2), () -> splitBetween(4, c1, c2), "the classic members split the partitions");
                assertEquals(GroupType.CLASSIC, type(admin, group));

                try (KafkaConsumer<String, String> n1 = consumer(target, group, "consumer")) {
                    n1.subscribe(List.of(topic));
                    pollUntil(List.of(c1, c2, n1), () -> splitBetween(4, c1, c2, n1),
                            "the consumer-protocol member gets its share from the classic members");
                    assertEquals(GroupType.CONSUMER, type(admin, group), "upgraded online");
                    ConsumerGroupDescription d = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
                    assertEquals(GroupType.CONSUMER, d.type());
                    assertEquals(3, d.members().size());
                    assertEquals(1, d.members().stream().filter(m -> m.upgraded().orElseThrow()).count(),
                            "one member speaks the consumer protocol, two the classic one");
                }
                // The last consumer-protocol member left: the classic members take everything back, as a classic group.
                pollUntil(List.of(c1, c2), () -> splitBetween(4, c1, c2), "the classic members share all again");
                assertEquals(GroupType.CLASSIC, type(admin, group), "downgraded online");
            }
        }
    }

    @Test
    void anEmptyGroupTakesTheProtocolOfItsNextMemberAndKeepsItsCommittedOffsets(KafkaTarget target) throws Exception {
        String topic = unique("switch");
        String group = unique("switch-group");
        try (Admin admin = admin(target); KafkaProducer<String, String> producer = stringProducer(target)) {
            createTopic(admin, topic, 1);
            List<String> protocols = List.of("classic", "consumer", "classic");
            for (int round = 0; round < protocols.size(); round++) {
                String value = "round-" + round;
                producer.send(new ProducerRecord<>(topic, value)).get();
                try (KafkaConsumer<String, String> c = consumer(target, group, protocols.get(round))) {
                    c.subscribe(List.of(topic));
                    assertEquals(List.of(value), values(pollExactly(c, 1)),
                            protocols.get(round) + " member resumes from the offset committed before");
                    c.commitSync();
                    assertEquals(protocols.get(round).equals("classic") ? GroupType.CLASSIC : GroupType.CONSUMER,
                            type(admin, group));
                }
                ConsumerGroupDescription empty = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
                assertEquals(GroupState.EMPTY, empty.groupState());
                assertEquals(protocols.get(round).equals("classic") ? GroupType.CLASSIC : GroupType.CONSUMER,
                        empty.type(), "the empty group keeps its kind until its next member");
            }
        }
    }
}
