package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a share-partition hands to its persister, and a share-partition restored from it: every change is stored
 * (acquisitions too, so delivery counts survive), acquired records are stored as AVAILABLE, and a restored
 * share-partition redelivers exactly the records not yet done, with their counts.
 */
class SharePartitionPersistenceTest {
    private static final long LOCK_MS = 30_000;

    private static List<SharePartition.Batch> batches(long base, long last) {
        return List.of(new SharePartition.Batch(base, last, false));
    }

    private record Written(int stateEpoch, long startOffset, int deliveryCompleteCount,
                           List<ShareStateBatch> batches) {
    }

    private static final class Recorder implements SharePartition.StateSink {
        final List<Written> writes = new ArrayList<>();
        final List<Long> initialized = new ArrayList<>();

        @Override
        public java.util.concurrent.CompletableFuture<Void> initialized(int stateEpoch, long startOffset) {
            initialized.add(startOffset);
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> written(int stateEpoch, long startOffset,
                                                                   int deliveryCompleteCount,
                                                                   List<ShareStateBatch> batches) {
            writes.add(new Written(stateEpoch, startOffset, deliveryCompleteCount, batches));
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        Written last() {
            return writes.get(writes.size() - 1);
        }
    }

    @Test
    void everyChangeShouldBeStoredWithAcquiredRecordsAsAvailable() {
        SharePartition sp = new SharePartition(0, 5, 2000, LOCK_MS);
        Recorder sink = new Recorder();
        sp.sink(sink);
        sp.acquire("a", 10, batches(0, 9), 0);
        assertEquals(new Written(0, 0, 0, List.of(new ShareStateBatch(0, 9, ShareStateBatch.AVAILABLE, (short) 1))),
                sink.last(), "an acquisition is stored: its delivery count must survive a restart");
        sp.acknowledge("a", 0, 2, List.of(SharePartition.ACCEPT), 1);
        sp.acknowledge("a", 3, 3, List.of(SharePartition.REJECT), 1);
        sp.acknowledge("a", 5, 5, List.of(SharePartition.ACCEPT), 1);
        sp.acknowledge("a", 4, 4, List.of(SharePartition.RELEASE), 1);
        // Kafka's deliveryCompleteCount: of the records from the start offset on, 5 is done.
        assertEquals(new Written(0, 4, 1, List.of(new ShareStateBatch(4, 4, ShareStateBatch.AVAILABLE, (short) 1),
                new ShareStateBatch(5, 5, ShareStateBatch.ACKNOWLEDGED, (short) 1),
                new ShareStateBatch(6, 9, ShareStateBatch.AVAILABLE, (short) 1))), sink.last());
        int before = sink.writes.size();
        sp.releaseMember("nobody");
        assertEquals(before, sink.writes.size(), "nothing changed, nothing written");
        sp.reset(42);
        assertEquals(List.of(42L), sink.initialized);
        assertEquals(1, sp.stateEpoch(), "a reset starts a new state epoch");
    }

    @Test
    void aRestoredSharePartitionShouldRedeliverOnlyWhatIsNotDoneWithItsDeliveryCount() {
        SharePartition sp = SharePartition.restore(3, 4, List.of(
                new ShareStateBatch(4, 4, ShareStateBatch.AVAILABLE, (short) 1),
                new ShareStateBatch(5, 5, ShareStateBatch.ACKNOWLEDGED, (short) 1),
                new ShareStateBatch(6, 7, ShareStateBatch.ARCHIVED, (short) 5),
                new ShareStateBatch(8, 9, ShareStateBatch.AVAILABLE, (short) 2)), 5, 2000, LOCK_MS);
        assertEquals(3, sp.stateEpoch());
        assertEquals(4, sp.startOffset());
        assertEquals(10, sp.endOffset());
        List<SharePartition.Acquired> got = sp.acquire("b", 100, batches(0, 11), 0);
        assertEquals(List.of(new SharePartition.Acquired(4, 4, 2), new SharePartition.Acquired(8, 9, 3),
                new SharePartition.Acquired(10, 11, 1)), got);
        sp.acknowledge("b", 4, 4, List.of(SharePartition.ACCEPT), 1);
        assertEquals(8, sp.startOffset(), "5-7 were done before the restart");
    }

    @Test
    void aRestoreShouldStopAtTheRecordLockLimit() {
        SharePartition sp = SharePartition.restore(0, 0, List.of(
                new ShareStateBatch(0, 1_000_000_000L, ShareStateBatch.AVAILABLE, (short) 1)), 5, 100, LOCK_MS);
        assertEquals(100, sp.endOffset(), "a hostile or huge stored batch cannot make the broker hold more");
        assertEquals(100, sp.inFlightCount());
    }
    @Test
    void storedGroupsShouldComeBackEmptyAndOneFailingSharePartitionShouldNotStopTheOthers() {
        UUID topic = new UUID(1, 1);
        SharePersister persister = new SharePersister() {
            @Override
            public Stored summary(String groupId, UUID topicId, int partition) {
                return read(groupId, topicId, partition, -1);
            }

            @Override
            public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
                if (partition == 0) {
                    throw new io.tandem.server.kafka.ApiException(io.tandem.server.kafka.ErrorCodes
                            .UNKNOWN_TOPIC_OR_PARTITION, "gone");
                }
                return new Stored(2, 7, List.of(new ShareStateBatch(7, 8, ShareStateBatch.AVAILABLE, (short) 3)));
            }

            @Override
            public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
            }

            @Override
            public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                              long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
            }

            @Override
            public void delete(String groupId, UUID topicId, int partition) {
            }

            @Override
            public Map<String, Map<UUID, List<Integer>>> stored() {
                return Map.of("restored", Map.of(topic, List.of(0, 1)));
            }
        };
        ShareGroupCoordinator coordinator = new ShareGroupCoordinator(ShareGroupConfig.defaults(),
                new io.tandem.server.kafka.group.consumer.TopicsView() {
                    @Override public io.tandem.server.kafka.group.consumer.TopicRef byName(String name) { return null; }
                    @Override public io.tandem.server.kafka.group.consumer.TopicRef byId(UUID id) { return null; }
                    @Override public java.util.Collection<String> names() { return List.of(); }
                }, id -> false, persister);
        coordinator.restoreStoredGroups();
        assertEquals(Map.of("restored", ShareGroupCoordinator.STATE_EMPTY), coordinator.listGroups(0));
        // This persister's summary has no delivery-complete count (-1, unknown).
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(topic, 1, 7, -1, 0)),
                coordinator.offsets("restored", 0));
    }
}
