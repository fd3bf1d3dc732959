package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Share-partitions get state when a heartbeat subscribes the group to them, as in Kafka 4.4 (GroupMetadataManager's
 * maybeCreateInitializeShareGroupStateRequest): a topic new to the group at start offset -1, resolved from
 * share.auto.offset.reset when the share-partition first loads; partitions added later to a topic the group has at 0,
 * so records produced to them before any member fetches them are delivered. The ShareGroupStatePartitionMetadata
 * records are read back with Kafka's own generated class.
 */
class ShareStateInitializationTest {
    private static final UUID TOPIC = new UUID(7, 7);
    private final Map<String, TopicRef> topics = new HashMap<>(Map.of("t", new TopicRef("t", TOPIC, 2)));
    private final TopicsView view = new TopicsView() {
        @Override public TopicRef byName(String name) { return topics.get(name); }
        @Override public TopicRef byId(UUID id) {
            return topics.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
        }
        @Override public Collection<String> names() { return topics.keySet(); }
    };
    /** __share_group_state as the share coordinator appends to it. */
    private final InMemoryStateLog stateLog = new InMemoryStateLog();
    /** __consumer_offsets as the group coordinator appends to it. */
    private final List<byte[][]> offsetsLog = new ArrayList<>();
    private final ShareStateCoordinator shareCoordinator = new ShareStateCoordinator(10,
            stateLog, (t, p) -> topics.values().stream().anyMatch(r -> r.id().equals(t) && p < r.partitionCount()),
            () -> 1L);

    private ShareGroupCoordinator coordinator() {
        return new ShareGroupCoordinator(ShareGroupConfig.defaults(), view, id -> false,
                new LocalSharePersister(shareCoordinator),
                new ShareGroupOffsetsStore((g, records) -> offsetsLog.addAll(records)));
    }

