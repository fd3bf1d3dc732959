package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.PartitionState;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * The current leaders a Fetch (v16+) or Produce (v10+) answer names for the partitions it sent away (KIP-951), so
 * the client goes straight to the new leader instead of refreshing its metadata first. As Kafka's
 * KafkaApis.getCurrentLeader: the leader and epoch this broker's own replica last took from a LeaderAndIsr, else the
 * metadata cache's (-1 and -1 when it knows none); the leader's endpoint on the request's listener goes into the
 * answer's NodeEndpoints when that broker is alive in the cache. One instance per answer, over one cache snapshot.
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
