package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The implicit adds gathered per transaction coordinator, as Kafka's AddPartitionsToTxnManager gathers them (its
 * nodesToTransactions and inflightNodes) whether the coordinator is another broker or this one (Kafka's manager sends
 * to its own broker over the wire like to any other): one AddPartitionsToTxn under way per coordinator, the adds
 * arriving meanwhile sent together in the next, each transactional id once, each add answered from its transaction's
 * part of the answer. This broker's own coordinator is asked in-process, with the same batch request. A second add of
 * a transactional id already waiting replaces it as Kafka's addTxnData: the waiting one is answered
 * INVALID_PRODUCER_EPOCH when the new one has a newer epoch (it is fenced), NETWORK_EXCEPTION at the same epoch (a
 * retry, which the producer retries again); an add with an older epoch than the waiting one is answered
 * INVALID_PRODUCER_EPOCH at once. At most {@value #QUEUED_MAX} transactions wait per coordinator; past it
 * NETWORK_EXCEPTION, which producers retry. No thread waits: requests go out through {@link Sender}, and the next one
 * for a coordinator when the answer to the last arrives.
 */
final class AddPartitionsBatches {
    private static final System.Logger LOG = System.getLogger(AddPartitionsBatches.class.getName());
    /** Transactions waiting for one coordinator's next request (each transactional id once). */
    static final int QUEUED_MAX = 1_000;

    /**
     * Sends one AddPartitionsToTxn to a coordinator, {@code target}, or to this broker's own when it is null; the
     * future fails when it cannot be sent or answered.
     */
    interface Sender {
        CompletableFuture<ApiMessage> send(BrokerRegistration target, AddPartitionsToTxnRequest request);
    }

    private final Sender sender;
    /** Guards {@link #waiting}, {@link #inFlight} and {@link #closed}; never held while a callback runs. */
    private final Object lock = new Object();
    /** Per coordinator broker id, the adds for its next request. */
    private final Map<Integer, Batch> waiting = new HashMap<>();
    /** The coordinators with a request under way. */
    private final Set<Integer> inFlight = new HashSet<>();
    private boolean closed;
    private final AtomicLong remoteAdds = new AtomicLong();
    private final AtomicLong requestsSent = new AtomicLong();
    private final AtomicLong localAdds = new AtomicLong();
    private final AtomicLong localCalls = new AtomicLong();

    AddPartitionsBatches(Sender sender) {
        this.sender = sender;
    }

    /** One transaction's add waiting for its coordinator, with the produce request's callback. */
    private record PendingAdd(long producerId, short producerEpoch, boolean verifyOnly, Set<TopicPartition> partitions,
                              Consumer<Map<TopicPartition, Short>> callback) {
    }

    /** The adds gathered for one coordinator's next request (Kafka's TransactionDataAndCallbacks). */
    private static final class Batch {
        /** The coordinator, null for this broker's own. */
        BrokerRegistration target;
        final Map<String, PendingAdd> transactions = new LinkedHashMap<>();
    }

    /**
     * Adds {@code partitions} to the transaction at broker {@code leader}, the coordinator, reached at {@code target}
     * (null when it is this broker); {@code callback} gets an error per partition (NONE when added), on whichever
     * thread the answer arrives. With {@code verifyOnly} the partitions are only checked to be in the transaction
     * (Kafka's verification of KIP-890 part 1, sent in the same batches as Kafka's manager sends both).
     */
    void add(int leader, BrokerRegistration target, String transactionalId, long producerId, short producerEpoch,
             boolean verifyOnly, Set<TopicPartition> partitions, Consumer<Map<TopicPartition, Short>> callback) {
        (target == null ? localAdds : remoteAdds).incrementAndGet();
        List<Runnable> answers = new ArrayList<>();
        Batch toSend = null;
        synchronized (lock) {
            if (closed) {
                answers.add(() -> callback.accept(all(partitions, NETWORK_EXCEPTION)));
            } else {
                Batch batch = waiting.computeIfAbsent(leader, id -> new Batch());
                batch.target = target;
                PendingAdd existing = batch.transactions.get(transactionalId);
                if (existing != null && existing.producerEpoch() > producerEpoch) {
                    answers.add(() -> callback.accept(all(partitions, INVALID_PRODUCER_EPOCH)));
                } else {
                    if (existing != null) {
                        batch.transactions.remove(transactionalId);
                        short error = existing.producerEpoch() < producerEpoch ? INVALID_PRODUCER_EPOCH
                                : NETWORK_EXCEPTION;
                        answers.add(() -> existing.callback().accept(all(existing.partitions(), error)));
                    }
                    if (batch.transactions.size() >= QUEUED_MAX) {
                        answers.add(() -> callback.accept(all(partitions, NETWORK_EXCEPTION)));
                    } else {
                        batch.transactions.put(transactionalId, new PendingAdd(producerId, producerEpoch,
                                verifyOnly, partitions, callback));
                    }
                }
                toSend = takeIfIdle(leader);
            }
        }
        answers.forEach(AddPartitionsBatches::answer);
        if (toSend != null) send(leader, toSend);
    }

    /** The coordinator's waiting adds when no request to it is under way (it is then marked under way). */
    private Batch takeIfIdle(int leader) {
        Batch batch = waiting.get(leader);
        if (inFlight.contains(leader) || batch == null || batch.transactions.isEmpty()) return null;
        waiting.remove(leader);
        inFlight.add(leader);
        return batch;
    }

    private void send(int leader, Batch batch) {
        (batch.target == null ? localCalls : requestsSent).incrementAndGet();
        sender.send(batch.target, request(batch)).whenComplete((answer, e) -> {
            if (e != null && unsupportedVersion(e)) {
                // Kafka's AddPartitionsToTxnManager on a versionMismatch: a coordinator that cannot serve a broker's
                // batch (an Apache broker before 3.5) cannot verify either, and the produce goes on unverified.
                LOG.log(System.Logger.Level.WARNING, "AddPartitionsToTxn to broker " + leader + " is not served "
                        + "there (" + e.getMessage() + "): verification is skipped, the appends go on");
                batch.transactions.values().forEach(add -> answer(() -> add.callback()
                        .accept(all(add.partitions(), NONE))));
            } else if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "AddPartitionsToTxn to " + (batch.target == null
                        ? "this broker's coordinator" : "broker " + leader) + " failed: " + e);
                short error = ImplicitPartitionAdder.failureError(e);
                batch.transactions.values().forEach(add -> answer(() -> add.callback()
                        .accept(all(add.partitions(), error))));
            } else {
                answerAll(batch, (AddPartitionsToTxnResponse) answer);
            }
            // As Kafka's handler: the answers first, then the coordinator's next request.
            Batch next;
            synchronized (lock) {
                inFlight.remove(leader);
                next = closed ? null : takeIfIdle(leader);
            }
            if (next != null) send(leader, next);
        });
    }

    private static boolean unsupportedVersion(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterBrokerClient.UnsupportedVersion) return true;
        }
        return false;
    }

    /** Adds sent for another broker's coordinator so far (each one request's partitions of one transaction). */
    long remoteAdds() {
        return remoteAdds.get();
    }

    /** AddPartitionsToTxn requests sent to other brokers for them. */
    long requestsSent() {
        return requestsSent.get();
    }

    /** Adds for this broker's own coordinator so far (each one request's partitions of one transaction). */
    long localAdds() {
        return localAdds.get();
    }

    /** Batches handed to this broker's own coordinator for them. */
    long localCalls() {
        return localCalls.get();
    }

    /** Runs one produce request's callback; a failing one must not keep the others of its batch unanswered. */
    private static void answer(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "an implicit AddPartitionsToTxn's callback failed", e);
        }
    }

    private static AddPartitionsToTxnRequest request(Batch batch) {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        for (Map.Entry<String, PendingAdd> e : batch.transactions.entrySet()) {
            AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn =
                    new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction();
            txn.transactionalId = e.getKey();
            txn.producerId = e.getValue().producerId();
            txn.producerEpoch = e.getValue().producerEpoch();
            txn.verifyOnly = e.getValue().verifyOnly();
            Map<String, AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : e.getValue().partitions()) {
                byTopic.computeIfAbsent(tp.topic(), name -> {
                    AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t =
                            new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
                    t.name = name;
                    txn.topics.add(t);
                    return t;
                }).partitions.add(tp.partition());
            }
            request.transactions.add(txn);
        }
        return request;
    }

    /** Answers each transaction of the batch from its part of the coordinator's answer. */
    private static void answerAll(Batch batch, AddPartitionsToTxnResponse response) {
        Map<String, AddPartitionsToTxnResponse.AddPartitionsToTxnResult> byId = new HashMap<>();
        for (AddPartitionsToTxnResponse.AddPartitionsToTxnResult r : response.resultsByTransaction) {
            byId.put(r.transactionalId, r);
        }
        for (Map.Entry<String, PendingAdd> e : batch.transactions.entrySet()) {
            PendingAdd add = e.getValue();
            answer(() -> add.callback().accept(results(add.partitions(), response.errorCode, byId.get(e.getKey()))));
        }
    }

    /**
     * One transaction's errors: the request's own error for every partition, else the partitions' errors (a partition
     * the answer leaves out was added, as Kafka reads it). A transaction the answer leaves out altogether (Kafka's
     * manager would never answer its producer) is NETWORK_EXCEPTION, so the producer retries rather than appending
     * what was not added.
     */
    private static Map<TopicPartition, Short> results(Set<TopicPartition> partitions, short requestError,
                                                      AddPartitionsToTxnResponse.AddPartitionsToTxnResult result) {
        if (requestError != NONE) {
            // The producer must not see CLUSTER_AUTHORIZATION_FAILED: the add did not complete (Kafka's words).
            return all(partitions, requestError == CLUSTER_AUTHORIZATION_FAILED ? INVALID_TXN_STATE : requestError);
        }
        if (result == null) return all(partitions, NETWORK_EXCEPTION);
        Map<TopicPartition, Short> errors = all(partitions, NONE);
        for (AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t : result.topicResults) {
            for (AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult p : t.resultsByPartition) {
                TopicPartition tp = new TopicPartition(t.name, p.partitionIndex);
                if (errors.containsKey(tp)) errors.put(tp, forProducer(p.partitionErrorCode));
            }
        }
        return errors;
    }

    /** Producers expect INVALID_PRODUCER_EPOCH rather than PRODUCER_FENCED from a produce (Kafka's mapping). */
    static short forProducer(short error) {
        return error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : error;
    }

    static Map<TopicPartition, Short> all(Set<TopicPartition> partitions, short error) {
        Map<TopicPartition, Short> result = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) result.put(tp, error);
        return result;
    }

    /** Answers the adds waiting (NETWORK_EXCEPTION) and sends no more; those under way are answered by the sender. */
    void close() {
        List<Batch> unsent;
        synchronized (lock) {
            closed = true;
            unsent = new ArrayList<>(waiting.values());
            waiting.clear();
        }
        for (Batch batch : unsent) {
            batch.transactions.values().forEach(add -> answer(() -> add.callback()
                    .accept(all(add.partitions(), NETWORK_EXCEPTION))));
        }
    }
}
