package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * request in flight, replica.socket.timeout.ms as request.timeout.ms, no reconnect backoff of the client's (the
 * fetcher's own replica.fetch.backoff.ms paces a failed fetch).
 *
 * <p>Errors are handled as Kafka's AbstractFetcherThread handles them: a partition the leader answers with an error
 * (or invalid records) waits out replica.fetch.backoff.ms alone, left out of the fetches meanwhile (so forgotten by
 * the session, as Kafka's builder leaves out a delayed partition), while the others go on fetching; a fetch that
 * fails as a whole (connection lost or refused, no answer) delays every partition, so the thread waits that long
 * before the next; a partition whose answer cannot be applied (the disk refused it) or that the leader fences at
 * its current epoch is dropped until the controller's next LeaderAndIsr for it adds it again
 * ({@link FollowerFetch#handle}).
 */
final class ReplicaFetcher implements Runnable, ReplicaManager.LeaderFetcher {
    private static final System.Logger LOG = System.getLogger(ReplicaFetcher.class.getName());
    /** Fetch v12: the first with the last fetched epoch and diverging epochs, still addressed by topic name. */
    static final short FETCH_VERSION = 12;
    /** How often a fetcher without partitions looks again (an added partition wakes it at once). */
    private static final long IDLE_CHECK_MS = 500;

    private final int localBrokerId;
    private final int leaderId;
    /** What each Fetch asks for: replica.fetch.wait.max.ms, .min.bytes, .response.max.bytes, .max.bytes. */
    private final ReplicaFetcherConfig config;
    private final long backoffNanos;
    private final InterBrokerSecurity security;
    private final InterBrokerClient client;
    /** Asks the leader for a partition's offsets when it answers OFFSET_OUT_OF_RANGE. */
    private final LeaderOffsetsClient leaderOffsets;
    /** Where the leader is now: followed when it registers again elsewhere. */
    private volatile BrokerRegistration leader;
    private final ConcurrentHashMap<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /**
     * Partitions waiting out replica.fetch.backoff.ms after an error. A delay holds for the partition as it was
     * delayed (same log, same leader epoch): added again at the same epoch it still waits, as Kafka's addPartitions
     * keeps the fetch state of an unchanged epoch; a new epoch fetches at once. Used by this fetcher's thread only;
     * bounded by {@link #partitions} (entries of partitions gone are dropped at each fetch).
     */
    private final Map<TopicPartition, Delay> delayed = new java.util.HashMap<>();
    /** Used by this fetcher's thread only. */
    private final FetchSessionHandler session;
    private final Thread thread;
    private volatile boolean running = true;
    /**
     * Told of each partition whose high watermark an answer moved, once the whole answer is applied: consumers'
     * fetches parked on this follower (KIP-392) may complete, as Kafka's ReplicaFetcherThread completes its delayed
     * fetches for partitionsWithNewHighWatermark.
     */
    private volatile java.util.function.Consumer<TopicPartition> highWatermarkMoved = tp -> { };
    /** Test seam, see {@link #beforeFailingForTests}; does nothing in production. */
    private volatile java.util.function.Consumer<TopicPartition> beforeFailing = tp -> { };

    private record Delay(Partition partition, int leaderEpoch, long untilNanos) {
    }

    ReplicaFetcher(int localBrokerId, BrokerRegistration leader, InterBrokerSecurity security, int partitionBytesMax,
                   int backoffMs) {
        this(localBrokerId, leader, security, partitionBytesMax, backoffMs,
                InterBrokerTimeouts.KAFKA_DEFAULTS.replicaFetcher(clientId(localBrokerId, leader)));
    }

    /** Kafka's defaults but partitionMaxBytes and the backoff; {@code settings}: the connection's. */
    ReplicaFetcher(int localBrokerId, BrokerRegistration leader, InterBrokerSecurity security, int partitionBytesMax,
                   int backoffMs, InterBrokerClient.Settings settings) {
        this(localBrokerId, leader, security, ReplicaFetcherConfig.of(partitionBytesMax, backoffMs), settings);
    }

    /** The fetcher's client id, as its connection's settings name it. */
    static String clientId(int localBrokerId, BrokerRegistration leader) {
        return "broker-" + localBrokerId + "-fetcher-" + leader.brokerId();
    }

    /**
     * {@code config}: the replica.fetch.* settings; {@code settings}: the fetcher's connection's (tests shorten
     * request.timeout.ms).
     */
    ReplicaFetcher(int localBrokerId, BrokerRegistration leader, InterBrokerSecurity security,
                   ReplicaFetcherConfig config, InterBrokerClient.Settings settings) {
        this.localBrokerId = localBrokerId;
        this.leaderId = leader.brokerId();
        this.leader = leader;
        this.config = config;
        this.backoffNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(config.backoffMs());
        this.security = security;
        this.client = new InterBrokerClient(settings, security);
        this.leaderOffsets = new LeaderOffsetsClient(localBrokerId, () -> this.leader, client);
        this.session = new FetchSessionHandler(leaderId);
        this.thread = new Thread(this, "kafka-replica-fetcher-" + localBrokerId + "-from-" + leaderId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Who hears of a high watermark an answer moved (before {@link #start}). */
    void highWatermarkListener(java.util.function.Consumer<TopicPartition> listener) {
        this.highWatermarkMoved = listener;
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
        synchronized (this) {
            partitions.put(partition.topicPartition(), partition);
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
                        if (partitions.isEmpty() && running) wait(IDLE_CHECK_MS);
                    }
                    continue;
                }
                fetchOnce();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!running) return;
                LOG.log(System.Logger.Level.WARNING, "Fetcher from broker " + leaderId + " failed", e);
                pause();
            }
        }
    }

    private void fetchOnce() throws InterruptedException {
        long now = System.nanoTime();
        delayed.keySet().retainAll(partitions.keySet());
        Map<TopicPartition, Partition> sent = new LinkedHashMap<>();
        Map<TopicPartition, FetchSessionHandler.PartitionState> wanted = new LinkedHashMap<>();
        for (Partition p : partitions.values()) {
            if (isDelayed(p, now)) continue;
            sent.put(p.topicPartition(), p);
            wanted.put(p.topicPartition(), config.state(p));
        }
        FetchSessionHandler.Fetch fetch = session.build(wanted);
        if (fetch.empty()) {
            // Every partition waits out its backoff: Kafka's fetcher then waits replica.fetch.backoff.ms, or until
            // a partition is added.
            pause();
            return;
        }
        // As Kafka's RemoteLeaderEndPoint: the leader parks the fetch up to replica.fetch.wait.max.ms while it has
        // less than replica.fetch.min.bytes of news, and answers at once when more comes.
        FetchRequest request = config.request(localBrokerId, fetch);
        FetchResponse response;
        try {
            response = (FetchResponse) client.sendAndReceive(leader, ApiKey.FETCH, FETCH_VERSION, request);
        } catch (IOException | RuntimeException e) {
            session.handleError(e);
            if (!running) return;
            LOG.log(System.Logger.Level.DEBUG, "Fetch from broker " + leaderId + " failed: " + e);
            // Kafka's fetcher takes every partition as in error: all wait out the backoff, and so does the thread.
            long until = System.nanoTime() + backoffNanos;
            for (Partition p : partitions.values()) delay(p, until);
            return;
        }
        if (!session.handleResponse(fetch, response)) {
            // A session error: the next fetch is a full one, sent at once as Kafka's fetcher does (a leader that
            // restarted and forgot the session costs one round trip); a full fetch that failed waits first.
            if (fetch.full()) pause();
            return;
        }
        long until = System.nanoTime() + backoffNanos;
        List<TopicPartition> newHighWatermarks = new ArrayList<>();
        for (FetchResponse.FetchableTopicResponse topic : response.responses) {
            for (FetchResponse.PartitionData data : topic.partitions) {
                TopicPartition tp = new TopicPartition(topic.topic, data.partitionIndex);
                Partition p = sent.get(tp);
                FetchSessionHandler.PartitionState asked = fetch.sessionPartitions().get(tp);
                // Dropped meanwhile (this broker leads it now, or it moved to another leader), or changed under
                // the fetch (truncated, a new epoch): the answer is not for it as it is now, as Kafka checks.
                if (p == null || asked == null || partitions.get(tp) != p || asked.fetchOffset() != p.logEndOffset()
                        || asked.currentLeaderEpoch() != p.leaderEpoch()) {
                    continue;
                }
                FollowerFetch.Outcome outcome;
                long highWatermarkBefore = p.highWatermark();
                try {
                    outcome = FollowerFetch.handle(p, leaderId, asked.currentLeaderEpoch(), data,
                            leaderOffsets);
                    if (p.highWatermark() != highWatermarkBefore) newHighWatermarks.add(tp);
                } catch (IOException | RuntimeException e) {
                    // Kafka's KafkaStorageException or unexpected error while processing: the partition fails. A
                    // fetcher being stopped may find its logs closed under it: nothing to report then.
                    if (!running) return;
                    LOG.log(System.Logger.Level.ERROR, "Cannot apply broker " + leaderId + "'s answer for " + tp, e);
                    outcome = FollowerFetch.Outcome.FAILED;
                }
                switch (outcome) {
                    case FETCH_ON -> { }
                    case DELAY -> delay(p, until);
                    case FAILED -> {
                        beforeFailing.accept(tp);
                        if (dropFailed(p, asked.currentLeaderEpoch())) {
                            delayed.remove(tp);
                            LOG.log(System.Logger.Level.WARNING, "{0} marked as failed: not fetched from broker {1} "
                                    + "until the controller names its leader again", tp, leaderId);
                        }
                    }
                }
            }
        }
        for (TopicPartition tp : newHighWatermarks) highWatermarkMoved.accept(tp);
    }

    /**
     * Drops a partition whose answer failed it at {@code requestEpoch}, unless the controller's LeaderAndIsr has
     * meanwhile given it a new epoch and added it again (Kafka's onPartitionFenced and addPartitions both hold the
     * fetcher's partitionMapLock for this). Judged and dropped under the lock {@link #add} takes: without it, a
     * LeaderAndIsr applied between the judgement and the drop was undone by the drop, and the follower never fetched
     * the partition again (its leader then waited on it for good, ReplicaFetchSessionsTest in CI).
     */
    private synchronized boolean dropFailed(Partition p, int requestEpoch) {
        if (p.leaderEpoch() != requestEpoch) return false;
        return partitions.remove(p.topicPartition(), p);
    }

    /**
     * For tests only: {@code hook} runs on the fetcher's thread once an answer has failed a partition and before the
     * partition is dropped, so a test can apply the controller's next LeaderAndIsr in between.
     */
    void beforeFailingForTests(java.util.function.Consumer<TopicPartition> hook) {
        this.beforeFailing = hook == null ? tp -> { } : hook;
    }

    private boolean isDelayed(Partition p, long now) {
        Delay d = delayed.get(p.topicPartition());
        if (d == null) return false;
        if (d.partition() == p && d.leaderEpoch() == p.leaderEpoch() && now - d.untilNanos() < 0) return true;
        delayed.remove(p.topicPartition());
        return false;
    }

    /** Kafka's delayPartitions: a partition already waiting keeps its own end. */
    private void delay(Partition p, long untilNanos) {
        if (isDelayed(p, System.nanoTime())) return;
        delayed.put(p.topicPartition(), new Delay(p, p.leaderEpoch(), untilNanos));
    }

    /** Waits replica.fetch.backoff.ms, or less if a partition is added or the fetcher stops. */
    private void pause() {
        try {
            synchronized (this) {
                if (running) java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, backoffNanos);
            }
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
        // Not interrupted, as Kafka's ReplicaFetcherThread (isInterruptible = false): an interrupt during an append or
        // a truncation would close the log's files under it (ClosedByInterruptException). Closing the client ends a
        // fetch under way, and the notify a pause.
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
