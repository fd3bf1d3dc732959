package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Adds partitions to a transaction of transaction version 2 on the producer's behalf (Kafka's
 * AddPartitionsToTxnManager with the addPartition operation): a Produce v12+ or TxnOffsetCommit v5+ reaching a
 * partition the producer's transaction does not hold yet. The transaction coordinator is asked in-process when this
 * broker leads the transactional id's {@code __transaction_state} partition, else over the wire with
 * AddPartitionsToTxn v5 (a broker's batch, verifyOnly false) to that partition's leader.
 *
 * <p>As Kafka's manager, the adds for one coordinator are gathered: one AddPartitionsToTxn is under way per
 * coordinator, and the adds arriving meanwhile wait and go together in the next one, each transactional id once, each
 * produce request answered from its transaction's part of the answer. A second add of a transactional id already
 * waiting replaces it as Kafka's addTxnData: the waiting one is answered INVALID_PRODUCER_EPOCH when the new one has
 * a newer epoch (it is fenced), NETWORK_EXCEPTION at the same epoch (a retry, which the producer retries again); an
 * add with an older epoch than the waiting one is answered INVALID_PRODUCER_EPOCH at once. At most
 * {@value #QUEUED_MAX} transactions wait per coordinator; past it NETWORK_EXCEPTION, which producers retry.
 *
 * <p>The answer is per partition, mapped as Kafka maps it for the producer: PRODUCER_FENCED becomes
 * INVALID_PRODUCER_EPOCH, a refused inter-broker request (CLUSTER_AUTHORIZATION_FAILED) INVALID_TXN_STATE, a lost or
 * timed-out connection NETWORK_EXCEPTION, a failed authentication to the coordinator its Kafka error
 * ({@link #failureError}), and, as Kafka's getTransactionCoordinator, a coordinator that is not a live broker
 * COORDINATOR_NOT_AVAILABLE at once. Requests go through the non-blocking {@link InterBrokerClient}, so no thread
 * waits and a slow coordinator holds up only its own adds.
 */
public final class ImplicitPartitionAdder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ImplicitPartitionAdder.class.getName());
    /** Kafka's AddPartitionsToTxnRequest version for the implicit add of transaction version 2. */
    static final short ADD_PARTITIONS_VERSION = 5;
    /** Transactions waiting for one coordinator's next request (each transactional id once). */
    static final int QUEUED_MAX = 1_000;

    private final int localBrokerId;
    private final TransactionCoordinator coordinator;
    private final ClusterMetadata metadata;
    private final InterBrokerClient client;
    /** Guards {@link #waiting}, {@link #inFlight} and {@link #closed}; never held while a callback runs. */
    private final Object lock = new Object();
    /** Per coordinator broker id, the adds for its next request. */
    private final Map<Integer, Batch> waiting = new HashMap<>();
    /** The coordinators with a request under way. */
    private final Set<Integer> inFlight = new HashSet<>();
    private boolean closed;
    private final AtomicLong remoteAdds = new AtomicLong();
    private final AtomicLong requestsSent = new AtomicLong();

    ImplicitPartitionAdder(int localBrokerId, TransactionCoordinator coordinator, ClusterMetadata metadata,
                           InterBrokerSecurity interBroker) {
        this.localBrokerId = localBrokerId;
        this.coordinator = coordinator;
        this.metadata = metadata;
        // One request per coordinator at a time is this class's doing; the client never queues more than one.
        this.client = new InterBrokerClient(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-txn-add-partitions", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                TransactionConfig.REQUEST_TIMEOUT_MS), interBroker);
    }

    /** One transaction's add waiting for its coordinator, with the produce request's callback. */
    private record PendingAdd(long producerId, short producerEpoch, Set<TopicPartition> partitions,
                              Consumer<Map<TopicPartition, Short>> callback) {
    }

    /** The adds gathered for one coordinator's next request (Kafka's TransactionDataAndCallbacks). */
    private static final class Batch {
        BrokerRegistration target;
        final Map<String, PendingAdd> transactions = new LinkedHashMap<>();
    }

    /**
     * Adds {@code partitions} to the transaction; {@code callback} gets an error per partition (NONE when added),
     * on whichever thread the answer arrives.
     */
    public void add(String transactionalId, long producerId, short producerEpoch, Set<TopicPartition> partitions,
                    Consumer<Map<TopicPartition, Short>> callback) {
        int leader = stateLeader(transactionalId);
        if (leader < 0 || leader == localBrokerId) {
            coordinator.handleAddPartitions(transactionalId, producerId, producerEpoch, partitions,
                    Features.TRANSACTION_VERSION_2, error -> callback.accept(all(partitions, forProducer(error))));
            return;
        }
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == leader)
                .findFirst().orElse(null);
        if (target == null) {
            callback.accept(all(partitions, COORDINATOR_NOT_AVAILABLE));
            return;
        }
        remoteAdds.incrementAndGet();
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
                                partitions, callback));
                    }
                }
                toSend = takeIfIdle(leader);
            }
        }
        answers.forEach(ImplicitPartitionAdder::answer);
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
        requestsSent.incrementAndGet();
        client.send(batch.target, ApiKey.ADD_PARTITIONS_TO_TXN, ADD_PARTITIONS_VERSION, request(batch))
                .whenComplete((answer, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.WARNING, "AddPartitionsToTxn to broker " + leader + " failed: "
                                + e);
                        short error = failureError(e);
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

    /** Adds sent for another broker's coordinator so far (each one request's partitions of one transaction). */
    public long remoteAdds() {
        return remoteAdds.get();
    }

    /** AddPartitionsToTxn requests sent to other brokers for them. */
    public long requestsSent() {
        return requestsSent.get();
    }

    /** Runs one produce request's callback; a failing one must not keep the others of its batch unanswered. */
    private static void answer(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "an implicit AddPartitionsToTxn's callback failed", e);
        }
    }

    /**
     * The error a failed request to the coordinator gets, as Kafka's AddPartitionsToTxnManager: an authentication
     * failure its Kafka error ({@code Errors.forException}: SASL_AUTHENTICATION_FAILED and the like, INVALID_CONFIG
     * for TLS), a lost, refused or timed-out connection NETWORK_EXCEPTION.
     */
    static short failureError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterBrokerClient.AuthenticationFailure auth) return auth.error();
        }
        return NETWORK_EXCEPTION;
    }

    /** The broker leading the id's state partition, or -1 when unknown (the local coordinator then answers). */
    private int stateLeader(String transactionalId) {
        TopicInfo topic = metadata.topic(TopicNames.TRANSACTION_STATE);
        if (topic == null) return -1;
        PartitionState state = topic.states().get(coordinator.partitionFor(transactionalId));
        return state == null ? -1 : state.leader();
    }

    private static AddPartitionsToTxnRequest request(Batch batch) {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        for (Map.Entry<String, PendingAdd> e : batch.transactions.entrySet()) {
            AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn =
                    new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction();
            txn.transactionalId = e.getKey();
            txn.producerId = e.getValue().producerId();
            txn.producerEpoch = e.getValue().producerEpoch();
            txn.verifyOnly = false;
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
    private static short forProducer(short error) {
        return error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : error;
    }

    private static Map<TopicPartition, Short> all(Set<TopicPartition> partitions, short error) {
        Map<TopicPartition, Short> result = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) result.put(tp, error);
        return result;
    }

    /** Fails the adds under way or waiting (NETWORK_EXCEPTION) and closes the connections. */
    @Override
    public void close() {
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
        client.close();
    }
}
