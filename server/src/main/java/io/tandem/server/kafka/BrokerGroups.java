package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.OffsetsTopicStore;
import io.tandem.server.kafka.group.consumer.ClusterTopicsView;
import io.tandem.server.kafka.group.consumer.ConsumerGroupConfig;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator;
import io.tandem.server.kafka.group.consumer.ConsumerGroupOffsetsStore;
import io.tandem.server.kafka.group.share.GroupConfigs;
import io.tandem.server.kafka.group.share.ShareCoordinatorPersister;
import io.tandem.server.kafka.group.share.ShareGroupConfig;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator;
import io.tandem.server.kafka.group.share.ShareGroupOffsetsStore;
import io.tandem.server.kafka.group.share.ShareGroupRecords;
import io.tandem.server.kafka.group.share.PartitionEndOffsets;
import io.tandem.server.kafka.group.share.state.ShareCoordinatorChannels;
import io.tandem.server.kafka.group.share.state.ShareCoordinatorConfig;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateTopic;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.GroupConfigNodes;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;

/**
 * A broker's group coordinators, wired to the topics that keep their state: classic groups, KIP-848 consumer groups
 * and share groups (KIP-932) on {@code __consumer_offsets}, the share-partition state on {@code __share_group_state}.
 * A group id is of one kind, so a classic or consumer group's id is taken for share groups. Leading a partition of
 * either topic makes this broker the coordinator of what it holds: {@link #becameLeader} loads it.
 */
