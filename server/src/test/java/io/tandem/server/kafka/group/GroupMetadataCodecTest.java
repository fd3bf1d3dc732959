package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMetadataCodec.StoredGroup;
import io.tandem.server.kafka.group.GroupMetadataCodec.StoredMember;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.group.generated.GroupMetadataValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A classic group's record against Kafka's own GroupMetadataValue (the generated class Kafka's coordinators write and
 * read): at every version our bytes are Kafka's bytes for the same group, and Kafka's bytes decode to the same group.
 */
class GroupMetadataCodecTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A Stable group of a dynamic and a static member, as written after the leader's SyncGroup. */
    private static StoredGroup stable() {
        return new StoredGroup("consumer", 7, "range", "c1-1b2f", 1_700_000_000_123L, List.of(
                new StoredMember("c1-1b2f", null, "c1", "/10.0.0.1", 300_000, 45_000, bytes("sub-1"), bytes("as-1")),
                new StoredMember("c2-9e3d", "instance-2", "c2", "/10.0.0.2", 60_000, 10_000, bytes("sub-2 longer"),
                        new byte[0])));
    }

    /** An Empty group after its last member left: no protocol, no leader, no members. */
    private static StoredGroup empty() {
        return new StoredGroup("consumer", 8, null, null, 1_700_000_050_000L, List.of());
    }

    private static GroupMetadataValue kafkas(StoredGroup group) {
        List<GroupMetadataValue.MemberMetadata> members = new ArrayList<>();
        for (StoredMember m : group.members()) {
            members.add(new GroupMetadataValue.MemberMetadata().setMemberId(m.memberId())
                    .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setRebalanceTimeout(m.rebalanceTimeoutMs()).setSessionTimeout(m.sessionTimeoutMs())
                    .setSubscription(m.subscription()).setAssignment(m.assignment()));
        }
        return new GroupMetadataValue().setProtocolType(group.protocolType()).setGeneration(group.generation())
                .setProtocol(group.protocol()).setLeader(group.leader())
                .setCurrentStateTimestamp(group.currentStateTimestamp()).setMembers(members);
    }

    /** The group as a version keeps it: what an older version has no field for reads back as Kafka's default. */
    private static StoredGroup atVersion(StoredGroup group, short version) {
        List<StoredMember> members = new ArrayList<>();
        for (StoredMember m : group.members()) {
            members.add(new StoredMember(m.memberId(), version >= 3 ? m.groupInstanceId() : null, m.clientId(),
                    m.clientHost(), version >= 1 ? m.rebalanceTimeoutMs() : m.sessionTimeoutMs(),
                    m.sessionTimeoutMs(), m.subscription(), m.assignment()));
        }
        return new StoredGroup(group.protocolType(), group.generation(), group.protocol(), group.leader(),
                version >= 2 ? group.currentStateTimestamp() : -1, members);
    }

    private static void assertSameGroup(StoredGroup expected, StoredGroup actual) {
        assertEquals(expected.protocolType(), actual.protocolType());
        assertEquals(expected.generation(), actual.generation());
        assertEquals(expected.protocol(), actual.protocol());
        assertEquals(expected.leader(), actual.leader());
        assertEquals(expected.currentStateTimestamp(), actual.currentStateTimestamp());
        assertEquals(expected.members().size(), actual.members().size());
        for (int i = 0; i < expected.members().size(); i++) {
            StoredMember e = expected.members().get(i);
            StoredMember a = actual.members().get(i);
            assertEquals(e.memberId(), a.memberId());
            assertEquals(e.groupInstanceId(), a.groupInstanceId());
            assertEquals(e.clientId(), a.clientId());
            assertEquals(e.clientHost(), a.clientHost());
            assertEquals(e.rebalanceTimeoutMs(), a.rebalanceTimeoutMs());
            assertEquals(e.sessionTimeoutMs(), a.sessionTimeoutMs());
            assertArrayEquals(e.subscription(), a.subscription());
            assertArrayEquals(e.assignment(), a.assignment());
        }
    }

    @Test
    void shouldEncodeEveryVersionByteForByteAsKafkasGroupMetadataValue() {
        int compared = 0;
        for (StoredGroup group : List.of(stable(), empty())) {
            for (short version = GroupMetadataValue.LOWEST_SUPPORTED_VERSION;
                 version <= GroupMetadataValue.HIGHEST_SUPPORTED_VERSION; version++) {
                byte[] theirs = MessageUtil.toVersionPrefixedBytes(version, kafkas(group));
                assertArrayEquals(theirs, GroupMetadataCodec.encode(group, version), "version " + version);
                compared++;
            }
        }
        assertEquals(2 * (GroupMetadataCodec.HIGHEST_VERSION + 1), compared, "every version Kafka defines");
    }

    @Test
    void shouldWriteTheVersionKafkaWritesAndReadItBack() {
        byte[] ours = GroupMetadataCodec.encode(stable());
        ByteBuffer buf = ByteBuffer.wrap(ours);
        short version = buf.getShort();
        assertEquals(3, version, "Kafka 3.9 (inter-broker protocol 2.3+) and 4.x write GroupMetadataValue v3");
        assertEquals(kafkas(stable()), new GroupMetadataValue(new ByteBufferAccessor(buf), version));
        assertSameGroup(stable(), GroupMetadataCodec.decode(ours));
    }

    @Test
    void shouldDecodeKafkasBytesAtEveryVersion() {
        for (StoredGroup group : List.of(stable(), empty())) {
            for (short version = GroupMetadataValue.LOWEST_SUPPORTED_VERSION;
                 version <= GroupMetadataValue.HIGHEST_SUPPORTED_VERSION; version++) {
                byte[] theirs = MessageUtil.toVersionPrefixedBytes(version, kafkas(group));
                assertSameGroup(atVersion(group, version), GroupMetadataCodec.decode(theirs));
            }
        }
    }

    @Test
    void shouldSkipTaggedFieldsItDoesNotKnowInTheFlexibleVersion() {
        GroupMetadataValue tagged = kafkas(stable());
        tagged.unknownTaggedFields().add(new org.apache.kafka.common.protocol.types.RawTaggedField(5, bytes("xyz")));
        tagged.members().get(1).unknownTaggedFields()
                .add(new org.apache.kafka.common.protocol.types.RawTaggedField(9, bytes("later")));
        byte[] theirs = MessageUtil.toVersionPrefixedBytes((short) 4, tagged);
        assertSameGroup(stable(), GroupMetadataCodec.decode(theirs));
    }

    @Test
    void shouldRefuseAVersionKafkaDoesNotDefine() {
        byte[] v5 = GroupMetadataCodec.encode(empty());
        v5[1] = 5;
        assertThrows(IllegalArgumentException.class, () -> GroupMetadataCodec.decode(v5));
    }
}
