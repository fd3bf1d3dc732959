package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.group.consumer.ConsumerGroupConfig;
import io.tandem.server.kafka.group.share.ShareGroupConfig;
import io.tandem.server.kafka.group.share.state.ShareCoordinatorConfig;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.replica.ControllerLink;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.server.kafka.txn.TransactionConfig;
import io.tandem.server.kafka.txn.TransactionService;
import io.tandem.storage.log.LogConfig;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

import static io.tandem.server.kafka.KafkaBroker.REPLICA_LAG_TIME_MAX_MS;

/**
 * The services of a {@link KafkaBroker} that live on its metadata store: the store and {@link ClusterMetadata}, the
 * replicas, the controller and the link to it, the group coordinators, producer ids, transactions and dynamic
 * configs. It owns their start-up order (everything that answers the controller exists before this broker
 * registers) and their stop; each is null until {@link #start} made it. The broker's request-facing view stays on
 * {@link KafkaBroker}.
 */
final class BrokerServices {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());

    private final TandemConfig settings;
    private final long replicaLagTimeMaxMs;
    /** The followers' fetch settings (replica.fetch.*). */
    private final io.tandem.server.kafka.replica.ReplicaFetcherConfig replicaFetching;
    private final KafkaController.LeaderRebalance leaderRebalance;
    private final TransactionConfig transactionConfig;
    private final ConsumerGroupConfig consumerGroupConfig;
    private final ShareGroupConfig shareGroupConfig;
    private final ShareCoordinatorConfig shareCoordinatorConfig;
    private ClusterMetadata metadata;
    private ReplicaManager replicas;
    private KafkaController controller;
    private ControllerLink controllerLink;
    /** The classic, consumer and share group coordinators and the share-state coordinator, once metadata is up. */
    private BrokerGroups groups;
    private ProducerIdManager producerIds;
    private TransactionService transactions;
    private DynamicBrokerConfig dynamicConfig;

    /** Reads the services' settings; a bad one refuses to start before anything is opened. */
    BrokerServices(TandemConfig settings) {
        this.settings = settings;
        this.replicaLagTimeMaxMs = settings.getLong("replica.lag.time.max.ms", REPLICA_LAG_TIME_MAX_MS);
        this.replicaFetching = io.tandem.server.kafka.replica.ReplicaFetcherConfig.from(settings);
        this.leaderRebalance = new KafkaController.LeaderRebalance(
                Boolean.parseBoolean(settings.get("auto.leader.rebalance.enable", "true").trim()),
                settings.getLong("leader.imbalance.check.interval.seconds", 300) * 1000,
                settings.getInt("leader.imbalance.per.broker.percentage", 10));
        this.transactionConfig = TransactionConfig.from(settings);
        this.consumerGroupConfig = ConsumerGroupConfig.from(settings);
        this.shareGroupConfig = ShareGroupConfig.from(settings);
        this.shareCoordinatorConfig = ShareCoordinatorConfig.from(settings);
    }

    /**
     * Connects the metadata store and wires every service on it. Everything that answers the controller exists
     * before this broker registers; the local partitions are open and the controller election decided on return.
     */
    void start(KafkaBroker broker, String zookeeperConnect, BrokerSecurity security, BrokerListeners listeners,
               OffsetsPartitions offsetsPartitions, ScheduledExecutorService scheduler) throws Exception {
        BrokerConfig config = broker.config();
        LogManager logs = broker.logs();
        long startNanos = System.nanoTime();
        ZnodeStore store = zookeeperConnect == null ? new LocalZnodeStore(config.logDir().resolve("metadata"))
                : ZkZnodeStore.forBroker(zookeeperConnect, config.zookeeperSessionTimeoutMs(), config.zookeeperSetAcl(),
                settings.settings());
        // Before this broker registers: its first requests are already decided with every stored ACL.
        if (security.authorization().enabled()) security.authorization().authorizer().start(store);
        broker.clientQuotas().start(store);
        List<ListenerEndpoint> endpoints = listeners.endpoints();
        ListenerEndpoint interBroker = endpoints.get(0);
        metadata = new ClusterMetadata(store, new BrokerRegistration(config.brokerId(), interBroker.host(),
                interBroker.port(), interBroker.listenerName(), config.rack(), System.currentTimeMillis(), endpoints));
        metadata.onTopicsDeleted(broker.topics()::topicsDeleted);
        metadata.onPartitionStateApplied(broker.topics()::partitionStateApplied);
        // Everything that answers the controller exists before this broker registers: once it is in /brokers/ids
        // a controller may send it LeaderAndIsr or UpdateMetadata at once.
        producerIds = new ProducerIdManager(metadata::reserveProducerIdBlock);
        groups = new BrokerGroups(broker, config, consumerGroupConfig, shareGroupConfig, shareCoordinatorConfig,
                settings, metadata, offsetsPartitions::existing);
        replicas = new ReplicaManager(config.brokerId(), metadata, broker::localPartition, broker::highWatermarkMoved,
                replicaLagTimeMaxMs, replicaFetching, security.interBroker(),
                config.interBrokerTimeouts());
        BrokerCoordinators coordinators = new BrokerCoordinators(broker, groups, replicas);
        java.util.function.Consumer<TopicPartition> deleteLog = tp -> {
            try {
                logs.delete(tp);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            // As Kafka's stopReplicas: fetches and produces parked on the partition are answered now (it is gone),
            // and a coordinator of what it held unloads it.
            broker.highWatermarkMoved(tp);
            coordinators.replicaDeleted(tp);
        };
        controllerLink = new ControllerLink(config.brokerId(), metadata, replicas, deleteLog, security.interBroker(),
                io.tandem.server.kafka.replica.ControlledShutdownConfig.from(settings), config.interBrokerTimeouts());
        replicas.localLogs(new ReplicaManager.LocalLogs() {
            @Override
            public java.util.Collection<TopicPartition> onDisk() throws IOException {
                return logs.partitionsOnDisk();
            }

            @Override
            public void delete(TopicPartition tp) {
                deleteLog.accept(tp);
            }
        });
        replicas.alterPartitionSender(controllerLink::sendAlterPartition);
        // Before any LeaderAndIsr: leading a __transaction_state partition loads its transactions.
        transactions = TransactionService.start(broker, transactionConfig);
        // Dynamic broker settings are in force before any log opens, as in Kafka.
        dynamicConfig = new DynamicBrokerConfig(broker, store);
        // The same notifications name groups whose configs changed; every group's are read before any group request,
        // so the coordinators never read them (under their locks or otherwise).
        dynamicConfig.start(scheduler::execute, Map.of(io.tandem.server.kafka.metadata.GroupConfigNodes.ENTITY_TYPE,
                (entityType, entityName) -> groups.groupConfigChanged(entityName)));
        groups.loadGroupConfigs();
        long connectedNanos = System.nanoTime();
        metadata.start();
        LOG.log(System.Logger.Level.INFO, "Kafka metadata store connected in {0} ms, registered in {1} ms",
                Long.toString((connectedNanos - startNanos) / 1_000_000),
                Long.toString((System.nanoTime() - connectedNanos) / 1_000_000));
        // As Kafka 3.9's ZkProducerIdManager at start-up, so no producer's InitProducerId waits for this write.
        producerIds.reserveFirstBlock();
        // Open every partition on disk now, several at once: recovery happens at start-up, not on the first request.
        // As Kafka's LogManager: the logs found on disk, with their topics' configs read from ZooKeeper, since the
        // metadata cache knows no topic before the controller's first UpdateMetadata. A partition no longer this
        // broker's is deleted by the controller's full LeaderAndIsr (StrayLogs) or its StopReplica.
        List<TopicPartition> onDisk = logs.partitionsOnDisk();
        Map<String, Map<String, String>> topicConfigs =
                metadata.storedTopicConfigs(onDisk.stream().map(TopicPartition::topic).toList());
        Map<TopicPartition, LogConfig> local = new LinkedHashMap<>();
        for (TopicPartition tp : onDisk) {
            local.put(tp, broker.topicConfigs().logConfig(topicConfigs.getOrDefault(tp.topic(), Map.of())));
        }
        logs.openAll(local);
        // A topic's change noticed while its log was still opening found no log to update: read them all once more,
        // as Kafka's ZkConfigManager applies every stored topic config to the loaded logs when it starts.
        broker.topics().allHeldLogsConfigChanged();
        controller = new KafkaController(config.brokerId(), store, metadata, controllerLink::handleFromController,
                leaderRebalance, security.interBroker(), config.interBrokerTimeouts());
        controllerLink.controller(controller);
        controller.uncleanLeaderElectionDefault(() -> Boolean.parseBoolean(broker.topicConfigs()
                .brokerDefault(TopicConfigs.KEYS.get("unclean.leader.election.enable")).value()));
        metadata.onReregistered(controller::onSessionRenewed);
        // The election is decided before this returns; as controller, this broker already leads its partitions.
        controller.start();
    }

    long replicaLagTimeMaxMs() {
        return replicaLagTimeMaxMs;
    }

    ClusterMetadata metadata() {
        return metadata;
    }

    ReplicaManager replicas() {
        return replicas;
    }

    KafkaController controller() {
        return controller;
    }

    ControllerLink controllerLink() {
        return controllerLink;
    }

    BrokerGroups groups() {
        return groups;
    }

    ProducerIdManager producerIds() {
        return producerIds;
    }

    TransactionService transactions() {
        return transactions;
    }

    DynamicBrokerConfig dynamicConfig() {
        return dynamicConfig;
    }

    /** The first step of stopping: a controller elected here moves this broker's leaderships away first. */
    void controlledShutdown() {
        if (controller != null) controllerLink.controlledShutdown();
    }

    /** Stops the services after the listeners: the controller, replicas, transactions, groups, the link. */
    void close() {
        if (controller != null) controller.close();
        if (replicas != null) replicas.close();
        if (transactions != null) transactions.close();
        if (groups != null) groups.close();
        if (controllerLink != null) controllerLink.close();
    }

    /** The last step of stopping, after the logs closed: the metadata store's session ends. */
    void closeMetadata() {
        if (metadata != null) metadata.close();
    }
}
