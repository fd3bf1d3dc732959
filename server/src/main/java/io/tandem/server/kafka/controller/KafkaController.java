package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The Kafka controller as in Kafka 3.9's ZooKeeper mode. Every broker runs for it by creating the ephemeral
 * {@code /controller}; the winner bumps {@code /controller_epoch} and from then on writes every partition state in a
 * multi that checks that epoch node's version, so a deposed controller can write nothing. It watches
 * {@code /brokers/ids} and {@code /brokers/topics}: new topics and partitions get their first leader and ISR (the
 * first live replica; every live replica, all empty), a departed broker's partitions a new leader from the ISR
 * (an out-of-sync replica only when the topic's {@code unclean.leader.election.enable} allows it; otherwise with none
 * alive the partition goes offline, see {@link BrokerChanges}, until an operator's unclean ElectLeaders or a config
 * change enabling unclean election), and each decision goes to the brokers
 * as LeaderAndIsr (the replicas) and UpdateMetadata (everyone). Leaders' ISR changes arrive as AlterPartition.
 * All of it runs on one event thread ({@link ControllerEvents}); sends go through a {@link ControllerTransport} and
 * never block it. This class owns the election and failover and routes each event to the class that owns its concern:
 * {@link BrokerChanges} (brokers joining and leaving), {@link TopicChanges} and {@link TopicDeletions} (topics),
 * {@link IsrChanges} (AlterPartition), {@link Reassignments} and {@link AdminZnodes} (what tools write under /admin),
 * {@link Elections} (leader choice), {@link ControllerProcessWatch} (broker and controller processes seen gone).
 */
