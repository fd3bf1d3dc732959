package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.GroupSubscribedToTopicException;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Groups through the admin client: list, describe, delete offsets, delete the group, with Apache's error codes; the
 * group's members speak the classic protocol or the consumer protocol (KIP-848), which Kafka lists and describes as a
 * group of type CONSUMER with the server-side assignor.
 */
@ExtendWith(KafkaTargetExtension.class)
class AdminGroupsTest {

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void listDescribeDeleteOffsetsAndDeleteAGroup(String protocol, KafkaTarget target) throws Exception {
        String topic = unique("groups");
        String group = unique("admin-group");
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        boolean classic = protocol.equals("classic");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 2, null, "v" + i));
                }
            }
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group, protocol)) {
                consumer.subscribe(List.of(topic));
                assertEquals(10, pollExactly(consumer, 10).size());
                consumer.commitSync();

                GroupListing listing = Eventually.get(() -> get(admin.listGroups().all()).stream()
                        .filter(g -> g.groupId().equals(group)).findFirst().orElseThrow());
                assertEquals("consumer", listing.protocol());
                assertEquals(classic ? GroupType.CLASSIC : GroupType.CONSUMER, listing.type().orElseThrow());
                assertEquals(GroupState.STABLE, listing.groupState().orElseThrow());

                ConsumerGroupDescription active = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
                assertEquals(GroupState.STABLE, active.groupState());
                assertEquals(classic ? GroupType.CLASSIC : GroupType.CONSUMER, active.type());
                assertEquals(classic ? "range" : "uniform", active.partitionAssignor());
                assertFalse(active.isSimpleConsumerGroup());
                assertEquals(get(admin.describeCluster().nodes()).iterator().next().id(), active.coordinator().id());
                assertEquals(1, active.members().size());
                MemberDescription member = active.members().iterator().next();
                assertEquals(consumer.groupMetadata().memberId(), member.consumerId());
                assertEquals(Set.of(p0, p1), member.assignment().topicPartitions());

                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> get(admin.deleteConsumerGroupOffsets(group, Set.of(p0)).all()));
                assertInstanceOf(GroupSubscribedToTopicException.class, e.getCause(),
                        "offsets of a topic the active group subscribes to cannot be deleted");
                e = assertThrows(ExecutionException.class, () -> get(admin.deleteConsumerGroups(List.of(group)).all()));
                assertInstanceOf(GroupNotEmptyException.class, e.getCause());
            }

            ConsumerGroupDescription empty = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
            assertEquals(GroupState.EMPTY, empty.groupState());
            assertEquals(0, empty.members().size());
            assertEquals(Map.of(p0, new OffsetAndMetadata(5), p1, new OffsetAndMetadata(5)),
                    withoutLeaderEpoch(get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())));

            // An admin may rewrite an empty group's offsets (OffsetCommit with no member and generation -1).
            get(admin.alterConsumerGroupOffsets(group, Map.of(p1, new OffsetAndMetadata(2, "rewound"))).all());
            assertEquals(Map.of(p0, new OffsetAndMetadata(5), p1, new OffsetAndMetadata(2, "rewound")),
                    withoutLeaderEpoch(get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())));
            get(admin.alterConsumerGroupOffsets(group, Map.of(p1, new OffsetAndMetadata(5))).all());

            get(admin.deleteConsumerGroupOffsets(group, Set.of(p0)).all());
            assertEquals(Map.of(p1, new OffsetAndMetadata(5)),
                    withoutLeaderEpoch(get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())));

            get(admin.deleteConsumerGroups(List.of(group)).all());
            assertTrue(get(admin.listGroups().all()).stream().noneMatch(g -> g.groupId().equals(group)));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> get(admin.deleteConsumerGroups(List.of(group)).all()));
            assertInstanceOf(GroupIdNotFoundException.class, e.getCause());
        }
    }

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void aConsumerRejoiningADeletedGroupStartsFromTheResetPolicy(String protocol, KafkaTarget target)
            throws Exception {
        String topic = unique("regroup");
        String group = unique("deleted-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                producer.send(new ProducerRecord<>(topic, "a"));
                producer.send(new ProducerRecord<>(topic, "b"));
            }
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group, protocol)) {
                consumer.subscribe(List.of(topic));
                assertEquals(List.of("a", "b"), values(pollExactly(consumer, 2)));
                consumer.commitSync();
            }
            get(admin.deleteConsumerGroups(List.of(group)).all());
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group, protocol)) {
                consumer.subscribe(List.of(topic));
                assertEquals(List.of("a", "b"), values(pollExactly(consumer, 2)),
                        "no committed offsets survive the group's deletion");
            }
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> withoutLeaderEpoch(Map<TopicPartition, OffsetAndMetadata> in) {
        // The leader epoch is an implementation detail of the log; the offsets and metadata are what must match.
        Map<TopicPartition, OffsetAndMetadata> out = new java.util.HashMap<>();
        in.forEach((tp, o) -> out.put(tp, new OffsetAndMetadata(o.offset(), o.metadata())));
        return out;
    }
}
