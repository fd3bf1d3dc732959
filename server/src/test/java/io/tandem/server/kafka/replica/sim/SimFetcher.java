package io.tandem.server.kafka.replica.sim;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.replica.FollowerFetch;
import io.tandem.server.kafka.replica.ReplicaManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A follower's fetcher from one leader over the simulated network, in place of ReplicaFetcher's thread and socket:
 * the request and the handling of each partition's answer are production's {@link FollowerFetch}. One fetch is in
 * flight at a time; a lost one is retried after a timeout, an empty answer after a long-poll-like pause.
 */
final class SimFetcher implements ReplicaManager.LeaderFetcher {
    static final long REQUEST_TIMEOUT_MS = 1_000;
    static final long BACKOFF_MS = 100;
    /** Stands for the leader parking an empty fetch until data comes (max.wait.ms): the follower asks again soon. */
    static final long IDLE_MIN_MS = 10;
    static final long IDLE_MAX_MS = 60;

    private final SimBroker follower;
    private final int leaderId;
    private final Map<TopicPartition, Partition> partitions = new LinkedHashMap<>();
    private boolean stopped;
    private boolean scheduled;
    /** Which fetch is current: an answer to an earlier one (arriving after its timeout) is dropped. */
    private long fetchNumber;

    SimFetcher(SimBroker follower, int leaderId) {
        this.follower = follower;
        this.leaderId = leaderId;
    }

    @Override
    public void add(Partition partition) {
        partitions.put(partition.topicPartition(), partition);
        schedule(0);
    }

    @Override
    public void remove(TopicPartition tp) {
        partitions.remove(tp);
    }

    @Override
    public void retarget(BrokerRegistration leader) {
        // Simulated brokers keep their address across restarts.
    }

    @Override
    public void shutdown() {
        stopped = true;
    }

    private void schedule(long delayMs) {
        if (scheduled || stopped) return;
        scheduled = true;
        follower.later(delayMs, () -> {
            scheduled = false;
            fetch();
        });
    }

    private void fetch() {
        if (stopped || partitions.isEmpty()) return;
        // A copy in a fixed order (Map.copyOf iterates in an order that changes from one JVM to the next).
        Map<TopicPartition, Partition> sent = new LinkedHashMap<>(partitions);
        FetchRequest request = FollowerFetch.request(follower.id, sent.values(), 500, 10 * 1024 * 1024,
                SimBroker.FETCH_BYTES_MAX);
        long number = ++fetchNumber;
        ReplicationSimulator sim = follower.sim;
        sim.network.send(follower.id, leaderId, () -> {
            SimBroker leader = sim.running(leaderId);
            if (leader == null) return;
            leader.later(leader.slowDiskMs, () -> {
                FetchResponse response;
                try {
                    response = leader.handleReplicaFetch(request);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                sim.network.send(leaderId, follower.id, () -> follower.later(follower.slowDiskMs, () -> {
                    if (number == fetchNumber) answered(sent, response);
                }));
            });
        });
        follower.later(REQUEST_TIMEOUT_MS, () -> {
            if (number != fetchNumber) return;
            fetchNumber++;
            follower.sim.checks.count("replica fetch lost, retried");
            schedule(0);
        });
    }

    private void answered(Map<TopicPartition, Partition> sent, FetchResponse response) {
        fetchNumber++;
        boolean backOff = false;
        boolean gotRecords = false;
        try {
            for (FetchResponse.FetchableTopicResponse topic : response.responses) {
                for (FetchResponse.PartitionData data : topic.partitions) {
                    Partition p = sent.get(new TopicPartition(topic.topic, data.partitionIndex));
                    gotRecords |= data.records != null && data.records.readableBytes() > 0;
                    // Dropped meanwhile (this broker leads it now, or it moved to another leader).
                    if (p == null || partitions.get(p.topicPartition()) != p || stopped) continue;
                    long before = p.logEndOffset();
                    backOff |= !FollowerFetch.apply(p, leaderId, data);
                    if (p.logEndOffset() < before) follower.sim.checks.count("follower truncated");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (FetchResponse.FetchableTopicResponse topic : response.responses) {
                for (FetchResponse.PartitionData data : topic.partitions) {
                    if (data.records != null) data.records.release();
                }
            }
        }
        schedule(backOff ? BACKOFF_MS : gotRecords ? 0 : follower.scheduler.between(IDLE_MIN_MS, IDLE_MAX_MS));
    }
}
