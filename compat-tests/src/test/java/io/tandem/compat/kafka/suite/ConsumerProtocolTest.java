package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Java consumer with {@code group.protocol=consumer} (KIP-848, ConsumerGroupHeartbeat), the same against Tandem
 * and against Apache Kafka: partitions split and move, commits, the admin's view, static members, regex subscriptions.
 * With the suite's 500 ms heartbeat interval (both targets), a membership change shows within a few heartbeats.
 */
@ExtendWith(KafkaTargetExtension.class)
class ConsumerProtocolTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private static KafkaConsumer<String, String> consumer(KafkaTarget target, String group, String instanceId) {
        Properties props = consumerProps(target, group);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        if (instanceId != null) props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static void pollUntil(List<KafkaConsumer<String, String>> consumers, BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            for (KafkaConsumer<String, String> c : consumers) c.poll(Duration.ofMillis(100));
        }
    }

    @Test
    void membersSplitThePartitionsCommitAndTheLeaversPartitionsMove(KafkaTarget target) throws Exception {
        String topic = unique("kip848");
        String group = unique("kip848-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 4);
            try (KafkaConsumer<String, String> first = consumer(target, group, null)) {
                first.subscribe(List.of(topic));
                pollUntil(List.of(first), () -> first.assignment().size() == 4, "the first member owns all four");
                try (KafkaConsumer<String, String> second = consumer(target, group, null)) {
                    second.subscribe(List.of(topic));
                    pollUntil(List.of(first, second),
                            () -> first.assignment().size() == 2 && second.assignment().size() == 2,
                            "two partitions each");
                    Set<TopicPartition> union = new HashSet<>(first.assignment());
                    union.addAll(second.assignment());
                    assertEquals(4, union.size());
                    ConsumerGroupDescription d = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
                    assertEquals(GroupType.CONSUMER, d.type());
                    assertEquals(2, d.members().size());
                    assertEquals("uniform", d.partitionAssignor());
                    GroupListing listing = get(admin.listGroups().all()).stream()
                            .filter(g -> g.groupId().equals(group)).findFirst().orElseThrow();
                    assertEquals(GroupType.CONSUMER, listing.type().orElseThrow());
                    assertEquals("consumer", listing.protocol());
                    TopicPartition owned = second.assignment().iterator().next();
                    second.commitSync(Map.of(owned, new OffsetAndMetadata(0, "by the second")));
                }
                pollUntil(List.of(first), () -> first.assignment().size() == 4, "the leaver's partitions move");
                Map<TopicPartition, OffsetAndMetadata> committed = first.committed(first.assignment());
                assertEquals(1, committed.values().stream().filter(o -> o != null).count());
            }
        }
    }

    @Test
    void aStaticMemberComesBackToItsPartitions(KafkaTarget target) throws Exception {
        String topic = unique("kip848-static");
        String group = unique("kip848-static-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 4);
        }
        try (KafkaConsumer<String, String> a = consumer(target, group, "instance-a")) {
            Set<TopicPartition> ofB;
            KafkaConsumer<String, String> b = consumer(target, group, "instance-b");
            try (b) {
                a.subscribe(List.of(topic));
                b.subscribe(List.of(topic));
                pollUntil(List.of(a, b), () -> a.assignment().size() == 2 && b.assignment().size() == 2,
                        "two partitions each");
                ofB = Set.copyOf(b.assignment());
            }
            try (KafkaConsumer<String, String> bAgain = consumer(target, group, "instance-b")) {
                bAgain.subscribe(List.of(topic));
                pollUntil(List.of(a, bAgain), () -> bAgain.assignment().size() == 2, "instance-b is back");
                assertEquals(ofB, bAgain.assignment());
                assertEquals(2, a.assignment().size());
            }
        }
    }

    @Test
    void aRegexSubscriptionGetsTheMatchingTopics(KafkaTarget target) throws Exception {
        String prefix = unique("kip848re");
        String group = unique("kip848-regex-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, prefix + "-a", 2);
            createTopic(admin, prefix + "-b", 1);
            createTopic(admin, unique("kip848other"), 1);
        }
        try (KafkaConsumer<String, String> c = consumer(target, group, null)) {
            c.subscribe(new SubscriptionPattern(prefix + "-.*"));
            pollUntil(List.of(c), () -> c.assignment().size() == 3, "both matching topics are assigned");
            for (TopicPartition tp : c.assignment()) assertTrue(tp.topic().startsWith(prefix), tp.toString());
        }
    }
}
