package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.replica.ReplicaManager;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The Kafka controller as in Kafka 3.9's ZooKeeper mode. Every broker runs for it by creating the ephemeral
 * {@code /controller}; the winner bumps {@code /controller_epoch} and from then on writes every partition state in a
 * multi that checks that epoch node's version, so a deposed controller can write nothing. It watches
 * {@code /brokers/ids} and {@code /brokers/topics}: new topics and partitions get their first leader and ISR (the
 * first live replica; every live replica, all empty), a departed broker's partitions a new leader from the ISR
 * (never an out-of-sync replica: {@code unclean.leader.election.enable=false}), and each decision goes to the brokers
 * as LeaderAndIsr (the replicas) and UpdateMetadata (everyone). Leaders' ISR changes arrive as AlterPartition.
 * All of it runs on one event thread; sends go through {@link ControllerChannels} and never block it.
 */
public final class KafkaController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaController.class.getName());
    static final short LEADER_AND_ISR_VERSION = 6;
    static final short UPDATE_METADATA_VERSION = 7;
    static final short STOP_REPLICA_VERSION = 3;
    /** How long a caller waits for the controller's event thread (a topic's first leaders, an ISR change). */
    static final long EVENT_WAIT_MS = 30_000;
    static final long EVENT_RETRY_BACKOFF_MS = 500;

    /** The requests the controller sends, handled in this process when the destination is this broker. */
    @FunctionalInterface
    public interface LocalBroker {
        void handle(ApiKey key, short version, io.tandem.kafka.wire.ApiMessage request);
    }

    private final int localBrokerId;
    private final ZnodeStore store;
    private final ClusterMetadata metadata;
    private final ControllerChannels channels;
    private final ExecutorService events;
    private final LeaderRebalance rebalance;
    private volatile boolean active;
    /** Whether this controller finished loading and announcing the cluster's state after its election. */
    private volatile boolean loaded;
    private volatile boolean closed;
    private volatile Thread rebalanceTimer;
    private int epoch;
    private int epochZkVersion;
    private final Map<Integer, BrokerRegistration> live = new TreeMap<>();
    private final Map<String, TopicAssignment> topics = new HashMap<>();
    private final Map<TopicPartition, PartitionState> states = new HashMap<>();
    private final Map<TopicPartition, Reassignment> reassigning = new LinkedHashMap<>();

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
        this.localBrokerId = localBrokerId;
        this.rebalance = rebalance;
        this.store = store;
        this.metadata = metadata;
        this.channels = new ControllerChannels(localBrokerId, local);
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kafka-controller-" + localBrokerId);
            t.setDaemon(true);
            return t;
        });
    }

    /** Watches the paths the controller reacts to and runs for controller; returns once the election is decided. */
    public void start() throws Exception {
        store.watchNode(KafkaZkLayout.CONTROLLER, () -> enqueue(this::elect));
        store.watchChildren(KafkaZkLayout.BROKER_IDS, () -> enqueue(this::onBrokersChanged));
        store.watchChildren(KafkaZkLayout.BROKER_TOPICS, () -> enqueue(this::onTopicsChanged));
        // What Kafka's tools and Apache brokers write to ask the controller: topic deletions, preferred elections.
        store.watchChildren(KafkaZkLayout.DELETE_TOPICS, () -> enqueue(this::onDeleteTopicsRequested));
        store.watchNode(KafkaZkLayout.PREFERRED_REPLICA_ELECTION, () -> enqueue(this::onPreferredElectionRequested));
        call(() -> {
            elect();
            return null;
        });
        if (rebalance.enabled()) {
            Thread timer = new Thread(() -> {
                while (!closed) {
                    try {
                        Thread.sleep(rebalance.checkIntervalMs());
                    } catch (InterruptedException e) {
                        return;
                    }
                    enqueue(this::rebalanceLeaders);
                }
            }, "kafka-controller-rebalance-" + localBrokerId);
            timer.setDaemon(true);
            timer.start();
            rebalanceTimer = timer;
        }
    }

    /**
     * Kafka's checkAndTriggerAutoLeaderRebalance: per live broker, the share of the partitions it is preferred for
     * (first replica) that it does not lead; above leader.imbalance.per.broker.percentage, those whose preferred
     * replica is in the ISR get it back as leader.
     */
    private void rebalanceLeaders() {
        if (!active || !loaded) return;
        try {
            Map<Integer, List<TopicPartition>> preferredOf = new HashMap<>();
            Map<Integer, List<TopicPartition>> notLeading = new HashMap<>();
            for (Map.Entry<TopicPartition, PartitionState> e : states.entrySet()) {
                TopicAssignment assignment = topics.get(e.getKey().topic());
                if (assignment == null) continue;
                int preferred = assignment.replicas().get(e.getKey().partition()).get(0);
                preferredOf.computeIfAbsent(preferred, b -> new ArrayList<>()).add(e.getKey());
                if (e.getValue().leader() != preferred) notLeading.computeIfAbsent(preferred, b -> new ArrayList<>()).add(e.getKey());
            }
            Set<TopicPartition> toMove = new java.util.LinkedHashSet<>();
            for (Map.Entry<Integer, List<TopicPartition>> e : notLeading.entrySet()) {
                if (!live.containsKey(e.getKey())) continue;
                double imbalance = 100.0 * e.getValue().size() / preferredOf.get(e.getKey()).size();
                if (imbalance <= rebalance.imbalancePercentage()) continue;
                for (TopicPartition tp : e.getValue()) {
                    if (states.get(tp).isr().contains(e.getKey())) toMove.add(tp);
                }
            }
            if (toMove.isEmpty()) return;
            LOG.log(System.Logger.Level.INFO, "Controller {0} moves {1} partitions back to their preferred leaders",
                    localBrokerId, toMove.size());
            onElectLeaders(ElectionType.PREFERRED, toMove);
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot rebalance leaders", e);
        }
    }

    public boolean isActive() {
        return active && loaded;
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
        CompletableFuture<Void> flushed = call(() -> {
            onTopicsChanged();
            return channels.flushed();
        });
        flushed.get(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
    }

    /** AlterPartition from a leader: validated against the current state and written fenced, or refused. */
    public AlterPartitionResponse alterPartition(AlterPartitionRequest request) throws Exception {
        return call(() -> onAlterPartition(request));
    }

    /**
     * ControlledShutdown from a stopping broker: its leaderships move to other in-sync replicas and it leaves the
     * ISRs it is in, before it goes, so clients see a new leader instead of a missing one. Answers the partitions it
     * still leads (no other in-sync replica to take over), as Kafka's controller does.
     */
    public io.tandem.kafka.wire.message.ControlledShutdownResponse controlledShutdown(int brokerId) throws Exception {
        return call(() -> onControlledShutdown(brokerId));
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
        return call(() -> onReassign(targets));
    }

    /** ListPartitionReassignments: the moves in progress (all, or those asked for). */
    public Map<TopicPartition, Reassignment> reassignments(Set<TopicPartition> asked) throws Exception {
        return call(() -> {
            Map<TopicPartition, Reassignment> result = new LinkedHashMap<>();
            reassigning.forEach((tp, r) -> {
                if (asked == null || asked.contains(tp)) result.put(tp, r);
            });
            return result;
        });
    }

    /** The kinds of ElectLeaders, with Kafka's codes. */
    public enum ElectionType { PREFERRED, UNCLEAN }

    /** One partition's ElectLeaders outcome: NONE, or an error with Kafka's message. */
    public record ElectionResult(short error, String message) {
    }

    /**
     * ElectLeaders: for each partition (null: every partition, with partitions that need no election left out, as
     * Kafka's controller does) the preferred replica, or for UNCLEAN a live replica of a leaderless partition, out of
     * the ISR if it must. Unknown partitions are UNKNOWN_TOPIC_OR_PARTITION.
     */
    public Map<TopicPartition, ElectionResult> electLeaders(ElectionType type, Set<TopicPartition> partitions)
            throws Exception {
        return call(() -> onElectLeaders(type, partitions));
    }

    private void enqueue(Runnable event) {
        if (closed) return;
        try {
            events.execute(() -> runSafely(event));
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // closing
        }
    }

    /** Runs an event again after a pause, on the event thread: ZooKeeper may be between leaders. */
    private void retryLater(Runnable event) {
        Thread retry = new Thread(() -> {
            try {
                Thread.sleep(EVENT_RETRY_BACKOFF_MS);
            } catch (InterruptedException e) {
                return;
            }
            enqueue(event);
        }, "kafka-controller-retry-" + localBrokerId);
        retry.setDaemon(true);
        retry.start();
    }

    private <T> T call(Callable<T> event) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        events.execute(() -> {
            try {
                result.complete(event.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result.get(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Every event re-reads what it acts on from ZooKeeper, so one that failed (ZooKeeper unreachable while its
     * ensemble changes leader, a session being renewed) is simply run again later rather than lost.
     */
    private void runSafely(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            if (closed) return;
            LOG.log(System.Logger.Level.WARNING, "Controller event failed on broker " + localBrokerId
                    + "; retrying in " + EVENT_RETRY_BACKOFF_MS + " ms: " + e);
            retryLater(event);
        }
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
                metadata.controllerId(holder);
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
        ZnodeStore.Versioned current = store.getVersioned(KafkaZkLayout.CONTROLLER_EPOCH);
        int previous = current == null || current.data().length == 0 ? 0 : KafkaZkLayout.decodeControllerEpoch(current.data());
        LinkedHashMap<String, ZnodeStore.Versioned> write = new LinkedHashMap<>();
        write.put(KafkaZkLayout.CONTROLLER_EPOCH, new ZnodeStore.Versioned(
                KafkaZkLayout.encodeControllerEpoch(previous + 1), current == null ? -1 : current.version()));
        try {
            epochZkVersion = current == null
                    ? store.writeFenced(KafkaZkLayout.CONTROLLER, 0, write).get(KafkaZkLayout.CONTROLLER_EPOCH)
                    : store.writeFenced(KafkaZkLayout.CONTROLLER_EPOCH, current.version(), write)
                    .get(KafkaZkLayout.CONTROLLER_EPOCH);
        } catch (ZnodeStore.FencedWriteException e) {
            // Another controller bumped the epoch between our read and write: it is the controller, not us.
            LOG.log(System.Logger.Level.WARNING, "Broker {0} lost the controller epoch race; resigning", localBrokerId);
            store.deleteRecursive(KafkaZkLayout.CONTROLLER);
            return;
        }
        epoch = previous + 1;
        active = true;
        metadata.controllerId(localBrokerId);
        LOG.log(System.Logger.Level.INFO, "Broker {0} is the controller, epoch {1}", localBrokerId, epoch);
        loadClusterState();
        List<TopicPartition> changed = new ArrayList<>();
        for (String topic : topics.keySet()) changed.addAll(initializeNewPartitions(topic));
        changed.addAll(electLeadersForOfflinePartitions());
        // Replicas on brokers that are not registered are not in sync, whatever an older controller wrote.
        Set<Integer> absent = new HashSet<>();
        for (PartitionState state : states.values()) {
            for (int r : state.isr()) if (!live.containsKey(r)) absent.add(r);
        }
        changed.addAll(removeFromIsr(absent));
        // A new controller tells every broker everything, as Kafka's does on failover.
        for (int broker : live.keySet()) sendLeaderAndIsr(broker, partitionsOn(broker, states.keySet()), true);
        sendUpdateMetadata(live.keySet(), states.keySet());
        loaded = true;
        LOG.log(System.Logger.Level.INFO, "Controller {0} loaded {1} topics, {2} partitions; {3} states changed",
                localBrokerId, topics.size(), states.size(), changed.size());
    }

    private void loadClusterState() throws Exception {
        List<BrokerRegistration> now = metadata.refreshLiveBrokers();
        live.clear();
        for (BrokerRegistration b : now) live.put(b.brokerId(), b);
        channels.update(live.values());
        topics.clear();
        states.clear();
        for (String topic : store.getChildren(KafkaZkLayout.BROKER_TOPICS)) loadTopic(topic);
    }

    private void loadTopic(String topic) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(topic));
        if (data == null) return;
        TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(data);
        topics.put(topic, assignment);
        store.watchNode(KafkaZkLayout.topicPath(topic), () -> enqueue(this::onTopicsChanged));
        for (int p : assignment.replicas().keySet()) {
            ZnodeStore.Versioned state = store.getVersioned(KafkaZkLayout.partitionStatePath(topic, p));
            if (state != null) {
                states.put(new TopicPartition(topic, p),
                        KafkaZkLayout.decodePartitionState(state.data()).withZkVersion(state.version()));
            }
        }
    }

    // ---------------------------------------------------------------- events

    private void onBrokersChanged() {
        if (!active || !loaded) return;
        try {
            Map<Integer, BrokerRegistration> before = new HashMap<>(live);
            List<BrokerRegistration> now = metadata.refreshLiveBrokers();
            live.clear();
            for (BrokerRegistration b : now) live.put(b.brokerId(), b);
            channels.update(live.values());
            Set<Integer> joined = new HashSet<>(live.keySet());
            // A broker that registered again (restarted before its old session ended) lost all its roles: it is
            // told everything again, as a newcomer.
            joined.removeIf(id -> before.containsKey(id)
                    && before.get(id).timestampMs() == live.get(id).timestampMs());
            Set<Integer> departed = new HashSet<>(before.keySet());
            departed.removeAll(live.keySet());
            if (joined.isEmpty() && departed.isEmpty()) return;
            LOG.log(System.Logger.Level.INFO, "Controller {0}: brokers joined {1}, departed {2}", localBrokerId,
                    joined, departed);
            List<TopicPartition> changed = new ArrayList<>(electLeadersForOfflinePartitions());
            changed.addAll(removeFromIsr(departed));
            for (int broker : live.keySet()) {
                Collection<TopicPartition> partitions = joined.contains(broker) ? states.keySet() : changed;
                sendLeaderAndIsr(broker, partitionsOn(broker, partitions), joined.contains(broker));
            }
            sendUpdateMetadata(live.keySet(), joined.isEmpty() ? changed : states.keySet());
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot handle a broker change", e);
        }
    }

    private void onTopicsChanged() {
        if (!active || !loaded) return;
        try {
            List<String> current = store.getChildren(KafkaZkLayout.BROKER_TOPICS);
            List<TopicPartition> changed = new ArrayList<>();
            for (String topic : current) {
                TopicAssignment known = topics.get(topic);
                byte[] data = store.getData(KafkaZkLayout.topicPath(topic));
                if (data == null) continue;
                TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(data);
                if (known == null) {
                    loadTopic(topic);
                } else if (!known.equals(assignment)) {
                    topics.put(topic, assignment);
                }
                changed.addAll(initializeNewPartitions(topic));
            }
            Set<String> deleted = new HashSet<>(topics.keySet());
            deleted.removeAll(current);
            for (String topic : deleted) deleteTopic(topic);
            if (changed.isEmpty()) return;
            // LeaderAndIsr first, so a broker hears of a partition it serves no later than that others may ask it.
            for (int broker : live.keySet()) sendLeaderAndIsr(broker, partitionsOn(broker, changed), false);
            sendUpdateMetadata(live.keySet(), changed);
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot handle a topic change", e);
        }
    }

    private void deleteTopic(String topic) {
        TopicAssignment assignment = topics.get(topic);
        // Every broker forgets the topic: its partitions go out once more with Kafka's leader-during-delete mark.
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p : assignment.replicas().keySet()) {
            TopicPartition tp = new TopicPartition(topic, p);
            PartitionState state = states.get(tp);
            if (state == null) continue;
            states.put(tp, new PartitionState(ReplicaManager.LEADER_DURING_DELETE, state.leaderEpoch(), epoch,
                    state.isr(), state.zkVersion()));
            partitions.add(tp);
        }
        sendUpdateMetadata(live.keySet(), partitions);
        topics.remove(topic);
        states.keySet().removeIf(tp -> tp.topic().equals(topic));
        Map<Integer, io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState> byBroker = new HashMap<>();
        assignment.replicas().forEach((p, replicas) -> {
            for (int broker : replicas) {
                if (!live.containsKey(broker)) continue;
                var state = byBroker.computeIfAbsent(broker, b -> {
                    var t = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState();
                    t.topicName = topic;
                    return t;
                });
                var ps = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaPartitionState();
                ps.partitionIndex = p;
                ps.leaderEpoch = -2;
                ps.deletePartition = true;
                state.partitionStates.add(ps);
            }
        });
        byBroker.forEach((broker, state) -> {
            var request = new io.tandem.kafka.wire.message.StopReplicaRequest();
            request.controllerId = localBrokerId;
            request.controllerEpoch = epoch;
            request.brokerEpoch = -1;
            request.topicStates.add(state);
            channels.send(broker, ApiKey.STOP_REPLICA, STOP_REPLICA_VERSION, request);
        });
    }

    private AlterPartitionResponse onAlterPartition(AlterPartitionRequest request) throws Exception {
        AlterPartitionResponse response = new AlterPartitionResponse();
        if (!active || !loaded) {
            response.errorCode = NOT_CONTROLLER;
            return response;
        }
        List<TopicPartition> changed = new ArrayList<>();
        for (AlterPartitionRequest.TopicData topic : request.topics) {
            AlterPartitionResponse.TopicData topicResult = new AlterPartitionResponse.TopicData();
            topicResult.topicName = topic.topicName;
            topicResult.topicId = topic.topicId;
            // v2+ name the topic by id only.
            String name = topic.topicName != null && !topic.topicName.isEmpty() ? topic.topicName
                    : topics.entrySet().stream().filter(t -> t.getValue().topicId().equals(topic.topicId))
                    .map(Map.Entry::getKey).findFirst().orElse("");
            for (AlterPartitionRequest.PartitionData data : topic.partitions) {
                TopicPartition tp = new TopicPartition(name, data.partitionIndex);
                AlterPartitionResponse.PartitionData result = new AlterPartitionResponse.PartitionData();
                result.partitionIndex = data.partitionIndex;
                List<Integer> newIsr = data.newIsr.isEmpty() && !data.newIsrWithEpochs.isEmpty()
                        ? data.newIsrWithEpochs.stream().map(b -> b.brokerId).toList() : data.newIsr;
                PartitionState state = states.get(tp);
                TopicAssignment assignment = topics.get(tp.topic());
                List<Integer> replicas = assignment == null ? null : assignment.replicas().get(tp.partition());
                if (state == null || replicas == null) {
                    result.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else if (state.leader() != request.brokerId) {
                    result.errorCode = NOT_LEADER_OR_FOLLOWER;
                } else if (data.leaderEpoch != state.leaderEpoch()) {
                    result.errorCode = FENCED_LEADER_EPOCH;
                } else if (data.partitionEpoch != state.zkVersion()) {
                    result.errorCode = INVALID_UPDATE_VERSION;
                } else if (!newIsr.contains(state.leader()) || !replicas.containsAll(newIsr)
                        || !newIsr.stream().allMatch(live::containsKey)) {
                    result.errorCode = INELIGIBLE_REPLICA;
                } else {
                    PartitionState next = writeState(tp, new PartitionState(state.leader(), state.leaderEpoch(), epoch,
                            newIsr, state.zkVersion()));
                    if (next == null) {
                        result.errorCode = INVALID_UPDATE_VERSION;
                    } else {
                        changed.add(tp);
                        state = next;
                    }
                }
                result.leaderId = state == null ? -1 : state.leader();
                result.leaderEpoch = state == null ? -1 : state.leaderEpoch();
                result.isr = state == null ? new ArrayList<>() : new ArrayList<>(state.isr());
                result.partitionEpoch = state == null ? -1 : state.zkVersion();
                topicResult.partitions.add(result);
            }
            response.topics.add(topicResult);
        }
        if (!changed.isEmpty()) {
            sendUpdateMetadata(live.keySet(), changed);
            progressReassignments(changed);
        }
        return response;
    }

    private io.tandem.kafka.wire.message.ControlledShutdownResponse onControlledShutdown(int brokerId) throws Exception {
        var response = new io.tandem.kafka.wire.message.ControlledShutdownResponse();
        if (!active || !loaded) {
            response.errorCode = NOT_CONTROLLER;
            return response;
        }
        if (!live.containsKey(brokerId)) {
            response.errorCode = BROKER_NOT_AVAILABLE;
            return response;
        }
        List<TopicPartition> changed = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(states.entrySet())) {
            PartitionState state = e.getValue();
            if (!state.isr().contains(brokerId)) continue;
            List<Integer> isr = state.isr().stream().filter(r -> r != brokerId).toList();
            int leader = state.leader();
            if (leader == brokerId) {
                List<Integer> replicas = topics.get(e.getKey().topic()).replicas().get(e.getKey().partition());
                Integer next = replicas.stream().filter(r -> isr.contains(r) && live.containsKey(r)).findFirst().orElse(null);
                if (next == null) {
                    var remaining = new io.tandem.kafka.wire.message.ControlledShutdownResponse.RemainingPartition();
                    remaining.topicName = e.getKey().topic();
                    remaining.partitionIndex = e.getKey().partition();
                    response.remainingPartitions.add(remaining);
                    continue;
                }
                leader = next;
            }
            if (writeState(e.getKey(), new PartitionState(leader, state.leaderEpoch() + 1, epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        for (int broker : live.keySet()) sendLeaderAndIsr(broker, partitionsOn(broker, changed), false);
        sendUpdateMetadata(live.keySet(), changed);
        LOG.log(System.Logger.Level.INFO, "Controlled shutdown of broker {0}: {1} partitions moved, {2} remain",
                brokerId, changed.size(), response.remainingPartitions.size());
        return response;
    }

    private Map<TopicPartition, ElectionResult> onElectLeaders(ElectionType type, Set<TopicPartition> asked) throws Exception {
        Map<TopicPartition, ElectionResult> results = new LinkedHashMap<>();
        if (!active || !loaded) {
            for (TopicPartition tp : asked == null ? Set.<TopicPartition>of() : asked) {
                results.put(tp, new ElectionResult(NOT_CONTROLLER, null));
            }
            return results;
        }
        Collection<TopicPartition> partitions = asked == null ? new ArrayList<>(states.keySet()) : asked;
        List<TopicPartition> changed = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = states.get(tp);
            TopicAssignment assignment = topics.get(tp.topic());
            List<Integer> replicas = assignment == null ? null : assignment.replicas().get(tp.partition());
            if (state == null || replicas == null) {
                results.put(tp, new ElectionResult(UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
                continue;
            }
            Integer leader;
            List<Integer> isr = state.isr();
            if (type == ElectionType.PREFERRED) {
                int preferred = replicas.get(0);
                if (state.leader() == preferred) {
                    if (asked != null) {
                        results.put(tp, new ElectionResult(ELECTION_NOT_NEEDED, "Leader election not needed for topic partition"));
                    }
                    continue;
                }
                leader = live.containsKey(preferred) && isr.contains(preferred) ? preferred : null;
                if (leader == null) {
                    results.put(tp, new ElectionResult(PREFERRED_LEADER_NOT_AVAILABLE, "Failed to elect leader for"
                            + " partition " + tp + " under strategy PreferredReplicaPartitionLeaderElectionStrategy"));
                    continue;
                }
            } else {
                if (live.containsKey(state.leader())) {
                    if (asked != null) {
                        results.put(tp, new ElectionResult(ELECTION_NOT_NEEDED, "Leader election not needed for topic partition"));
                    }
                    continue;
                }
                List<Integer> inSync = isr;
                leader = replicas.stream().filter(r -> live.containsKey(r) && inSync.contains(r)).findFirst()
                        .orElse(replicas.stream().filter(live::containsKey).findFirst().orElse(null));
                if (leader == null) {
                    results.put(tp, new ElectionResult(ELIGIBLE_LEADERS_NOT_AVAILABLE, "Failed to elect leader for"
                            + " partition " + tp + " under strategy OfflinePartitionLeaderElectionStrategy(true)"));
                    continue;
                }
                if (!isr.contains(leader)) {
                    // Unclean, asked for explicitly: the new leader's log is the truth, so it is the whole ISR.
                    isr = List.of(leader);
                }
            }
            List<Integer> newIsr = isr.stream().filter(live::containsKey).toList();
            if (writeState(tp, new PartitionState(leader, state.leaderEpoch() + 1, epoch, newIsr, state.zkVersion())) != null) {
                changed.add(tp);
                results.put(tp, new ElectionResult(NONE, null));
            } else {
                results.put(tp, new ElectionResult(UNKNOWN_SERVER_ERROR, "the partition state changed meanwhile"));
            }
        }
        for (int broker : live.keySet()) sendLeaderAndIsr(broker, partitionsOn(broker, changed), false);
        sendUpdateMetadata(live.keySet(), changed);
        return results;
    }

    private Map<TopicPartition, ElectionResult> onReassign(Map<TopicPartition, List<Integer>> targets) throws Exception {
        Map<TopicPartition, ElectionResult> results = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, List<Integer>> e : targets.entrySet()) {
            TopicPartition tp = e.getKey();
            TopicAssignment assignment = topics.get(tp.topic());
            PartitionState state = states.get(tp);
            if (!active || !loaded) {
                results.put(tp, new ElectionResult(NOT_CONTROLLER, null));
            } else if (assignment == null || state == null || !assignment.replicas().containsKey(tp.partition())) {
                results.put(tp, new ElectionResult(UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
            } else if (e.getValue() == null) {
                Reassignment ongoing = reassigning.get(tp);
                if (ongoing == null) {
                    results.put(tp, new ElectionResult(NO_REASSIGNMENT_IN_PROGRESS,
                            "No reassignment in progress for partition " + tp));
                } else {
                    // Cancelled: back to where it came from, by the same path.
                    reassigning.put(tp, new Reassignment(ongoing.original(), ongoing.original()));
                    results.put(tp, new ElectionResult(NONE, null));
                }
            } else {
                List<Integer> target = e.getValue();
                if (target.isEmpty() || new HashSet<>(target).size() != target.size()) {
                    results.put(tp, new ElectionResult(INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment"
                            + " includes an empty replica list or duplicate brokers."));
                    continue;
                }
                Integer unknown = target.stream().filter(r -> !live.containsKey(r)).findFirst().orElse(null);
                if (unknown != null) {
                    results.put(tp, new ElectionResult(INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment"
                            + " includes broker " + unknown + ", but no such broker is registered."));
                    continue;
                }
                Reassignment ongoing = reassigning.get(tp);
                List<Integer> original = ongoing != null ? ongoing.original() : assignment.replicas().get(tp.partition());
                reassigning.put(tp, new Reassignment(List.copyOf(target), original));
                results.put(tp, new ElectionResult(NONE, null));
            }
        }
        for (TopicPartition tp : targets.keySet()) {
            if (results.get(tp).error() == NONE) startOrFinishReassignment(tp);
        }
        return results;
    }

    /**
     * One step of a move: while the target replicas are not all in the ISR, the partition has RS as replicas (the
     * adding ones fetch); once they are, the target leads and the removed replicas are stopped and deleted.
     */
    private void startOrFinishReassignment(TopicPartition tp) throws Exception {
        Reassignment r = reassigning.get(tp);
        PartitionState state = states.get(tp);
        if (r == null || state == null) return;
        TopicAssignment assignment = topics.get(tp.topic());
        List<Integer> current = assignment.replicas().get(tp.partition());
        if (!state.isr().containsAll(r.target())) {
            if (!current.equals(r.replicas())) {
                writeAssignment(tp, r.replicas());
                // A new leader epoch, so the leader tracks the added followers (Kafka bumps it for RS changes too).
                writeState(tp, new PartitionState(state.leader(), state.leaderEpoch() + 1, epoch, state.isr(),
                        state.zkVersion()));
                for (int broker : r.replicas()) sendLeaderAndIsr(broker, List.of(tp), false);
                sendUpdateMetadata(live.keySet(), List.of(tp));
            }
            return;
        }
        List<Integer> isr = state.isr().stream().filter(r.target()::contains).toList();
        int leader = r.target().contains(state.leader()) && live.containsKey(state.leader()) ? state.leader()
                : r.target().stream().filter(b -> isr.contains(b) && live.containsKey(b)).findFirst().orElse(state.leader());
        writeAssignment(tp, r.target());
        writeState(tp, new PartitionState(leader, state.leaderEpoch() + 1, epoch, isr, state.zkVersion()));
        reassigning.remove(tp);
        for (int broker : r.target()) sendLeaderAndIsr(broker, List.of(tp), false);
        for (int removed : r.removing()) {
            if (!r.target().contains(removed)) stopReplica(removed, tp, true);
        }
        sendUpdateMetadata(live.keySet(), List.of(tp));
        LOG.log(System.Logger.Level.INFO, "Reassignment of {0} to {1} done", tp, r.target());
    }

    private void writeAssignment(TopicPartition tp, List<Integer> replicas) throws Exception {
        TopicAssignment assignment = topics.get(tp.topic());
        java.util.SortedMap<Integer, List<Integer>> all = new TreeMap<>(assignment.replicas());
        all.put(tp.partition(), List.copyOf(replicas));
        TopicAssignment updated = new TopicAssignment(assignment.topicId(), all);
        store.setData(KafkaZkLayout.topicPath(tp.topic()), KafkaZkLayout.encodeTopicAssignment(updated));
        topics.put(tp.topic(), updated);
    }

    private void stopReplica(int broker, TopicPartition tp, boolean delete) {
        var request = new io.tandem.kafka.wire.message.StopReplicaRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = epoch;
        request.brokerEpoch = -1;
        var state = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaTopicState();
        state.topicName = tp.topic();
        var ps = new io.tandem.kafka.wire.message.StopReplicaRequest.StopReplicaPartitionState();
        ps.partitionIndex = tp.partition();
        ps.leaderEpoch = -2;
        ps.deletePartition = delete;
        state.partitionStates.add(ps);
        request.topicStates.add(state);
        channels.send(broker, ApiKey.STOP_REPLICA, STOP_REPLICA_VERSION, request);
    }

    /** After ISR changes: moves whose targets are now in sync finish. */
    private void progressReassignments(Collection<TopicPartition> changed) throws Exception {
        for (TopicPartition tp : changed) {
            if (reassigning.containsKey(tp)) startOrFinishReassignment(tp);
        }
    }

    /** {@code /admin/delete_topics/T}, as Kafka's tools and brokers write it: the topic goes, then the request. */
    private void onDeleteTopicsRequested() {
        if (!active || !loaded) return;
        try {
            for (String topic : store.getChildren(KafkaZkLayout.DELETE_TOPICS)) {
                if (topics.containsKey(topic)) {
                    store.deleteRecursive(KafkaZkLayout.topicPath(topic));
                    store.deleteRecursive(KafkaZkLayout.topicConfigPath(topic));
                    deleteTopic(topic);
                }
                store.deleteRecursive(KafkaZkLayout.deleteTopicPath(topic));
            }
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot delete requested topics", e);
        }
    }

    /** {@code /admin/preferred_replica_election}: Kafka's tool asks for preferred leaders, then the node goes. */
    private void onPreferredElectionRequested() {
        if (!active || !loaded) return;
        try {
            byte[] data = store.getData(KafkaZkLayout.PREFERRED_REPLICA_ELECTION);
            if (data == null) return;
            Set<TopicPartition> partitions = new java.util.LinkedHashSet<>(KafkaZkLayout.decodePartitionList(data));
            onElectLeaders(ElectionType.PREFERRED, partitions);
            store.deleteRecursive(KafkaZkLayout.PREFERRED_REPLICA_ELECTION);
        } catch (Exception e) {
            throw new IllegalStateException("controller " + localBrokerId + " cannot run a preferred election", e);
        }
    }

    // ---------------------------------------------------------------- decisions

    /** Partitions of {@code topic} without a state yet: leader the first live replica, ISR the live replicas. */
    private List<TopicPartition> initializeNewPartitions(String topic) throws Exception {
        List<TopicPartition> created = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : topics.get(topic).replicas().entrySet()) {
            TopicPartition tp = new TopicPartition(topic, e.getKey());
            if (states.containsKey(tp)) continue;
            List<Integer> isr = e.getValue().stream().filter(live::containsKey).toList();
            if (isr.isEmpty()) continue;
            PartitionState written = writeState(tp, new PartitionState(isr.get(0), 0, epoch, isr, -1));
            if (written != null) created.add(tp);
        }
        return created;
    }

    /** Partitions whose leader is gone: the first live ISR member in assignment order leads, with a new epoch. */
    private List<TopicPartition> electLeadersForOfflinePartitions() throws Exception {
        List<TopicPartition> changed = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(states.entrySet())) {
            PartitionState state = e.getValue();
            if (live.containsKey(state.leader())) continue;
            List<Integer> replicas = topics.get(e.getKey().topic()).replicas().get(e.getKey().partition());
            Integer leader = replicas.stream().filter(r -> live.containsKey(r) && state.isr().contains(r))
                    .findFirst().orElse(null);
            if (leader == null) {
                if (state.leader() != -1) {
                    // No in-sync replica is alive: the partition stays offline rather than lose committed records.
                    LOG.log(System.Logger.Level.WARNING, "No live in-sync replica for {0} (ISR {1}); it stays offline",
                            e.getKey(), state.isr());
                }
                continue;
            }
            List<Integer> isr = state.isr().stream().filter(live::containsKey).toList();
            if (writeState(e.getKey(), new PartitionState(leader, state.leaderEpoch() + 1, epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        return changed;
    }

    /** Departed followers leave the ISR of partitions that still have a leader, with a new leader epoch. */
    private List<TopicPartition> removeFromIsr(Set<Integer> departed) throws Exception {
        List<TopicPartition> changed = new ArrayList<>();
        if (departed.isEmpty()) return changed;
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(states.entrySet())) {
            PartitionState state = e.getValue();
            if (!live.containsKey(state.leader()) || state.isr().stream().noneMatch(departed::contains)) continue;
            List<Integer> isr = state.isr().stream().filter(r -> !departed.contains(r)).toList();
            if (writeState(e.getKey(), new PartitionState(state.leader(), state.leaderEpoch() + 1, epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        return changed;
    }

    /**
     * Writes a partition state over the version it was read at (-1: the state znode is new), in a multi fenced by
     * the controller epoch. Returns the state with its new version; null when the node moved (the state is re-read);
     * a moved epoch means another controller took over, and this one resigns.
     */
    private PartitionState writeState(TopicPartition tp, PartitionState state) throws Exception {
        String path = KafkaZkLayout.partitionStatePath(tp.topic(), tp.partition());
        LinkedHashMap<String, ZnodeStore.Versioned> write = new LinkedHashMap<>();
        write.put(path, new ZnodeStore.Versioned(KafkaZkLayout.encodePartitionState(state), state.zkVersion()));
        try {
            int version = store.writeFenced(KafkaZkLayout.CONTROLLER_EPOCH, epochZkVersion, write).get(path);
            PartitionState written = state.withZkVersion(version);
            states.put(tp, written);
            return written;
        } catch (ZnodeStore.FencedWriteException e) {
            ZnodeStore.Versioned epochNode = store.getVersioned(KafkaZkLayout.CONTROLLER_EPOCH);
            if (epochNode == null || epochNode.version() != epochZkVersion) {
                LOG.log(System.Logger.Level.WARNING, "Controller {0} was fenced by a newer epoch; resigning", localBrokerId);
                active = false;
                enqueue(this::elect);
                return null;
            }
            ZnodeStore.Versioned stored = store.getVersioned(path);
            if (stored != null) states.put(tp, KafkaZkLayout.decodePartitionState(stored.data()).withZkVersion(stored.version()));
            LOG.log(System.Logger.Level.INFO, "State of {0} changed under the controller; re-read it", tp);
            return null;
        }
    }

    // ---------------------------------------------------------------- requests

    private List<TopicPartition> partitionsOn(int broker, Collection<TopicPartition> partitions) {
        List<TopicPartition> on = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            TopicAssignment assignment = topics.get(tp.topic());
            if (assignment != null && assignment.replicas().getOrDefault(tp.partition(), List.of()).contains(broker)) {
                on.add(tp);
            }
        }
        return on;
    }

    private void sendLeaderAndIsr(int broker, List<TopicPartition> partitions, boolean full) {
        if (partitions.isEmpty() || !active) return;
        var request = new io.tandem.kafka.wire.message.LeaderAndIsrRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = epoch;
        request.brokerEpoch = -1;
        request.type = (byte) (full ? 1 : 0);
        Map<String, io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrTopicState> byTopic = new LinkedHashMap<>();
        Set<Integer> leaders = new HashSet<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = states.get(tp);
            if (state == null) continue;
            var topicState = byTopic.computeIfAbsent(tp.topic(), name -> {
                var t = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrTopicState();
                t.topicName = name;
                t.topicId = topics.get(name).topicId();
                return t;
            });
            var ps = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState();
            ps.partitionIndex = tp.partition();
            ps.controllerEpoch = state.controllerEpoch();
            ps.leader = state.leader();
            ps.leaderEpoch = state.leaderEpoch();
            ps.isr = new ArrayList<>(state.isr());
            ps.partitionEpoch = state.zkVersion();
            ps.replicas = new ArrayList<>(topics.get(tp.topic()).replicas().get(tp.partition()));
            topicState.partitionStates.add(ps);
            leaders.add(state.leader());
        }
        request.topicStates.addAll(byTopic.values());
        for (int leader : leaders) {
            BrokerRegistration b = live.get(leader);
            if (b == null) continue;
            var l = new io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrLiveLeader();
            l.brokerId = b.brokerId();
            l.hostName = b.host();
            l.port = b.port();
            request.liveLeaders.add(l);
        }
        channels.send(broker, ApiKey.LEADER_AND_ISR, LEADER_AND_ISR_VERSION, request);
    }

    private void sendUpdateMetadata(Collection<Integer> brokers, Collection<TopicPartition> partitions) {
        if (!active) return;
        var request = new io.tandem.kafka.wire.message.UpdateMetadataRequest();
        request.controllerId = localBrokerId;
        request.controllerEpoch = epoch;
        request.brokerEpoch = -1;
        for (BrokerRegistration b : live.values()) {
            var broker = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataBroker();
            broker.id = b.brokerId();
            broker.rack = b.rack();
            var endpoint = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataEndpoint();
            endpoint.host = b.host();
            endpoint.port = b.port();
            endpoint.listener = b.listenerName();
            endpoint.securityProtocol = 0;
            broker.endpoints.add(endpoint);
            request.liveBrokers.add(broker);
        }
        Map<String, io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataTopicState> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = states.get(tp);
            TopicAssignment assignment = topics.get(tp.topic());
            if (state == null || assignment == null) continue;
            var topicState = byTopic.computeIfAbsent(tp.topic(), name -> {
                var t = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataTopicState();
                t.topicName = name;
                t.topicId = assignment.topicId();
                return t;
            });
            var ps = new io.tandem.kafka.wire.message.UpdateMetadataRequest.UpdateMetadataPartitionState();
            ps.partitionIndex = tp.partition();
            ps.controllerEpoch = state.controllerEpoch();
            ps.leader = state.leader();
            ps.leaderEpoch = state.leaderEpoch();
            ps.isr = new ArrayList<>(state.isr());
            ps.zkVersion = state.zkVersion();
            List<Integer> replicas = assignment.replicas().get(tp.partition());
            ps.replicas = new ArrayList<>(replicas);
            ps.offlineReplicas = new ArrayList<>(replicas.stream().filter(r -> !live.containsKey(r)).toList());
            topicState.partitionStates.add(ps);
        }
        request.topicStates.addAll(byTopic.values());
        for (int broker : brokers) channels.send(broker, ApiKey.UPDATE_METADATA, UPDATE_METADATA_VERSION, request);
    }

    @Override
    public void close() {
        closed = true;
        Thread timer = rebalanceTimer;
        if (timer != null) timer.interrupt();
        events.shutdownNow();
        channels.close();
    }
}
