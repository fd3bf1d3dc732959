package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The cluster's metadata in Kafka 3.9's ZooKeeper layout: this broker's registration, the controller, the cluster
 * id, topics with their assignments, partition states and configs. Writes go to the store; the topic cache holds what
 * the broker read at start-up and what the controller has told it since (a topic this broker creates or grows
 * included, as Kafka's MetadataCache), so a restart rebuilds the same view from the store.
 */
public final class ClusterMetadata implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterMetadata.class.getName());

    /** A topic as the broker serves it. */
    public record TopicInfo(String name, UUID id, SortedMap<Integer, List<Integer>> replicas,
                            Map<Integer, PartitionState> states, Map<String, String> configs) {
        public int partitionCount() {
            return replicas.size();
        }
    }

    private final ZnodeStore store;
    private final BrokerRegistration self;
    private final ConcurrentHashMap<String, TopicInfo> topics = new ConcurrentHashMap<>();
    private volatile String clusterId;
    private volatile long brokerEpoch = -1;
    private volatile int controllerId = -1;
    private volatile List<BrokerRegistration> liveBrokers = List.of();
    private volatile Runnable reregistered = () -> { };
    private volatile java.util.function.BiConsumer<List<String>, java.util.Set<UUID>> topicsDeleted = (names, ids) -> { };
    private volatile java.util.function.Consumer<String> stateApplied = topic -> { };

    public ClusterMetadata(ZnodeStore store, BrokerRegistration self) {
        this.store = store;
        this.self = self;
    }

    public int brokerId() {
        return self.brokerId();
    }

    /** Creates the layout's persistent paths and the cluster id, and registers this broker. */
    public synchronized void start() throws Exception {
        // One pipelined batch for the layout and a candidate cluster id: each node is created only where it is
        // missing, so the first broker's id wins and later brokers (or restarts) read it back below.
        java.util.LinkedHashMap<String, byte[]> persistent = new java.util.LinkedHashMap<>();
        for (String path : KafkaZkLayout.PERSISTENT_PATHS) persistent.put(path, new byte[0]);
        persistent.put(KafkaZkLayout.CLUSTER_ID, KafkaZkLayout.encodeClusterId(KafkaZkLayout.newClusterId()));
        // Kafka's controller creates the epoch node at 0 before its first election bumps it to 1.
        persistent.put(KafkaZkLayout.CONTROLLER_EPOCH, KafkaZkLayout.encodeControllerEpoch(0));
        store.writeAll(persistent, false);
        byte[] id = store.getData(KafkaZkLayout.CLUSTER_ID);
        if (id == null) throw new IllegalStateException(KafkaZkLayout.CLUSTER_ID + " vanished right after its creation");
        clusterId = KafkaZkLayout.decodeClusterId(id);
        store.onSessionRenewed(this::reregister);
        register();
        loadAllTopics();
        LOG.log(System.Logger.Level.INFO, "Kafka metadata ready: cluster {0}, broker {1}, controller {2}, {3} topics",
                clusterId, self.brokerId(), controllerId, topics.size());
    }

    /** The session holding this broker's ephemerals expired and a new one is open: register again, as Kafka does. */
    private synchronized void reregister() {
        try {
            register();
            reregistered.run();
            LOG.log(System.Logger.Level.INFO, "Broker {0} registered again after ZooKeeper session expiry",
                    self.brokerId());
        } catch (Exception e) {
            throw new IllegalStateException("cannot register broker " + self.brokerId() + " again", e);
        }
    }

    /** Creates this broker's ephemeral registration (the controller election is {@code KafkaController}'s). */
    private void register() throws Exception {
        String brokerPath = KafkaZkLayout.brokerPath(self.brokerId());
        if (!store.create(brokerPath, KafkaZkLayout.encodeBroker(self), true)) {
            // A stale registration from our own previous run (its session not yet expired) is replaced.
            store.deleteRecursive(brokerPath);
            if (!store.create(brokerPath, KafkaZkLayout.encodeBroker(self), true)) {
                throw new IllegalStateException("broker id " + self.brokerId() + " is already registered");
            }
        }
        brokerEpoch = store.czxid(brokerPath);
        refreshLiveBrokers();
    }

    /**
     * This broker's epoch, as Kafka's: the zxid that created its registration, new with every registration. The
     * controller (Apache's checks it) refuses a broker's AlterPartition or ControlledShutdown under another epoch.
     */
    public long brokerEpoch() {
        return brokerEpoch;
    }

    /** {@code listener} runs after this broker registered again with a new ZooKeeper session. */
    public void onReregistered(Runnable listener) {
        this.reregistered = listener;
    }

    public ZnodeStore store() {
        return store;
    }

    public String clusterId() {
        return clusterId;
    }

    public int controllerId() {
        return controllerId;
    }

    /** The controller as the latest election or UpdateMetadata told this broker. */
    public void controllerId(int id) {
        controllerId = id;
    }

    public BrokerRegistration self() {
        return self;
    }

    /**
     * The live brokers as this broker last learnt them (UpdateMetadata from the controller, or its own reading of
     * {@code /brokers/ids}); a Metadata request never reads ZooKeeper for them.
     */
    public List<BrokerRegistration> liveBrokers() {
        return liveBrokers;
    }

    /** Replaces the live broker list (UpdateMetadata); this broker is always in it while it runs. */
    public void liveBrokers(List<BrokerRegistration> brokers) {
        List<BrokerRegistration> sorted = new ArrayList<>(brokers);
        if (sorted.stream().noneMatch(b -> b.brokerId() == self.brokerId())) sorted.add(self);
        sorted.sort((a, b) -> Integer.compare(a.brokerId(), b.brokerId()));
        liveBrokers = List.copyOf(sorted);
    }

    /** Reads {@code /brokers/ids} into the live broker list. */
    public List<BrokerRegistration> refreshLiveBrokers() throws Exception {
        liveBrokers(readRegisteredBrokers());
        return liveBrokers;
    }

    /** Reads {@code /brokers/ids} (this broker included, as {@link #liveBrokers(List)} keeps it) without publishing. */
    public List<BrokerRegistration> readRegisteredBrokers() throws Exception {
        List<BrokerRegistration> brokers = new ArrayList<>();
        for (String child : store.getChildren(KafkaZkLayout.BROKER_IDS)) {
            byte[] data = store.getData(KafkaZkLayout.BROKER_IDS + "/" + child);
            if (data != null) brokers.add(KafkaZkLayout.decodeBroker(Integer.parseInt(child), data));
        }
        if (brokers.stream().noneMatch(b -> b.brokerId() == self.brokerId())) brokers.add(self);
        brokers.sort((a, b) -> Integer.compare(a.brokerId(), b.brokerId()));
        return List.copyOf(brokers);
    }

    /**
     * {@code namedByController}: the controller's LeaderAndIsr or UpdateMetadata names the topic, so it is read even
     * while a deletion request for it waits (see {@link #controllerTopic}). {@code cache}: the topic joins this
     * broker's cache (start-up and the controller's word); otherwise it is only read, as a topic this broker made or
     * heard of through the store is not yet in Kafka's MetadataCache (see {@link #topic}).
     */
    private TopicInfo loadTopic(String name, boolean namedByController, boolean cache) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(name));
        // A topic marked for deletion keeps its znode until the controller deleted its last replica (a broker may be
        // down meanwhile); the controller told every broker to forget it, and it must not come back from the store.
        if (data == null || !namedByController && store.getData(KafkaZkLayout.deleteTopicPath(name)) != null) {
            if (cache) topics.remove(name);
            return null;
        }
        TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(data);
        UUID id = assignment.topicId();
        if (id == null) {
            // Written by a Kafka older than 2.8: give it an id, as Kafka's controller does.
            id = TopicId.random();
            store.setData(KafkaZkLayout.topicPath(name),
                    KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(id, assignment.replicas())));
        }
        Map<Integer, PartitionState> states = new TreeMap<>();
        // Named by the controller, the partitions' states come with its requests, as Kafka's cache takes them: a
        // LeaderAndIsr's once the role is taken. Read here, this broker's Metadata answers named it leader while it
        // was still opening the log and answering NOT_LEADER_OR_FOLLOWER to the produce that followed (ReplicationTest
        // under load).
        for (int p : namedByController ? java.util.Set.<Integer>of() : assignment.replicas().keySet()) {
            ZnodeStore.Versioned stored = store.getVersioned(KafkaZkLayout.partitionStatePath(name, p));
            // A partition without a state has no leader yet: the controller writes its first state.
            if (stored != null) {
                states.put(p, KafkaZkLayout.decodePartitionState(stored.data()).withZkVersion(stored.version()));
            }
        }
        byte[] config = store.getData(KafkaZkLayout.topicConfigPath(name));
        TopicInfo info = new TopicInfo(name, id, assignment.replicas(), new ConcurrentHashMap<>(states),
                KafkaZkLayout.decodeEntityConfig(config));
        if (cache) topics.put(name, info);
        // The controller may have deleted the topic while it was read here (its request gone once its znodes are)
        // and told this broker to forget it before the put above: read again, and take back only what was put here.
        // A deleted topic left in the cache stayed "already exists" for good (a reset's name check, seen in a bench);
        // one only read is not answered either.
        byte[] again = store.getData(KafkaZkLayout.topicPath(name));
        if (again == null || !namedByController && store.getData(KafkaZkLayout.deleteTopicPath(name)) != null
                || !id.equals(KafkaZkLayout.decodeTopicAssignment(again).topicId())) {
            if (cache) topics.remove(name, info);
            return null;
        }
        return info;
    }

    /**
     * The topic, read from the store when this broker does not know it (it or another broker may have just made it):
     * for the broker's own internal topics and the checks before a topic is created. What is read here does not join
     * the cache: as in Kafka 3.9, only the controller's word (UpdateMetadata, LeaderAndIsr) puts a topic there, so a
     * Metadata request between a topic's creation and that word finds it unknown, as Kafka's does. A client's
     * request is answered from the cache ({@link #knownTopic}), as Kafka's MetadataCache answers it: reading here for
     * a topic nobody made let a client asking for it again and again cost a ZooKeeper read per request.
     */
    public TopicInfo topic(String name) {
        return topic(name, false);
    }

    /**
     * The topic the controller names in a LeaderAndIsr or UpdateMetadata (with a leader, not Kafka's
     * leader-during-delete mark), re-read from the store when this broker does not know it yet, even if a deletion
     * request for it waits under {@code /admin/delete_topics}: the controller names only topics whose deletion has not
     * started (one being moved waits for its move, Kafka's "topic reassignment in progress"), and Kafka's broker takes
     * its word without reading that request. Refusing it left a replica of a topic being moved that heard of the topic
     * only after the request was written (its controller requests late under load) neither leading nor following,
     * so the move and the deletion waiting for it never finished (CI: DeleteTopicsThroughControllerTest).
     */
    public TopicInfo controllerTopic(String name) {
        return topic(name, true);
    }

    private TopicInfo topic(String name, boolean namedByController) {
        TopicInfo info = topics.get(name);
        if (info != null) return info;
        try {
            return loadTopic(name, namedByController, namedByController);
        } catch (Exception e) {
            throw new ApiException(UNKNOWN_SERVER_ERROR, "cannot read topic " + name + ": " + e.getMessage());
        }
    }

    /**
     * The topic if this broker knows it, never reading the store: what a client's request is answered from. The
     * controller's UpdateMetadata keeps it current (a new topic is read in when the controller first names it).
     */
    public TopicInfo knownTopic(String name) {
        return topics.get(name);
    }

    public TopicInfo topicById(UUID id) {
        for (TopicInfo info : topics.values()) {
            if (info.id().equals(id)) return info;
        }
        return null;
    }

    /**
     * All topics this broker knows: those it found at start-up or heard of from the controller (UpdateMetadata,
     * LeaderAndIsr). A Metadata request for all topics reads no ZooKeeper.
     */
    public Collection<TopicInfo> topics() {
        List<TopicInfo> list = new ArrayList<>(topics.values());
        list.sort((a, b) -> a.name().compareTo(b.name()));
        return list;
    }

    /** Reads every topic of the store into the cache (start-up). */
    public void loadAllTopics() throws Exception {
        for (String name : store.getChildren(KafkaZkLayout.BROKER_TOPICS)) loadTopic(name, false, true);
    }

    /**
     * The controller deleted the topics (UpdateMetadata with Kafka's leader-during-delete mark): the cache forgets
     * them and the listener hears of them, as Kafka's broker then drops their group offsets and completes the
     * DeleteTopics requests waiting for them.
     */
    public void forgetTopics(Collection<String> names) {
        if (names.isEmpty()) return;
        java.util.Set<UUID> ids = new java.util.LinkedHashSet<>();
        for (String name : names) {
            TopicInfo removed = topics.remove(name);
            if (removed != null && removed.id() != null) ids.add(removed.id());
        }
        topicsDeleted.accept(List.copyOf(names), java.util.Set.copyOf(ids));
    }

    /**
     * {@code listener} hears of the topics the controller told this broker to forget (see {@link #forgetTopics}): their
     * names, and the ids of those this broker knew (share groups and the share coordinator key by id).
     */
    public void onTopicsDeleted(java.util.function.BiConsumer<List<String>, java.util.Set<UUID>> listener) {
        this.topicsDeleted = listener;
    }

    /**
     * Kafka's AdminZkClient.deleteTopic: asks the controller to delete the topic by creating
     * {@code /admin/delete_topics/T}; the controller does the rest. A request already there is left as it is
     * (Kafka's TopicAlreadyMarkedForDeletionException, which its broker swallows).
     */
    public void markForDeletion(String name) throws Exception {
        store.create(KafkaZkLayout.deleteTopicPath(name), new byte[0], false);
    }

    /** {@link #markForDeletion(String)} for several topics, their requests sent together (one group commit). */
    public void markForDeletion(List<String> names) throws Exception {
        java.util.LinkedHashMap<String, byte[]> requests = new java.util.LinkedHashMap<>();
        for (String name : names) requests.put(KafkaZkLayout.deleteTopicPath(name), new byte[0]);
        store.createAll(requests, false);
    }

    /**
     * Creates a topic the way Kafka's admin path does (AdminZkClient.createTopicWithAssignment): config, then
     * assignment; the partitions' states are the controller's to write. The topic as written is returned and does
     * not join this broker's cache: the controller's UpdateMetadata brings it, with its leaders, as to every other
     * broker (Kafka's creating broker, too, answers Metadata for it from the controller's word only). Validation of
     * names, counts and configs is the caller's.
     */
    public synchronized TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                              SortedMap<Integer, List<Integer>> manualAssignment,
                                              Map<String, String> configs, boolean validateOnly) throws Exception {
        if (topic(name) != null) throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        if (store.getData(KafkaZkLayout.deleteTopicPath(name)) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' is marked for deletion.");
        }
        SortedMap<Integer, List<Integer>> assignment = manualAssignment;
        List<Integer> live = liveBrokers.stream().map(BrokerRegistration::brokerId).toList();
        if (assignment == null) {
            if (replicationFactor > live.size()) {
                throw new ApiException(INVALID_REPLICATION_FACTOR, "Unable to replicate the partition "
                        + replicationFactor + " time(s): The target replication factor of " + replicationFactor
                        + " cannot be reached because only " + live.size() + " broker(s) are registered.");
            }
            assignment = ReplicaAssignment.assign(live, 0, partitions, replicationFactor,
                    ThreadLocalRandom.current().nextInt(live.size()));
        }
        UUID id = TopicId.random();
        TopicInfo info = new TopicInfo(name, id, new TreeMap<>(assignment), new ConcurrentHashMap<>(),
                new LinkedHashMap<>(configs));
        if (validateOnly) return info;
        // Kafka's admin path: the config before the assignment (a broker seeing the topic finds its config); the
        // partition states are the controller's to write. The config is set or created (setOrCreateEntityConfigs),
        // the assignment only created (createTopicAssignment): two brokers creating the same topic at once both
        // found it absent above, and an overwrite would give it the second one's topic id, under which every replica
        // made for the first is emptied as a deleted topic's (a transaction coordinator's state log, seen in CI).
        java.util.LinkedHashMap<String, byte[]> config = new java.util.LinkedHashMap<>();
        config.put(KafkaZkLayout.topicConfigPath(name), KafkaZkLayout.encodeEntityConfig(configs));
        store.writeAll(config, true);
        if (!store.create(KafkaZkLayout.topicPath(name),
                KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(id, assignment)), false)) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        }
        // Not put in the cache: the controller may already have elected the leaders and sent this broker
        // UpdateMetadata (its watch on /brokers/topics), and a value put here without them hid those leaders (a
        // producer's first record never left; seen at load 20+). Before the controller's word, Kafka's broker does
        // not know the topic either.
        return info;
    }

    /**
     * Whether {@code /brokers/topics/T} exists: one read, as Kafka's AdminZkClient checks before it creates a topic
     * (topicExists), where {@link #topic} reads the whole topic (every partition's state).
     */
    public boolean topicWritten(String name) throws Exception {
        return store.getData(KafkaZkLayout.topicPath(name)) != null;
    }

    /**
     * The topic's assignment as stored in {@code /brokers/topics/T}, or null when there is none: what CreatePartitions
     * grows, read from ZooKeeper and not from the cache as Kafka 3.9's ZkAdminManager reads it (a topic created but
     * not yet announced by the controller, or never, because no replica of it is live, is grown all the same).
     */
    public TopicAssignment storedAssignment(String name) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(name));
        return data == null ? null : KafkaZkLayout.decodeTopicAssignment(data);
    }

    /**
     * Adds partitions to {@code existing} (the topic's {@link #storedAssignment}) up to {@code totalCount}: on the
     * brokers {@code manualAssignment} names (one replica list per new partition, in order, already checked by the
     * caller), or, when it is null, as Kafka 3.9's AdminZkClient.createNewPartitionsAssignment places them: over
     * {@code brokers} (the registered ones, by id), starting at the first whose id is at least partition 0's first
     * replica and numbering on from the current count, so the new partitions continue the topic's round-robin.
     * Returns the topic's whole new assignment. As for a new topic, the cache is left to the controller's
     * UpdateMetadata, which brings the new partitions with their leaders.
     */
    public synchronized SortedMap<Integer, List<Integer>> createPartitions(String name, TopicAssignment existing,
                                                                          int totalCount,
                                                                          List<List<Integer>> manualAssignment,
                                                                          List<BrokerRegistration> brokers,
                                                                          boolean validateOnly) throws Exception {
        int current = existing.partitionCount();
        SortedMap<Integer, List<Integer>> added = new TreeMap<>();
        if (manualAssignment != null) {
            for (int i = 0; i < manualAssignment.size(); i++) added.put(current + i, List.copyOf(manualAssignment.get(i)));
        } else {
            List<Integer> partitionZero = existing.replicas().get(0);
            List<ReplicaAssignment.Candidate> candidates = brokers.stream()
                    .sorted(java.util.Comparator.comparingInt(BrokerRegistration::brokerId))
                    .map(b -> new ReplicaAssignment.Candidate(b.brokerId(), b.rack())).toList();
            int start = 0;
            while (start < candidates.size() && candidates.get(start).id() < partitionZero.get(0)) start++;
            if (start == candidates.size()) start = 0;
            try {
                added = ReplicaAssignment.assignReplicas(candidates, totalCount - current, partitionZero.size(), start,
                        current);
            } catch (ReplicaAssignment.Refusal e) {
                switch (e.kind()) {
                    case REPLICATION_FACTOR -> throw new ApiException(INVALID_REPLICATION_FACTOR, e.getMessage());
                    case PARTITIONS -> throw new ApiException(INVALID_PARTITIONS, e.getMessage());
                    default -> throw new IllegalStateException(e.getMessage(), e);
                }
            }
        }
        SortedMap<Integer, List<Integer>> all = new TreeMap<>(existing.replicas());
        all.putAll(added);
        if (validateOnly) return all;
        // The new partitions' states are the controller's to write, as for a new topic.
        store.setData(KafkaZkLayout.topicPath(name),
                KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                        existing.topicId() == null ? TopicId.random() : existing.topicId(), all)));
        return all;
    }

    /**
     * Applies partition states the controller sent (UpdateMetadata): the view Metadata, FindCoordinator and the
     * request handlers answer from. A topic not known yet is read from the store first.
     */
    public void applyPartitionState(String topic, int partition, PartitionState state) {
        TopicInfo info = controllerTopic(topic);
        if (info == null) return;
        info.states().put(partition, state);
        stateApplied.accept(topic);
    }

    /**
     * {@code listener} hears the topic of every partition state applied here (see {@link #applyPartitionState}):
     * requests waiting for a new partition's leader (CreateTopics, CreatePartitions) look again.
     */
    public void onPartitionStateApplied(java.util.function.Consumer<String> listener) {
        this.stateApplied = listener;
    }

    /** The controller moved a partition's replicas (a reassignment): readers see a new topic value, never a torn one. */
    public void applyReplicas(String topic, int partition, List<Integer> replicas) {
        TopicInfo info = controllerTopic(topic);
        if (info == null || replicas.equals(info.replicas().get(partition))) return;
        SortedMap<Integer, List<Integer>> all = new TreeMap<>(info.replicas());
        all.put(partition, List.copyOf(replicas));
        topics.put(topic, new TopicInfo(topic, info.id(), all, info.states(), info.configs()));
    }

    /** Replaces the topic's config overrides and leaves the change notification Kafka's brokers watch for. */
    public synchronized TopicInfo setTopicConfig(String name, Map<String, String> configs) throws Exception {
        TopicInfo info = topic(name);
        if (info == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        store.setData(KafkaZkLayout.topicConfigPath(name), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("topics/" + name));
        TopicInfo updated = new TopicInfo(name, info.id(), info.replicas(), info.states(), new LinkedHashMap<>(configs));
        // Only over a cached value: a topic read from the store here does not join the cache (see #topic).
        topics.replace(name, info, updated);
        return updated;
    }

    /**
     * A change notification named the topic (its config was changed, maybe through another broker): the topic, if
     * this broker knows it, with its overrides read again; null for a topic it does not know (nothing is read).
     */
    public TopicInfo reloadTopicConfig(String name) throws Exception {
        TopicInfo info = topics.get(name);
        if (info == null) return null;
        Map<String, String> configs = KafkaZkLayout.decodeEntityConfig(store.getData(KafkaZkLayout.topicConfigPath(name)));
        TopicInfo updated = new TopicInfo(name, info.id(), info.replicas(), info.states(), configs);
        // Only over the value read above: a topic deleted, re-created or re-assigned meanwhile keeps what it has now.
        return topics.replace(name, info, updated) ? updated : null;
    }

    /** Broker-level dynamic config overrides, {@code /config/brokers/<id>}. */
    public Map<String, String> brokerConfigOverrides() {
        try {
            return KafkaZkLayout.decodeEntityConfig(store.getData("/config/brokers/" + self.brokerId()));
        } catch (Exception e) {
            return Map.of();
        }
    }

    public synchronized void setBrokerConfigOverrides(Map<String, String> configs) throws Exception {
        store.setData("/config/brokers/" + self.brokerId(), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("brokers/" + self.brokerId()));
    }

    /**
     * A group's config overrides, {@code /config/groups/<group id, URL-encoded>} (Kafka 3.9's ZooKeeper layout has
     * no group configs; KRaft keeps them in its metadata log). Empty when none.
     */
    public Map<String, String> groupConfig(String groupId) throws Exception {
        byte[] data = store.getData(groupConfigPath(groupId));
        return data == null ? Map.of() : KafkaZkLayout.decodeEntityConfig(data);
    }

    /**
     * Every group's config overrides, by group id: a broker reads them all when it starts, as Kafka's brokers do,
     * the nodes asked for together (one round trip's wait, not one per group, where the store pipelines).
     */
    public Map<String, Map<String, String>> groupConfigs() throws Exception {
        List<String> paths = new ArrayList<>();
        for (String node : store.getChildren(GROUP_CONFIGS)) paths.add(GROUP_CONFIGS + "/" + node);
        Map<String, Map<String, String>> result = new LinkedHashMap<>();
        for (Map.Entry<String, ZnodeStore.Versioned> e : store.getVersionedAll(paths).entrySet()) {
            if (e.getValue() == null) continue; // deleted since listed
            String node = e.getKey().substring(GROUP_CONFIGS.length() + 1);
            result.put(groupIdOfConfigNode(node), KafkaZkLayout.decodeEntityConfig(e.getValue().data()));
        }
        return result;
    }

    /**
     * Replaces the group's config overrides and leaves a change notification naming them ({@code groups/<node>},
     * the node's URL-encoded name, as Kafka's notifications name users and clients by their sanitized names), so
     * every broker applies the change at once ({@link ConfigChangeListener}).
     */
    public void setGroupConfig(String groupId, Map<String, String> configs) throws Exception {
        store.setData(groupConfigPath(groupId), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange(GROUPS_ENTITY_TYPE + "/" + groupConfigNode(groupId)));
    }

    /** The entity type of group config change notifications (Tandem's: Kafka 3.9 has no group configs). */
    public static final String GROUPS_ENTITY_TYPE = "groups";
    private static final String GROUP_CONFIGS = KafkaZkLayout.CONFIG + "/" + GROUPS_ENTITY_TYPE;

    private static String groupConfigPath(String groupId) {
        return GROUP_CONFIGS + "/" + groupConfigNode(groupId);
    }

    /** A group id may hold '/' or be empty: the node name is its URL encoding, never a path of its own. */
    private static String groupConfigNode(String groupId) {
        return java.net.URLEncoder.encode(groupId, java.nio.charset.StandardCharsets.UTF_8).replace(".", "%2E");
    }

    /** The group id a {@code /config/groups} node (or a notification's entity name) stands for. */
    public static String groupIdOfConfigNode(String node) {
        return java.net.URLDecoder.decode(node, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Reserves the next producer id block in {@code /latest_producer_id_block} for this broker; its first id. */
    public long reserveProducerIdBlock(long blockSize) throws Exception {
        return ProducerIdBlocks.reserve(store, self.brokerId(), blockSize);
    }

    @Override
    public void close() {
        store.close();
    }
}
