package io.tandem.server.kafka.metadata;

import static io.tandem.server.kafka.ErrorCodes.INVALID_PARTITIONS;
import static io.tandem.server.kafka.ErrorCodes.INVALID_REPLICATION_FACTOR;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/** Where a new topic's replicas go when its request names none. */
final class NewTopicPlacement {
    private NewTopicPlacement() {
    }

    /**
     * A new topic's replicas as Kafka 3.9's ZkAdminManager places them when the request names none (CreateTopics,
     * auto-creation, internal topics): AdminUtils.assignReplicasToBrokers over the live brokers of a broker's
     * cache with their racks, its first leader and follower shift drawn from
     * {@code random}. Kafka's refusals carry its words:
     * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR ("Replication factor: 3 larger than available brokers: 2."), and,
     * when only some brokers have a rack, an exception that is not an ApiException, answered UNKNOWN_SERVER_ERROR
     * without a message as Kafka's AdminOperationException is. The brokers are walked in the order Kafka's cache
     * lists them ({@link BrokerCacheOrder}), which a rack-unaware placement follows.
     */
    static SortedMap<Integer, List<Integer>> place(List<BrokerRegistration> live, int partitions,
                                                   int replicationFactor, RandomGenerator random) {
        Map<Integer, String> racks = new TreeMap<>();
        for (BrokerRegistration b : live) racks.put(b.brokerId(), b.rack());
        List<ReplicaAssignment.Candidate> candidates = BrokerCacheOrder.of(List.copyOf(racks.keySet()), live.size())
                .stream().map(id -> new ReplicaAssignment.Candidate(id, racks.get(id))).toList();
        try {
            return ReplicaAssignment.assignNewTopic(candidates, partitions, replicationFactor, random);
        } catch (ReplicaAssignment.Refusal e) {
            switch (e.kind()) {
                case REPLICATION_FACTOR -> throw new ApiException(INVALID_REPLICATION_FACTOR, e.getMessage());
                case PARTITIONS -> throw new ApiException(INVALID_PARTITIONS, e.getMessage());
                default -> throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }
}
