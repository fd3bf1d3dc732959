package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.common.errors.InconsistentGroupProtocolException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The coordinator's choice of protocol among the members' assignor lists (classic JoinGroup). */
@ExtendWith(KafkaTargetExtension.class)
class GroupProtocolTest {

    @Test
    void theGroupUsesTheAssignorEveryMemberSupports(KafkaTarget target) throws Exception {
        String topic = unique("protocols");
        String group = unique("protocol-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 4);
            // First member prefers range but also speaks cooperative-sticky; the second speaks only the latter.
            try (KafkaConsumer<String, String> first = consumer(target, group, RangeAssignor.class,
                    CooperativeStickyAssignor.class);
                 KafkaConsumer<String, String> second = consumer(target, group, CooperativeStickyAssignor.class)) {
                first.subscribe(List.of(topic));
                second.subscribe(List.of(topic));
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (first.assignment().size() + second.assignment().size() != 4
                        || first.assignment().isEmpty() || second.assignment().isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("no stable two-member assignment: " + first.assignment() + " / "
                                + second.assignment());
                    }
                    first.poll(Duration.ofMillis(100));
                    second.poll(Duration.ofMillis(100));
                }
                assertEquals("cooperative-sticky", get(admin.describeConsumerGroups(List.of(group)).all())
                        .get(group).partitionAssignor());
            }
        }
    }

    @Test
    void aMemberWithNoAssignorInCommonIsRefused(KafkaTarget target) throws Exception {
        String topic = unique("protocols");
        String group = unique("inconsistent-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
        }
        try (KafkaConsumer<String, String> member = consumer(target, group, RangeAssignor.class);
             KafkaConsumer<String, String> stranger = consumer(target, group, RoundRobinAssignor.class)) {
            member.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (member.assignment().size() != 2) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the first member never got both partitions");
                }
                member.poll(Duration.ofMillis(100));
            }
            stranger.subscribe(List.of(topic));
            assertThrows(InconsistentGroupProtocolException.class, () -> {
                long until = System.nanoTime() + TIMEOUT.toNanos();
                while (System.nanoTime() < until) {
                    stranger.poll(Duration.ofMillis(100));
                    member.poll(Duration.ofMillis(10));
                }
            });
        }
    }

    private static KafkaConsumer<String, String> consumer(KafkaTarget target, String group, Class<?>... assignors) {
        Properties props = consumerProps(target, group);
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                java.util.Arrays.stream(assignors).map(Class::getName).toList());
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
