package io.tandem.server.kafka.group.share.state;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The share coordinator as a state machine over a recorded log: snapshot and update records as Kafka chooses them,
 * fencing, and a second coordinator replaying the records to the same state (what a restart does).
 */
class ShareStateCoordinatorTest {
    private static final UUID TOPIC = UUID.randomUUID();
    private final List<byte[][]> log = new ArrayList<>();
    private int notLed = -1;
    /** The recorded log's high watermark: all of it is replicated unless a test holds replication back. */
    private long highWatermark = Long.MAX_VALUE;
    private final List<Map.Entry<Long, java.util.function.Consumer<Short>>> waiting = new ArrayList<>();
    private final List<List<Long>> pruned = new ArrayList<>();
    private final ShareStateCoordinator.StateLog stateLog = new ShareStateCoordinator.StateLog() {
        @Override
        public int partitionCount() {
            return 3;
        }

        @Override
        public boolean leads(int partition) {
            return partition != notLed;
        }

        @Override
        public long append(int partition, List<byte[][]> keyValues) {
            long first = log.size();
            log.addAll(keyValues);
            return first;
        }

        @Override
        public void prune(int partition, long offset) {
            pruned.add(List.of((long) partition, offset));
        }

        @Override
        public long endOffset(int partition) {
            return log.size();
        }

        @Override
        public void whenCommitted(int partition, long offset, java.util.function.Consumer<Short> then) {
            if (offset <= highWatermark) {
                then.accept(ErrorCodes.NONE);
            } else {
                waiting.add(Map.entry(offset, then));
            }
        }
    };

    private ShareStateCoordinator coordinator(int updatesPerSnapshot) {
        return new ShareStateCoordinator(updatesPerSnapshot, stateLog, (t, p) -> t.equals(TOPIC) && p < 4, () -> 42L);
    }

    private static ShareStateCoordinator.Key key(int partition) {
        return new ShareStateCoordinator.Key("g", TOPIC, partition);
    }

    private short recordType(int index) {
        return ShareStateRecords.readKey(log.get(index)[0]).type();
    }

    @Test
    void writesShouldBeUpdatesBetweenSnapshotsEveryNRecords() {
        ShareStateCoordinator c = coordinator(2);
        c.initialize(key(0), 0, 10);
        for (int i = 0; i < 4; i++) {
            c.write(key(0), 0, 0, 10 + i, -1, List.of(new ShareStateBatch(10 + i, 10 + i, (byte) 2, (short) 1)));
        }
        // initialize = snapshot; then update, update, snapshot (2 updates per snapshot), update.
        assertEquals(List.of(ShareStateRecords.SNAPSHOT, ShareStateRecords.UPDATE, ShareStateRecords.UPDATE,
                ShareStateRecords.SNAPSHOT, ShareStateRecords.UPDATE),
                List.of(recordType(0), recordType(1), recordType(2), recordType(3), recordType(4)));
        ShareStateCoordinator.State s = c.read(key(0), 0);
        assertEquals(13, s.startOffset());
        assertEquals(List.of(new ShareStateBatch(13, 13, (byte) 2, (short) 1)), s.stateBatches());
    }

    @Test
    void replayingTheRecordsShouldRestoreTheSameState() {
        ShareStateCoordinator c = coordinator(3);
        c.initialize(key(1), 0, 0);
        c.write(key(1), 0, 0, 0, -1, List.of(new ShareStateBatch(0, 9, (byte) 0, (short) 1)));
        c.write(key(1), 0, 0, 0, -1, List.of(new ShareStateBatch(0, 4, (byte) 2, (short) 1)));
        c.write(key(1), 0, 0, 5, -1, List.of(new ShareStateBatch(7, 7, (byte) 4, (short) 3)));
        c.initialize(key(2), 0, 77);
        ShareStateCoordinator restarted = coordinator(3);
        for (int i = 0; i < log.size(); i++) restarted.replay(i, log.get(i)[0], log.get(i)[1]);
        for (int p : new int[] {1, 2}) {
            assertEquals(c.read(key(p), 0), restarted.read(key(p), 0));
        }
        assertEquals(List.of(new ShareStateBatch(5, 6, (byte) 0, (short) 1), new ShareStateBatch(7, 7, (byte) 4,
                (short) 3), new ShareStateBatch(8, 9, (byte) 0, (short) 1)), restarted.read(key(1), 0).stateBatches());
        assertEquals(java.util.Set.of("g"), restarted.groupIds());
    }

