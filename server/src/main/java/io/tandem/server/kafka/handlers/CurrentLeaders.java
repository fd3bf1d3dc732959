package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.PartitionState;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.FENCED_LEADER_EPOCH;
import static io.tandem.server.kafka.ErrorCodes.NOT_LEADER_OR_FOLLOWER;

/**
 * The current leaders an answer names for the partitions it sent away, so the client goes straight to the new leader
 * instead of refreshing its metadata first: Fetch v16+ and Produce v10+ (KIP-951), ShareFetch and ShareAcknowledge
 * (KIP-932) on NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH. All of them as Kafka's one KafkaApis.getCurrentLeader:
 * the leader and epoch this broker's own replica last took from a LeaderAndIsr, else the metadata cache's (-1 and -1
 * when it knows none); the leader's endpoint on the request's listener goes into the answer's NodeEndpoints when that
 * broker is alive in the cache. One instance per answer, over one cache snapshot, so a leader and its endpoint never
 * come from two sides of an UpdateMetadata.
 */
final class CurrentLeaders {
    /** A partition's leader as the answer carries it. */
    record Leader(int leaderId, int leaderEpoch) {
    }

    /** A live broker's address on one listener, as NodeEndpoints lists it. */
    record Endpoint(int nodeId, String host, int port, String rack) {
    }

    private final KafkaBroker broker;
    private final String listenerName;
    private final MetadataCache.Snapshot view;
    private final Map<Integer, Endpoint> endpoints = new TreeMap<>();

    CurrentLeaders(KafkaBroker broker, String listenerName) {
        this.broker = broker;
        this.listenerName = listenerName;
        this.view = broker.metadata().snapshot();
    }

    /** Whether Kafka tells the client the partition's current leader with this error (share answers). */
    static boolean sendsLeader(short error) {
        return error == NOT_LEADER_OR_FOLLOWER || error == FENCED_LEADER_EPOCH;
    }

    /**
     * This broker's own replica of the partition, leader or follower, or null when it hosts none (Kafka's
     * ReplicaManager.getPartition): what a handler checks epochs and leadership on.
     */
    static Partition hostedReplica(KafkaBroker broker, TopicInfo topic, int partition) {
        List<Integer> replicas = topic.replicas().get(partition);
        if (replicas == null || !replicas.contains(broker.config().brokerId())) return null;
        return broker.logs().get(new TopicPartition(topic.name(), partition));
    }

    /** The current leader of a partition named by topic id (share answers); unknown ids have none (-1, -1). */
    Leader leader(UUID topicId, int partition) {
        TopicInfo topic = topicId == null ? null : view.topicById(topicId);
        return leader(topic == null ? null : topic.name(), partition);
    }

    /** The partition's current leader; its endpoint is remembered for {@link #endpoints()}. */
    Leader leader(String topic, int partition) {
        int leaderId = -1;
        int leaderEpoch = -1;
        Partition hosted = topic == null ? null : broker.logs().get(new TopicPartition(topic, partition));
        if (hosted != null && hosted.leaderId() != Partition.NO_LEADER) {
            // Kafka's getPartitionOrError found the replica: its own view, which a LeaderAndIsr updates before the
            // UpdateMetadata that follows it reaches the cache.
            leaderId = hosted.leaderId();
            leaderEpoch = hosted.leaderEpoch();
        } else {
            TopicInfo info = topic == null ? null : view.topic(topic);
            PartitionState state = info == null ? null : info.states().get(partition);
            if (state != null) {
                leaderId = state.leader();
                leaderEpoch = state.leaderEpoch();
            }
        }
        for (BrokerRegistration b : view.liveBrokers()) {
            if (b.brokerId() != leaderId) continue;
            var onListener = b.endpoint(listenerName);
            if (onListener != null) {
                endpoints.put(b.brokerId(), new Endpoint(b.brokerId(), onListener.host(), onListener.port(), b.rack()));
            }
        }
        return new Leader(leaderId, leaderEpoch);
    }

    /** The endpoints of the leaders named so far, by broker id. */
    Collection<Endpoint> endpoints() {
        return endpoints.values();
    }
}
