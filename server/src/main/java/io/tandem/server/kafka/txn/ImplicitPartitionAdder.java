package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Adds partitions to a transaction of transaction version 2 on the producer's behalf (Kafka's
 * AddPartitionsToTxnManager with the addPartition operation): a Produce v12+ or TxnOffsetCommit v5+ reaching a
 * partition the producer's transaction does not hold yet. The transaction coordinator is asked in-process when this
 * broker leads the transactional id's {@code __transaction_state} partition, else over the wire with
 * AddPartitionsToTxn v5 (a broker's batch, verifyOnly false) to that partition's leader, the adds for one coordinator
 * gathered into one request at a time as Kafka's manager does ({@link AddPartitionsBatches}).
 *
 * <p>The answer is per partition, mapped as Kafka maps it for the producer: PRODUCER_FENCED becomes
 * INVALID_PRODUCER_EPOCH, a refused inter-broker request (CLUSTER_AUTHORIZATION_FAILED) INVALID_TXN_STATE, a lost or
 * timed-out connection NETWORK_EXCEPTION, a failed authentication to the coordinator its Kafka error
 * ({@link #failureError}), and, as Kafka's getTransactionCoordinator, a coordinator that is not a live broker
 * COORDINATOR_NOT_AVAILABLE at once. Requests go through the non-blocking {@link InterBrokerClient}, so no thread
 * waits and a slow coordinator holds up only its own adds.
 */
public final class ImplicitPartitionAdder implements AutoCloseable {
    /** Kafka's AddPartitionsToTxnRequest version for the implicit add of transaction version 2. */
    static final short ADD_PARTITIONS_VERSION = 5;

    private final int localBrokerId;
    private final TransactionCoordinator coordinator;
    private final ClusterMetadata metadata;
    private final InterBrokerClient client;
    private final AddPartitionsBatches batches;

    ImplicitPartitionAdder(int localBrokerId, TransactionCoordinator coordinator, ClusterMetadata metadata,
                           InterBrokerSecurity interBroker) {
        this.localBrokerId = localBrokerId;
        this.coordinator = coordinator;
        this.metadata = metadata;
        // One request per coordinator at a time is the batches' doing; the client never queues more than one.
        this.client = new InterBrokerClient(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-txn-add-partitions", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                TransactionConfig.REQUEST_TIMEOUT_MS), interBroker);
        this.batches = new AddPartitionsBatches((target, request) -> client.send(target,
                ApiKey.ADD_PARTITIONS_TO_TXN, ADD_PARTITIONS_VERSION, request));
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
                    Features.TRANSACTION_VERSION_2, error -> callback.accept(AddPartitionsBatches.all(partitions,
                            AddPartitionsBatches.forProducer(error))));
            return;
        }
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == leader)
                .findFirst().orElse(null);
        if (target == null) {
            callback.accept(AddPartitionsBatches.all(partitions, COORDINATOR_NOT_AVAILABLE));
            return;
        }
        batches.add(target, transactionalId, producerId, producerEpoch, partitions, callback);
    }

    /** Adds sent for another broker's coordinator so far (each one request's partitions of one transaction). */
    public long remoteAdds() {
        return batches.remoteAdds();
    }

    /** AddPartitionsToTxn requests sent to other brokers for them. */
    public long requestsSent() {
        return batches.requestsSent();
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

    /** Fails the adds under way or waiting (NETWORK_EXCEPTION) and closes the connections. */
    @Override
    public void close() {
        batches.close();
        client.close();
    }
}