    /**
     * KIP-1226's delivery-complete count as Kafka 4.4's ShareCoordinatorShard keeps it: 0 when initialized at a start
     * offset (-1, unknown, at start offset -1); a write ahead of the stored start offset brings its own count, one at
     * the same start offset the larger of the two, one behind it neither its start offset nor its count; the summary
     * answers it and a replay of the records (updates and snapshots) restores it.
     */
    @Test
    void theDeliveryCompleteCountShouldFollowKafkasRules() {
        ShareStateCoordinator c = coordinator(2);
        c.initialize(key(1), 0, -1);
        assertEquals(-1, c.summary(key(1)).deliveryCompleteCount(), "initialized at -1: unknown");
        c.initialize(key(1), 0, 10);
        assertEquals(0, c.summary(key(1)).deliveryCompleteCount(), "initialized at 10: nothing done yet");
        c.write(key(1), 0, 0, 12, 3, List.of());
        assertEquals(3, c.summary(key(1)).deliveryCompleteCount(), "ahead: the write's count");
        c.write(key(1), 0, 0, 12, 2, List.of());
        assertEquals(3, c.summary(key(1)).deliveryCompleteCount(), "same start offset: the larger");
        c.write(key(1), 0, 0, 12, 5, List.of());
        assertEquals(5, c.summary(key(1)).deliveryCompleteCount(), "same start offset: the larger");
        c.write(key(1), 0, 0, 11, 1, List.of());
        assertEquals(12, c.summary(key(1)).startOffset(), "the start offset never goes back");
        assertEquals(5, c.summary(key(1)).deliveryCompleteCount(), "behind: the stored count");
        ShareStateCoordinator restarted = coordinator(2);
        for (int i = 0; i < log.size(); i++) restarted.replay(i, log.get(i)[0], log.get(i)[1]);
        assertEquals(12, restarted.summary(key(1)).startOffset());
        assertEquals(5, restarted.summary(key(1)).deliveryCompleteCount());
    }

    @Test
    void recordsBelowTheOldestLatestSnapshotShouldBePruned() {
        ShareStateCoordinator c = coordinator(1);
        // Two share-partitions of one state partition (3 partitions in this log; find a second key that shares it).
        ShareStateCoordinator.Key a = key(0);
        ShareStateCoordinator.Key b = null;
        for (int p = 1; b == null; p++) {
            ShareStateCoordinator.Key k = new ShareStateCoordinator.Key("g" + p, TOPIC, 0);
            if (c.partitionFor(k) == c.partitionFor(a)) b = k;
        }
        ShareStateCoordinator.Key other = b;
        c.initialize(a, 0, 0);                                  // offset 0: a's snapshot
        c.initialize(other, 0, 0);                              // offset 1: b's snapshot
        c.write(a, 0, 0, 1, -1, List.of());                    // offset 2: a's update
        c.write(a, 0, 0, 2, -1, List.of());                    // offset 3: a's snapshot (1 update per snapshot)
        assertEquals(List.of((long) c.partitionFor(a), 1L), pruned.get(pruned.size() - 1),
                "b's snapshot at 1 is the oldest still needed");
        c.write(other, 0, 0, 1, -1, List.of());                // offset 4: b's update
        c.write(other, 0, 0, 2, -1, List.of());                // offset 5: b's snapshot
        assertEquals(List.of((long) c.partitionFor(a), 3L), pruned.get(pruned.size() - 1));
        // What is left from the pruned offset on still restores both.
        ShareStateCoordinator restarted = coordinator(1);
        for (int i = 3; i < log.size(); i++) restarted.replay(i, log.get(i)[0], log.get(i)[1]);
        assertEquals(c.read(a, 0), restarted.read(a, 0));
        assertEquals(c.read(other, 0), restarted.read(other, 0));
    }