final class BrokerGroups implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BrokerGroups.class.getName());
    private final GroupCoordinator classic;
    private final ConsumerGroupCoordinator consumer;
    private final ShareStateTopic shareStateTopic;
    private final ShareStateCoordinator shareState;
    /** The share coordinators on other brokers, for the share-partitions whose state partition they lead. */
    private final ShareCoordinatorChannels shareCoordinators;
    private final ShareCoordinatorPersister sharePersister;
    /** The partitions' end offsets, for DescribeShareGroupOffsets' lag. */
    private final PartitionEndOffsets endOffsets;
    private final GroupConfigs groupConfigs;
    private final ShareGroupCoordinator share;
    /** Where the classic groups' replicated record writes complete (see {@link OffsetsTopicStore}). */
    private final ExecutorService recordCallbacks;
    /**
     * At most this many share group heartbeats' share-partition initializations wait for their thread; past it a
     * heartbeat's are left to the next one (each heartbeat plans only share-partitions no other one is initializing,
     * so the queue holds at most one entry per share-partition of the groups coordinated here, far below this).
     */
    static final int SHARE_STATE_INITIALIZATIONS_QUEUED_MAX = 10_000;
    /**
     * Where share group heartbeats' share-partition initializations run once the heartbeat is answered (Kafka 4.4
     * runs them from its coordinator's timer): the share coordinator's topic may have to be created first, a
     * ZooKeeper write, which no request handler thread waits for.
     */
    private final java.util.concurrent.ThreadPoolExecutor shareStateInitializations;

    /** {@code offsetsPartition}: the led {@code __consumer_offsets} partition of an index, or NOT_COORDINATOR. */
    BrokerGroups(KafkaBroker broker, BrokerConfig config, ConsumerGroupConfig consumerGroupConfig,
                 ShareGroupConfig shareGroupConfig, ShareCoordinatorConfig shareCoordinatorConfig,
                 TandemConfig settings, ClusterMetadata metadata, IntFunction<Partition> offsetsPartition) {
        recordCallbacks = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "group-record-writes");
            t.setDaemon(true);
            return t;
        });
        OffsetsTopicStore offsetsStore = new OffsetsTopicStore(config.offsetsTopicPartitions(),
                offsetsPartition::apply, broker::whenReplicated, recordCallbacks);
        classic = new GroupCoordinator(new GroupConfig(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.groupMaxSize(),
                config.offsetMetadataMaxBytes()), offsetsStore);
        consumer = new ConsumerGroupCoordinator(classic, consumerGroupConfig,
                new ConsumerGroupOffsetsStore(offsetsStore::appendRecords), new ClusterTopicsView(metadata));
        shareStateTopic = new ShareStateTopic(broker, shareCoordinatorConfig);
        shareState = new ShareStateCoordinator(shareCoordinatorConfig.updatesPerSnapshot(),
                shareCoordinatorConfig.writeTimeoutMs(), shareStateTopic,
                (topicId, partition) -> {
                    TopicInfo topic = metadata.topicById(topicId);
                    return topic != null && topic.replicas().containsKey(partition);
                }, System::currentTimeMillis);
        shareCoordinators = new ShareCoordinatorChannels(config.brokerId(), metadata, broker.interBrokerSecurity(),
                shareCoordinatorConfig.writeTimeoutMs(), config.interBrokerTimeouts());
        endOffsets = new PartitionEndOffsets(config.brokerId(), metadata, tp -> {
            Partition p = broker.logs().get(tp);
            return p != null && p.isLeader() ? new PartitionEndOffsets.LocalEnd(p.highWatermark(), p.leaderEpoch())
                    : null;
        }, broker.interBrokerSecurity(), config.interBrokerTimeouts());
        GroupConfigNodes groupConfigNodes = new GroupConfigNodes(metadata.store());
        groupConfigs = new GroupConfigs(settings, shareGroupConfig, new GroupConfigs.Store() {
            @Override
            public Map<String, String> read(String groupId) throws Exception {
                return groupConfigNodes.read(groupId);
            }

            @Override
            public Map<String, Map<String, String>> readAll() throws Exception {
                return groupConfigNodes.readAll();
            }

            @Override
            public void write(String groupId, Map<String, String> overrides) throws Exception {
                groupConfigNodes.write(groupId, overrides);
            }
        });
        sharePersister = new ShareCoordinatorPersister(shareState, shareStateTopic::leads, statePartition -> {
            TopicInfo topic = metadata.topic(TopicNames.SHARE_GROUP_STATE);
            PartitionState state = topic == null ? null : topic.states().get(statePartition);
            return state == null ? -1 : state.leader();
        }, () -> metadata.liveBrokers().stream().map(b -> b.brokerId()).toList(), shareCoordinators);
        share = new ShareGroupCoordinator(shareGroupConfig, new ClusterTopicsView(metadata),
                id -> consumer.isConsumerGroup(id)
                        || classic.describeGroup(id).error() != ErrorCodes.GROUP_ID_NOT_FOUND,
                sharePersister, new ShareGroupOffsetsStore(offsetsStore::appendRecords));
        shareStateInitializations = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0L,
                java.util.concurrent.TimeUnit.MILLISECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(SHARE_STATE_INITIALIZATIONS_QUEUED_MAX), r -> {
                    Thread t = new Thread(r, "share-state-initializations");
                    t.setDaemon(true);
                    return t;
                });
        share.initializations(shareStateInitializations);
        share.groupConfigs(groupConfigs::effective);
        share.coordinatorErrors(classic::coordinatorError);
        consumer.groupTimeouts(groupConfigs::consumerTimeouts);
        // The groups whose __consumer_offsets partition this broker leads (by the metadata, which knows leaders
        // before their partitions load): this broker's share coordinator may hold state of other brokers' groups.
        share.coordinates(groupId -> {
            TopicInfo offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
            if (offsets == null) return true;
            PartitionState state = offsets.states().get(OffsetsTopicCodec.partitionFor(groupId,
                    config.offsetsTopicPartitions()));
            return state == null || state.leader() == config.brokerId();
        });
    }

    GroupCoordinator classic() {
        return classic;
    }

    ConsumerGroupCoordinator consumer() {
        return consumer;
    }

    ShareStateTopic shareStateTopic() {
        return shareStateTopic;
    }

    ShareStateCoordinator shareState() {
        return shareState;
    }

    GroupConfigs groupConfigs() {
        return groupConfigs;
    }

    PartitionEndOffsets endOffsets() {
        return endOffsets;
    }

    /**
     * Reads every group's configs, once the broker follows the change notifications (so a change made meanwhile is
     * read again rather than missed): from then on {@link #groupConfigChanged} keeps them current.
     */
    void loadGroupConfigs() throws Exception {
        groupConfigs.load();
    }

    /**
     * A change notification named a group ({@code groups/<node>}, left by whichever broker altered its configs): they
     * are read again, on the notifications' thread, never under a coordinator's lock, and are in force on this
     * broker's coordinators from their next request, as Kafka's brokers apply a group config change from their
     * metadata.
     */
    void groupConfigChanged(String entityName) throws Exception {
        groupConfigs.reload(GroupConfigNodes.groupIdOfNode(entityName));
    }

    ShareGroupCoordinator share() {
        return share;
    }

    ShareCoordinatorPersister sharePersister() {
        return sharePersister;
    }

    /** This broker now leads {@code partition}: an offsets or share-state partition's groups and state load. */
    void becameLeader(Partition partition) {
        if (ShareStateTopic.isStatePartition(partition.topicPartition())) {
            try {
                ShareStateTopic.load(partition, shareState);
                // Without waiting: the summaries may come from other brokers, and this is the thread making this
                // broker a leader.
                share.restoreStoredGroups().whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.ERROR, "Cannot restore the share groups of "
                                + partition.topicPartition(), e);
                    }
                });
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Cannot load " + partition.topicPartition(), e);
            }
            return;
        }
        if (!partition.topicPartition().topic().equals(TopicNames.CONSUMER_OFFSETS)) return;
        try {
            OffsetsTopicStore.load(partition, classic, (key, value) -> {
                // Each kind of group reads its own record types (share groups: 10-15, consumer groups: 3-8).
                if (ShareGroupRecords.readKey(key) != null) {
                    share.replay(key, value);
                } else {
                    consumer.replay(key, value);
                }
            });
            consumer.loaded(System.currentTimeMillis());
            share.loaded(System.currentTimeMillis());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot load " + partition.topicPartition(), e);
        }
    }

    @Override
    public void close() {
        // Before the broker answers the ShareFetches still parked: none of them may acquire records now.
        share.sessions().close();
        sharePersister.close();
        shareCoordinators.close();
        endOffsets.close();
        // Before the record writes' thread goes: the members waiting for a JoinGroup or SyncGroup are answered now
        // (their requests hold frames), as the writes they wait for complete at shutdown with nobody to take them.
        classic.shutdown();
        // shutdown, not shutdownNow: a callback already queued answers an OffsetCommit waiting for its write (a
        // dropped one would leak that request's frame); later ones run on the stopping thread (OffsetsTopicStore).
        recordCallbacks.shutdown();
        shareStateInitializations.shutdownNow();
    }
}
