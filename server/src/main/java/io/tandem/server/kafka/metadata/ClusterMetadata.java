package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The cluster's metadata in Kafka 3.9's ZooKeeper layout: this broker's registration, the controller, the cluster
 * id, topics with their assignments, partition states and configs. Writes go to the store; the topic cache
 * ({@link MetadataCache}, one immutable snapshot replaced whole by each change) holds only what the controller has told
 * this broker (UpdateMetadata, and LeaderAndIsr's replicas), as Kafka 3.9's ZkMetadataCache: it starts empty at every
 * start-up and nothing is read into it from {@code /brokers/topics}, so before the controller's first UpdateMetadata
 * the broker knows no topic, as it knows no broker. The store is read on purpose where Kafka reads ZooKeeper: a new
 * topic's checks and writes (ZkAdminManager), CreatePartitions, the configs of the logs opened at start-up
 * (LogManager's) and a topic the controller names for the first time (its id and configs).
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
    private final MetadataCache metadataCache = new MetadataCache();
    private final StoredConfigOverrides configOverrides;
    private volatile String clusterId;
    private volatile long brokerEpoch = -1;
    private volatile Runnable reregistered = () -> { };
    private volatile java.util.function.BiConsumer<List<String>, java.util.Set<UUID>> topicsDeleted = (names, ids) -> { };
    private volatile java.util.function.Consumer<String> stateApplied = topic -> { };
    private volatile Supplier<RandomGenerator> placementRandom = ThreadLocalRandom::current;

    public ClusterMetadata(ZnodeStore store, BrokerRegistration self) {
        this.store = store;
        this.self = self;
        this.configOverrides = new StoredConfigOverrides(store, metadataCache, self.brokerId(), this::topic);
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
        // No topic is read into the cache here: as Kafka 3.9's ZkMetadataCache, it learns topics from the controller's
        // UpdateMetadata only. Read from /brokers/topics, a broker between its registration and that request answered
        // Metadata with topics whose leaders its (still empty) broker list lacked.
        LOG.log(System.Logger.Level.INFO, "Kafka metadata ready: cluster {0}, broker {1}", clusterId,
                self.brokerId());
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
        // The cache's live brokers are not read here: as Kafka 3.9's ZkMetadataCache, only the controller's
        // UpdateMetadata sets them, so until it comes this broker answers Metadata with no brokers and no controller.
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

    /**
     * The controller as the cache's snapshot has it: the sender of the last UpdateMetadata applied, as Kafka's
     * ZkMetadataCache (-1 before any). Metadata answers read it from their own snapshot; AlterPartition and
     * ControlledShutdown go to it, as Kafka's broker finds its controller in its metadata cache.
     */
    public int controllerId() {
        return metadataCache.snapshot().controllerId();
    }

    /** The cache itself, for its test seam ({@link MetadataCache#afterEachReadForTests}). */
    public MetadataCache cache() {
        return metadataCache;
    }

    public BrokerRegistration self() {
        return self;
    }

    /**
     * The live brokers as the controller's last UpdateMetadata named them (empty before the first), sorted by id, as
     * Kafka 3.9's ZkMetadataCache holds them: never read from {@code /brokers/ids}, and this broker is in the list
     * only when the controller put it there. A Metadata request never reads ZooKeeper for them.
     */
    public List<BrokerRegistration> liveBrokers() {
        return metadataCache.snapshot().liveBrokers();
    }

    /** The brokers registered in {@code /brokers/ids} now ({@link RegisteredBrokers#read}); the cache is not touched. */
    public List<BrokerRegistration> readRegisteredBrokers() throws Exception {
        return RegisteredBrokers.read(store);
    }

    /**
     * {@code namedByController}: the controller's LeaderAndIsr or UpdateMetadata names the topic, so it is read even
     * while a deletion request for it waits (see {@link #controllerTopic}). {@code cache}: the topic joins this
     * broker's cache (start-up and the controller's word); otherwise it is only read, as a topic this broker made or
     * heard of through the store is not yet in Kafka's MetadataCache (see {@link #topic}).
     */
    private TopicInfo loadTopic(String name, boolean namedByController, boolean cache) throws Exception {
        TopicInfo info = StoredTopics.read(store, name, namedByController);
        if (info == null) {
            if (cache) metadataCache.remove(name, null);
            return null;
        }
        if (cache) {
            // A value the controller's UpdateMetadata put while this one was read holds its states: it stays.
            TopicInfo current = metadataCache.putIfAbsent(info);
            if (current != info) return current;
        }
        // The controller may have deleted the topic while it was read here (its request gone once its znodes are)
        // and told this broker to forget it before the put above: read again, and take back only what was put here.
        // A deleted topic left in the cache stayed "already exists" for good (a reset's name check, seen in a bench);
        // one only read is not answered either.
        if (!StoredTopics.stillStored(store, info, namedByController)) {
            if (cache) metadataCache.remove(name, info);
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
        TopicInfo info = metadataCache.snapshot().topic(name);
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
        return metadataCache.snapshot().topic(name);
    }

    public TopicInfo topicById(UUID id) {
        return metadataCache.snapshot().topicById(id);
    }

    /**
     * The cache as one consistent view (topics and live brokers of the same moment): a request that reads several
     * things takes it once, as Kafka's requests read one MetadataSnapshot, so it never sees part of a controller
     * request.
     */
    public MetadataCache.Snapshot snapshot() {
        return metadataCache.snapshot();
    }

    /**
     * All topics this broker knows: those it heard of from the controller (UpdateMetadata, LeaderAndIsr). A Metadata
     * request for all topics reads no ZooKeeper.
     */
    public Collection<TopicInfo> topics() {
        return metadataCache.snapshot().sortedTopics();
    }

    /**
     * The config overrides of each of {@code topics} as {@code /config/topics/T} holds them (a topic without one maps
     * to none), read together: what Kafka's LogManager reads from ZooKeeper for the logs it opens at start-up, before
     * the controller has told the broker of any topic.
     */
    public Map<String, Map<String, String>> storedTopicConfigs(Collection<String> topics) throws Exception {
        return StoredTopics.configs(store, topics);
    }

    /**
     * The controller deleted the topics (UpdateMetadata with Kafka's leader-during-delete mark): the cache forgets
     * them and the listener hears of them, as Kafka's broker then drops their group offsets and completes the
     * DeleteTopics requests waiting for them.
     */
    public void forgetTopics(Collection<String> names) {
        if (names.isEmpty()) return;
        java.util.Set<UUID> ids = metadataCache.removeAll(names);
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
     * broker (Kafka's creating broker, too, answers Metadata for it from the controller's word only). Without
     * {@code manualAssignment} the replicas are placed by {@link #placeNewTopic}, which checks the counts; validation
     * of names and configs is the caller's.
     */
    public synchronized TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                              SortedMap<Integer, List<Integer>> manualAssignment,
                                              Map<String, String> configs, boolean validateOnly) throws Exception {
        // Kafka 3.9's order (ZkAdminManager.createTopics): the cache first, then the placement over the cache's live
        // brokers, then ZooKeeper (AdminZkClient.validateTopicCreate). So a broker that has not heard from the
        // controller yet refuses an auto-creation by its replication factor (no live brokers), also for a topic that
        // exists, as Kafka's does.
        if (knownTopic(name) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        }
        SortedMap<Integer, List<Integer>> assignment =
                manualAssignment != null ? manualAssignment : placeNewTopic(partitions, replicationFactor);
        if (store.getData(KafkaZkLayout.deleteTopicPath(name)) != null) {
            throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' is marked for deletion.");
        }
        if (topicWritten(name)) throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        UUID id = TopicId.random();
        TopicInfo info = new TopicInfo(name, id, new TreeMap<>(assignment), Map.of(),
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

    /** {@link NewTopicNameChecks#check}: Kafka 3.9's checks of a new topic's name against ZooKeeper. */
    public void checkNewTopicName(String name) throws Exception {
        NewTopicNameChecks.check(store, name);
    }

    /** A new topic's replicas over this broker's live brokers: {@link NewTopicPlacement#place}. */
    public SortedMap<Integer, List<Integer>> placeNewTopic(int partitions, int replicationFactor) {
        return NewTopicPlacement.place(liveBrokers(), partitions, replicationFactor, placementRandom.get());
    }

    /**
     * Where a new topic's placement draws its random indexes (by default this thread's random generator): a test
     * pins them with a seeded {@link java.util.Random}, the same draws Kafka's AdminUtils makes from its own.
     */
    public void placementRandom(Supplier<RandomGenerator> random) {
        this.placementRandom = random;
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
     * One controller request's changes, with the topics it names that this broker did not know yet as read from the
     * store ({@link #readControllerUpdate}), ready for {@link #applyControllerUpdate(ControllerUpdate)}.
     */
    public record ControllerUpdate(List<BrokerRegistration> liveBrokers, List<MetadataCache.PartitionUpdate> updates,
                                   Collection<String> deleted, Map<String, TopicInfo> read, Integer controllerId) {
        /** The same update from the controller {@code id}: the snapshot it makes names that controller. */
        public ControllerUpdate from(int id) {
            return new ControllerUpdate(liveBrokers, updates, deleted, read, id);
        }
    }

    /**
     * Reads the topics the controller's request names that this broker does not know yet (Kafka's request carries
     * all a ZkMetadataCache needs; Tandem's cache also holds a topic's id and configs, which are in the store), all of
     * them in two pipelined reads ({@link StoredTopics#readNamedByController}): after a start-up the first request
     * names every topic. When they cannot be read (ZooKeeper unreachable: its session expired, the replication
     * simulation's seed 45) they are skipped with a warning, the rest still applies, and the controller tells this
     * broker everything again once it registers anew. Runs before the caller takes its state-change lock, so no ZooKeeper round trip is waited for
     * under it; a topic that joins the cache meanwhile keeps the cache's value (see {@link MetadataCache#apply}).
     */
    public ControllerUpdate readControllerUpdate(List<BrokerRegistration> liveBrokers,
                                                 List<MetadataCache.PartitionUpdate> updates,
                                                 Collection<String> deleted) {
        java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
        MetadataCache.Snapshot before = metadataCache.snapshot();
        for (MetadataCache.PartitionUpdate update : updates) {
            String name = update.topic();
            if (!deleted.contains(name) && before.topic(name) == null) unknown.add(name);
        }
        Map<String, TopicInfo> read = Map.of();
        if (!unknown.isEmpty()) {
            try {
                read = StoredTopics.readNamedByController(store, unknown);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "UpdateMetadata for topics {0} not applied: {1}", unknown,
                        e.getMessage());
            }
        }
        return new ControllerUpdate(liveBrokers, updates, deleted, read, null);
    }

    /**
     * Applies the controller's request in one new snapshot, as Kafka's ZkMetadataCache.updateMetadata: the live
     * brokers exactly as the request lists them (sorted by id; null keeps them), every partition's replicas and
     * state, and the deleted topics (Kafka's leader-during-delete mark) forgotten. The caller holds its state-change lock, as Kafka's
     * ReplicaManager holds replicaStateChangeLock. Returns the listeners' call, which the caller runs once it has
     * released that lock (the listeners complete waiting requests and delete group offsets, which must not wait on
     * it): requests waiting for a new partition's leader look again, and the deleted topics' group offsets and
     * DeleteTopics requests are completed.
     */
    public Runnable applyControllerUpdate(ControllerUpdate update) {
        List<BrokerRegistration> sorted = update.liveBrokers() == null ? null : RegisteredBrokers.byId(update.liveBrokers());
        MetadataCache.Applied applied = metadataCache.apply(sorted, update.updates(), update.read(), update.deleted(),
                update.controllerId());
        List<String> deleted = List.copyOf(update.deleted());
        return () -> {
            for (String topic : applied.topicsWithStates()) stateApplied.accept(topic);
            if (!deleted.isEmpty()) topicsDeleted.accept(deleted, java.util.Set.copyOf(applied.removedIds()));
        };
    }

    /** {@link #readControllerUpdate}, {@link #applyControllerUpdate(ControllerUpdate)} and its listeners, at once. */
    public void applyControllerUpdate(List<BrokerRegistration> liveBrokers, List<MetadataCache.PartitionUpdate> updates,
                                      Collection<String> deleted) {
        applyControllerUpdate(readControllerUpdate(liveBrokers, updates, deleted)).run();
    }

    /** One partition's state from the controller, applied as {@link #applyControllerUpdate} applies a request's. */
    public void applyPartitionState(String topic, int partition, PartitionState state) {
        applyControllerUpdate(null, List.of(new MetadataCache.PartitionUpdate(topic, partition, null, state)),
                List.of());
    }

    /**
     * {@code listener} hears the topic of every partition state applied here, once per request (see
     * {@link #applyControllerUpdate}): requests waiting for a new partition's leader (CreateTopics, CreatePartitions)
     * look again.
     */
    public void onPartitionStateApplied(java.util.function.Consumer<String> listener) {
        this.stateApplied = listener;
    }

    /**
     * The controller's LeaderAndIsr gave the partition these replicas (a reassignment): the broker opens the log of a
     * partition it now hosts by them. States are left to UpdateMetadata, and a partition without one is not
     * answered, so this changes no Metadata answer's partition count. Readers see a new topic value, never a torn one.
     */
    public void applyReplicas(String topic, int partition, List<Integer> replicas) {
        while (true) {
            TopicInfo info = controllerTopic(topic);
            if (info == null || replicas.equals(info.replicas().get(partition))) return;
            SortedMap<Integer, List<Integer>> all = new TreeMap<>(info.replicas());
            all.put(partition, List.copyOf(replicas));
            TopicInfo updated = new TopicInfo(topic, info.id(), java.util.Collections.unmodifiableSortedMap(all),
                    info.states(), info.configs());
            if (metadataCache.replace(topic, info, updated)) return;
        }
    }

    /** Topic and broker config overrides in the store ({@link StoredConfigOverrides}). */
    public StoredConfigOverrides configOverrides() {
        return configOverrides;
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
