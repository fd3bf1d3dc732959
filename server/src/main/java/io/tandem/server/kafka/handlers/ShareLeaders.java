package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;

import java.util.Map;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.FENCED_LEADER_EPOCH;
import static io.tandem.server.kafka.ErrorCodes.NOT_LEADER_OR_FOLLOWER;

/**
 * Where a share-partition's leader is, for a ShareFetch or ShareAcknowledge answer that sent the client elsewhere:
 * as Kafka 4.4's processShareFetchResponse and processShareAcknowledgeResponse, a partition answered
 * NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries its current leader and epoch (KafkaApis.getCurrentLeader,
 * -1 and -1 when the metadata knows none), and the leader's endpoint on the request's listener goes into the
 * answer's NodeEndpoints when that broker is alive there, so the client goes straight to it.
 */
final class ShareLeaders {
    /** A partition's leader: its id and epoch, and its endpoint on the client's listener (null if unreachable). */
    record Leader(int leaderId, int leaderEpoch, Endpoint endpoint) {
    }

    /** A live broker's address on one listener, as NodeEndpoints lists it. */
    record Endpoint(int nodeId, String host, int port, String rack) {
    }

    private ShareLeaders() {
    }

    /** Whether Kafka tells the client the partition's current leader with this error. */
    static boolean sendsLeader(short error) {
        return error == NOT_LEADER_OR_FOLLOWER || error == FENCED_LEADER_EPOCH;
    }

    /**
     * The partition's current leader seen from {@code listenerName}; its endpoint added to {@code endpoints}. The
     * leader and its endpoint come from one snapshot of the cache, never from two sides of an UpdateMetadata.
     */
    static Leader leader(KafkaBroker broker, String listenerName, UUID topicId, int partition,
                         Map<Integer, Endpoint> endpoints) {
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        TopicInfo topic = view.topicById(topicId);
        PartitionState state = topic == null ? null : topic.states().get(partition);
        if (state == null) return new Leader(-1, -1, null);
        Endpoint endpoint = null;
        for (BrokerRegistration b : view.liveBrokers()) {
            if (b.brokerId() != state.leader()) continue;
            var onListener = b.endpoint(listenerName);
            if (onListener != null) {
                endpoint = new Endpoint(b.brokerId(), onListener.host(), onListener.port(), b.rack());
                endpoints.put(b.brokerId(), endpoint);
            }
        }
        return new Leader(state.leader(), state.leaderEpoch(), endpoint);
    }
}
