package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Writes a completing transaction's markers to the leader of each of its partitions (Kafka's
 * TransactionMarkerChannelManager): one queue per destination broker, so a slow or dead broker delays only its own
 * markers, and as Kafka's one WriteTxnMarkers request under way per destination (its NetworkClient's max.in.flight of
 * 1), carrying every marker queued for it meanwhile. No thread waits: markers for partitions this broker leads are
 * written in-process by the {@link TransactionMarkerWriter} on the coordinator's executor; the others go over the wire
 * as WriteTxnMarkers (v1, or v0 to a broker that serves no v1) through the non-blocking {@link InterBrokerClient} (request.timeout.ms, Kafka's reconnect
 * backoff of 50 ms), whose work thread handles the answer and sends the destination's next request.
 * Retriable failures (leader moved or unknown, ISR too small, timeout, connection lost, leader not live) are retried
 * after a backoff with the leader looked up again, as Kafka retries them (its unknown-broker queue, and the
 * re-enqueue of a disconnected request's markers); a partition whose topic is gone is skipped, as in Kafka; a fenced producer or
 * coordinator epoch, or a coordinator that lost the state partition, abandons the transaction's markers (the new
 * epoch's owner completes it). Once every partition has its marker the coordinator writes the Complete state.
 *
 * <p>The queues hold at most one entry per destination and transaction in its Prepare state, so they are bounded
 * by the transactional ids this broker coordinates.
 */
final class TransactionMarkerSender implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TransactionMarkerSender.class.getName());
    /** Kafka's retry backoff between attempts on a partition whose leader is unknown or failed the marker. */
    static final long RETRY_BACKOFF_MS = 100;
    /** Markers (transactions) sent to one broker in one WriteTxnMarkers request. */
    static final int MARKERS_PER_REQUEST_MAX = 100;
    /**
     * The WriteTxnMarkers versions sent, the newest a destination serves: v1 (what Kafka 2.8 and later send), v0 to
     * an older broker (Kafka's inter.broker.protocol.version below 2.8 picks it; the two differ only in encoding).
     */
    static final short WRITE_TXN_MARKERS_VERSION = 1;
    static final short WRITE_TXN_MARKERS_MIN_VERSION = 0;

    /** The markers of one completing transaction, and what is still to be written. */
    static final class MarkerJob {
        final String transactionalId;
        final long producerId;
        final short producerEpoch;
        final boolean commit;
        final int coordinatorEpoch;
        final int txnPartition;
        final TransactionMetadata.Transition complete;
        private final Set<TopicPartition> remaining;
        private boolean finished;

        MarkerJob(String transactionalId, long producerId, short producerEpoch, boolean commit, int coordinatorEpoch,
                  int txnPartition, Set<TopicPartition> partitions, TransactionMetadata.Transition complete) {
            this.transactionalId = transactionalId;
            this.producerId = producerId;
            this.producerEpoch = producerEpoch;
            this.commit = commit;
            this.coordinatorEpoch = coordinatorEpoch;
            this.txnPartition = txnPartition;
            this.complete = complete;
            this.remaining = new LinkedHashSet<>(partitions);
        }

        /** Marks a partition done; true when it was the last one (exactly once per job). */
        synchronized boolean done(TopicPartition tp) {
            remaining.remove(tp);
            if (finished || !remaining.isEmpty()) return false;
            finished = true;
            return true;
        }

        /** Stops the job; true unless it had already finished. */
        synchronized boolean abandon() {
            if (finished) return false;
            finished = true;
            return true;
        }

        synchronized boolean isFinished() {
            return finished;
        }
    }

    /** What the sender needs from the coordinator. */
    interface Coordinator {
        /** Whether the job's state partition is still coordinated here at the job's coordinator epoch. */
        boolean stillCoordinates(MarkerJob job);

        /** A partition got its marker (DescribeTransactions stops listing it). */
        void partitionCompleted(MarkerJob job, TopicPartition tp);

        /** Every partition got its marker: write the Complete state. */
        void allMarkersWritten(MarkerJob job);
    }

    private record Request(MarkerJob job, Set<TopicPartition> partitions) {
    }

    private final int localBrokerId;
    /** How WriteTxnMarkers reach the partition leaders: the inter-broker listener and its security. */
    private final InterBrokerSecurity interBroker;
    private final ClusterMetadata metadata;
    private final TransactionMarkerWriter localWriter;
    private final Coordinator coordinator;
    private final ScheduledExecutorService retries;
    private final Map<Integer, Destination> destinations = new HashMap<>();
    private final InterBrokerClient client;
    private volatile boolean closed;

    TransactionMarkerSender(int localBrokerId, ClusterMetadata metadata, TransactionMarkerWriter localWriter,
                            Coordinator coordinator, ScheduledExecutorService retries, InterBrokerSecurity interBroker,
                            InterBrokerTimeouts timeouts) {
        this.interBroker = interBroker;
        this.localBrokerId = localBrokerId;
        this.metadata = metadata;
        this.localWriter = localWriter;
        this.coordinator = coordinator;
        this.retries = retries;
        this.client = new InterBrokerClient(timeouts.setUp(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-txn-marker-sender", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                TransactionConfig.REQUEST_TIMEOUT_MS)), interBroker);
    }

    /** Starts writing the job's markers; returns at once. */
    void send(MarkerJob job) {
        if (job.remaining.isEmpty()) {
            if (job.abandon()) coordinator.allMarkersWritten(job);
            return;
        }
        enqueue(job, Set.copyOf(job.remaining));
    }

    private void enqueue(MarkerJob job, Set<TopicPartition> partitions) {
        if (closed || job.isFinished()) return;
        if (!coordinator.stillCoordinates(job)) {
            job.abandon();
            return;
        }
        Map<Integer, Set<TopicPartition>> byLeader = new LinkedHashMap<>();
        Set<TopicPartition> retry = new LinkedHashSet<>();
        for (TopicPartition tp : partitions) {
            TopicInfo topic = metadata.topic(tp.topic());
            if (topic == null || !topic.replicas().containsKey(tp.partition())) {
                // The topic was deleted: nobody will read this partition again (Kafka skips it too).
                LOG.log(System.Logger.Level.INFO, "Skipping the {0} marker of {1} for {2}: the partition is gone",
                        job.commit ? "COMMIT" : "ABORT", job.transactionalId, tp);
                completed(job, tp);
                continue;
            }
            PartitionState state = topic.states().get(tp.partition());
            if (state == null || state.leader() < 0) {
                retry.add(tp);
            } else {
                byLeader.computeIfAbsent(state.leader(), k -> new LinkedHashSet<>()).add(tp);
            }
        }
        for (Map.Entry<Integer, Set<TopicPartition>> e : byLeader.entrySet()) {
            Destination d = destination(e.getKey());
            d.queue.add(new Request(job, e.getValue()));
            d.kick();
        }
        if (!retry.isEmpty()) retryLater(job, retry);
    }

    private void retryLater(MarkerJob job, Set<TopicPartition> partitions) {
        if (closed) return;
        try {
            retries.schedule(() -> enqueue(job, partitions), RETRY_BACKOFF_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Shutting down: the next coordinator of this state partition completes the transaction.
        }
    }

    private void completed(MarkerJob job, TopicPartition tp) {
        coordinator.partitionCompleted(job, tp);
        if (job.done(tp)) coordinator.allMarkersWritten(job);
    }

    private synchronized Destination destination(int brokerId) {
        Destination d = destinations.get(brokerId);
        if (d == null) {
            d = new Destination(brokerId);
            destinations.put(brokerId, d);
        }
        return d;
    }

    @Override
    public void close() {
        closed = true;
        List<Destination> all;
        synchronized (this) {
            all = new ArrayList<>(destinations.values());
            destinations.clear();
        }
        for (Destination d : all) d.queue.clear();
        // Requests under way fail; their markers are not retried (closed): the next coordinator completes them.
        client.close();
    }

    /** One destination broker: its queue and whether its one request is under way. */
    private final class Destination {
        final int brokerId;
        /** Bounded by the transactions in their Prepare state (see the class comment). */
        final ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>();
        /** Guarded by this: a request to this destination is under way; what is queued waits for its answer. */
        private boolean busy;

        Destination(int brokerId) {
            this.brokerId = brokerId;
        }

        /** Starts a request if none is under way (called after queueing). */
        void kick() {
            synchronized (this) {
                if (busy) return;
                busy = true;
            }
            next();
        }

        /**
         * Sends what is queued (up to {@link #MARKERS_PER_REQUEST_MAX} markers, one per producer) as one request;
         * called again when its answer is handled, and stops (not busy) once nothing is queued.
         */
        private void next() {
            while (true) {
                if (closed) return;
                List<Request> batch = new ArrayList<>();
                List<Request> later = new ArrayList<>();
                Map<Long, Request> byProducer = new LinkedHashMap<>();
                while (batch.size() + later.size() < MARKERS_PER_REQUEST_MAX) {
                    Request next = queue.poll();
                    if (next == null) break;
                    batch.add(next);
                }
                for (Request r : batch) {
                    if (r.job().isFinished()) continue;
                    if (!coordinator.stillCoordinates(r.job())) {
                        r.job().abandon();
                    } else if (byProducer.containsKey(r.job().producerId)) {
                        // Answers are matched by producer id: a second marker of the same producer waits a round.
                        later.add(r);
                    } else {
                        byProducer.put(r.job().producerId, r);
                    }
                }
                queue.addAll(later);
                if (!byProducer.isEmpty()) {
                    sendAndHandle(byProducer);
                    return;
                }
                synchronized (this) {
                    if (queue.isEmpty()) {
                        busy = false;
                        return;
                    }
                }
            }
        }

        private void sendAndHandle(Map<Long, Request> byProducer) {
            WriteTxnMarkersRequest request = new WriteTxnMarkersRequest();
            for (Request r : byProducer.values()) {
                WriteTxnMarkersRequest.WritableTxnMarker marker = new WriteTxnMarkersRequest.WritableTxnMarker();
                marker.producerId = r.job().producerId;
                marker.producerEpoch = r.job().producerEpoch;
                marker.transactionResult = r.job().commit;
                marker.coordinatorEpoch = r.job().coordinatorEpoch;
                Map<String, WriteTxnMarkersRequest.WritableTxnMarkerTopic> topics = new LinkedHashMap<>();
                for (TopicPartition tp : r.partitions()) {
                    topics.computeIfAbsent(tp.topic(), name -> {
                        WriteTxnMarkersRequest.WritableTxnMarkerTopic t = new WriteTxnMarkersRequest.WritableTxnMarkerTopic();
                        t.name = name;
                        marker.topics.add(t);
                        return t;
                    }).partitionIndexes.add(tp.partition());
                }
                request.markers.add(marker);
            }
            CompletableFuture<WriteTxnMarkersResponse> answer = brokerId == localBrokerId ? writeLocally(request)
                    : writeRemotely(request);
            answer.whenComplete((response, e) -> {
                try {
                    if (unsupported(e)) {
                        // The destination serves no WriteTxnMarkers version: as an UNSUPPORTED_VERSION answer for
                        // each of its partitions (which Kafka's completion handler skips: no producer could have
                        // written transactional data there either).
                        for (Request r : byProducer.values()) handle(r, everyPartition(r, UNSUPPORTED_VERSION));
                        return;
                    }
                    if (e != null) {
                        LOG.log(System.Logger.Level.INFO, "Transaction markers to broker {0} failed, retrying: {1}",
                                brokerId, e.toString());
                        for (Request r : byProducer.values()) retryLater(r.job(), r.partitions());
                        return;
                    }
                    Map<Long, WriteTxnMarkersResponse.WritableTxnMarkerResult> results = new HashMap<>();
                    for (WriteTxnMarkersResponse.WritableTxnMarkerResult result : response.markers) {
                        results.put(result.producerId, result);
                    }
                    for (Request r : byProducer.values()) handle(r, results.get(r.job().producerId));
                } finally {
                    next();
                }
            });
        }

        private void handle(Request r, WriteTxnMarkersResponse.WritableTxnMarkerResult result) {
            MarkerJob job = r.job();
            Map<TopicPartition, Short> errors = new HashMap<>();
            if (result != null) {
                for (WriteTxnMarkersResponse.WritableTxnMarkerTopicResult topic : result.topics) {
                    for (WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult p : topic.partitions) {
                        errors.put(new TopicPartition(topic.name, p.partitionIndex), p.errorCode);
                    }
                }
            }
            Set<TopicPartition> retry = new LinkedHashSet<>();
            for (TopicPartition tp : r.partitions()) {
                Short error = errors.get(tp);
                if (error == null) {
                    retry.add(tp);
                } else if (error == NONE) {
                    completed(job, tp);
                } else if (error == INVALID_PRODUCER_EPOCH || error == TRANSACTION_COORDINATOR_FENCED) {
                    // A newer producer epoch or coordinator owns this transaction now; it completes it.
                    LOG.log(System.Logger.Level.INFO, "Abandoning the markers of {0}: {1} answered {2}",
                            job.transactionalId, tp, error);
                    job.abandon();
                    return;
                } else if (error == UNSUPPORTED_FOR_MESSAGE_FORMAT || error == UNSUPPORTED_VERSION) {
                    LOG.log(System.Logger.Level.WARNING, "Skipping the marker of {0} for {1}: {2}",
                            job.transactionalId, tp, error);
                    completed(job, tp);
                } else {
                    if (error == CORRUPT_MESSAGE || error == MESSAGE_TOO_LARGE || error == RECORD_LIST_TOO_LARGE
                            || error == INVALID_REQUIRED_ACKS) {
                        LOG.log(System.Logger.Level.ERROR, "Unexpected error {0} writing the marker of {1} to {2}; "
                                + "retrying", error, job.transactionalId, tp);
                    }
                    retry.add(tp);
                }
            }
            if (!retry.isEmpty()) retryLater(job, retry);
        }

        /** On the coordinator's executor (the writer appends to the log); its answer is handled there too. */
        private CompletableFuture<WriteTxnMarkersResponse> writeLocally(WriteTxnMarkersRequest request) {
            CompletableFuture<WriteTxnMarkersResponse> answer = new CompletableFuture<>();
            try {
                retries.execute(() -> localWriter.write(request, TransactionConfig.REQUEST_TIMEOUT_MS,
                        response -> retries.execute(() -> answer.complete(response))));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                answer.completeExceptionally(e);
            }
            // The writer answers REQUEST_TIMED_OUT itself after its timeout; this only guards against a lost answer.
            return answer.orTimeout(TransactionConfig.REQUEST_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
        }

        /** Over the wire; the answer is handled on the inter-broker client's work thread. */
        private CompletableFuture<WriteTxnMarkersResponse> writeRemotely(WriteTxnMarkersRequest request) {
            BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == brokerId)
                    .findFirst().orElse(null);
            if (target == null) {
                return CompletableFuture.failedFuture(new java.io.IOException("broker " + brokerId + " is not live"));
            }
            return client.send(target, ApiKey.WRITE_TXN_MARKERS, WRITE_TXN_MARKERS_MIN_VERSION,
                            WRITE_TXN_MARKERS_VERSION, request)
                    .thenApply(m -> (WriteTxnMarkersResponse) m);
        }
    }

    private static boolean unsupported(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterBrokerClient.UnsupportedVersion) return true;
        }
        return false;
    }

    /** A marker's result with {@code error} for each of the request's partitions. */
    private static WriteTxnMarkersResponse.WritableTxnMarkerResult everyPartition(Request r, short error) {
        WriteTxnMarkersResponse.WritableTxnMarkerResult result = new WriteTxnMarkersResponse.WritableTxnMarkerResult();
        result.producerId = r.job().producerId;
        Map<String, WriteTxnMarkersResponse.WritableTxnMarkerTopicResult> topics = new LinkedHashMap<>();
        for (TopicPartition tp : r.partitions()) {
            WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult p =
                    new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult();
            p.partitionIndex = tp.partition();
            p.errorCode = error;
            topics.computeIfAbsent(tp.topic(), name -> {
                WriteTxnMarkersResponse.WritableTxnMarkerTopicResult t =
                        new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult();
                t.name = name;
                result.topics.add(t);
                return t;
            }).partitions.add(p);
        }
        return result;
    }

    /** For tests and diagnostics: requests waiting, over all destinations. */
    synchronized int queued() {
        int n = 0;
        for (Destination d : destinations.values()) n += d.queue.size();
        return n;
    }
}
