package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * This broker's replicas and their roles, as Kafka's ReplicaManager: LeaderAndIsr from the controller makes each
 * hosted partition a leader or a follower (fetchers are started and stopped to match), UpdateMetadata refreshes the
 * broker's view of every partition and broker, and the ISR of led partitions is kept true by proposing changes to
 * the controller (AlterPartition) when followers catch up or fall behind for {@code replica.lag.time.max.ms}.
 * Requests from a controller older than the newest one seen are refused (STALE_CONTROLLER_EPOCH) and never applied.
 */
public final class ReplicaManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ReplicaManager.class.getName());

    /** Where AlterPartition goes: the controller, over the wire or in this process. */
    @FunctionalInterface
    public interface AlterPartitionSender {
        AlterPartitionResponse send(AlterPartitionRequest request) throws Exception;
    }

    /** A follower's fetching from one leader, for every partition it follows there. */
    public interface LeaderFetcher {
        void add(Partition partition);

        void remove(TopicPartition tp);

        /** The leader's endpoint changed (it restarted elsewhere). */
        void retarget(BrokerRegistration leader);

        void shutdown();

        /** The fetch session with the leader as last seen, or null for a fetcher without one. */
        default FetchSessionHandler.Stats sessionStats() {
            return null;
        }
    }

    /**
     * What ties replication to threads, sockets and the wall clock, apart from its rules: production runs fetchers
     * on threads over the inter-broker listener and sends AlterPartition from a thread of its own; the replication
     * simulation gives a simulated clock, network and one-thread executor, and so runs these same rules.
     *
     * @param clock           milliseconds, for ISR lag ({@code replica.lag.time.max.ms})
     * @param isrSender       where batched AlterPartition requests are sent from (never the caller's thread)
     * @param fetchers        makes a started fetcher from this broker to one leader
     */
    public record Runtime(java.util.function.LongSupplier clock, java.util.concurrent.Executor isrSender,
                          java.util.function.Function<BrokerRegistration, LeaderFetcher> fetchers) {
    }

    /** Kafka's LeaderAndIsr.LeaderDuringDelete: UpdateMetadata's mark of a partition whose topic is being deleted. */
    public static final int LEADER_DURING_DELETE = -2;
    /**
     * Kafka's LeaderAndIsr types (v5+, AbstractControlRequest.Type): INCREMENTAL names some partitions; FULL names
     * every partition the controller gives this broker (at its election, or when this broker registers again).
     */
    public static final byte LEADER_AND_ISR_INCREMENTAL = 1;
    public static final byte LEADER_AND_ISR_FULL = 2;

    /** This broker's logs on disk, and how one is deleted (see {@link StrayLogs}). */
    public interface LocalLogs {
        java.util.Collection<TopicPartition> onDisk() throws IOException;

        /** Deletes the partition's log; throws UncheckedIOException when the disk refuses. */
        void delete(TopicPartition tp);
    }

    private volatile LocalLogs localLogs;
    private final int localBrokerId;
    private final ClusterMetadata metadata;
    private final BiFunction<TopicInfo, Integer, Partition> openLog;
    private final Consumer<TopicPartition> highWatermarkMoved;
    /** The fetchers of the partitions this broker follows; changed under this manager's lock. */
    private final FollowerFetchers fetchers;
    /** The ISR changes of the partitions this broker leads, on their way to the controller. */
    private final IsrProposals isr;
    private final ExecutorService ownedSender;
    private final Runtime runtime;
    private volatile Consumer<Partition> becameLeader = p -> { };
    private volatile Consumer<Partition> becameFollower = p -> { };
    private int controllerEpoch;
    /** Opens one LeaderAndIsr's logs and writes its leader-epoch checkpoints side by side; see {@link #announce}. */
    private final LeaderAndIsrWorkers workers;

    public ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                          Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, int replicaFetchBytesMax) {
        this(localBrokerId, metadata, openLog, highWatermarkMoved, replicaLagMs, replicaFetchBytesMax,
                InterBrokerSecurity.PLAINTEXT, ReplicaFetcherConfig.BACKOFF_MS_DEFAULT);
    }

    /**
     * {@code interBroker}: how followers reach their leaders (the inter-broker listener and its security);
     * {@code replicaFetchBackoffMs}: Kafka's replica.fetch.backoff.ms, how long a partition in error waits.
     */
    public ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                          Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, int replicaFetchBytesMax,
                          InterBrokerSecurity interBroker, int replicaFetchBackoffMs) {
        this(localBrokerId, metadata, openLog, highWatermarkMoved, replicaLagMs, replicaFetchBytesMax, interBroker,
                replicaFetchBackoffMs, InterBrokerTimeouts.KAFKA_DEFAULTS);
    }

    /** {@code timeouts}: the fetchers' connections' (replica.socket.timeout.ms, socket.connection.setup.*). */
    public ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                          Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, int replicaFetchBytesMax,
                          InterBrokerSecurity interBroker, int replicaFetchBackoffMs, InterBrokerTimeouts timeouts) {
        this(localBrokerId, metadata, openLog, highWatermarkMoved, replicaLagMs,
                ReplicaFetcherConfig.of(replicaFetchBytesMax, replicaFetchBackoffMs), interBroker, timeouts);
    }

    /** {@code fetching}: what the fetchers ask their leaders for and how they pace themselves (replica.fetch.*). */
    public ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                          Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, ReplicaFetcherConfig fetching,
                          InterBrokerSecurity interBroker, InterBrokerTimeouts timeouts) {
        this(localBrokerId, metadata, openLog, highWatermarkMoved, replicaLagMs, null,
                Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "kafka-alter-partition-" + localBrokerId);
                    t.setDaemon(true);
                    return t;
                }), interBroker, fetching, timeouts);
    }

    /** Replication over {@code runtime}'s clock, executor and fetchers instead of threads and sockets. */
    public ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                          Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, int replicaFetchBytesMax,
                          Runtime runtime) {
        this(localBrokerId, metadata, openLog, highWatermarkMoved, replicaLagMs, runtime, null, null, null, null);
    }

    private ReplicaManager(int localBrokerId, ClusterMetadata metadata, BiFunction<TopicInfo, Integer, Partition> openLog,
                           Consumer<TopicPartition> highWatermarkMoved, long replicaLagMs, Runtime runtime,
                           ExecutorService ownedSender, InterBrokerSecurity interBroker, ReplicaFetcherConfig fetching,
                           InterBrokerTimeouts timeouts) {
        this.localBrokerId = localBrokerId;
        this.metadata = metadata;
        this.openLog = openLog;
        this.highWatermarkMoved = highWatermarkMoved;
        this.ownedSender = ownedSender;
        // A simulation's Runtime owns no threads: there the checkpoints are written one by one, in order.
        this.workers = new LeaderAndIsrWorkers(localBrokerId, runtime == null);
        this.runtime = runtime != null ? runtime : new Runtime(System::currentTimeMillis, ownedSender, leader -> {
            ReplicaFetcher fetcher = new ReplicaFetcher(localBrokerId, leader, interBroker, fetching,
                    timeouts.replicaFetcher(ReplicaFetcher.clientId(localBrokerId, leader)));
            // Consumers may read from this follower (KIP-392): its new high watermarks wake their parked fetches.
            fetcher.highWatermarkListener(highWatermarkMoved);
            fetcher.start();
            return fetcher;
        });
        this.fetchers = new FollowerFetchers(metadata, this.runtime.fetchers());
        this.isr = new IsrProposals(localBrokerId, metadata, highWatermarkMoved, replicaLagMs, this.runtime.clock(),
                this.runtime.isrSender());
    }

    /** Runs on the LeaderAndIsr path each time this broker takes the lead of a partition. */
    public void becameLeaderListener(Consumer<Partition> listener) {
        this.becameLeader = listener;
    }

    /**
     * Runs on the LeaderAndIsr path each time this broker is made a follower of a partition (led before or not), as
     * Kafka's ReplicaManager calls onLeadershipChange with the partitions made followers: coordinators resign them.
     */
    public void becameFollowerListener(Consumer<Partition> listener) {
        this.becameFollower = listener;
    }

    public void alterPartitionSender(AlterPartitionSender sender) {
        isr.sender(sender);
    }

    /** Where stray logs are found and deleted; without it a full LeaderAndIsr deletes nothing. */
    public void localLogs(LocalLogs logs) {
        this.localLogs = logs;
    }

    /** Whether a request of {@code epoch} comes from the newest controller this broker knows (and records it). */
    private synchronized boolean acceptEpoch(int epoch) {
        if (epoch < controllerEpoch) return false;
        controllerEpoch = epoch;
        return true;
    }

    /** Each leader's fetch session (by leader id) as this broker's fetchers last saw it: for operators and tests. */
    public Map<Integer, FetchSessionHandler.Stats> fetchSessions() {
        return fetchers.sessions();
    }

    public synchronized int controllerEpoch() {
        return controllerEpoch;
    }

    /** LeaderAndIsr: becomes leader or follower of each partition named; errors per partition as Kafka's. */
    public synchronized LeaderAndIsrResponse becomeLeaderOrFollower(LeaderAndIsrRequest request, short version) {
        LeaderAndIsrResponse response = new LeaderAndIsrResponse();
        // The epoch only: as Kafka's ZkMetadataCache, the cache learns the controller from UpdateMetadata alone.
        if (!acceptEpoch(request.controllerEpoch)) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring LeaderAndIsr from controller {0} epoch {1}: epoch {2} is newer",
                    request.controllerId, request.controllerEpoch, controllerEpoch);
            response.errorCode = STALE_CONTROLLER_EPOCH;
            return response;
        }
        Map<Integer, BrokerRegistration> leaders = new HashMap<>();
        for (LeaderAndIsrRequest.LeaderAndIsrLiveLeader l : request.liveLeaders) {
            leaders.put(l.brokerId, new BrokerRegistration(l.brokerId, l.hostName, l.port, "PLAINTEXT", null, 0));
        }
        List<LeaderAndIsrPartitionState> states = new ArrayList<>(request.ungroupedPartitionStates);
        // Topic ids (LeaderAndIsr v5+): a replica stored under another id is one of a deleted topic of the same name.
        Map<String, java.util.UUID> topicIds = new HashMap<>();
        for (LeaderAndIsrRequest.LeaderAndIsrTopicState topic : request.topicStates) {
            if (topic.topicId != null && !io.tandem.kafka.wire.Primitives.ZERO_UUID.equals(topic.topicId)) topicIds.put(topic.topicName, topic.topicId);
            for (LeaderAndIsrPartitionState state : topic.partitionStates) {
                state.topicName = topic.topicName;
                states.add(state);
            }
        }
        Map<String, LeaderAndIsrResponse.LeaderAndIsrTopicError> topicErrors = new java.util.LinkedHashMap<>();
        short[] errors = new short[states.size()];
        List<NewLeadership> taken = new ArrayList<>();
        // The logs opened side by side first, each taking the request's topic id there too (its partition.metadata
        // file, a create and a rename: 50 of them one after another on this thread otherwise); apply then finds
        // each open and its id taken (see LeaderAndIsrWorkers.openLogs). Kafka writes that file from its scheduler.
        workers.openLogs(states, localBrokerId, metadata, (topic, index) -> {
            Partition opened = openLog.apply(topic, index);
            java.util.UUID id = topicIds.get(topic.name());
            if (opened != null && id != null) {
                try {
                    adoptTopicId(opened, id);
                } catch (IOException e) {
                    // apply takes it again and answers the failure
                }
            }
            return opened;
        });
        for (int i = 0; i < states.size(); i++) {
            errors[i] = apply(states.get(i), leaders, topicIds.get(states.get(i).topicName), i, taken);
        }
        announce(taken, errors);
        for (int i = 0; i < states.size(); i++) {
            LeaderAndIsrPartitionState state = states.get(i);
            short error = errors[i];
            LeaderAndIsrResponse.LeaderAndIsrPartitionError partitionError = new LeaderAndIsrResponse.LeaderAndIsrPartitionError();
            partitionError.topicName = state.topicName;
            partitionError.partitionIndex = state.partitionIndex;
            partitionError.errorCode = error;
            if (version >= 5) {
                // The request's own topic id, as Kafka answers (the cache may not know the topic, and reading it from
                // ZooKeeper could fail).
                TopicInfo topic = metadata.knownTopic(state.topicName);
                java.util.UUID id = topicIds.getOrDefault(state.topicName,
                        topic == null ? io.tandem.kafka.wire.Primitives.ZERO_UUID : topic.id());
                topicErrors.computeIfAbsent(state.topicName, n -> {
                    LeaderAndIsrResponse.LeaderAndIsrTopicError t = new LeaderAndIsrResponse.LeaderAndIsrTopicError();
                    t.topicId = id;
                    return t;
                }).partitionErrors.add(partitionError);
            } else {
                response.partitionErrors.add(partitionError);
            }
        }
        response.topics.addAll(topicErrors.values());
        LocalLogs logs = localLogs;
        if (version >= 5 && request.type == LEADER_AND_ISR_FULL && logs != null) {
            StrayLogs.delete(logs, localBrokerId, states, fetchers::stop);
        }
        return response;
    }

    /** A leadership taken by {@link #apply} whose checkpoint and announcement wait for {@link #announce}. */
    private record NewLeadership(int index, Partition partition, boolean wasLeader) {
    }

    /**
     * Writes the leader-epoch checkpoints of the leaderships one LeaderAndIsr gave this broker, side by side on
     * {@link LeaderAndIsrWorkers} when there are several (each is an fsync: 50 in a row took 0.3-1.2 s on a loaded
     * machine when {@code __consumer_offsets} was created, while a fresh node's first consumer waited), then tells of
     * each, in the request's order, as {@link #apply} did before: the coordinators (becameLeader) and the high
     * watermark's waiters (the metadata cache learns of the leadership from UpdateMetadata only, as Kafka's). Kafka's broker writes each checkpoint before it answers the
     * LeaderAndIsr too (LeaderEpochFileCache.assign); only their order among themselves differs. A partition whose
     * checkpoint cannot be written is KAFKA_STORAGE_ERROR and not announced.
     */
    private void announce(List<NewLeadership> taken, short[] errors) {
        if (taken.isEmpty()) return;
        IOException[] failures = workers.flushAll(taken.stream().map(NewLeadership::partition).toList());
        for (int i = 0; i < taken.size(); i++) {
            NewLeadership t = taken.get(i);
            if (failures[i] != null) {
                LOG.log(System.Logger.Level.ERROR, "Cannot take leadership of " + t.partition().topicPartition(),
                        failures[i]);
                errors[t.index()] = KAFKA_STORAGE_ERROR;
                continue;
            }
            if (!t.wasLeader()) becameLeader.accept(t.partition());
            highWatermarkMoved.accept(t.partition().topicPartition());
        }
    }

    /** Gives the replica the request's topic id; nothing when it has it already (apply after openLogs). */
    private static void adoptTopicId(Partition partition, java.util.UUID topicId) throws IOException {
        if (partition.adoptTopicId(topicId)) {
            // Its topic was deleted and made again while this broker missed the StopReplica (the replication
            // simulation's seed 10): the old records must not reappear in the new topic.
            LOG.log(System.Logger.Level.WARNING, "Emptied the replica of {0}: it belonged to a deleted topic of"
                    + " that name (topic id now {1})", partition.topicPartition(), topicId);
        }
    }

    private short apply(LeaderAndIsrPartitionState state, Map<Integer, BrokerRegistration> leaders,
                        java.util.UUID topicId, int index, List<NewLeadership> taken) {
        if (!state.replicas.contains(localBrokerId)) return UNKNOWN_TOPIC_OR_PARTITION;
        TopicInfo topic;
        try {
            metadata.applyReplicas(state.topicName, state.partitionIndex, state.replicas);
            topic = metadata.controllerTopic(state.topicName);
        } catch (io.tandem.server.kafka.ApiException e) {
            // A topic this broker's cache does not hold yet is read from ZooKeeper, which may be unreachable (its
            // session expired: the replication simulation's seed 45). Only this partition fails; the controller
            // tells the broker again once it registers anew.
            LOG.log(System.Logger.Level.WARNING, "LeaderAndIsr for {0}-{1} not applied: {2}", state.topicName,
                    state.partitionIndex, e.getMessage());
            return e.error();
        }
        if (topic == null) return UNKNOWN_TOPIC_OR_PARTITION;
        TopicPartition tp = new TopicPartition(state.topicName, state.partitionIndex);
        try {
            Partition partition = openLog.apply(topic, state.partitionIndex);
            if (partition == null) return KAFKA_STORAGE_ERROR;
            if (topicId != null) adoptTopicId(partition, topicId);
            // Kafka applies a leadership of the current epoch or newer (a new controller re-sends the current one).
            if (state.leaderEpoch < partition.leaderEpoch()) return STALE_CONTROLLER_EPOCH;
            IsrTracker tracker = partition.isrTracker();
            if (state.leader == localBrokerId && tracker != null && state.leaderEpoch == partition.leaderEpoch()
                    && state.partitionEpoch < tracker.zkVersion()) {
                // Kafka's Partition.makeLeader: this leader already holds a newer state from an AlterPartition answer
                // that overtook this request. Taking the older ISR back would leave every later proposal refused
                // (INVALID_UPDATE_VERSION) and the ISR stuck until the next leader change.
                LOG.log(System.Logger.Level.INFO, "Skipped LeaderAndIsr for {0} at partition epoch {1}: already at {2}",
                        tp, state.partitionEpoch, tracker.zkVersion());
                return NONE;
            }
            if (state.leader == localBrokerId) {
                fetchers.stop(tp);
                boolean wasLeader = partition.isLeader();
                partition.makeLeaderUnflushed(state.leaderEpoch, state.isr, state.partitionEpoch, state.replicas,
                        runtime.clock().getAsLong());
                // The checkpoint's write, the coordinators and this broker's metadata follow in announce.
                taken.add(new NewLeadership(index, partition, wasLeader));
                return NONE;
            } else {
                fetchers.stop(tp);
                partition.makeFollower(state.leader, state.leaderEpoch, state.replicas);
                becameFollower.accept(partition);
                highWatermarkMoved.accept(tp);
                if (state.leader != Partition.NO_LEADER) fetchers.start(partition, state.leader, leaders.get(state.leader));
            }
            // The cache is left alone, as Kafka's becomeLeaderOrFollower leaves its MetadataCache: the controller's
            // UpdateMetadata, sent after this request, gives every partition's state at once. Told here partition by
            // partition, a client's Metadata saw a new topic with some of its partitions only (3 of 4 of
            // __transaction_state, CI), or only those this broker hosts.
            return NONE;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot take leadership of " + tp, e);
            return KAFKA_STORAGE_ERROR;
        }
    }

    /** StopReplica: stops following the partitions; with {@code delete} their logs go too. */
    public synchronized short stopReplicas(int epoch, List<TopicPartition> partitions,
                                           Consumer<TopicPartition> delete) {
        if (!acceptEpoch(epoch)) return STALE_CONTROLLER_EPOCH;
        for (TopicPartition tp : partitions) {
            fetchers.stop(tp);
            // As Kafka's stopPartitions: fetches and produces parked on the partition look again now (a deleted
            // log's delete does it itself, after the log is gone), rather than at their timeouts.
            if (delete != null) {
                delete.accept(tp);
            } else {
                highWatermarkMoved.accept(tp);
            }
        }
        return NONE;
    }

    /**
     * UpdateMetadata: the broker's view of live brokers, the controller and every partition's leadership. The epoch
     * check and the cache's new snapshot happen under this manager's lock, as Kafka 3.9's maybeUpdateMetadataCache
     * holds replicaStateChangeLock for both: a request of an older controller that passed the check can no longer
     * overwrite, after it, what a newer controller's request has applied meanwhile, nor interleave with a
     * LeaderAndIsr or StopReplica. The topics to read from the store are read before the lock, and the cache's
     * listeners run after it.
     */
    public short updateMetadata(UpdateMetadataRequest request) {
        // Read without the lock: a request already stale is refused before any store read (checked again below).
        if (request.controllerEpoch < controllerEpoch()) return STALE_CONTROLLER_EPOCH;
        UpdateMetadataContent content = UpdateMetadataContent.of(request);
        ClusterMetadata.ControllerUpdate update = metadata.readControllerUpdate(content.brokers(),
                content.updates(), content.deleted());
        Runnable listeners;
        synchronized (this) {
            if (!acceptEpoch(request.controllerEpoch)) return STALE_CONTROLLER_EPOCH;
            // One new snapshot for the whole request (controller id, live brokers, states, deletions), as Kafka's
            // ZkMetadataCache replaces its own: a Metadata request sees all of it or none of it.
            listeners = metadata.applyControllerUpdate(update.from(request.controllerId));
            // A fetcher whose leader moved host follows it there; followers waiting for their leader start.
            fetchers.liveBrokers(content.brokers());
        }
        // Outside the lock: a listener completes waiting requests and deletes group offsets, which may themselves
        // need this manager (a deadlock under it).
        listeners.run();
        return NONE;
    }

    /**
     * Runs every so often on the scheduler: each led partition proposes the ISR it should have (laggards out,
     * caught-up followers in); the controller's answer is applied when it comes.
     */
    public void maintainIsr(Iterable<Partition> partitions) {
        isr.maintain(partitions);
    }

    /** After a follower fetch moved a follower: it may now belong in the ISR. */
    public void followerProgressed(Partition p) {
        isr.followerProgressed(p);
    }

    @Override
    public synchronized void close() {
        if (ownedSender != null) ownedSender.shutdownNow();
        workers.close();
        fetchers.close();
    }
}
