package io.tandem.server.kafka.replica;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Which fetcher fetches each partition this broker follows, as Kafka's ReplicaFetcherManager: one
 * {@link ReplicaManager.LeaderFetcher} per leader, made on first need, told to add and remove partitions as the
 * controller's LeaderAndIsr and StopReplica move them, and pointed at a leader's new endpoint when UpdateMetadata
 * brings one. A follower whose leader's endpoint is not known yet waits here until UpdateMetadata names it.
 * {@link ReplicaManager} calls it under its own lock; this class locks itself too, for the operators' reads.
 */
final class FollowerFetchers {
    private static final System.Logger LOG = System.getLogger(FollowerFetchers.class.getName());

    private final ClusterMetadata metadata;
    /** Makes a started fetcher from this broker to one leader. */
    private final Function<BrokerRegistration, ReplicaManager.LeaderFetcher> factory;
    private final Map<Integer, ReplicaManager.LeaderFetcher> fetchers = new HashMap<>();
    /**
     * Followers told their leader before this broker knew where that leader is (its endpoint was neither in the
     * LeaderAndIsr nor among the live brokers yet): they start fetching when UpdateMetadata brings it. Bounded by the
     * partitions this broker hosts.
     */
    private final Map<TopicPartition, Partition> awaitingLeader = new HashMap<>();

    FollowerFetchers(ClusterMetadata metadata, Function<BrokerRegistration, ReplicaManager.LeaderFetcher> factory) {
        this.metadata = metadata;
        this.factory = factory;
    }

    /** No fetcher fetches {@code tp} any more (this broker leads it now, or no longer hosts it). */
    synchronized void stop(TopicPartition tp) {
        awaitingLeader.remove(tp);
        for (ReplicaManager.LeaderFetcher fetcher : fetchers.values()) fetcher.remove(tp);
    }

    /** {@code partition} fetches from {@code leader}, found at {@code endpoint} (null: among the live brokers). */
    synchronized void start(Partition partition, int leader, BrokerRegistration endpoint) {
        BrokerRegistration where = endpoint != null ? endpoint : metadata.liveBrokers().stream()
                .filter(b -> b.brokerId() == leader).findFirst().orElse(null);
        if (where == null) {
            // Kept, not dropped: without a later LeaderAndIsr this follower would otherwise never fetch again (the
            // replication simulation's seed 86 left a replica out of the ISR for good that way).
            LOG.log(System.Logger.Level.WARNING, "No endpoint known for leader {0} of {1}; fetching once it is known",
                    leader, partition.topicPartition());
            awaitingLeader.put(partition.topicPartition(), partition);
            return;
        }
        ReplicaManager.LeaderFetcher fetcher = fetchers.get(leader);
        if (fetcher == null) {
            fetcher = factory.apply(where);
            fetchers.put(leader, fetcher);
        } else {
            fetcher.retarget(where);
        }
        fetcher.add(partition);
    }

    /**
     * UpdateMetadata's live brokers: a fetcher whose leader moved host follows it there, and followers waiting for
     * their leader's endpoint start fetching once it is live.
     */
    synchronized void liveBrokers(List<BrokerRegistration> brokers) {
        for (BrokerRegistration b : brokers) {
            ReplicaManager.LeaderFetcher fetcher = fetchers.get(b.brokerId());
            if (fetcher != null) fetcher.retarget(b);
        }
        for (Partition waiting : List.copyOf(awaitingLeader.values())) {
            int leader = waiting.leaderId();
            BrokerRegistration endpoint = brokers.stream().filter(b -> b.brokerId() == leader).findFirst()
                    .orElse(null);
            if (endpoint != null && !waiting.isLeader()) {
                awaitingLeader.remove(waiting.topicPartition());
                start(waiting, leader, endpoint);
            }
        }
    }

    /** Each leader's fetch session (by leader id) as the fetchers last saw it. */
    synchronized Map<Integer, FetchSessionHandler.Stats> sessions() {
        Map<Integer, FetchSessionHandler.Stats> result = new HashMap<>();
        fetchers.forEach((leader, fetcher) -> {
            FetchSessionHandler.Stats stats = fetcher.sessionStats();
            if (stats != null) result.put(leader, stats);
        });
        return result;
    }

    synchronized void close() {
        for (ReplicaManager.LeaderFetcher fetcher : fetchers.values()) fetcher.shutdown();
        fetchers.clear();
    }
}
