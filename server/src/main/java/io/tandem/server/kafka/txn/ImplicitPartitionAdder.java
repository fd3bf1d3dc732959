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
import io.tandem.server.kafka.network.BrokerChannel;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * INVALID_PRODUCER_EPOCH, a refused inter-broker request (CLUSTER_AUTHORIZATION_FAILED) INVALID_TXN_STATE, a lost
 * connection NETWORK_EXCEPTION. Remote requests run on one sender thread with a bounded queue
 * ({@value #QUEUED_MAX} requests); a full queue is answered COORDINATOR_NOT_AVAILABLE, which producers retry.
 */
public final class ImplicitPartitionAdder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ImplicitPartitionAdder.class.getName());
    /** Kafka's AddPartitionsToTxnRequest version for the implicit add of transaction version 2. */
    static final short ADD_PARTITIONS_VERSION = 5;
    /** Remote adds waiting for the sender thread; each is one produce request's partitions. */
    static final int QUEUED_MAX = 1_000;

    private final int localBrokerId;
    private final TransactionCoordinator coordinator;
    private final ClusterMetadata metadata;
    private final InterBrokerSecurity interBroker;
    private final ThreadPoolExecutor sender;
    /** One channel per coordinator broker, used only by the sender thread. */
    private final Map<Integer, BrokerChannel> channels = new HashMap<>();

    ImplicitPartitionAdder(int localBrokerId, TransactionCoordinator coordinator, ClusterMetadata metadata,
                           InterBrokerSecurity interBroker) {
        this.localBrokerId = localBrokerId;
        this.coordinator = coordinator;
        this.metadata = metadata;
        this.interBroker = interBroker;
        this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUED_MAX),
                r -> {
                    Thread t = new Thread(r, "kafka-txn-add-partitions-" + localBrokerId);
                    t.setDaemon(true);
                    return t;
                });
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
        try {
            sender.execute(() -> callback.accept(addRemotely(leader, transactionalId, producerId, producerEpoch,
                    partitions)));
        } catch (RejectedExecutionException e) {
            callback.accept(all(partitions, COORDINATOR_NOT_AVAILABLE));
        }
    }

    /** The broker leading the id's state partition, or -1 when unknown (the local coordinator then answers). */
    private int stateLeader(String transactionalId) {
        TopicInfo topic = metadata.topic(TopicNames.TRANSACTION_STATE);
        if (topic == null) return -1;
        PartitionState state = topic.states().get(coordinator.partitionFor(transactionalId));
        return state == null ? -1 : state.leader();
    }

    private Map<TopicPartition, Short> addRemotely(int brokerId, String transactionalId, long producerId,
                                                   short producerEpoch, Set<TopicPartition> partitions) {
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
        AddPartitionsToTxnResponse response;
        try {
            response = (AddPartitionsToTxnResponse) channel(brokerId).send(ApiKey.ADD_PARTITIONS_TO_TXN,
                    ADD_PARTITIONS_VERSION, request);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "AddPartitionsToTxn to broker " + brokerId + " failed: " + e);
            return all(partitions, NETWORK_EXCEPTION);
        }
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

    private BrokerChannel channel(int brokerId) throws java.io.IOException {
        synchronized (channels) {
            return channelLocked(brokerId);
        }
    }

    private BrokerChannel channelLocked(int brokerId) throws java.io.IOException {
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == brokerId)
                .findFirst().orElseThrow(() -> new java.io.IOException("broker " + brokerId + " is not live"));
        BrokerChannel channel = channels.get(brokerId);
        if (channel == null) {
            channel = new BrokerChannel(target, interBroker, "broker-" + localBrokerId + "-txn-add-partitions",
                    TransactionConfig.REQUEST_TIMEOUT_MS);
            channels.put(brokerId, channel);
        } else {
            channel.retarget(target);
        }
        return channel;
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

    @Override
    public void close() {
        sender.shutdownNow();
        try {
            sender.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // The sender thread is gone (or stuck past the wait): the channels are closed from here.
        synchronized (channels) {
            for (BrokerChannel c : channels.values()) c.close();
        }
    }
}
