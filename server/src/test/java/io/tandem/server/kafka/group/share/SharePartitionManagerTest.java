package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A partition leader's share-partitions ({@link SharePartitionManager}) over a real share coordinator: loaded under
 * the partition's leader epoch, a leader that lost its leadership fenced by the share coordinator and its copy
 * dropped, the persister's errors answered as Kafka's SharePartition answers them, and the state written without the
 * share-partition's monitor held, so a share coordinator that is slow to answer holds up no member.
 */
class SharePartitionManagerTest {
    private static final UUID TOPIC = new UUID(3, 3);
    private static final long LOCK_MS = 30_000;

    private final ShareStateCoordinator shareCoordinator = new ShareStateCoordinator(10,
            new InMemoryStateLog(), (t, p) -> t.equals(TOPIC) && p < 2, () -> 1L);

    private SharePartitionManager manager(SharePersister persister) {
        return new SharePartitionManager(persister, new ShareSessions(10), g -> ShareGroupConfig.defaults());
    }

    /**
     * The share-partition as a heartbeat leaves a topic new to its group, initialized at -1: only the group
     * coordinator creates state (Kafka 4.4's share coordinator refuses a leader's read of a share-partition no one
     * initialized), so a leader may load it once this was done.
     */
    private void initializedByTheGroupCoordinator(int partition) {
        new LocalSharePersister(shareCoordinator).initialize("g", TOPIC, partition,
                ShareStateCoordinator.DEFAULT_STATE_EPOCH, ShareStateCoordinator.UNINITIALIZED_START_OFFSET);
    }

    private static List<SharePartition.Batch> records(long first, long last) {
        return List.of(new SharePartition.Batch(first, last, false));
    }

    @Test
    void aNewLeaderShouldLoadWhatTheOldOneWroteAndFenceIt() {
        LocalSharePersister persister = new LocalSharePersister(shareCoordinator);
        SharePartitionManager oldLeader = manager(persister);
        SharePartitionManager newLeader = manager(persister);
        initializedByTheGroupCoordinator(0);
        SharePartition old = oldLeader.partition("g", TOPIC, 0, 4, () -> 0L);
        assertEquals(5, old.acquire("m1", 5, records(0, 9), 0).get(0).lastOffset() + 1);
        old.acknowledge("m1", 0, 1, List.of(SharePartition.ACCEPT), 0);

        // Leadership moved (epoch 5): the new leader starts from what the share coordinator holds, offsets 2-4
        // acquired but never acknowledged, so available again with their delivery counted.
        SharePartition moved = newLeader.partition("g", TOPIC, 0, 5, () -> 99L);
        assertEquals(2, moved.startOffset());
        List<SharePartition.Acquired> again = moved.acquire("m2", 3, records(0, 9), 0);
        assertEquals(List.of(new SharePartition.Acquired(2, 4, 2)), again);

        // The old leader still writes: fenced, answered NOT_LEADER_OR_FOLLOWER, its copy dropped.
        old.acknowledgeUnwritten("m1", 2, 2, List.of(SharePartition.ACCEPT), 0);
        ApiException fenced = assertThrows(ApiException.class, old::flush);
        assertEquals(ErrorCodes.NOT_LEADER_OR_FOLLOWER, fenced.error());
        assertNull(oldLeader.loaded("g", TOPIC, 0));
        assertEquals(2, shareCoordinator.summary(new ShareStateCoordinator.Key("g", TOPIC, 0)).startOffset(),
                "the fenced leader's acknowledgement is not stored");
        // A copy loaded under an older epoch is not used once the partition's leader epoch moved on.
        assertNotSame(moved, newLeader.partition("g", TOPIC, 0, 6, () -> 0L));
    }

    @Test
    void persisterErrorsShouldBeAnsweredAsKafkasSharePartitionAnswersThem() {
        Map<Short, Short> expected = Map.of(
                ErrorCodes.NOT_COORDINATOR, ErrorCodes.COORDINATOR_NOT_AVAILABLE,
                ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, ErrorCodes.COORDINATOR_NOT_AVAILABLE,
                ErrorCodes.COORDINATOR_NOT_AVAILABLE, ErrorCodes.COORDINATOR_NOT_AVAILABLE,
                ErrorCodes.FENCED_LEADER_EPOCH, ErrorCodes.NOT_LEADER_OR_FOLLOWER,
                // Kafka 4.4's fetchPersisterError (kafka_2.13-4.4.0's SharePartition): FENCED_STATE_EPOCH shares
                // FENCED_LEADER_EPOCH's case, a NotLeaderOrFollowerException.
                ErrorCodes.FENCED_STATE_EPOCH, ErrorCodes.NOT_LEADER_OR_FOLLOWER,
                ErrorCodes.GROUP_ID_NOT_FOUND, ErrorCodes.GROUP_ID_NOT_FOUND,
                ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
                ErrorCodes.INVALID_REQUEST, ErrorCodes.UNKNOWN_SERVER_ERROR,
                ErrorCodes.UNSUPPORTED_VERSION, ErrorCodes.UNKNOWN_SERVER_ERROR);
        for (Map.Entry<Short, Short> e : expected.entrySet()) {
            SharePartitionManager manager = manager(new FailingPersister(e.getKey()));
            ApiException error = assertThrows(ApiException.class,
                    () -> manager.partition("g", TOPIC, 0, 0, () -> 0L));
            assertEquals(e.getValue(), error.error(), "persister error " + e.getKey());
            assertNull(manager.loaded("g", TOPIC, 0), "nothing kept after a failed load");
        }
    }

