package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Adds partitions to a transaction of transaction version 2 on the producer's behalf (Kafka's
 * AddPartitionsToTxnManager with the addPartition operation): a Produce v12+ or TxnOffsetCommit v5+ reaching a
 * partition the producer's transaction does not hold yet. The adds for one coordinator are gathered into one
 * AddPartitionsToTxn v5 (a broker's batch, verifyOnly false) at a time as Kafka's manager does
 * ({@link AddPartitionsBatches}), whether this broker or another leads the transactional id's
 * {@code __transaction_state} partition: this broker's own coordinator is handed the batch in-process
 * ({@link #addLocally}), another's is sent it over the wire.
 *
 * <p>The answer is per partition, mapped as Kafka maps it for the producer: PRODUCER_FENCED becomes
 * INVALID_PRODUCER_EPOCH, a refused inter-broker request (CLUSTER_AUTHORIZATION_FAILED) INVALID_TXN_STATE, a lost or
 * timed-out connection NETWORK_EXCEPTION, a failed authentication to the coordinator its Kafka error
 * ({@link #failureError}), and, as Kafka's getTransactionCoordinator, a state partition without a leader (or no
 * {@code __transaction_state} at all) or a coordinator that is not a live broker COORDINATOR_NOT_AVAILABLE at once.
 * The same batches carry {@link #verify} checks (verifyOnly), as Kafka's manager carries both. Requests go through
 * the non-blocking {@link InterBrokerClient}, so no thread waits and a slow coordinator holds up only its own adds.
 */
public final class ImplicitPartitionAdder implements AutoCloseable {
    /** Kafka's AddPartitionsToTxnRequest version for the implicit add of transaction version 2. */
    static final short ADD_PARTITIONS_VERSION = 5;
    /**
     * The first version a broker's batch may go at (KIP-890 part 1's verifyOnly batches): Kafka's
     * AddPartitionsToTxnRequest.Builder.forBroker sends v4 up to its latest, so an Apache 3.5-3.9 coordinator (v4 at
     * most) is asked at v4, and one without v4 is not asked at all (see {@link AddPartitionsBatches}).
     */
    static final short FIRST_BATCH_VERSION = 4;

    private final int localBrokerId;
    private final TransactionCoordinator coordinator;
    private final ClusterMetadata metadata;
    private final InterBrokerClient client;
    private final AddPartitionsBatches batches;

    ImplicitPartitionAdder(int localBrokerId, TransactionCoordinator coordinator, ClusterMetadata metadata,
                           InterBrokerSecurity interBroker, InterBrokerTimeouts timeouts) {
        this.localBrokerId = localBrokerId;
        this.coordinator = coordinator;
        this.metadata = metadata;
        // One request per coordinator at a time is the batches' doing; the client never queues more than one.
        this.client = new InterBrokerClient(timeouts.setUp(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-txn-add-partitions", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                TransactionConfig.REQUEST_TIMEOUT_MS)), interBroker);
        this.batches = new AddPartitionsBatches((target, request) -> target == null ? addLocally(request)
                : sendToCoordinator(client, target, request));
    }

    /** One batch to another broker's coordinator, at the highest version from v4 to v5 it serves. */
    static CompletableFuture<ApiMessage> sendToCoordinator(InterBrokerClient client, BrokerRegistration target,
                                                           AddPartitionsToTxnRequest request) {
        return client.send(target, ApiKey.ADD_PARTITIONS_TO_TXN, FIRST_BATCH_VERSION, ADD_PARTITIONS_VERSION, request);
    }

    /**
     * Adds {@code partitions} to the transaction; {@code callback} gets an error per partition (NONE when added),
     * on whichever thread the answer arrives.
     */
    public void add(String transactionalId, long producerId, short producerEpoch, Set<TopicPartition> partitions,
                    Consumer<Map<TopicPartition, Short>> callback) {
        send(transactionalId, producerId, producerEpoch, false, partitions, callback);
    }

    /**
     * Asks the coordinator whether {@code partitions} are in the producer's transaction at its epoch
     * (AddPartitionsToTxn with verifyOnly, Kafka's verification of KIP-890 part 1, as its group coordinator asks it
     * before a TxnOffsetCommit before v5 writes): per partition NONE when in it, TRANSACTION_ABORTABLE when not, or the
     * coordinator's error (INVALID_PRODUCER_ID_MAPPING for a producer it does not know, PRODUCER_FENCED already
     * mapped to INVALID_PRODUCER_EPOCH, ...).
     */
    public void verify(String transactionalId, long producerId, short producerEpoch, Set<TopicPartition> partitions,
                       Consumer<Map<TopicPartition, Short>> callback) {
        send(transactionalId, producerId, producerEpoch, true, partitions, callback);
    }

    private void send(String transactionalId, long producerId, short producerEpoch, boolean verifyOnly,
                      Set<TopicPartition> partitions, Consumer<Map<TopicPartition, Short>> callback) {
        int leader = stateLeader(transactionalId);
        if (leader < 0) {
            // Kafka's getTransactionCoordinator: no state partition, or one without a leader, has no coordinator to
            // ask (a broker before any FindCoordinator for transactions has no __transaction_state at all).
            callback.accept(AddPartitionsBatches.all(partitions, COORDINATOR_NOT_AVAILABLE));
            return;
        }
        if (leader == localBrokerId) {
            batches.add(localBrokerId, null, transactionalId, producerId, producerEpoch, verifyOnly, partitions,
                    callback);
            return;
        }
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == leader)
                .findFirst().orElse(null);
        if (target == null) {
            callback.accept(AddPartitionsBatches.all(partitions, COORDINATOR_NOT_AVAILABLE));
            return;
        }
        batches.add(leader, target, transactionalId, producerId, producerEpoch, verifyOnly, partitions, callback);
    }

    /** Adds sent for another broker's coordinator so far (each one request's partitions of one transaction). */
    public long remoteAdds() {
        return batches.remoteAdds();
    }

    /** AddPartitionsToTxn requests sent to other brokers for them. */
    public long requestsSent() {
        return batches.requestsSent();
    }

    /** Adds for this broker's own coordinator so far (each one request's partitions of one transaction). */
    public long localAdds() {
        return batches.localAdds();
    }

    /** Batches of them handed to this broker's own coordinator. */
    public long localCalls() {
        return batches.localCalls();
    }

    /**
     * One batch for this broker's own coordinator, answered as the AddPartitionsToTxn handler answers a broker's v5
     * batch: each transaction added with transaction version 2 (its own state-log write, as Kafka's coordinator writes
     * each transactional id's record), the answer complete once every transaction's is. The topics are not checked
     * again: the produce's own leader found them.
     */
    private CompletableFuture<ApiMessage> addLocally(AddPartitionsToTxnRequest request) {
        CompletableFuture<ApiMessage> answer = new CompletableFuture<>();
        AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
        int count = request.transactions.size();
        AddPartitionsToTxnResponse.AddPartitionsToTxnResult[] results =
                new AddPartitionsToTxnResponse.AddPartitionsToTxnResult[count];
        AtomicInteger remaining = new AtomicInteger(count);
        if (count == 0) answer.complete(response);
        for (int i = 0; i < count; i++) {
            int index = i;
            AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn = request.transactions.get(i);
            Set<TopicPartition> partitions = new LinkedHashSet<>();
            for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic topic : txn.topics) {
                for (int p : topic.partitions) partitions.add(new TopicPartition(topic.name, p));
            }
            if (txn.verifyOnly) {
                // Answered at once from the coordinator's state, as Kafka's handleVerifyPartitionsInTransaction.
                results[index] = result(txn.transactionalId, coordinator.verifyPartitions(txn.transactionalId,
                        txn.producerId, txn.producerEpoch, partitions));
                if (remaining.decrementAndGet() == 0) {
                    response.resultsByTransaction.addAll(Arrays.asList(results));
                    answer.complete(response);
                }
                continue;
            }
            coordinator.handleAddPartitions(txn.transactionalId, txn.producerId, txn.producerEpoch, partitions,
                    Features.TRANSACTION_VERSION_2, error -> {
                        results[index] = result(txn.transactionalId, txn.topics, error);
                        // The decrement publishes the slot written above to whichever thread completes the answer.
                        if (remaining.decrementAndGet() == 0) {
                            response.resultsByTransaction.addAll(Arrays.asList(results));
                            answer.complete(response);
                        }
                    });
        }
        return answer;
    }

    private static AddPartitionsToTxnResponse.AddPartitionsToTxnResult result(String transactionalId,
                                                                              Map<TopicPartition, Short> errors) {
        AddPartitionsToTxnResponse.AddPartitionsToTxnResult result =
                new AddPartitionsToTxnResponse.AddPartitionsToTxnResult();
        result.transactionalId = transactionalId;
        Map<String, AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Short> e : errors.entrySet()) {
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t = byTopic.computeIfAbsent(e.getKey().topic(),
                    name -> {
                        AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult created =
                                new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult();
                        created.name = name;
                        result.topicResults.add(created);
                        return created;
                    });
            AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult r =
                    new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult();
            r.partitionIndex = e.getKey().partition();
            r.partitionErrorCode = e.getValue();
            t.resultsByPartition.add(r);
        }
        return result;
    }

    private static AddPartitionsToTxnResponse.AddPartitionsToTxnResult result(
            String transactionalId, List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics, short error) {
        AddPartitionsToTxnResponse.AddPartitionsToTxnResult result =
                new AddPartitionsToTxnResponse.AddPartitionsToTxnResult();
        result.transactionalId = transactionalId;
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic topic : topics) {
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t =
                    new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult();
            t.name = topic.name;
            for (int p : topic.partitions) {
                AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult r =
                        new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult();
                r.partitionIndex = p;
                r.partitionErrorCode = error;
                t.resultsByPartition.add(r);
            }
            result.topicResults.add(t);
        }
        return result;
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

    /** The broker leading the id's state partition, or -1 when there is none (no topic, no leader). */
    private int stateLeader(String transactionalId) {
        TopicInfo topic = metadata.topic(TopicNames.TRANSACTION_STATE);
        if (topic == null) return -1;
        PartitionState state = topic.states().get(coordinator.partitionFor(transactionalId));
        return state == null ? -1 : state.leader();
    }

    /** Fails the adds under way or waiting (NETWORK_EXCEPTION) and closes the connections. */
    @Override
    public void close() {
        batches.close();
        client.close();
    }
}
