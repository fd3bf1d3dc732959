package io.tandem.server.kafka;

import io.tandem.server.BrokerMetadata;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.PartitionState;
import java.util.ArrayList;
import java.util.List;

/**
 * Waits until a topic change has reached the metadata cache of every running broker of a {@link TandemCluster}, as
 * Kafka's own tests wait (TestUtils.waitForPartitionMetadata, waitUntilMetadataIsPropagated, verifyTopicDeletion).
 * <p>
 * CreateTopics, CreatePartitions and DeleteTopics answer once the broker that took them (the controller's) sees the
 * change, Kafka's DelayedCreatePartitions and DelayedDeleteTopics; every other broker learns it from the controller's
 * UpdateMetadata a little later. A client (an Admin's describe or list, a producer, a consumer) may ask any broker,
 * so a test that acts on the change through a client waits here first, or it fails on a loaded machine where that
 * UpdateMetadata is still on its way. Each broker's metadata cache is read directly, as Kafka's TestUtils reads it:
 * what the broker answers any client from.
 */
public final class MetadataWait {
    /** Generous for a loaded 2-core machine; an UpdateMetadata takes milliseconds on an idle one. */
    static final long WAIT_MS = 60_000;
    private static final long POLL_MS = 20;

    private MetadataWait() {
    }

    /**
     * Waits until every running broker knows {@code topic} with exactly {@code partitions} partitions, each with a
     * leader (Kafka's waitForPartitionMetadata: a valid leader id in every broker's cache).
     */
    public static void propagated(TandemCluster cluster, String topic, int partitions) throws InterruptedException {
        await(cluster, "every running broker knowing " + partitions + " partition(s) of " + topic + " with a leader",
                broker -> knowsEveryLeader(BrokerMetadata.of(broker).topic(topic), partitions));
    }

    /** Waits until no running broker knows {@code topic} any more (Kafka's verifyTopicDeletion, for the caches). */
    public static void deleted(TandemCluster cluster, String topic) throws InterruptedException {
        await(cluster, "every running broker forgetting " + topic,
                broker -> BrokerMetadata.of(broker).topic(topic) == null);
    }

    private static boolean knowsEveryLeader(TopicInfo known, int partitions) {
        if (known == null || known.partitionCount() != partitions) return false;
        for (int p = 0; p < partitions; p++) {
            PartitionState state = known.states().get(p);
            if (state == null || state.leader() < 0) return false;
        }
        return true;
    }

    @FunctionalInterface
    private interface BrokerCheck {
        boolean holds(Tandem broker);
    }

    private static void await(TandemCluster cluster, String what, BrokerCheck check) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (true) {
            List<Integer> behind = new ArrayList<>();
            for (int id = 1; id <= cluster.size(); id++) {
                if (cluster.isRunning(id) && !check.holds(cluster.broker(id))) behind.add(id);
            }
            if (behind.isEmpty()) return;
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + WAIT_MS + " ms waiting for " + what
                        + "; brokers " + behind + " still behind");
            }
            Thread.sleep(POLL_MS);
        }
    }
}
