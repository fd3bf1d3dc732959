package io.tandem.server.kafka.replica.sim;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.replica.FetchSessionHandler;
import io.tandem.server.kafka.replica.FollowerFetch;
import io.tandem.server.kafka.replica.LeaderFetch;
import io.tandem.server.kafka.replica.ReplicaFetcherConfig;
import io.tandem.server.kafka.replica.ReplicaManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A follower's fetcher from one leader over the simulated network, in place of ReplicaFetcher's thread and socket:
 * the request is built by production's {@link ReplicaFetcherConfig} from the simulation's settings (its
 * replica.fetch.wait.max.ms and min.bytes, which the simulated leader's purgatory applies, its max bytes and backoff),
 * the handling of each partition's answer is production's {@link FollowerFetch}, through an incremental fetch session
 * with the leader kept by production's {@link FetchSessionHandler}. One fetch is in flight at a time and the next goes
 * out as soon as one is answered, as ReplicaFetcher's loop (the leader's wait paces an idle follower); a lost one is
 * retried after a timeout (and the session starts over with a full fetch).
 */
final class SimFetcher implements ReplicaManager.LeaderFetcher {
    /** How long past the fetch's own wait (replica.fetch.wait.max.ms) an answer may take before it counts as lost. */
    static final long REQUEST_TIMEOUT_MS = 1_000;
    /** The simulation's replica.fetch.backoff.ms: scaled down with its other timeouts. */
    static final int BACKOFF_MS = 100;

    private final SimBroker follower;
    private final int leaderId;
    private final Map<TopicPartition, Partition> partitions = new LinkedHashMap<>();
    private final FetchSessionHandler session;
    private boolean stopped;
    private boolean scheduled;
    /**
     * A fetch is out and neither answered nor timed out: no other starts meanwhile (a session takes one fetch at a
     * time, as ReplicaFetcher's single thread sends them; a second one built against the first's session view would
     * leave the leader's view behind if the first were refused).
     */
    private boolean inFlight;
    /** Which fetch is current: an answer to an earlier one (arriving after its timeout) is dropped. */
    private long fetchNumber;

    SimFetcher(SimBroker follower, int leaderId) {
        this.follower = follower;
        this.leaderId = leaderId;
        this.session = new FetchSessionHandler(leaderId);
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
        if (scheduled || stopped || inFlight) return;
        scheduled = true;
        follower.later(delayMs, () -> {
            scheduled = false;
            fetch();
        });
    }

    private void fetch() {
        // With no partition left, one more fetch forgets the session's last ones (as ReplicaFetcher does).
        if (stopped || (partitions.isEmpty() && !session.hasPartitions())) return;
        // A copy in a fixed order (Map.copyOf iterates in an order that changes from one JVM to the next).
        Map<TopicPartition, Partition> sent = new LinkedHashMap<>(partitions);
        Map<TopicPartition, FetchSessionHandler.PartitionState> wanted = new LinkedHashMap<>();
        ReplicaFetcherConfig settings = follower.sim.fetching;
        for (Partition p : sent.values()) wanted.put(p.topicPartition(), settings.state(p));
        FetchSessionHandler.Fetch fetch = session.build(wanted);
        if (fetch.empty()) return;
        FetchRequest request = settings.request(follower.id, fetch);
        long number = ++fetchNumber;
        inFlight = true;
        ReplicationSimulator sim = follower.sim;
        sim.network.send(follower.id, leaderId, () -> {
            SimBroker leader = sim.running(leaderId);
            if (leader == null) return;
            leader.later(leader.slowDiskMs, () -> {
                try {
                    leader.handleReplicaFetch(request, response -> sim.network.send(leaderId, follower.id,
                            () -> follower.later(follower.slowDiskMs, () -> {
                                if (number == fetchNumber) answered(sent, fetch, response);
                                else release(response);
                            })));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
        follower.later(settings.waitMaxMs() + REQUEST_TIMEOUT_MS, () -> {
            if (number != fetchNumber) return;
            fetchNumber++;
            inFlight = false;
            session.handleError(new IOException("no answer within " + REQUEST_TIMEOUT_MS + " ms"));
            follower.sim.checks.count("replica fetch lost, retried");
            schedule(0);
        });
    }

    /**
     * The leader's offsets as its ListOffsets from a replica would give them, read from the simulated leader at once
     * (the simulation does not carry the question over its network; a leader not running cannot be asked).
     */
    private FollowerFetch.LeaderOffsets leaderOffsets() {
        return new FollowerFetch.LeaderOffsets() {
            @Override
            public long latest(TopicPartition tp, int currentLeaderEpoch) throws FollowerFetch.LeaderOffsetsException {
                return led(tp, currentLeaderEpoch).logEndOffset();
            }

            @Override
            public long earliest(TopicPartition tp, int currentLeaderEpoch)
                    throws FollowerFetch.LeaderOffsetsException {
                return led(tp, currentLeaderEpoch).logStartOffset();
            }

            /**
             * The leader's replica, checked as its ListOffsets handler checks a replica's request (production's
             * {@link LeaderFetch#requestEpochError}: the follower's epoch first, then the leadership).
             */
            private Partition led(TopicPartition tp, int currentLeaderEpoch)
                    throws FollowerFetch.LeaderOffsetsException {
                SimBroker leader = follower.sim.running(leaderId);
                Partition p = leader == null ? null : leader.logs.get(tp);
                short error = p == null ? io.tandem.server.kafka.ErrorCodes.NOT_LEADER_OR_FOLLOWER
                        : LeaderFetch.requestEpochError(p, currentLeaderEpoch, true);
                if (error != io.tandem.server.kafka.ErrorCodes.NONE) {
                    follower.sim.checks.count("leader offsets refused: " + io.tandem.kafka.wire.Errors.forCode(error));
                    throw new FollowerFetch.LeaderOffsetsException(error, "broker " + leaderId + " answered "
                            + io.tandem.kafka.wire.Errors.forCode(error) + " for " + tp, null);
                }
                return p;
            }
        };
    }

    private void answered(Map<TopicPartition, Partition> sent, FetchSessionHandler.Fetch fetch, FetchResponse response) {
        fetchNumber++;
        inFlight = false;
        if (!session.handleResponse(fetch, response)) {
            // A session error: the next fetch is full, after a pause.
            follower.sim.checks.count("replica fetch session reset");
            release(response);
            schedule(follower.sim.fetching.backoffMs());
            return;
        }
        boolean backOff = false;
        try {
            for (FetchResponse.FetchableTopicResponse topic : response.responses) {
                for (FetchResponse.PartitionData data : topic.partitions) {
                    Partition p = sent.get(new TopicPartition(topic.topic, data.partitionIndex));
                    // Dropped meanwhile (this broker leads it now, or it moved to another leader).
                    if (p == null || partitions.get(p.topicPartition()) != p || stopped) continue;
                    long before = p.logEndOffset();
                    // The simulated fetcher waits as a whole for a partition in error or fenced, and retries it.
                    backOff |= FollowerFetch.handle(p, leaderId, p.leaderEpoch(), data, leaderOffsets())
                            != FollowerFetch.Outcome.FETCH_ON;
                    if (p.logEndOffset() < before) follower.sim.checks.count("follower truncated");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            release(response);
        }
        schedule(backOff ? follower.sim.fetching.backoffMs() : 0);
    }

    private static void release(FetchResponse response) {
        for (FetchResponse.FetchableTopicResponse topic : response.responses) {
            for (FetchResponse.PartitionData data : topic.partitions) {
                if (data.records != null) data.records.release();
            }
        }
    }
}
