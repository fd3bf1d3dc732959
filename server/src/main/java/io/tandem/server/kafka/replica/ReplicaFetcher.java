package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.network.InterBrokerClient;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A follower's fetcher for every partition it follows on one leader, on its own thread, as Kafka's
 * ReplicaFetcherThread: a replica Fetch (the broker id as replica id, the last fetched epoch so the leader can
 * point out a divergence), then the leader's batches appended as they are and the leader's high watermark taken.
 * A diverging epoch truncates the log to where it agrees with the leader (KIP-320/KIP-595's check, which subsumes
 * KIP-101's OffsetsForLeaderEpoch round trip); a partition the leader refuses waits for the controller's next word.
 * Fetches go through an incremental fetch session with the leader ({@link FetchSessionHandler}, KIP-227), as Apache's
 * fetcher does: after the first full fetch, only partitions whose fetch state changed are named, and the leader
 * answers only partitions with news.
 *
 * <p>The fetcher's thread sends one Fetch at a time and waits for its answer (Kafka's ReplicaFetcherBlockingSend over
 * NetworkClientUtils.sendAndReceive), on an {@link InterBrokerClient} of its own with Kafka's settings for it: one
 * request in flight, request.timeout.ms, no reconnect backoff of the client's (the fetcher's own backoff,
 * {@link #BACKOFF_MS}, paces a failed fetch).
 */
final class ReplicaFetcher implements Runnable, ReplicaManager.LeaderFetcher {
    private static final System.Logger LOG = System.getLogger(ReplicaFetcher.class.getName());
    /** Fetch v12: the first with the last fetched epoch and diverging epochs, still addressed by topic name. */
    static final short FETCH_VERSION = 12;
    /** Kafka's replica.fetch.wait.max.ms default. */
    static final int MAX_WAIT_MS = 500;
    /**
     * The wait after a failed fetch or a partition's error. Kafka's replica.fetch.backoff.ms is 1 s, but Kafka delays
     * only the partitions in error and goes on fetching the others, while this fetcher waits as a whole: a second
     * here would hold back every healthy partition of the leader long enough to cost it the ISR under a short
     * replica.lag.time.max.ms.
     */
    static final int BACKOFF_MS = 100;
    /** Kafka's replica.fetch.response.max.bytes default. */
    static final int RESPONSE_BYTES_MAX = 10 * 1024 * 1024;

    private final int localBrokerId;
    private final int leaderId;
    private final int partitionBytesMax;
    private final InterBrokerSecurity security;
    private final InterBrokerClient client;
    /** Where the leader is now: followed when it registers again elsewhere. */
    private volatile BrokerRegistration leader;
    private final ConcurrentHashMap<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /** Used by this fetcher's thread only. */
    private final FetchSessionHandler session;
    private final Thread thread;
    private volatile boolean running = true;

    ReplicaFetcher(int localBrokerId, BrokerRegistration leader, InterBrokerSecurity security, int partitionBytesMax) {
        this(localBrokerId, leader, security, partitionBytesMax, InterBrokerClient.Settings.kafkaBlocking(
                "broker-" + localBrokerId + "-fetcher-" + leader.brokerId(),
                InterBrokerClient.Settings.KAFKA_REQUEST_TIMEOUT_MS));
    }

    /** {@code settings}: the fetcher's connection's (tests shorten request.timeout.ms). */
    ReplicaFetcher(int localBrokerId, BrokerRegistration leader, InterBrokerSecurity security, int partitionBytesMax,
                   InterBrokerClient.Settings settings) {
        this.localBrokerId = localBrokerId;
        this.leaderId = leader.brokerId();
        this.leader = leader;
        this.partitionBytesMax = partitionBytesMax;
        this.security = security;
        this.client = new InterBrokerClient(settings, security);
        this.session = new FetchSessionHandler(leaderId);
        this.thread = new Thread(this, "kafka-replica-fetcher-" + localBrokerId + "-from-" + leaderId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    @Override
    public void retarget(BrokerRegistration leader) {
        BrokerRegistration before = this.leader;
        this.leader = leader;
        // Unchanged (the usual case: every UpdateMetadata names every broker): the fetch under way goes on. Moved:
        // the fetch under way to the old address fails now rather than after request.timeout.ms.
        if (!java.util.Objects.equals(security.endpoint(before), security.endpoint(leader))) {
            client.disconnect(leaderId);
        }
    }

    @Override
    public void add(Partition partition) {
        partitions.put(partition.topicPartition(), partition);
        synchronized (this) {
            notifyAll();
        }
    }

    @Override
    public void remove(TopicPartition tp) {
        partitions.remove(tp);
    }

    boolean isEmpty() {
        return partitions.isEmpty();
    }

    @Override
    public FetchSessionHandler.Stats sessionStats() {
        return session.stats();
    }

    @Override
    public void run() {
        while (running) {
            try {
                // With no partition left, one more fetch forgets the session's last ones, so the leader drops the
                // session (Kafka's fetcher does the same) instead of keeping its slot until it goes stale.
                if (partitions.isEmpty() && !session.hasPartitions()) {
                    synchronized (this) {
                        if (partitions.isEmpty() && running) wait(MAX_WAIT_MS);
                    }
                    continue;
                }
                fetchOnce();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (!running) return;
                LOG.log(System.Logger.Level.DEBUG, "Fetch from broker " + leaderId + " failed: " + e);
                sleep();
            }
        }
    }

    private void fetchOnce() throws IOException, InterruptedException {
        Map<TopicPartition, Partition> sent = Map.copyOf(partitions);
        Map<TopicPartition, FetchSessionHandler.PartitionState> wanted = new LinkedHashMap<>();
        for (Partition p : sent.values()) wanted.put(p.topicPartition(), FollowerFetch.state(p, partitionBytesMax));
        FetchSessionHandler.Fetch fetch = session.build(wanted);
        if (fetch.empty()) return;
        FetchRequest request = FollowerFetch.request(localBrokerId, fetch, MAX_WAIT_MS, RESPONSE_BYTES_MAX);
        FetchResponse response;
        try {
            response = (FetchResponse) client.sendAndReceive(leader, ApiKey.FETCH, FETCH_VERSION, request);
        } catch (IOException | RuntimeException e) {
            session.handleError(e);
            throw e;
        }
        if (!session.handleResponse(fetch, response)) {
            // A session error: the next fetch is a full one, sent at once as Kafka's fetcher does (a leader that
            // restarted and forgot the session costs one round trip); a full fetch that failed waits first.
            if (fetch.full()) sleep();
            return;
        }
        boolean backOff = false;
        for (FetchResponse.FetchableTopicResponse topic : response.responses) {
            for (FetchResponse.PartitionData data : topic.partitions) {
                Partition p = sent.get(new TopicPartition(topic.topic, data.partitionIndex));
                // Dropped meanwhile (this broker leads it now, or it moved to another leader).
                if (p == null || partitions.get(p.topicPartition()) != p) continue;
                backOff |= !apply(p, data);
            }
        }
        if (backOff) sleep();
    }

    /** Applies one partition's answer; false when the partition should wait before its next fetch. */
    private boolean apply(Partition p, FetchResponse.PartitionData data) throws IOException {
        return FollowerFetch.apply(p, leaderId, data);
    }

    private void sleep() {
        try {
            Thread.sleep(BACKOFF_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void shutdown() {
        running = false;
        synchronized (this) {
            notifyAll();
        }
        thread.interrupt();
        client.close();
    }

    /** Waits until the fetcher's thread and its client's threads have ended after {@link #shutdown}. */
    boolean awaitShutdown(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        thread.join(Math.max(1, timeoutMs));
        return !thread.isAlive() && client.awaitTermination(Math.max(0, deadline - System.nanoTime()),
                java.util.concurrent.TimeUnit.NANOSECONDS);
    }
}