    @Test
    void anUnknownShareOrTopicPartitionShouldAnswerAsKafka() {
        ShareStateCoordinator c = coordinator(500);
        assertFalse(c.read(key(0), 0).initialized(), "never initialized");
        assertEquals(-1, c.summary(key(0)).startOffset());
        assertEquals(0, c.summary(key(0)).stateEpoch());
        ApiException uninitialized = assertThrows(ApiException.class, () -> c.write(key(0), 0, 0, 0, -1, List.of()));
        assertEquals(ErrorCodes.INVALID_REQUEST, uninitialized.error());
        assertEquals("Write operation on uninitialized share partition not allowed.", uninitialized.getMessage());
        assertTrue(log.isEmpty());
        // Kafka 4.4 checks for state before the topic partition: a partition that does not exist has none.
        assertFalse(c.read(key(9), 0).initialized());
        ApiException e = assertThrows(ApiException.class, () -> c.summary(key(9)));
        assertEquals(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, e.error());
        assertEquals(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, assertThrows(ApiException.class,
                () -> c.initialize(key(9), 0, 0)).error());
        assertEquals(ErrorCodes.INVALID_REQUEST, assertThrows(ApiException.class,
                () -> c.write(key(-1), 0, 0, 0, -1, List.of())).error());
    }

