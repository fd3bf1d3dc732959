package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(KafkaTargetExtension.class)
class AdminTopicsTest {

    @Test
    void validateOnlyCreateChecksButCreatesNothing(KafkaTarget target) throws Exception {
        String topic = unique("validate-only");
        try (Admin admin = admin(target)) {
            get(admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1)),
                    new CreateTopicsOptions().validateOnly(true)).all());
            assertFalse(get(admin.listTopics().names()).contains(topic), "validate-only must not create " + topic);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> get(admin.describeTopics(List.of(topic)).allTopicNames()));
            assertInstanceOf(UnknownTopicOrPartitionException.class, e.getCause());
            // A validate-only request is still validated: an existing name is refused.
            String existing = unique("existing");
            createTopic(admin, existing, 1);
            e = assertThrows(ExecutionException.class, () -> get(admin.createTopics(
                    List.of(new NewTopic(existing, 1, (short) 1)), new CreateTopicsOptions().validateOnly(true)).all()));
            assertInstanceOf(TopicExistsException.class, e.getCause());
        }
    }

    @Test
    void createDescribeGrowAndDeleteATopic(KafkaTarget target) throws Exception {
        String topic = unique("lifecycle");
        try (Admin admin = admin(target)) {
            var created = admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1)));
            get(created.all());
            assertEquals(2, get(created.numPartitions(topic)));
            assertEquals(1, get(created.replicationFactor(topic)));
            assertTrue(get(created.topicId(topic)).toString().length() > 0);

            Node broker = get(admin.describeCluster().nodes()).iterator().next();
            TopicDescription description = Eventually.get(() -> get(admin.describeTopics(List.of(topic))
                    .allTopicNames()).get(topic));
            assertEquals(topic, description.name());
            assertFalse(description.isInternal());
            assertEquals(get(created.topicId(topic)), description.topicId());
            assertEquals(List.of(0, 1), description.partitions().stream().map(TopicPartitionInfo::partition).toList());
            for (TopicPartitionInfo partition : description.partitions()) {
                assertEquals(broker.id(), partition.leader().id());
                assertEquals(List.of(broker.id()), partition.replicas().stream().map(Node::id).toList());
                assertEquals(List.of(broker.id()), partition.isr().stream().map(Node::id).toList());
            }

            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> get(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all()));
            assertInstanceOf(TopicExistsException.class, e.getCause());

            get(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all());
            Eventually.run(() -> assertEquals(4, get(admin.describeTopics(List.of(topic)).allTopicNames())
                    .get(topic).partitions().size()));
            e = assertThrows(ExecutionException.class,
                    () -> get(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all()));
            assertInstanceOf(InvalidPartitionsException.class, e.getCause(), "partitions can only grow");

            get(admin.deleteTopics(List.of(topic)).all());
            Eventually.run(() -> assertFalse(get(admin.listTopics().names()).contains(topic)));
            e = assertThrows(ExecutionException.class, () -> get(admin.deleteTopics(List.of(topic)).all()));
            assertInstanceOf(UnknownTopicOrPartitionException.class, e.getCause());
        }
    }

    static List<String> invalidNames() {
        return List.of("bad name!", "..", ".", "tab\there", "slash/in/name", "x".repeat(250));
    }

    @ParameterizedTest
    @MethodSource("invalidNames")
    void invalidTopicNamesAreRefusedWithInvalidTopicException(String name, KafkaTarget target) throws Exception {
        try (Admin admin = admin(target)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> get(admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all()));
            assertInstanceOf(InvalidTopicException.class, e.getCause(), name);
            assertFalse(get(admin.listTopics().names()).contains(name));
        }
    }

    @Test
    void listTopicsHidesInternalTopicsUnlessAsked(KafkaTarget target) throws Exception {
        String topic = unique("listed");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            Set<String> names = Eventually.get(() -> {
                Set<String> now = get(admin.listTopics().names());
                assertTrue(now.contains(topic));
                return now;
            });
            assertFalse(names.contains("__consumer_offsets"), "internal topics are hidden by default");
        }
    }
}