public final class KafkaController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaController.class.getName());
    /** How long a caller waits for the controller's event thread (a topic's first leaders, an ISR change). */
    public static final long EVENT_WAIT_MS = 30_000;

    /**
     * The requests the controller sends, handled in this process when the destination is this broker; returns the
     * answer (null when there is nothing in it the controller reads).
     */
    @FunctionalInterface
    public interface LocalBroker {
        io.tandem.kafka.wire.ApiMessage handle(ApiKey key, short version, io.tandem.kafka.wire.ApiMessage request);
    }

    private final int localBrokerId;
    private final ZnodeStore store;
    private final ClusterMetadata metadata;
    private final ControllerTransport channels;
    private final ControllerState cluster;
    private final ControllerRequests requests;
    private final Elections elections;
    private final Reassignments moves;
    private final AdminZnodes admin;
    private final IsrChanges isrChanges;
    private final TopicChanges topicChanges;
    private final BrokerChanges brokerChanges;
    private final TopicDeletions deletions;
    private final ControllerProcessWatch processes;
    private final ControllerEvents events;
    private final LeaderRebalance rebalance;
    private final UncleanElectionPolicy unclean;
    private volatile boolean active;
    /** Whether this controller finished loading and announcing the cluster's state after its election. */
    private volatile boolean loaded;
    private volatile Thread rebalanceTimer;

    public KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata,
                           LocalBroker local) {
        this(localBrokerId, store, metadata, local, LeaderRebalance.OFF);
    }

    /**
     * Kafka's auto.leader.rebalance.enable with leader.imbalance.check.interval.seconds and
     * leader.imbalance.per.broker.percentage: how often the controller looks for brokers that lead too few of the
     * partitions they are preferred for, and how far off a broker may be before its preferred leaderships move back.
     */
    public record LeaderRebalance(boolean enabled, long checkIntervalMs, int imbalancePercentage) {
        public static final LeaderRebalance OFF = new LeaderRebalance(false, 0, 0);
    }

    public KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata, LocalBroker local,
                           LeaderRebalance rebalance) {
        this(localBrokerId, store, metadata, local, rebalance, InterBrokerSecurity.PLAINTEXT);
    }

    /** {@code interBroker}: how the controller reaches the brokers (the inter-broker listener and its security). */
    public KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata, LocalBroker local,
                           LeaderRebalance rebalance, InterBrokerSecurity interBroker) {
        this(localBrokerId, store, metadata, local, rebalance, interBroker, InterBrokerTimeouts.KAFKA_DEFAULTS);
    }

    /** {@code timeouts}: the controller's channels' (controller.socket.timeout.ms, socket.connection.setup.*). */
    public KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata, LocalBroker local,
                           LeaderRebalance rebalance, InterBrokerSecurity interBroker, InterBrokerTimeouts timeouts) {
        this(localBrokerId, store, metadata, local, rebalance,
                ControllerThreads.runtime(localBrokerId, interBroker, timeouts));
    }

    /**
     * What ties the controller to threads and sockets, apart from its decisions: production has an event thread,
     * sleeping retry threads and {@link ControllerChannels}; the replication simulation gives a one-thread executor
     * that runs events in order, its simulated clock and its simulated network, and so runs these same decisions.
     *
     * @param events     runs the controller's events one at a time, in order
     * @param later      runs an action after a delay in milliseconds (a failed event's retry)
     * @param transport  makes the controller's connections to the brokers, given how to reach its own broker
     */
    public record Runtime(ExecutorService events, java.util.function.BiConsumer<Long, Runnable> later,
                          java.util.function.Function<LocalBroker, ControllerTransport> transport) {
    }

    /** A controller over {@code runtime} (see {@link Runtime}); leader rebalancing is off. */
    public KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata, LocalBroker local,
                           Runtime runtime) {
        this(localBrokerId, store, metadata, local, LeaderRebalance.OFF, runtime);
    }

    private KafkaController(int localBrokerId, ZnodeStore store, ClusterMetadata metadata, LocalBroker local,
                            LeaderRebalance rebalance, Runtime runtime) {
        this.localBrokerId = localBrokerId;
        this.rebalance = rebalance;
        this.store = store;
        this.metadata = metadata;
        this.events = new ControllerEvents(runtime.events(), runtime.later(),
                new EventRetries(localBrokerId, System::currentTimeMillis));
        this.channels = runtime.transport().apply(local);
        this.cluster = new ControllerState(store, () -> {
            LOG.log(System.Logger.Level.WARNING, "Controller {0} was fenced by a newer epoch; resigning", localBrokerId);
            active = false;
            enqueue(this::elect);
        });
        this.processes = new ControllerProcessWatch(localBrokerId, store, cluster, channels, events, () -> active,
                () -> active && loaded, this::onBrokersChanged, this::elect);
        processes.watchBrokers();
        this.requests = new ControllerRequests(localBrokerId, cluster, channels);
        this.unclean = new UncleanElectionPolicy(metadata);
        // Kafka's processReplicaLeaderElection answers a partition of a topic queued for deletion apart.
        this.elections = new Elections(cluster, requests, unclean, this::queuedForDeletion);
        this.admin = new AdminZnodes(store, cluster, elections, requests);
        this.moves = new Reassignments(cluster, requests, tp -> admin.removeFromReassignment(java.util.List.of(tp)));
        this.isrChanges = new IsrChanges(cluster, requests, moves);
        this.deletions = new TopicDeletions(store, cluster, requests, moves, admin, event -> enqueue(() -> {
            if (isActive()) event.run();
        }));
        this.topicChanges = new TopicChanges(store, cluster, elections, requests, deletions,
                () -> enqueue(this::onTopicsChanged));
        this.brokerChanges = new BrokerChanges(localBrokerId, cluster, elections, requests, deletions);
    }

    /** Watches the paths the controller reacts to and runs for controller; returns once the election is decided. */
    public void start() throws Exception {
        store.watchNode(KafkaZkLayout.CONTROLLER, () -> enqueue(this::elect));
        store.watchChildren(KafkaZkLayout.BROKER_IDS, () -> enqueue(this::onBrokersChanged));
        store.watchChildren(KafkaZkLayout.BROKER_TOPICS, () -> enqueue(this::onTopicsChanged));
        // What Kafka's tools and Apache brokers write to ask the controller: topic deletions, preferred elections.
        store.watchChildren(KafkaZkLayout.DELETE_TOPICS, () -> enqueue(this::onDeleteTopicsRequested));
        store.watchNode(KafkaZkLayout.PREFERRED_REPLICA_ELECTION, () -> enqueue(this::onPreferredElectionRequested));
        store.watchNode(KafkaZkLayout.REASSIGN_PARTITIONS, () -> enqueue(this::onReassignmentRequested));
        store.watchChildren(KafkaZkLayout.ISR_CHANGE_NOTIFICATION, () -> enqueue(this::onIsrChangesNotified));
        call(() -> {
            elect();
            return null;
        });
        if (rebalance.enabled()) {
            rebalanceTimer = ControllerThreads.every("kafka-controller-rebalance-" + localBrokerId,
                    rebalance.checkIntervalMs(), events::closed, () -> enqueue(() -> {
                        if (active && loaded) elections.rebalanceLeaders(rebalance.imbalancePercentage());
                    }));
        }
    }


    /** Whether this broker is the controller and has loaded the cluster's state since its election. */
    public boolean isActive() {
        return active && loaded;
    }

    /**
     * Kafka 3.9's KafkaController.isActive in ZooKeeper mode: this broker won the election, though its failover may
     * still be loading the cluster's state. What a client asks the controller then is taken, as Kafka's handlers take
     * it, and runs on the event thread after the load ({@link #electLeaders}), never answered NOT_CONTROLLER.
     */
    public boolean isElected() {
        return active;
    }

    /** The session was renewed: the old {@code /controller} may be gone, so run again. */
    public void onSessionRenewed() {
        try {
            call(() -> {
                active = false;
                elect();
                return null;
            });
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Broker " + localBrokerId + " could not run for controller again", e);
        }
    }

    /**
     * A topic or its partitions were just written by this broker: give them leaders now, and wait until their
     * replicas took their roles, so a client told the topic exists finds its leaders serving (bounded wait).
     */
    public void topicsChanged() throws Exception {
        // The requests may come from this call or from the watch that saw the write first: wait for all sent so far.
        CompletableFuture<Void> flushed = events.call(() -> {
            onTopicsChanged();
            return channels.flushed();
        });
        flushed.get(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * This broker wrote topic assignments (CreateTopics, CreatePartitions) and does not wait for the controller here
     * (the request is parked until this broker's cache has the leaders). A store with watches tells the controller by
     * the watch alone, as in Kafka; one without (a local directory) cannot, so the change is queued as its event.
     */
    public void assignmentsWritten() {
        if (!store.watches()) enqueue(this::onTopicsChanged);
    }

    /**
     * This broker wrote {@code /admin/delete_topics} requests (DeleteTopics). A store with watches tells the controller
     * by the watch alone (Kafka's one path; both read each request twice); one without (a local directory) cannot.
     */
    public void deletionsRequested() {
        if (!store.watches()) enqueue(this::onDeleteTopicsRequested);
    }

    /** AlterPartition from a leader: validated against the current state and written fenced, or refused. */
    public AlterPartitionResponse alterPartition(AlterPartitionRequest request) throws Exception {
        return call(() -> onAlterPartition(request));
    }

    /** AllocateProducerIds from a broker: a block of producer ids for it, or why not. */
    public io.tandem.kafka.wire.message.AllocateProducerIdsResponse allocateProducerIds(
            io.tandem.kafka.wire.message.AllocateProducerIdsRequest request) throws Exception {
        return call(() -> {
            if (active && loaded) return ProducerIdAllocator.allocate(store, cluster.brokerEpoch(request.brokerId), request);
            var refused = new io.tandem.kafka.wire.message.AllocateProducerIdsResponse();
            refused.errorCode = NOT_CONTROLLER;
            return refused;
        });
    }

    /**
     * ControlledShutdown from a stopping broker: its leaderships move to other in-sync replicas and it leaves the
     * ISRs it is in, before it goes, so clients see a new leader instead of a missing one. Answers the partitions it
     * still leads (no other in-sync replica to take over), as Kafka's controller does. A request from an earlier
     * registration of the broker (an older brokerEpoch; -1 names none) is refused with STALE_BROKER_EPOCH.
     */
    public io.tandem.kafka.wire.message.ControlledShutdownResponse controlledShutdown(int brokerId, long brokerEpoch)
            throws Exception {
        return call(() -> {
            if (active && loaded) return elections.controlledShutdown(brokerId, brokerEpoch);
            var refused = new io.tandem.kafka.wire.message.ControlledShutdownResponse();
            refused.errorCode = NOT_CONTROLLER;
            return refused;
        });
    }

    /** A partition being moved: the replicas it goes to and those it had (RS = target, then original - target). */
    public record Reassignment(List<Integer> target, List<Integer> original) {
        public List<Integer> replicas() {
            List<Integer> all = new ArrayList<>(target);
            for (int r : original) if (!all.contains(r)) all.add(r);
            return all;
        }

        public List<Integer> adding() {
            return target.stream().filter(r -> !original.contains(r)).toList();
        }

        public List<Integer> removing() {
            return original.stream().filter(r -> !target.contains(r)).toList();
        }
    }

    /**
     * AlterPartitionReassignments: each partition starts moving to its target replicas (null cancels a move in
     * progress), as Kafka's controller does: the new replicas are added and catch up, then the target leads and the
     * others are stopped and deleted. Answers one result per partition.
     */
    public Map<TopicPartition, ElectionResult> reassign(Map<TopicPartition, List<Integer>> targets) throws Exception {
        return call(() -> {
            if (!active || !loaded) return notController(targets.keySet());
            Map<TopicPartition, ElectionResult> results = moves.reassign(targets);
            // The latest request wins, as in Kafka: a partition moved by this call leaves the ZooKeeper request.
            List<TopicPartition> superseded = new ArrayList<>();
            results.forEach((tp, result) -> {
                if (result.error() == NONE) superseded.add(tp);
            });
            admin.removeFromReassignment(superseded);
            return results;
        });
    }

    /** ListPartitionReassignments: the moves in progress (all, or those asked for). */
    public Map<TopicPartition, Reassignment> reassignments(Set<TopicPartition> asked) throws Exception {
        return call(() -> moves.inProgress(asked));
    }

    private static Map<TopicPartition, ElectionResult> notController(Set<TopicPartition> partitions) {
        Map<TopicPartition, ElectionResult> results = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) results.put(tp, new ElectionResult(NOT_CONTROLLER, null));
        return results;
    }

    /** The kinds of ElectLeaders, with Kafka's codes. */
    public enum ElectionType { PREFERRED, UNCLEAN }

    /**
     * One partition's outcome: NONE, or an error with Kafka's message. An ElectLeaders election that was made
     * names its new {@code leader} (Kafka's ElectLeadersCallback's Right(leader)), which the answer waits to see in
     * the broker's metadata cache; -1 otherwise.
     */
    public record ElectionResult(short error, String message, int leader) {
        public ElectionResult(short error, String message) {
            this(error, message, -1);
        }

        /** The election made {@code leader} the partition's leader. */
        public static ElectionResult elected(int leader) {
            return new ElectionResult(NONE, null, leader);
        }
    }

    /**
     * ElectLeaders: for each partition (null: every partition, with partitions that need no election left out) the
     * preferred replica, or for UNCLEAN a live replica of a leaderless partition, out of the ISR if it must; each
     * partition elected names its new leader, unknown partitions are UNKNOWN_TOPIC_OR_PARTITION and those of a topic
     * queued for deletion INVALID_TOPIC_EXCEPTION. Taken as Kafka 3.9's KafkaController.electLeaders takes it: a
     * ReplicaLeaderElection event queued behind the controller's other events, a failover's load among them,
     * answered when it runs, without holding the caller's thread. A broker that is not (or no longer) the controller
     * when it runs answers each partition named NOT_CONTROLLER, and nothing for "every partition" (Kafka's
     * processReplicaLeaderElection when not active).
     */
    public CompletableFuture<Map<TopicPartition, ElectionResult>> electLeaders(ElectionType type,
                                                                                   Set<TopicPartition> partitions) {
        return events.submit(() -> active && loaded ? elections.electLeaders(type, partitions)
                : notController(partitions == null ? Set.of() : partitions));
    }

    /** A partition of a topic queued for deletion (out of the cluster state until it is gone). */
    private boolean queuedForDeletion(TopicPartition tp) {
        return deletions.isQueuedPartition(tp);
    }

    private void enqueue(Runnable event) {
        events.enqueue(event);
    }

    /** What the controller's failed events are waiting to retry (empty when nothing is stuck), oldest first. */
    public List<String> stuckEvents() {
        return events.stuckEvents();
    }

    /**
     * Where the broker default of {@code unclean.leader.election.enable} comes from (its static setting and dynamic
     * layers); false until set. The topic's own override, read from ZooKeeper at each election that needs it, wins.
     */
    public void uncleanLeaderElectionDefault(java.util.function.BooleanSupplier brokerDefault) {
        unclean.brokerDefault(brokerDefault);
    }

    /**
     * A topic's config change set {@code unclean.leader.election.enable=true} (Kafka's TopicConfigHandler, on every
     * broker): the active controller elects leaders for the topic's partitions that have none.
     */
    public void enableTopicUncleanLeaderElection(String topic) {
        if (isActive()) enqueue(() -> whileLoaded("elect unclean leaders for " + topic,
                () -> elections.uncleanElectionEnabled(topic)));
    }

    /**
     * The broker default of {@code unclean.leader.election.enable} was just turned on dynamically (Kafka's
     * DynamicLogConfig.reconfigure): the active controller elects leaders for every partition that has none.
     */
    public void enableDefaultUncleanLeaderElection() {
        enqueue(() -> whileLoaded("elect unclean leaders", () -> elections.uncleanElectionEnabled(null)));
    }

    private <T> T call(Callable<T> event) throws Exception {
        return events.call(event);
    }

    // ---------------------------------------------------------------- election

    private void elect() {
        try {
            if (active && loaded && isStillController()) return;
            active = false;
            byte[] controller = KafkaZkLayout.encodeController(localBrokerId, System.currentTimeMillis());
            if (store.create(KafkaZkLayout.CONTROLLER, controller, true)) {
                becomeController();
            } else {
                byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
                int holder = data == null ? -1 : KafkaZkLayout.decodeControllerId(data);
                if (holder == localBrokerId) {
                    // Ours from an attempt that failed half-way (ZooKeeper unreachable meanwhile): finish it.
                    becomeController();
                    return;
                }
                // The cache is not told: as Kafka's, it learns the controller from its UpdateMetadata only.
                processes.watchController(holder);
                if (data == null) enqueue(this::elect);
            }
        } catch (Exception e) {
            throw new IllegalStateException("controller election failed on broker " + localBrokerId, e);
        }
    }

    private boolean isStillController() throws Exception {
        byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
        return data != null && KafkaZkLayout.decodeControllerId(data) == localBrokerId;
    }

    private void becomeController() throws Exception {
        loaded = false;
        if (!cluster.claimEpoch()) {
            // Another controller bumped the epoch between our read and write: it is the controller, not us.
            LOG.log(System.Logger.Level.WARNING, "Broker {0} lost the controller epoch race; resigning", localBrokerId);
            store.deleteRecursive(KafkaZkLayout.CONTROLLER);
            return;
        }
        // Kafka's onControllerFailover starts with the /feature znode (setupFeatureVersioning).
        FeatureVersioning.enable(store);
        active = true;
        channels.watchControllerProcess(null, null);
        // This broker's cache (and so its Metadata and DescribeCluster answers, its AlterPartition and
        // ControlledShutdown) names this controller once its UpdateMetadata below is applied, as in Kafka 3.9.
        LOG.log(System.Logger.Level.INFO, "Broker {0} is the controller, epoch {1}", localBrokerId, cluster.epoch);
        loadClusterState();
        // Topics with a deletion request leave the state before anything is elected or sent for them.
        deletions.load();
        List<TopicPartition> changed = new ArrayList<>();
        for (String topic : cluster.topics.keySet()) changed.addAll(elections.initializeNewPartitions(topic));
        changed.addAll(elections.electLeadersForOfflinePartitions());
        // Replicas on brokers that are not registered are not in sync, whatever an older controller wrote.
        Set<Integer> absent = new HashSet<>();
        for (PartitionState state : cluster.states.values()) {
            for (int r : state.isr()) if (!cluster.live.containsKey(r)) absent.add(r);
        }
        changed.addAll(elections.removeFromIsr(absent));
        moves.resume();
        admin.reassignmentRequested(moves);
        admin.isrChangesNotified();
        // A new controller tells every broker everything, as Kafka's does on failover: first the live brokers (an
        // Apache broker follows only a leader its metadata cache knows), then each its partitions, then all states.
        requests.updateMetadata(cluster.live.keySet(), List.of());
        for (int broker : cluster.live.keySet()) requests.leaderAndIsr(broker, cluster.partitionsOn(broker, cluster.states.keySet()), true);
        requests.updateMetadata(cluster.live.keySet(), cluster.states.keySet());
        loaded = true;
        // Deletions asked for before this controller took over (Kafka's controller resumes them at failover): the
        // watch that saw them fired at a controller that died, or before this one had loaded (replication
        // simulation's seed 1 left a topic marked for deletion for good).
        onDeleteTopicsRequested();
        LOG.log(System.Logger.Level.INFO, "Controller {0} loaded {1} topics, {2} partitions; {3} states changed",
                localBrokerId, cluster.topics.size(), cluster.states.size(), changed.size());
    }

    private void loadClusterState() throws Exception {
        processes.handOver();
        // Every registration is new to a new controller: each one's features are checked (see setLive).
        cluster.brokerEpochs.clear();
        refreshLiveBrokers();
        cluster.topics.clear();
        cluster.states.clear();
        for (String topic : store.getChildren(KafkaZkLayout.BROKER_TOPICS)) cluster.loadTopic(topic, () -> enqueue(this::onTopicsChanged));
    }

    /**
     * Reads {@code /brokers/ids}: every registered broker gets a channel, the live ones (see setLive) roles. This
     * broker's own cache is not set here: as in Kafka 3.9, the controller's UpdateMetadata to every live broker, its
     * own included, is what puts the live brokers in every cache.
     */
    private void refreshLiveBrokers() throws Exception {
        List<BrokerRegistration> registered = metadata.readRegisteredBrokers();
        channels.update(registered);
        cluster.setLive(registered);
    }

    // ---------------------------------------------------------------- events

    private void onBrokersChanged() {
        if (!active || !loaded) return;
        try {
            Map<Integer, Long> before = new HashMap<>(cluster.brokerEpochs);
            refreshLiveBrokers();
            brokerChanges.brokersChanged(before);
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot handle a broker change", e);
        }
    }

    private void onTopicsChanged() {
        whileLoaded("handle a topic change", topicChanges::topicsChanged);
    }

    private AlterPartitionResponse onAlterPartition(AlterPartitionRequest request) throws Exception {
        if (!active || !loaded) {
            AlterPartitionResponse response = new AlterPartitionResponse();
            response.errorCode = NOT_CONTROLLER;
            return response;
        }
        return isrChanges.alter(request);
    }

    /** {@code /admin/delete_topics/T}, as Kafka's tools and brokers write it (see {@link TopicDeletions}). */
    private void onDeleteTopicsRequested() {
        whileLoaded("delete requested topics", deletions::requested);
    }

    /** {@code /admin/preferred_replica_election}: Kafka's tool asks for preferred leaders, then the node goes. */
    private void onPreferredElectionRequested() {
        whileLoaded("run a preferred election", admin::preferredElectionRequested);
    }

    private void onReassignmentRequested() {
        whileLoaded("start a reassignment", () -> admin.reassignmentRequested(moves));
    }

    private void onIsrChangesNotified() {
        whileLoaded("apply ISR change notifications", admin::isrChangesNotified);
    }

    /** A step of a watch event that may throw; see {@link #whileLoaded}. */
    @FunctionalInterface
    private interface EventStep {
        void run() throws Exception;
    }

    /**
     * Runs a watch event's step when this broker is the loaded controller (others ignore the watch); a failure is
     * rethrown naming what could not be done, and {@link ControllerEvents} retries the whole event.
     */
    private void whileLoaded(String what, EventStep step) {
        if (!active || !loaded) return;
        try {
            step.run();
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot " + what, e);
        }
    }

    @Override
    public void close() {
        events.markClosed();
        Thread timer = rebalanceTimer;
        if (timer != null) timer.interrupt();
        events.shutdownNow();
        channels.close();
    }
}
