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

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Adds partitions to a transaction of transaction version 2 on the producer's behalf (Kafka's
 * AddPartitionsToTxnManager with the addPartition operation): a Produce v12+ or TxnOffsetCommit v5+ reaching a
 * partition the producer's transaction does not hold yet. The transaction coordinator is asked in-process when this
 * broker leads the transactional id's {@code __transaction_state} partition, else over the wire with
 * AddPartitionsToTxn v5 (a broker's batch, verifyOnly false) to that partition's leader.
 *
 * <p>The answer is per partition, mapped as Kafka maps it for the producer: PRODUCER_FENCED becomes
 * INVALID_PRODUCER_EPOCH, a refused inter-broker request (CLUSTER_AUTHORIZATION_FAILED) INVALID_TXN_STATE, a lost or
 * timed-out connection NETWORK_EXCEPTION, a failed authentication to the coordinator its Kafka error
 * ({@link #failureError}), and, as Kafka's getTransactionCoordinator, a coordinator that is not a
 * live broker COORDINATOR_NOT_AVAILABLE at once. Remote requests go through the non-blocking {@link InterBrokerClient}
 * (Kafka's max.in.flight of 1 per coordinator, the others waiting, at most {@value #QUEUED_MAX} per coordinator; past
 * it NETWORK_EXCEPTION, which producers retry), so no thread waits and a slow coordinator holds up only its own adds.
 * Unlike Kafka's AddPartitionsToTxnManager the adds waiting for one coordinator are not merged into one request.
 */
public final class ImplicitPartitionAdder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ImplicitPartitionAdder.class.getName());
    /** Kafka's AddPartitionsToTxnRequest version for the implicit add of transaction version 2. */
    static final short ADD_PARTITIONS_VERSION = 5;
    /** Remote adds waiting for one coordinator; each is one produce request's partitions. */
    static final int QUEUED_MAX = 1_000;

    private final int localBrokerId;
    private final TransactionCoordinator coordinator;
    private final ClusterMetadata metadata;
    private final InterBrokerClient client;

    ImplicitPartitionAdder(int localBrokerId, TransactionCoordinator coordinator, ClusterMetadata metadata,
                           InterBrokerSecurity interBroker) {
        this.localBrokerId = localBrokerId;
        this.coordinator = coordinator;
        this.metadata = metadata;
        this.client = new InterBrokerClient(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-txn-add-partitions", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                TransactionConfig.REQUEST_TIMEOUT_MS).withQueuedRequestsMax(QUEUED_MAX), interBroker);
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
        client.send(target, ApiKey.ADD_PARTITIONS_TO_TXN, ADD_PARTITIONS_VERSION,
                request(transactionalId, producerId, producerEpoch, partitions)).whenComplete((answer, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.WARNING, "AddPartitionsToTxn to broker " + leader + " failed: "
                                + e);
                        callback.accept(all(partitions, failureError(e)));
                    } else {
                        callback.accept(results(partitions, (AddPartitionsToTxnResponse) answer));
                    }
                });
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

    private static AddPartitionsToTxnRequest request(String transactionalId, long producerId, short producerEpoch,
                                                     Set<TopicPartition> partitions) {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn =
                new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction();
        txn.transactionalId = transactionalId;
        txn.producerId = producerId;
        txn.producerEpoch = producerEpoch;
        txn.verifyOnly = false;
        Map<String, AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), name -> {
                AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
                t.name = name;
                txn.topics.add(t);
                return t;
            }).partitions.add(tp.partition());
        }
        request.transactions.add(txn);
        return request;
    }

    private static Map<TopicPartition, Short> results(Set<TopicPartition> partitions,
                                                      AddPartitionsToTxnResponse response) {
        if (response.errorCode != NONE) {
            // The producer must not see CLUSTER_AUTHORIZATION_FAILED: the add did not complete (Kafka's words).
            return all(partitions, response.errorCode == CLUSTER_AUTHORIZATION_FAILED ? INVALID_TXN_STATE
                    : response.errorCode);
        }
        Map<TopicPartition, Short> result = all(partitions, NONE);
        for (AddPartitionsToTxnResponse.AddPartitionsToTxnResult r : response.resultsByTransaction) {
            for (AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t : r.topicResults) {
                for (AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult p : t.resultsByPartition) {
                    TopicPartition tp = new TopicPartition(t.name, p.partitionIndex);
                    if (result.containsKey(tp)) result.put(tp, forProducer(p.partitionErrorCode));
                }
            }
        }
        return result;
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
        client.close();
    }
}
