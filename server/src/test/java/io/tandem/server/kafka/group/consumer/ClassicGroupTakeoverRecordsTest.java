package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMetadataCodec;
import io.tandem.server.kafka.group.GroupState;
import io.tandem.server.kafka.group.GroupStore;
import io.tandem.server.kafka.group.RecordingGroupStore;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.NONE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A consumer group taking over the id of an Empty classic group leaves a tombstone for the classic group's record in
 * {@code __consumer_offsets}, as Kafka 4.x's maybeDeleteEmptyClassicGroup, so a coordinator that reads the partition
 * again finds the consumer group and the offsets, not the classic group beside it.
 */
class ClassicGroupTakeoverRecordsTest {
    private static final String TOPIC = "events";
    private static final TopicPartition T0 = new TopicPartition(TOPIC, 0);
    private final TopicRef events = new TopicRef(TOPIC, UUID.nameUUIDFromBytes(TOPIC.getBytes()), 2);
    private final TopicsView topics = new TopicsView() {
        @Override public TopicRef byName(String name) { return name.equals(TOPIC) ? events : null; }
        @Override public TopicRef byId(UUID id) { return id.equals(events.id()) ? events : null; }
        @Override public Collection<String> names() { return List.of(TOPIC); }
    };

    /** The offsets partition as key/value bytes, oldest first; a null value is a tombstone. */
    private final List<byte[][]> log = new ArrayList<>();
    private final GroupStore classicStore = new RecordingGroupStore(log);
    private final ConsumerGroupStore consumerStore = new ConsumerGroupOffsetsStore((g, records) -> log.addAll(records));
    private long now = 1_000;

    private record Coordinators(GroupCoordinator classic, ConsumerGroupCoordinator consumer) {
    }

    private Coordinators start() {
        GroupCoordinator classic = new GroupCoordinator(GroupConfig.defaults().withInitialRebalanceDelayMs(0),
                classicStore);
        return new Coordinators(classic, new ConsumerGroupCoordinator(classic, ConsumerGroupConfig.defaults(),
                consumerStore, topics));
    }

    /** New coordinators reading the log as a broker taking the lead of the offsets partition does. */
    private Coordinators reload() {
        Coordinators loaded = start();
        Set<String> touched = new LinkedHashSet<>();
        for (byte[][] kv : log) {
            OffsetsTopicCodec.Key key = OffsetsTopicCodec.readKey(kv[0]);
            if (key == null) {
                loaded.consumer().replay(kv[0], kv[1]);
                continue;
            }
            touched.add(key.groupId());
            if (key.partition() != null) {
                loaded.classic().loadOffset(key.groupId(), key.partition(),
                        kv[1] == null ? null : OffsetsTopicCodec.readOffsetValue(kv[1]));
            } else if (kv[1] != null) {
                loaded.classic().loadGroupMetadata(key.groupId(), GroupMetadataCodec.decode(kv[1]));
            } else {
                loaded.classic().loadGroupDeletion(key.groupId());
            }
        }
        loaded.classic().groupsLoaded(touched, now);
        loaded.consumer().loaded(now);
        return loaded;
    }

    private JoinResult classicJoin(GroupCoordinator classic, String memberId) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", memberId, null, "client", "/127.0.0.1", 10_000, 30_000,
                "consumer", List.of(new GroupMessages.Protocol("range", new byte[]{0})), false), now, result::set);
        return result.get();
    }

    private ConsumerGroupCoordinator.HeartbeatResult consumerBeat(ConsumerGroupCoordinator consumer, String memberId,
                                                                  int epoch) {
        return consumer.heartbeat(new HeartbeatRequest("g", memberId, epoch, null, null, epoch == 0 ? 30_000 : -1,
                epoch == 0 ? List.of(TOPIC) : null, null, null, epoch == 0 ? List.of() : null, "client", "/127.0.0.1",
                (short) 1), now);
    }

    private int lastClassicRecord() {
        for (int i = log.size() - 1; i >= 0; i--) {
            OffsetsTopicCodec.Key key = OffsetsTopicCodec.readKey(log.get(i)[0]);
            if (key != null && key.partition() == null) return i;
        }
        return -1;
    }

    /** A classic group that ran a generation, committed, and emptied: its Empty record is the last one written. */
    private Coordinators emptiedClassicGroup() {
        Coordinators c = start();
        JoinResult joined = classicJoin(c.classic(), "");
        assertEquals(NONE, joined.error());
        AtomicReference<GroupMessages.SyncResult> synced = new AtomicReference<>();
        c.classic().syncGroup(new GroupMessages.SyncRequest("g", joined.generationId(), joined.memberId(), null,
                "consumer", "range", Map.of(joined.memberId(), new byte[]{1})), now, synced::set);
        assertEquals(NONE, synced.get().error());
        assertEquals(NONE, c.classic().commitOffsets("g", joined.memberId(), null, joined.generationId(),
                Map.of(T0, new CommittedOffset(5, -1, "", now)), now).get(T0));
        c.classic().leaveGroup("g", List.of(new GroupMessages.LeavingMember(joined.memberId(), null)), now);
        assertEquals(GroupState.EMPTY, c.classic().describeGroup("g").state());
        int record = lastClassicRecord();
        assertNotNull(log.get(record)[1], "the Empty group's record");
        assertEquals(2, GroupMetadataCodec.decode(log.get(record)[1]).generation());
        return c;
    }

    @Test
    void shouldTombstoneTheEmptyClassicGroupsRecordWhenAConsumerGroupTakesItsId() {
        Coordinators c = emptiedClassicGroup();
        int before = log.size();
        assertEquals(2, consumerBeat(c.consumer(), "m", 0).memberEpoch(), "a new consumer group, as in Kafka");

        int tombstone = lastClassicRecord();
        assertTrue(tombstone >= before, "a record about the classic group was written at the takeover");
        assertArrayEquals(OffsetsTopicCodec.groupKey("g"), log.get(tombstone)[0]);
        assertNull(log.get(tombstone)[1], "the classic group's record is tombstoned");
        assertTrue(Arrays.equals(log.get(before)[0], OffsetsTopicCodec.groupKey("g")),
                "the tombstone comes before the consumer group's records, as Kafka writes them");

        Coordinators loaded = reload();
        assertEquals(NONE, loaded.consumer().describe("g").error());
        assertEquals(1, loaded.consumer().describe("g").members().size());
        GroupMessages.GroupDescription classicSide = loaded.classic().describeGroup("g");
        assertEquals("", classicSide.protocolType(), "only the offsets are left of the classic group");
        assertEquals(5, loaded.classic().fetchOffsets("g", null).get(T0).offset());
    }

    @Test
    void shouldStartAClassicGroupTakingTheIdBackAfreshBeforeAndAfterAReload() {
        Coordinators c = emptiedClassicGroup();
        consumerBeat(c.consumer(), "m", 0);
        Coordinators loaded = reload();

        // The consumer group empties and a classic member takes the id back: a new classic group, as in Kafka,
        // whose first generation is 1 (not the old group's next one), in memory and after the reload alike.
        for (Coordinators each : List.of(c, loaded)) {
            consumerBeat(each.consumer(), "m", ConsumerGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH);
            JoinResult joined = classicJoin(each.classic(), "");
            assertEquals(NONE, joined.error());
            assertEquals(1, joined.generationId());
            assertEquals(5, each.classic().fetchOffsets("g", null).get(T0).offset(), "the offsets stay");
        }
    }
}
