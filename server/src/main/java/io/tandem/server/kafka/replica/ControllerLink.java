package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.ControlledShutdownResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * This broker's side of the controller protocol: the controller's requests handled here (in this process when
 * this broker is the controller), and this broker's requests to the controller (AlterPartition, ControlledShutdown)
 * in this process or over one connection kept for them, as Kafka's BrokerToControllerChannelManager: an
 * {@link InterBrokerClient} with one request in flight, reconnect backoffs of 50 ms and request.timeout.ms. The
 * threads that send them do nothing else and wait for the answer (the AlterPartition sender, the stopping broker).
 * Both go to the controller this broker's metadata cache names, as Kafka 3.9's ZooKeeper-mode broker finds it
 * (MetadataCacheControllerNodeProvider, KafkaServer.controlledShutdown): the sender of the last UpdateMetadata, so a
 * broker that has just won the election still asks the previous controller (which answers NOT_CONTROLLER, or cannot
 * be reached, and is asked again) until its own UpdateMetadata is applied.
 */
public final class ControllerLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControllerLink.class.getName());
    private final int localBrokerId;
    private final InterBrokerSecurity interBroker;
    private final ClusterMetadata metadata;
    private final ReplicaManager replicas;
    private final Consumer<TopicPartition> deleteLog;
    private final ControlledShutdownConfig shutdown;
    private volatile KafkaController controller;
    /** Kafka's BrokerToControllerChannelManager's NetworkClient: max in flight 1, reconnect backoffs 50 ms. */
    private final InterBrokerClient toController;
    /** Test seam, see {@link #beforeLocalControllerRequestForTests}; does nothing in production. */
    private volatile Consumer<ApiKey> beforeLocalRequest = key -> { };
    /** Test seam, see {@link #deferLocalUpdateMetadataForTests}; null in production. */
    private volatile java.util.concurrent.Executor deferLocalUpdates;

    /** {@code deleteLog} deletes a partition's log (throwing UncheckedIOException when the disk refuses). */
    public ControllerLink(int localBrokerId, ClusterMetadata metadata, ReplicaManager replicas,
                          Consumer<TopicPartition> deleteLog) {
        this(localBrokerId, metadata, replicas, deleteLog, InterBrokerSecurity.PLAINTEXT,
                ControlledShutdownConfig.DEFAULT);
    }

    /**
     * {@code interBroker}: how this broker reaches the controller (the inter-broker listener and its security);
     * {@code shutdown}: whether and how persistently it asks the controller to move its leaderships when stopping.
     */
    public ControllerLink(int localBrokerId, ClusterMetadata metadata, ReplicaManager replicas,
                          Consumer<TopicPartition> deleteLog, InterBrokerSecurity interBroker,
                          ControlledShutdownConfig shutdown) {
        this(localBrokerId, metadata, replicas, deleteLog, interBroker, shutdown, InterBrokerTimeouts.KAFKA_DEFAULTS);
    }

    /** {@code timeouts}: the channel's to the controller (controller.socket.timeout.ms, socket.connection.setup.*). */
    public ControllerLink(int localBrokerId, ClusterMetadata metadata, ReplicaManager replicas,
                          Consumer<TopicPartition> deleteLog, InterBrokerSecurity interBroker,
                          ControlledShutdownConfig shutdown, InterBrokerTimeouts timeouts) {
        this.shutdown = shutdown;
        this.interBroker = interBroker;
        this.localBrokerId = localBrokerId;
        this.metadata = metadata;
        this.replicas = replicas;
        this.deleteLog = deleteLog;
        this.toController = new InterBrokerClient(timeouts.brokerToController("broker-" + localBrokerId
                + "-to-controller"), interBroker);
    }

    public void controller(KafkaController controller) {
        this.controller = controller;
    }

    /**
     * A request the controller sends, handled here when this broker is the controller itself; returns the answer
     * (null for UpdateMetadata, whose answer carries only the error the controller ignores).
     */
    public ApiMessage handleFromController(ApiKey key, short version, ApiMessage request) {
        beforeLocalRequest.accept(key);
        return switch (key) {
            case LEADER_AND_ISR -> replicas.becomeLeaderOrFollower((LeaderAndIsrRequest) request, version);
            case UPDATE_METADATA -> {
                java.util.concurrent.Executor deferred = deferLocalUpdates;
                if (deferred == null) {
                    replicas.updateMetadata((UpdateMetadataRequest) request);
                } else {
                    deferred.execute(() -> replicas.updateMetadata((UpdateMetadataRequest) request));
                }
                yield null;
            }
            case STOP_REPLICA -> stopReplicas((StopReplicaRequest) request, version);
            default -> throw new IllegalArgumentException("not a controller request: " + key);
        };
    }

    /**
     * For tests only: {@code hook} runs on the controller's event thread before each request this process's own
     * controller sends to this broker is handled, so a test can hold back what a broker that has just won the
     * election tells itself (ControllerIdFromUpdateMetadataTest).
     */
    public void beforeLocalControllerRequestForTests(Consumer<ApiKey> hook) {
        this.beforeLocalRequest = hook == null ? key -> { } : hook;
    }

    /**
     * For tests only: with an executor, the UpdateMetadata requests this process's own controller sends to this broker
     * are applied on it rather than on the controller's event thread, as Kafka's controller sends them to its own
     * broker through a send thread, so its cache may lag its decisions (ElectLeadersAwaitsMetadataTest); null
     * applies them at once again.
     */
    public void deferLocalUpdateMetadataForTests(java.util.concurrent.Executor executor) {
        this.deferLocalUpdates = executor;
    }

    /** AlterPartition to the controller: in this process when it is here, else over the wire (v1, by topic name). */
    public AlterPartitionResponse sendAlterPartition(AlterPartitionRequest request) throws Exception {
        int controllerId = metadata.controllerId();
        if (controllerId == localBrokerId && controller.isActive()) return controller.alterPartition(request);
        return (AlterPartitionResponse) sendToController(ApiKey.ALTER_PARTITION, (short) 1, request);
    }

    /** A request to the controller over the wire, on the connection kept for it (it follows the controller). */
    private ApiMessage sendToController(ApiKey key, short version, ApiMessage request) throws Exception {
        int controllerId = metadata.controllerId();
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == controllerId)
                .findFirst().orElseThrow(() -> new IOException("controller " + controllerId + " is not known"));
        return toController.sendAndReceive(target, key, version, request);
    }

    /**
     * Before stopping, as Kafka 3.9's KafkaServer.controlledShutdown: asks the controller to move this broker's
     * leaderships to other in-sync replicas, so clients meet a new leader rather than a gap until its session ends.
     * While the answer lists partitions it still leads (none of their other in-sync replicas was live and eligible,
     * or a state write lost a race) or the request fails (the controller moving, unreachable), it asks again after {@code controlled.shutdown.retry.backoff.ms}, up to
     * {@code controlled.shutdown.max.retries} times in all, and then stops anyway. Kafka also sleeps after its last
     * try; nothing can come of that wait, so it is left out. Returns whether the controller moved everything.
     */
    public boolean controlledShutdown() {
        if (!shutdown.enabled()) return false;
        LOG.log(System.Logger.Level.INFO, "Broker {0} starting controlled shutdown", localBrokerId);
        for (int attempt = 1; attempt <= shutdown.maxRetries(); attempt++) {
            String failure;
            try {
                ControlledShutdownResponse response = askController();
                if (response.errorCode == NONE && response.remainingPartitions.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "Controlled shutdown of broker {0} succeeded", localBrokerId);
                    return true;
                }
                failure = response.errorCode != NONE ? "the controller answered error " + response.errorCode
                        : "it still leads " + response.remainingPartitions.stream()
                                .map(p -> p.topicName + "-" + p.partitionIndex).toList();
            } catch (Exception e) {
                failure = e.toString();
            }
            LOG.log(System.Logger.Level.INFO, "Controlled shutdown of broker {0}, try {1} of {2}: {3}", localBrokerId,
                    attempt, shutdown.maxRetries(), failure);
            if (attempt == shutdown.maxRetries()) break;
            try {
                Thread.sleep(shutdown.retryBackoffMs());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.log(System.Logger.Level.WARNING, "Broker {0} proceeds to an unclean shutdown: every controlled shutdown "
                + "try failed", localBrokerId);
        return false;
    }

    /** One ControlledShutdown to the current controller: in this process when it is here, else over the wire. */
    private ControlledShutdownResponse askController() throws Exception {
        if (metadata.controllerId() == localBrokerId && controller.isActive()) {
            return controller.controlledShutdown(localBrokerId, metadata.brokerEpoch());
        }
        ControlledShutdownRequest request = new ControlledShutdownRequest();
        request.brokerId = localBrokerId;
        request.brokerEpoch = metadata.brokerEpoch();
        return (ControlledShutdownResponse) sendToController(ApiKey.CONTROLLED_SHUTDOWN, (short) 3, request);
    }

    /** StopReplica: stop following the partitions, deleting the logs of deleted topics. */
    public StopReplicaResponse stopReplicas(StopReplicaRequest request, short version) {
        StopReplicaResponse response = new StopReplicaResponse();
        List<TopicPartition> stopped = new ArrayList<>();
        List<TopicPartition> deleted = new ArrayList<>();
        if (version == 0) {
            for (var p : request.ungroupedPartitions) (request.deletePartitions ? deleted : stopped).add(new TopicPartition(p.topicName, p.partitionIndex));
        } else if (version <= 2) {
            for (var t : request.topics) for (int p : t.partitionIndexes) (request.deletePartitions ? deleted : stopped).add(new TopicPartition(t.name, p));
        } else {
            for (var t : request.topicStates) {
                for (var p : t.partitionStates) (p.deletePartition ? deleted : stopped).add(new TopicPartition(t.topicName, p.partitionIndex));
            }
        }
        List<TopicPartition> all = new ArrayList<>(stopped);
        all.addAll(deleted);
        response.errorCode = replicas.stopReplicas(request.controllerEpoch, all, null);
        if (response.errorCode != NONE) return response;
        for (TopicPartition tp : all) {
            short error = NONE;
            if (deleted.contains(tp)) {
                try {
                    deleteLog.accept(tp);
                } catch (java.io.UncheckedIOException e) {
                    error = KAFKA_STORAGE_ERROR;
                }
            }
            StopReplicaResponse.StopReplicaPartitionError result = new StopReplicaResponse.StopReplicaPartitionError();
            result.topicName = tp.topic();
            result.partitionIndex = tp.partition();
            result.errorCode = error;
            response.partitionErrors.add(result);
        }
        return response;
    }

    @Override
    public void close() {
        toController.close();
    }
}
