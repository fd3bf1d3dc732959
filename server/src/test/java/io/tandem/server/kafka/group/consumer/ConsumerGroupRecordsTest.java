package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupStore;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataValue;
import org.apache.kafka.coordinator.group.generated.CoordinatorRecordType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The consumer group records written to {@code __consumer_offsets}: Kafka's own record classes read them, and a
 * coordinator that replays them has the same groups, so a restarted broker keeps its consumer groups.
 */
class ConsumerGroupRecordsTest {
    private final Map<String, TopicRef> topicsByName = new TreeMap<>();
    private final TopicsView topics = new TopicsView() {
        @Override public TopicRef byName(String name) { return topicsByName.get(name); }
        @Override public TopicRef byId(UUID id) { return null; }
        @Override public Collection<String> names() { return List.copyOf(topicsByName.keySet()); }
    };
    private final List<byte[][]> log = new ArrayList<>();

    private ConsumerGroupCoordinator coordinator(ConsumerGroupStore store) {
        return new ConsumerGroupCoordinator(new GroupCoordinator(GroupConfig.defaults(), GroupStore.IN_MEMORY),
                ConsumerGroupConfig.defaults(), store, topics);
    }

    private static HeartbeatResult beat(ConsumerGroupCoordinator c, String member, int epoch, String instance,
                                        List<OwnedPartitions> owned) {
        return c.heartbeat(new HeartbeatRequest("g", member, epoch, instance, epoch == 0 ? "rack-1" : null,
                epoch == 0 ? 30_000 : -1, epoch == 0 ? List.of("events") : null, null, null, owned, "client",
                "/10.0.0.1", (short) 1), 1_000);
    }

    private static List<OwnedPartitions> owned(Assignment a) {
        List<OwnedPartitions> list = new ArrayList<>();
        a.partitions().forEach((topic, set) -> list.add(new OwnedPartitions(topic, List.copyOf(set))));
        return list;
    }

    /** Two members, one static, reconciled to a split of four partitions, with a revocation on the way. */
    private ConsumerGroupCoordinator runScenario() {
        topicsByName.put("events", new TopicRef("events", UUID.nameUUIDFromBytes(new byte[]{1}), 4));
        ConsumerGroupCoordinator c = coordinator(new ConsumerGroupOffsetsStore((group, records) -> log.addAll(records)));
        beat(c, "a", 0, null, List.of());
        beat(c, "b", 0, "instance-b", List.of());
        HeartbeatResult a = beat(c, "a", 2, null, null);
        beat(c, "a", a.memberEpoch(), null, owned(a.assignment()));
        return c;
    }

    @Test
    void shouldWriteRecordsThatKafkasCoordinatorReads() {
        runScenario();
        Set<Short> types = new HashSet<>();
        for (byte[][] kv : log) {
            ByteBuffer key = ByteBuffer.wrap(kv[0]);
            short type = key.getShort();
            types.add(type);
            ByteBufferAccessor k = new ByteBufferAccessor(key);
            ByteBuffer value = kv[1] == null ? null : ByteBuffer.wrap(kv[1]);
            short version = value == null ? 0 : value.getShort();
            ByteBufferAccessor v = value == null ? null : new ByteBufferAccessor(value);
            CoordinatorRecordType recordType = CoordinatorRecordType.fromId(type);
            switch (recordType) {
                case CONSUMER_GROUP_METADATA -> {
                    assertEquals("g", new ConsumerGroupMetadataKey(k, (short) 0).groupId());
                    assertTrue(new ConsumerGroupMetadataValue(v, version).epoch() > 0);
                }
                case CONSUMER_GROUP_MEMBER_METADATA -> {
                    ConsumerGroupMemberMetadataKey mk = new ConsumerGroupMemberMetadataKey(k, (short) 0);
                    ConsumerGroupMemberMetadataValue mv = new ConsumerGroupMemberMetadataValue(v, version);
                    assertEquals(List.of("events"), mv.subscribedTopicNames());
                    assertEquals("rack-1", mv.rackId());
                    assertEquals("client", mv.clientId());
                    assertEquals(30_000, mv.rebalanceTimeoutMs());
                    assertEquals(mk.memberId().equals("b") ? "instance-b" : null, mv.instanceId());
                }
                case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA -> {
                    new ConsumerGroupTargetAssignmentMetadataKey(k, (short) 0);
                    assertTrue(new ConsumerGroupTargetAssignmentMetadataValue(v, version).assignmentEpoch() > 0);
                }
                case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER -> {
                    new ConsumerGroupTargetAssignmentMemberKey(k, (short) 0);
                    assertFalse(new ConsumerGroupTargetAssignmentMemberValue(v, version).topicPartitions().isEmpty());
                }
                case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT -> {
                    ConsumerGroupCurrentMemberAssignmentKey ck = new ConsumerGroupCurrentMemberAssignmentKey(k, (short) 0);
                    ConsumerGroupCurrentMemberAssignmentValue cv = new ConsumerGroupCurrentMemberAssignmentValue(v, version);
                    assertTrue(cv.state() >= 0 && cv.state() <= 2, ck.memberId() + " state " + cv.state());
                }
                default -> fail("unexpected record type " + recordType);
            }
            assertFalse(value != null && value.hasRemaining(), "the whole value is read by Kafka's class");
        }
        assertEquals(Set.of((short) 3, (short) 5, (short) 6, (short) 7, (short) 8), types);
    }