    @Test
    void aSlowShareCoordinatorShouldNotHoldTheSharePartitionsMonitor() throws Exception {
        CountDownLatch writing = new CountDownLatch(1), answer = new CountDownLatch(1);
        LocalSharePersister local = new LocalSharePersister(shareCoordinator);
        SharePersister slow = new DelegatingSharePersister(local) {
            @Override
            public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                              long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
                writing.countDown();
                try {
                    assertTrue(answer.await(30, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                super.write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, batches);
            }
        };
        initializedByTheGroupCoordinator(1);
        SharePartition sp = manager(slow).partition("g", TOPIC, 1, 0, () -> 0L);
        CompletableFuture<List<SharePartition.Acquired>> first = CompletableFuture.supplyAsync(
                () -> sp.acquire("m1", 2, records(0, 9), 0));
        assertTrue(writing.await(30, TimeUnit.SECONDS));
        // The first member's acquisition is being written: another member acquires and acknowledges meanwhile.
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
            sp.acknowledgeUnwritten("m1", 0, 0, List.of(SharePartition.RELEASE), 0);
            assertTrue(sp.hasAcquirable(10, 0));
        });
        second.get(10, TimeUnit.SECONDS);
        answer.countDown();
        assertEquals(List.of(new SharePartition.Acquired(0, 1, 1)), first.get(30, TimeUnit.SECONDS));
        sp.flush();
        // What the share coordinator holds: offset 0 released, offset 1 acquired (stored available), each delivered
        // once.
        ShareStateCoordinator.State stored = shareCoordinator.read(new ShareStateCoordinator.Key("g", TOPIC, 1), 0);
        assertEquals(List.of(new ShareStateBatch(0, 1, ShareStateBatch.AVAILABLE, (short) 1)), stored.stateBatches());
    }

    @Test
    void aFailedWriteShouldRollTheAcknowledgementBackAsKafkaDoes() {
        java.util.concurrent.atomic.AtomicBoolean refuse = new java.util.concurrent.atomic.AtomicBoolean();
        SharePersister flaky = new DelegatingSharePersister(new LocalSharePersister(shareCoordinator)) {
            @Override
            public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                              long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
                if (refuse.get()) throw new ApiException(ErrorCodes.COORDINATOR_NOT_AVAILABLE, "not now");
                super.write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, batches);
            }
        };
        initializedByTheGroupCoordinator(0);
        SharePartition sp = manager(flaky).partition("g", TOPIC, 0, 0, () -> 0L);
        assertEquals(List.of(new SharePartition.Acquired(0, 3, 1)), sp.acquire("m1", 4, records(0, 3), 0));

        // Accepting 0-1 and releasing 2-3 cannot be written: Kafka's rollbackOrProcessStateUpdates puts them back.
        refuse.set(true);
        SharePartition.Pending pending = new SharePartition.Pending();
        sp.acknowledgeUnwritten("m1", 0, 1, List.of(SharePartition.ACCEPT), 0, pending);
        sp.acknowledgeUnwritten("m1", 2, 3, List.of(SharePartition.RELEASE), 0, pending);
        // Until written, the released records go to nobody and the start offset stays.
        assertEquals(List.of(), sp.acquire("m2", 4, List.of(), 0));
        assertEquals(0, sp.startOffset());
        ApiException failed = assertThrows(ApiException.class, () -> sp.flush(pending));
        assertEquals(ErrorCodes.COORDINATOR_NOT_AVAILABLE, failed.error());
        for (long o = 0; o <= 3; o++) assertEquals(SharePartition.State.ACQUIRED, sp.state(o), "offset " + o);
        assertEquals(0, sp.startOffset());
        assertEquals(List.of(), sp.acquire("m2", 4, List.of(), 0), "still m1's");

        // The member acknowledges again once the share coordinator answers; then it stands.
        refuse.set(false);
        SharePartition.Pending again = new SharePartition.Pending();
        sp.acknowledgeUnwritten("m1", 0, 3, List.of(SharePartition.ACCEPT), 0, again);
        sp.flush(again);
        assertEquals(4, sp.startOffset());
        assertEquals(4, shareCoordinator.summary(new ShareStateCoordinator.Key("g", TOPIC, 0)).startOffset());
    }

    @Test
    void aWriteOfLaterChangesShouldCompleteAnEarlierAcknowledgement() {
        initializedByTheGroupCoordinator(1);
        SharePartition sp = manager(new LocalSharePersister(shareCoordinator)).partition("g", TOPIC, 1, 0, () -> 0L);
        sp.acquire("m1", 2, records(0, 1), 0);
        SharePartition.Pending first = new SharePartition.Pending();
        sp.acknowledgeUnwritten("m1", 0, 0, List.of(SharePartition.ACCEPT), 0, first);
        // Another request's write holds the first one's change too: the first is done without writing again.
        sp.acknowledge("m1", 1, 1, List.of(SharePartition.ACCEPT), 0);
        sp.flush(first);
        assertEquals(2, sp.startOffset());
        assertNull(sp.state(0));
    }

    @Test
    void anAcknowledgementShouldBeAnsweredFromItsWritesCompletionWithNoThreadWaitingForIt() {
        ReplicationHeldLog stateLog = new ReplicationHeldLog();
        ShareStateCoordinator coordinator = new ShareStateCoordinator(10, stateLog, (t, p) -> t.equals(TOPIC) && p < 2,
                () -> 1L);
        SharePartitionManager manager = manager(new LocalSharePersister(coordinator));
        coordinator.initialize(new ShareStateCoordinator.Key("g", TOPIC, 0), ShareStateCoordinator.DEFAULT_STATE_EPOCH,
                ShareStateCoordinator.UNINITIALIZED_START_OFFSET);
        stateLog.replicateAll();
        // The load's initialization is answered once replicated; the caller is not held meanwhile.
        CompletableFuture<SharePartition> loading = assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> manager.partitionAsync("g", TOPIC, 0, 0, () -> 0L));
        assertFalse(loading.isDone());
        stateLog.replicateAll();
        SharePartition sp = loading.getNow(null);
        assertNotNull(sp);
        assertEquals(List.of(new SharePartition.Acquired(0, 3, 1)), sp.acquire("m1", 4, records(0, 3), 0));

        SharePartition.Pending pending = new SharePartition.Pending();
        sp.acknowledgeUnwritten("m1", 0, 3, List.of(SharePartition.ACCEPT), 0, pending);
        // A share coordinator that takes the write's whole timeout to replicate it would park a request handler
        // that long; the answer is a future instead, completed by the replication.
        CompletableFuture<Void> answered = assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> sp.flushAsync(pending));
        assertFalse(answered.isDone(), "answered before the write is replicated");
        assertEquals(0, sp.startOffset(), "an acknowledgement not yet written holds the start offset");
        for (int i = 0; i < 3 && !answered.isDone(); i++) stateLog.replicateAll();
        assertTrue(answered.isDone());
        answered.join();
        assertEquals(4, sp.startOffset());
        assertEquals(4, coordinator.summary(new ShareStateCoordinator.Key("g", TOPIC, 0)).startOffset());
    }

    /** One state partition led here whose replication the test releases: commits wait until it does. */
    private static final class ReplicationHeldLog implements ShareStateCoordinator.StateLog {
        private final List<byte[][]> records = new java.util.ArrayList<>();
        private final List<Map.Entry<Long, java.util.function.Consumer<Short>>> waiting = new java.util.ArrayList<>();
        private long highWatermark;

        @Override public int partitionCount() {
            return 1;
        }
        @Override public boolean leads(int partition) {
            return true;
        }
        @Override public synchronized long append(int partition, List<byte[][]> keyValues) {
            long first = records.size();
            records.addAll(keyValues);
            return first;
        }
        @Override public synchronized long endOffset(int partition) {
            return records.size();
        }
        @Override public void whenCommitted(int partition, long offset, java.util.function.Consumer<Short> then) {
            synchronized (this) {
                if (offset > highWatermark) {
                    waiting.add(Map.entry(offset, then));
                    return;
                }
            }
            then.accept(ErrorCodes.NONE);
        }
        @Override public void prune(int partition, long offset) {
        }

        /** Every record appended so far is replicated: the commits waiting for them complete, on this thread. */
        void replicateAll() {
            List<java.util.function.Consumer<Short>> due = new java.util.ArrayList<>();
            synchronized (this) {
                highWatermark = records.size();
                waiting.removeIf(w -> w.getKey() <= highWatermark && due.add(w.getValue()));
            }
            for (java.util.function.Consumer<Short> then : due) then.accept(ErrorCodes.NONE);
        }
    }

    /** A persister whose every call fails with one error. */
    private static final class FailingPersister implements SharePersister {
        private final short error;

        FailingPersister(short error) {
            this.error = error;
        }

        @Override public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
            throw new ApiException(error, "refused");
        }
        @Override public Stored summary(String groupId, UUID topicId, int partition) {
            throw new ApiException(error, "refused");
        }
        @Override public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long start) {
            throw new ApiException(error, "refused");
        }
        @Override public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                                    long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
            throw new ApiException(error, "refused");
        }
        @Override public void delete(String groupId, UUID topicId, int partition) {
            throw new ApiException(error, "refused");
        }
        @Override public Map<String, Map<UUID, List<Integer>>> stored() {
            return Map.of();
        }
    }
}