    @Test
    void olderStateOrLeaderEpochsShouldBeFenced() {
        ShareStateCoordinator c = coordinator(500);
        c.initialize(key(0), 3, 0);
        assertEquals(ErrorCodes.FENCED_STATE_EPOCH, assertThrows(ApiException.class,
                () -> c.write(key(0), 2, 0, 0, -1, List.of())).error());
        assertEquals(ErrorCodes.FENCED_STATE_EPOCH, assertThrows(ApiException.class,
                () -> c.initialize(key(0), 2, 0)).error());
        c.read(key(0), 5);
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> c.write(key(0), 3, 4, 0, -1, List.of())).error());
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> c.read(key(0), 4)).error());
        int before = log.size();
        c.write(key(0), 3, 5, 1, -1, List.of());
        assertEquals(before + 1, log.size());
    }

    /**
     * Leader epochs as Kafka 4.4's ShareCoordinatorShard keeps them: an initialization stores 0 (its
     * ShareGroupOffset.fromRequest; the request has no leader epoch), and its snapshot record holds what Kafka's own
     * ShareGroupOffset does; a read at another epoch stores that epoch (a record of its own), so the summary
     * names it and a restart still fences the older leader; a write keeps the stored leader and state epochs; a
     * negative epoch is INVALID_REQUEST; FENCED_LEADER_EPOCH is checked before FENCED_STATE_EPOCH.
     */
    @Test
    void leaderEpochsShouldBeStoredAsKafka44StoresThem() {
        ShareStateCoordinator c = coordinator(500);
        c.initialize(key(0), 1, 10);
        assertEquals(0, c.summary(key(0)).leaderEpoch(), "initialized: Kafka stores leader epoch 0");
        assertEquals(0, c.summary(key(1)).leaderEpoch(), "no state: the summary's leader epoch is 0");
        var kafkaInit = new org.apache.kafka.common.message.InitializeShareGroupStateRequestData.PartitionData()
                .setPartition(0).setStateEpoch(1).setStartOffset(10);
        // Kafka's own state for that request (kafka-share-coordinator 4.4; the record helper itself needs
        // kafka-server's PersisterStateBatch, not in test scope): our snapshot record holds the same fields.
        var kafka = org.apache.kafka.coordinator.share.ShareGroupOffset.fromRequest(kafkaInit, 0, 42L);
        assertEquals(new ShareStateRecords.Snapshot(kafka.snapshotEpoch(), kafka.stateEpoch(), kafka.leaderEpoch(),
                kafka.startOffset(), kafka.deliveryCompleteCount(), kafka.createTimestamp(), kafka.writeTimestamp(),
                List.of()), ShareStateRecords.readSnapshotValue(log.get(0)[1]));
        assertTrue(kafka.stateBatches().isEmpty());

        // The leader at epoch 0 writes: any write at epoch 0 or later passes, an older state epoch is fenced.
        c.write(key(0), 1, 0, 11, 1, List.of(new ShareStateBatch(10, 10, (byte) 2, (short) 1)));
        assertEquals(ErrorCodes.FENCED_STATE_EPOCH, assertThrows(ApiException.class,
                () -> c.write(key(0), 0, 0, 11, 1, List.of())).error());
        assertEquals(ErrorCodes.INVALID_REQUEST, assertThrows(ApiException.class,
                () -> c.write(key(0), 1, -1, 11, 1, List.of())).error());
        assertEquals(ErrorCodes.INVALID_REQUEST, assertThrows(ApiException.class, () -> c.read(key(0), -1)).error());

        int before = log.size();
        c.read(key(0), 0);
        assertEquals(before, log.size(), "a read at the stored epoch writes nothing");
        c.read(key(0), 3);
        assertEquals(before + 1, log.size(), "a read at a new epoch stores it");
        assertEquals(3, c.summary(key(0)).leaderEpoch());
        assertEquals(11, c.summary(key(0)).startOffset());
        assertEquals(1, c.summary(key(0)).deliveryCompleteCount());
        c.write(key(0), 2, 7, 12, 2, List.of());
        assertEquals(3, c.summary(key(0)).leaderEpoch(), "a write keeps the stored leader epoch");
        assertEquals(1, c.summary(key(0)).stateEpoch(), "and the stored state epoch");
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> c.write(key(0), 0, 2, 12, 2, List.of())).error(), "leader epoch before state epoch");

        ShareStateCoordinator restarted = coordinator(500);
        for (int i = 0; i < log.size(); i++) restarted.replay(i, log.get(i)[0], log.get(i)[1]);
        assertEquals(3, restarted.summary(key(0)).leaderEpoch());
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> restarted.write(key(0), 1, 2, 12, 2, List.of())).error(), "the old leader stays fenced");
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> restarted.read(key(0), 2)).error());
        // A re-initialization (AlterShareGroupOffsets' new state epoch) starts the stored epoch at 0 again, but
        // fencing keeps the highest epoch seen, as Kafka's leaderEpochMap.
        restarted.initialize(key(0), 2, 20);
        assertEquals(0, restarted.summary(key(0)).leaderEpoch());
        assertEquals(ErrorCodes.FENCED_LEADER_EPOCH, assertThrows(ApiException.class,
                () -> restarted.read(key(0), 2)).error());
    }

    @Test
    void aSharePartitionOfAStatePartitionNotLedHereShouldBeNotCoordinator() {
        ShareStateCoordinator c = coordinator(500);
        notLed = c.partitionFor(key(0));
        assertEquals(ErrorCodes.NOT_COORDINATOR, assertThrows(ApiException.class, () -> c.read(key(0), 0)).error());
        assertEquals(ErrorCodes.NOT_COORDINATOR, assertThrows(ApiException.class,
                () -> c.initialize(key(0), 0, 0)).error());
        assertTrue(log.isEmpty());
    }

    @Test
    void deleteShouldWriteTombstonesThatAReplayHonours() {
        ShareStateCoordinator c = coordinator(500);
        c.initialize(key(0), 0, 5);
        c.write(key(0), 0, 0, 6, -1, List.of());
        c.delete(key(0));
        assertNull(log.get(log.size() - 1)[1]);
        assertFalse(c.read(key(0), 0).initialized());
        ShareStateCoordinator restarted = coordinator(500);
        for (int i = 0; i < log.size(); i++) restarted.replay(i, log.get(i)[0], log.get(i)[1]);
        assertFalse(restarted.read(key(0), 0).initialized());
        assertTrue(restarted.groupIds().isEmpty());
    }

    /**
     * Kafka 4.4's DeleteShareGroupState checks, in order: the coordinator runtime (NOT_COORDINATOR), then
     * ShareCoordinatorShard.maybeGetDeleteStateError: null topic id, negative partition (INVALID_REQUEST), a topic or
     * partition the metadata image lacks (UNKNOWN_TOPIC_OR_PARTITION, state or not). No state is no error.
     */
    @Test
    void deleteShouldCheckTheShareKeyAndTheTopicPartitionInKafkasOrder() {
        ShareStateCoordinator c = coordinator(500);
        ApiException nullTopic = assertThrows(ApiException.class,
                () -> c.delete(new ShareStateCoordinator.Key("g", null, 0)));
        assertEquals(ErrorCodes.INVALID_REQUEST, nullTopic.error());
        assertEquals("The topic id cannot be null.", nullTopic.getMessage());
        ApiException negative = assertThrows(ApiException.class, () -> c.delete(key(-1)));
        assertEquals(ErrorCodes.INVALID_REQUEST, negative.error());
        assertEquals("The partition id cannot be a negative number.", negative.getMessage());

        ApiException unknownTopic = assertThrows(ApiException.class,
                () -> c.delete(new ShareStateCoordinator.Key("g", UUID.randomUUID(), 0)));
        assertEquals(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, unknownTopic.error());
        assertEquals(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, assertThrows(ApiException.class,
                () -> c.delete(key(9))).error(), "a partition the topic lacks");
        c.delete(key(1));
        assertTrue(log.isEmpty(), "no state: no error and nothing written");

        // The runtime answers first: a negative partition whose state partition is led elsewhere is NOT_COORDINATOR.
        notLed = c.partitionFor(key(-1));
        assertEquals(ErrorCodes.NOT_COORDINATOR, assertThrows(ApiException.class, () -> c.delete(key(-1))).error());
    }

    /** A deleted topic has left the metadata when its state goes: the share coordinator still tombstones it. */
    @Test
    void aDeletedTopicsStateShouldGoThoughTheTopicIsUnknown() {
        UUID gone = UUID.randomUUID();
        boolean[] exists = {true};
        ShareStateCoordinator c = new ShareStateCoordinator(500, stateLog, (t, p) -> exists[0], () -> 42L);
        ShareStateCoordinator.Key k = new ShareStateCoordinator.Key("g", gone, 0);
        c.initialize(k, 0, 0);
        exists[0] = false;
        c.topicsDeleted(java.util.Set.of(gone));
        assertNull(log.get(log.size() - 1)[1], "tombstoned");
        assertTrue(c.groupIds().isEmpty());
    }

    @Test
    void answersShouldWaitUntilWhatTheySawIsReplicatedAndFailWhenTheLeaderMoves() throws Exception {
        ShareStateCoordinator c = coordinator(10);
        c.initialize(key(0), 0, 0);
        highWatermark = log.size();
        CompletableFuture<Void> written = c.whenCommitted(c.write(key(0), 0, 0, -1, -1,
                List.of(new ShareStateBatch(0, 4, (byte) 2, (short) 1))));
        assertFalse(written.isDone(), "a write is answered only once its record is replicated");
        // A read sees the pending write, so it waits for it too (Kafka: a read waits on the last pending write).
        ShareStateCoordinator.State read = c.read(key(0), 0);
        assertEquals(List.of(new ShareStateBatch(0, 4, (byte) 2, (short) 1)), read.stateBatches());
        CompletableFuture<Void> readAnswered = c.whenCommitted(read.commit());
        assertFalse(readAnswered.isDone());
        replicateTo(log.size());
        written.get(1, TimeUnit.SECONDS);
        readAnswered.get(1, TimeUnit.SECONDS);

        CompletableFuture<Void> lost = c.whenCommitted(c.write(key(0), 0, 0, -1, -1,
                List.of(new ShareStateBatch(5, 9, (byte) 2, (short) 1))));
        leaderMoved();
        ExecutionException e = assertThrows(ExecutionException.class, () -> lost.get(1, TimeUnit.SECONDS));
        assertEquals(ErrorCodes.NOT_COORDINATOR, ((ApiException) e.getCause()).error());
    }

    @Test
    void anAnswerShouldFailWhenTheCoordinatorResignedMeanwhileEvenIfItLeadsAgain() throws Exception {
        ShareStateCoordinator c = coordinator(10);
        c.initialize(key(0), 0, 0);
        highWatermark = log.size();
        CompletableFuture<Void> written = c.whenCommitted(c.write(key(0), 0, 0, -1, -1,
                List.of(new ShareStateBatch(0, 4, (byte) 2, (short) 1))));
        // The state partition's leader moved away and back before the write was replicated: the new leader's log
        // may hold other records at its offset, whatever the high watermark says now.
        int statePartition = c.partitionFor(key(0));
        c.unload(statePartition);
        c.unload(statePartition);
        for (int i = 0; i < log.size(); i++) c.replay(i, log.get(i)[0], log.get(i)[1]);
        replicateTo(log.size());
        ExecutionException e = assertThrows(ExecutionException.class, () -> written.get(1, TimeUnit.SECONDS));
        assertEquals(ErrorCodes.NOT_COORDINATOR, ((ApiException) e.getCause()).error());
        // What is written in this load is answered as usual.
        CompletableFuture<Void> again = c.whenCommitted(c.write(key(0), 0, 0, -1, -1,
                List.of(new ShareStateBatch(5, 5, (byte) 2, (short) 1))));
        replicateTo(log.size());
        again.get(1, TimeUnit.SECONDS);
    }

    @Test
    void aReadFindingNoStateShouldWaitForTheTombstoneItSawToBeCommitted() {
        ShareStateCoordinator c = coordinator(10);
        c.initialize(key(0), 0, 0);
        c.write(key(0), 0, 0, -1, -1, List.of(new ShareStateBatch(0, 4, (byte) 2, (short) 1)));
        highWatermark = log.size();
        c.delete(key(0));
        // The tombstones are not replicated: a new leader would still have the state, so "uninitialized" must not
        // be answered yet (Kafka's runtime answers a read only once the writes it saw are committed).
        CompletableFuture<io.tandem.server.kafka.group.share.SharePersister.Stored> read =
                new io.tandem.server.kafka.group.share.LocalSharePersister(c).readAsync("g", TOPIC, 0, 0);
        assertFalse(read.isDone(), "answered before the deletion it reports is committed");
        leaderMoved();
        ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(1, TimeUnit.SECONDS));
        assertEquals(ErrorCodes.NOT_COORDINATOR, ((ApiException) e.getCause()).error());
    }

    private void replicateTo(long offset) {
        highWatermark = offset;
        for (var w : new ArrayList<>(waiting)) {
            if (w.getKey() <= offset) {
                waiting.remove(w);
                w.getValue().accept(ErrorCodes.NONE);
            }
        }
    }

    /** The state partition's leader moved: what waits is answered as the broker's log answers it. */
    private void leaderMoved() {
        for (var w : new ArrayList<>(waiting)) w.getValue().accept(ErrorCodes.NOT_COORDINATOR);
        waiting.clear();
    }

    @Test
    void thePartitionShouldBeKafkasHashOfTheCoordinatorKey() {
        ShareStateCoordinator.Key k = new ShareStateCoordinator.Key("group", new UUID(0, 1), 0);
        assertEquals("group:AAAAAAAAAAAAAAAAAAAAAQ:0", k.coordinatorKey());
        assertEquals(Math.abs("group:AAAAAAAAAAAAAAAAAAAAAQ:0".hashCode()) % 50, ShareStateCoordinator.partitionFor(k, 50));
    }

    @Test
    void batchesShouldOverlayOlderOnesAndDropWhatIsBelowTheStartOffset() {
        List<ShareStateBatch> combined = ShareStateBatches.combine(
                List.of(new ShareStateBatch(0, 9, (byte) 0, (short) 1), new ShareStateBatch(10, 12, (byte) 2, (short) 1)),
                List.of(new ShareStateBatch(3, 10, (byte) 2, (short) 1)), 2);
        assertEquals(List.of(new ShareStateBatch(2, 2, (byte) 0, (short) 1), new ShareStateBatch(3, 12, (byte) 2,
                (short) 1)), combined);
    }
}