    private static ShareGroupCoordinator.HeartbeatResult heartbeat(ShareGroupCoordinator c, int epoch, long now) {
        return c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("g", "m", epoch, null,
                epoch == 0 ? List.of("t") : null, "client", "/127.0.0.1"), now);
    }

    private ShareStateCoordinator.State state(int partition) {
        // A summary: a read at no leader epoch would now be fenced by the share-partition's leader's reads.
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key("g", TOPIC, partition);
        return shareCoordinator.keys("g").contains(key) ? shareCoordinator.summary(key) : null;
    }

    /** The ShareGroupStatePartitionMetadata values written so far, decoded by Kafka's generated class. */
    private List<ShareGroupStatePartitionMetadataValue> statePartitionRecords() {
        List<ShareGroupStatePartitionMetadataValue> result = new ArrayList<>();
        for (byte[][] kv : offsetsLog) {
            if (ShareGroupRecords.readKey(kv[0]).type() != ShareGroupRecords.STATE_PARTITION_METADATA) continue;
            ByteBuffer buf = ByteBuffer.wrap(kv[1]);
            short version = buf.getShort();
            result.add(new ShareGroupStatePartitionMetadataValue(new ByteBufferAccessor(buf), version));
        }
        return result;
    }

    private static List<ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo> info(List<Integer> partitions) {
        return List.of(new ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo()
                .setTopicId(new Uuid(TOPIC.getMostSignificantBits(), TOPIC.getLeastSignificantBits()))
                .setTopicName("t").setPartitions(partitions));
    }

    @Test
    void aHeartbeatShouldInitializeTheSubscribedPartitionsBeforeAnyFetch() {
        ShareGroupCoordinator c = coordinator();
        ShareGroupCoordinator.HeartbeatResult joined = heartbeat(c, 0, 0);
        for (int p = 0; p < 2; p++) {
            ShareStateCoordinator.State s = state(p);
            assertNotNull(s, "partition " + p + " initialized by the heartbeat, before any ShareFetch");
            assertEquals(ShareStateCoordinator.UNINITIALIZED_START_OFFSET, s.startOffset(),
                    "a topic new to the group: the start offset is decided when the share-partition loads");
            assertEquals(joined.memberEpoch(), s.stateEpoch(), "at the group epoch");
        }
        // Kafka's order: initializing in the heartbeat's batch, then initialized once the share coordinator answered.
        assertEquals(List.of(
                new ShareGroupStatePartitionMetadataValue().setInitializingTopics(info(List.of(0, 1))),
                new ShareGroupStatePartitionMetadataValue().setInitializedTopics(info(List.of(0, 1)))),
                statePartitionRecords());
        // First use: share.auto.offset.reset (here the high watermark, 40) decides, and the state epoch stays.
        SharePartition sp = c.partition("g", TOPIC, 0, () -> 40L);
        assertEquals(40, sp.startOffset());
        assertEquals(40, state(0).startOffset());
        assertEquals(joined.memberEpoch(), state(0).stateEpoch());
        // Heartbeats with nothing new initialize nothing again.
        heartbeat(c, joined.memberEpoch(), 1);
        assertEquals(2, statePartitionRecords().size());
    }

    @Test
    void partitionsAddedToATopicOfTheGroupShouldStartAtZero() {
        ShareGroupCoordinator c = coordinator();
        ShareGroupCoordinator.HeartbeatResult joined = heartbeat(c, 0, 0);
        c.partition("g", TOPIC, 0, () -> 40L);
        topics.put("t", new TopicRef("t", TOPIC, 3));
        ShareGroupCoordinator.HeartbeatResult grown = heartbeat(c, joined.memberEpoch(), 1);
        assertEquals(0, state(2).startOffset(),
                "records produced to a new partition before a member fetches it must not be skipped (latest)");
        assertEquals(grown.memberEpoch(), state(2).stateEpoch());
        assertEquals(40, state(0).startOffset(), "state already there is not initialized again");
        assertEquals(0, c.partition("g", TOPIC, 2, () -> 99L).startOffset());
        assertEquals(new ShareGroupStatePartitionMetadataValue().setInitializingTopics(info(List.of(2)))
                .setInitializedTopics(info(List.of(0, 1))), statePartitionRecords().get(2));
        assertEquals(new ShareGroupStatePartitionMetadataValue().setInitializedTopics(info(List.of(0, 1, 2))),
                statePartitionRecords().get(3));
    }

    @Test
    void aRestartShouldKeepPartitionsInitializedButNeverLoadedUndecided() {
        ShareGroupCoordinator c = coordinator();
        heartbeat(c, 0, 0);
        c.partition("g", TOPIC, 1, () -> 40L);
        // A new coordinator over the same share coordinator: restored from the stored state alone.
        ShareGroupCoordinator restarted = coordinator();
        restarted.restoreStoredGroups();
        // Both are listed (by partition), the one never loaded at -1, as Kafka's DescribeShareGroupOffsets lists it.
        // The one loaded was initialized at 40 with nothing done from there (Kafka's delivery-complete count 0).
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(TOPIC, 0, -1, -1, 0),
                new ShareGroupCoordinator.PartitionOffset(TOPIC, 1, 40, 0, 0)), restarted.offsets("g", 0));
        assertEquals(55, restarted.partition("g", TOPIC, 0, () -> 55L).startOffset(),
                "partition 0 was never loaded: share.auto.offset.reset decides on its first use, not the restart");
    }

    @Test
    void deletingTheGroupShouldDeleteTheStateOfPartitionsNeverLoaded() {
        ShareGroupCoordinator c = coordinator();
        heartbeat(c, 0, 0);
        c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("g", "m", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH,
                null, null, "client", "/127.0.0.1"), 1);
        assertNotNull(state(0));
        assertEquals(io.tandem.server.kafka.ErrorCodes.NONE, c.deleteGroup("g", 2));
        assertNull(state(0));
        assertNull(state(1));
    }

    @Test
    void aShareCoordinatorThatDoesNotAnswerShouldStallNoHeartbeat() throws Exception {
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger summaries = new java.util.concurrent.atomic.AtomicInteger();
        LocalSharePersister local = new LocalSharePersister(shareCoordinator);
        // The share coordinator of group "slow" hangs (another broker that does not answer).
        SharePersister hanging = new DelegatingSharePersister(local) {
            private void hang(String groupId) {
                if (!groupId.equals("slow")) return;
                summaries.incrementAndGet();
                asked.countDown();
                try {
                    assertTrue(answer.await(30, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            @Override public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
                hang(groupId);
                return local.read(groupId, topicId, partition, leaderEpoch);
            }
            @Override public Stored summary(String groupId, UUID topicId, int partition) {
                hang(groupId);
                return local.summary(groupId, topicId, partition);
            }
        };
        ShareGroupCoordinator c = new ShareGroupCoordinator(ShareGroupConfig.defaults(), view, id -> false, hanging,
                new ShareGroupOffsetsStore((g, records) -> offsetsLog.addAll(records)));
        // As the broker runs them: on a thread of their own, after the heartbeat is answered.
        java.util.concurrent.ExecutorService initializations = java.util.concurrent.Executors.newSingleThreadExecutor();
        c.initializations(initializations);
        try {
            // Kafka 4.4 answers the heartbeat with its own records written and initializes in a timer task: the
            // join is answered while its share coordinator has not (here: never until told to) answered.
            ShareGroupCoordinator.HeartbeatResult slow = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("slow", "s", 0, null, List.of("t"),
                            "client", "/127.0.0.1"), 0)).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(2, slow.memberEpoch());
            assertEquals(Map.of(), slow.assignment(), "only initialized share-partitions are assigned");
            assertTrue(asked.await(30, java.util.concurrent.TimeUnit.SECONDS));
            // Meanwhile the group coordinator serves everyone else, and the slow group's member too, without
            // initializing the share-partitions under way a second time or assigning them before they have state.
            assertEquals(2, java.util.concurrent.CompletableFuture.supplyAsync(() -> heartbeat(c, 0, 1))
                    .get(10, java.util.concurrent.TimeUnit.SECONDS).memberEpoch());
            ShareGroupCoordinator.HeartbeatResult again = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("slow", "s", 2, null, null,
                            "client", "/127.0.0.1"), 1)).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(2, again.memberEpoch());
            assertNull(again.assignment());
            assertEquals(ShareGroupCoordinator.STATE_STABLE, java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> c.describe("slow", 1).state()).get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, summaries.get(), "one initialization under way, on its own thread");
        } finally {
            answer.countDown();
        }
        // The slow group's partitions are initialized once its share coordinator answered, at -1 (a new topic),
        // and the member's next heartbeat is assigned them at a new epoch.
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key("slow", TOPIC, 1);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!shareCoordinator.keys("slow").contains(key) || !c.isMember("slow", "s")
                || c.offsets("slow", 2).size() < 2) {
            assertTrue(System.nanoTime() < deadline, "the slow group's share-partitions never got state");
            Thread.sleep(10);
        }
        initializations.shutdown();
        assertTrue(initializations.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(-1, shareCoordinator.summary(key).startOffset());
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(TOPIC, 0, -1, -1, 0),
                new ShareGroupCoordinator.PartitionOffset(TOPIC, 1, -1, -1, 0)), c.offsets("slow", 2));
        ShareGroupCoordinator.HeartbeatResult assigned = c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest(
                "slow", "s", 2, null, null, "client", "/127.0.0.1"), 3);
        assertEquals(3, assigned.memberEpoch());
        assertEquals(java.util.Set.of(0, 1), assigned.assignment().get(TOPIC));
    }

    /**
     * A persister whose initializations are never answered while {@code losing} (an answer lost, a coordinator that
     * moved with the call under way): the calls wait in {@code lost}.
     */
    private SharePersister losingInitializations(java.util.concurrent.atomic.AtomicBoolean losing,
                                                 List<java.util.concurrent.CompletableFuture<Void>> lost) {
        LocalSharePersister local = new LocalSharePersister(shareCoordinator);
        return new DelegatingSharePersister(local) {
            @Override
            public java.util.concurrent.CompletableFuture<Void> initializeAsync(String groupId, UUID topicId,
                                                                               int partition, int stateEpoch,
                                                                               long startOffset) {
                if (!losing.get()) return local.initializeAsync(groupId, topicId, partition, stateEpoch, startOffset);
                java.util.concurrent.CompletableFuture<Void> never = new java.util.concurrent.CompletableFuture<>();
                lost.add(never);
                return never;
            }
        };
    }

    /**
     * A coordinator whose first heartbeat (at 0) starts initializing t's two share-partitions and never hears back
     * (the calls wait in {@code lost}); initializations after that are answered.
     */
    private record StuckInitialization(ShareGroupCoordinator coordinator, int epoch,
                                       List<java.util.concurrent.CompletableFuture<Void>> lost) {
    }

    private StuckInitialization stuckInitialization() {
        java.util.concurrent.atomic.AtomicBoolean losing = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<java.util.concurrent.CompletableFuture<Void>> lost = new ArrayList<>();
        ShareGroupCoordinator c = new ShareGroupCoordinator(ShareGroupConfig.defaults(), view, id -> false,
                losingInitializations(losing, lost),
                new ShareGroupOffsetsStore((g, records) -> offsetsLog.addAll(records)));
        int epoch = heartbeat(c, 0, 0).memberEpoch();
        assertEquals(2, lost.size(), "both share-partitions' initializations under way, never to end");
        losing.set(false);
        return new StuckInitialization(c, epoch, lost);
    }

    @Test
    void aStuckInitializationShouldBeInitializedAgainByAHeartbeatAfterTheRetryInterval() {
        StuckInitialization stuck = stuckInitialization();
        ShareGroupCoordinator c = stuck.coordinator();
        int epoch = stuck.epoch();
        List<java.util.concurrent.CompletableFuture<Void>> lost = stuck.lost();
        // Regular heartbeats, nothing changed: within group.share.initialize.retry.interval.ms (30 s) the
        // initialization under way is left alone.
        for (long now : new long[] {5_000, 10_000, 29_999}) {
            assertNull(heartbeat(c, epoch, now).assignment());
            assertNull(state(0));
            assertNull(state(1));
        }
        // Then, as Kafka 4.4's subscribedTopicsChangeMap, a heartbeat initializes them again: at 0, as Kafka's
        // request builder gives a topic already in the initializing set.
        heartbeat(c, epoch, 30_000);
        for (int p = 0; p < 2; p++) {
            assertEquals(0, state(p).startOffset(), "partition " + p);
            assertEquals(epoch, state(p).stateEpoch());
        }
        ShareGroupCoordinator.HeartbeatResult assigned = heartbeat(c, epoch, 35_000);
        assertEquals(epoch + 1, assigned.memberEpoch());
        assertEquals(java.util.Set.of(0, 1), assigned.assignment().get(TOPIC));
        // The first initialization's answers come at last, failed: the share-partitions stay initialized.
        for (java.util.concurrent.CompletableFuture<Void> f : lost) {
            f.completeExceptionally(new io.tandem.server.kafka.ApiException(
                    io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE, "late"));
        }
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(TOPIC, 0, 0, 0, 0),
                new ShareGroupCoordinator.PartitionOffset(TOPIC, 1, 0, 0, 0)), c.offsets("g", 40_000));
        List<ShareGroupStatePartitionMetadataValue> records = statePartitionRecords();
        assertEquals(new ShareGroupStatePartitionMetadataValue().setInitializedTopics(info(List.of(0, 1))),
                records.get(records.size() - 1));
    }

    @Test
    void everyWriteOfTheGroupsStatePartitionRecordShouldRestampItsInitializingTopics() {
        UUID other = new UUID(8, 8);
        topics.put("u", new TopicRef("u", other, 1));
        StuckInitialization stuck = stuckInitialization();
        ShareGroupCoordinator c = stuck.coordinator();
        int epoch = stuck.epoch();
        // At 20 s a second member subscribes the group to u as well: u is initialized, and the group's
        // ShareGroupStatePartitionMetadata record is written (with t still initializing) as that starts and ends.
        c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("g", "m2", 0, null, List.of("u"), "client",
                "/127.0.0.1"), 20_000);
        ShareStateCoordinator.Key u = new ShareStateCoordinator.Key("g", other, 0);
        assertTrue(shareCoordinator.keys("g").contains(u), "u's share-partition initialized");
        // Kafka 4.4's replay stamped t's initializing partitions at that write: 30 s after the first heartbeat
        // they are still left to the initialization under way; 30 s after the record they are initialized again.
        heartbeat(c, epoch, 30_000);
        assertNull(state(0), "within the retry interval from the group's last record");
        assertNull(state(1));
        heartbeat(c, epoch, 50_000);
        assertEquals(0, state(0).startOffset());
        assertEquals(0, state(1).startOffset());
    }

    @Test
    void initializingPartitionsLoadedByANewCoordinatorShouldBeInitializedAfterTheRetryInterval() {
        StuckInitialization stuck = stuckInitialization();
        int epoch = stuck.epoch();
        // The group's coordinator moves with the initialization under way: the new one loads the group from
        // __consumer_offsets, InitializingTopics included, as Kafka 4.4 replays them, and stamps them at the load.
        ShareGroupCoordinator after = coordinator();
        for (byte[][] kv : new ArrayList<>(offsetsLog)) after.replay(kv[0], kv[1]);
        after.loaded(60_000);
        assertNull(heartbeat(after, epoch, 65_000).assignment());
        assertNull(state(0), "within the retry interval from the load, left to the initialization under way");
        heartbeat(after, epoch, 90_000);
        assertEquals(0, state(0).startOffset());
        assertEquals(0, state(1).startOffset());
        assertEquals(java.util.Set.of(0, 1), heartbeat(after, epoch, 95_000).assignment().get(TOPIC));
    }

    @Test
    void theRetryIntervalShouldBeReadValidatedAndNeverBelowTheOffsetsCommitTimeout(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        assertEquals(30_000, ShareGroupConfig.from(io.tandem.server.TandemConfig.forTests(dir))
                .initializeRetryIntervalMs(), "Kafka 4.4's default");
        assertEquals(60_000, ShareGroupConfig.from(io.tandem.server.TandemConfig.forTests(dir)
                .set("group.share.initialize.retry.interval.ms", "60000")).initializeRetryIntervalMs());
        assertEquals(5_000, ShareGroupConfig.from(io.tandem.server.TandemConfig.forTests(dir)
                .set("group.share.initialize.retry.interval.ms", "1000")).initializeRetryIntervalMs(),
                "below offsets.commit.timeout.ms (5 s), that is used, as Kafka's GroupCoordinatorConfig does");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> ShareGroupConfig.from(io.tandem.server.TandemConfig.forTests(dir)
                        .set("group.share.initialize.retry.interval.ms", "0")));
        assertEquals("Invalid value 0 for configuration group.share.initialize.retry.interval.ms: "
                + "Value must be at least 1", refused.getMessage());
    }
}
