package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import java.io.IOException;
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
 * UpdateMetadata is still on its way. Each broker is asked directly with a Metadata request, which it answers from its
 * cache: what any client would be told there.
 */
public final class MetadataWait {
    /** Generous for a loaded 2-core machine; an UpdateMetadata takes milliseconds on an idle one. */
    static final long WAIT_MS = 60_000;
    private static final long POLL_MS = 50;
    /** Kafka's UNKNOWN_TOPIC_OR_PARTITION: the broker does not know the topic. */
    private static final short UNKNOWN_TOPIC_OR_PARTITION = 3;

    private MetadataWait() {
    }

    /**
     * Waits until every running broker knows {@code topic} with exactly {@code partitions} partitions, each with a
     * leader (Kafka's waitForPartitionMetadata: a valid leader id in every broker's cache).
     */
    public static void propagated(TandemCluster cluster, String topic, int partitions) throws Exception {
        await(cluster, "every running broker knowing " + partitions + " partition(s) of " + topic + " with a leader",
                broker -> knowsEveryLeader(metadata(broker, topic), partitions));
    }

    /** Waits until no running broker knows {@code topic} any more (Kafka's verifyTopicDeletion, for the caches). */
    public static void deleted(TandemCluster cluster, String topic) throws Exception {
        await(cluster, "every running broker forgetting " + topic,
                broker -> metadata(broker, topic).errorCode == UNKNOWN_TOPIC_OR_PARTITION);
    }

    private static boolean knowsEveryLeader(MetadataResponse.MetadataResponseTopic known, int partitions) {
        return known.errorCode == 0 && known.partitions.size() == partitions
                && known.partitions.stream().allMatch(p -> p.errorCode == 0 && p.leaderId >= 0);
    }

    /** The topic as {@code broker} describes it (Metadata v12 straight to it, never creating the topic). */
    private static MetadataResponse.MetadataResponseTopic metadata(Tandem broker, String topic) throws IOException {
        MetadataRequest request = new MetadataRequest();
        MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
        wanted.name = topic;
        request.topics = new ArrayList<>(List.of(wanted));
        request.allowAutoTopicCreation = false;
        try (RawKafkaConnection connection = new RawKafkaConnection(broker.kafkaPort())) {
            return connection.roundTrip(ApiKey.METADATA, (short) 12, (short) 1, request, MetadataResponse::read)
                    .topics.get(0);
        }
    }

    @FunctionalInterface
    private interface BrokerCheck {
        boolean holds(Tandem broker) throws IOException;
    }

    private static void await(TandemCluster cluster, String what, BrokerCheck check) throws Exception {
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