    @Test
    void shouldWriteAClassicMembersMetadataAsKafkaDoesAndReadItBack() {
        ConsumerGroupMember member = new ConsumerGroupMember("m");
        member.clientId = "client";
        member.clientHost = "/10.0.0.1";
        member.subscribedTopicNames = List.of("events");
        member.rebalanceTimeoutMs = 30_000;
        member.classic = new ConsumerGroupMember.ClassicMetadata(10_000, List.of(
                new io.tandem.server.kafka.group.GroupMessages.Protocol("range", new byte[]{1, 2, 3}),
                new io.tandem.server.kafka.group.GroupMessages.Protocol("cooperative-sticky", new byte[0])));
        byte[] ours = ConsumerGroupRecords.memberMetadataValue(member);
        ConsumerGroupMemberMetadataValue kafka = new ConsumerGroupMemberMetadataValue()
                .setClientId("client").setClientHost("/10.0.0.1").setSubscribedTopicNames(List.of("events"))
                .setRebalanceTimeoutMs(30_000).setInstanceId(null).setRackId(null).setSubscribedTopicRegex(null)
                .setServerAssignor(null)
                .setClassicMemberMetadata(new ConsumerGroupMemberMetadataValue.ClassicMemberMetadata()
                        .setSessionTimeoutMs(10_000)
                        .setSupportedProtocols(List.of(
                                new ConsumerGroupMemberMetadataValue.ClassicProtocol().setName("range")
                                        .setMetadata(new byte[]{1, 2, 3}),
                                new ConsumerGroupMemberMetadataValue.ClassicProtocol().setName("cooperative-sticky")
                                        .setMetadata(new byte[0]))));
        assertEquals(java.util.HexFormat.of().formatHex(
                org.apache.kafka.common.protocol.MessageUtil.toVersionPrefixedBytes((short) 0, kafka)),
                java.util.HexFormat.of().formatHex(ours), "the same bytes as Kafka's record class");

        ConsumerGroupMember back = new ConsumerGroupMember("m");
        ConsumerGroupRecords.readMemberMetadata(ours, back);
        assertTrue(back.usesClassicProtocol());
        assertEquals(10_000, back.classic.sessionTimeoutMs());
        assertEquals("range", back.classic.protocolName());
        assertArrayEquals(new byte[]{1, 2, 3}, back.classic.protocols().get(0).metadata());
        assertEquals(2, back.classic.protocols().size());

        member.classic = null;
        ConsumerGroupRecords.readMemberMetadata(ConsumerGroupRecords.memberMetadataValue(member), back);
        assertFalse(back.usesClassicProtocol(), "a consumer-protocol member has no classic metadata");
    }

    @Test
    void shouldRestoreTheSameGroupFromItsRecords() {
        ConsumerGroupCoordinator original = runScenario();
        ConsumerGroupCoordinator restored = coordinator(ConsumerGroupStore.IN_MEMORY);
        for (byte[][] kv : log) restored.replay(kv[0], kv[1]);
        restored.loaded(2_000);
        assertEquals(original.describe("g"), restored.describe("g"));
        // The restored members go on at their epochs; b gets the partitions a gave up.
        HeartbeatResult b = beat(restored, "b", 3, "instance-b", List.of());
        assertEquals(3, b.memberEpoch());
        assertEquals(2, b.assignment().size());
    }

    @Test
    void shouldForgetARemovedMemberAndADeletedGroupOnReplay() {
        ConsumerGroupCoordinator original = runScenario();
        original.heartbeat(new HeartbeatRequest("g", "a", -1, null, null, -1, null, null, null, null, "c", "h",
                (short) 1), 1_000);
        original.heartbeat(new HeartbeatRequest("g", "b", -1, "instance-b", null, -1, null, null, null, null, "c",
                "h", (short) 1), 1_000);
        original.deleteEmptyConsumerGroup("g");
        ConsumerGroupCoordinator restored = coordinator(ConsumerGroupStore.IN_MEMORY);
        for (byte[][] kv : log) restored.replay(kv[0], kv[1]);
        restored.loaded(2_000);
        assertFalse(restored.isConsumerGroup("g"));
    }
}
