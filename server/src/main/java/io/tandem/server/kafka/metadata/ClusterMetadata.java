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
 * id, topics with their assignments, partition states and configs. Writes go to the store first and then to the
 * cache, so a restart rebuilds the same view from the store.
 */
public final class ClusterMetadata implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ClusterMetadata.class.getName());
    /** The leader id of a partition without a leader, as Kafka writes it. */
    public static final int NO_LEADER = -1;

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
    private volatile int controllerEpoch;
    private volatile int controllerId = -1;

    public ClusterMetadata(ZnodeStore store, BrokerRegistration self) {
        this.store = store;
        this.self = self;
    }

    public int brokerId() {
        return self.brokerId();
    }

    /** Creates the layout's persistent paths, the cluster id, registers this broker and runs for controller. */
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
        for (String topic : store.getChildren(KafkaZkLayout.BROKER_TOPICS)) loadTopic(topic);
        LOG.log(System.Logger.Level.INFO, "Kafka metadata ready: cluster {0}, broker {1}, controller {2}, {3} topics",
                clusterId, self.brokerId(), controllerId, topics.size());
    }

    /** The session holding this broker's ephemerals expired and a new one is open: register again, as Kafka does. */
    private synchronized void reregister() {
        try {
            register();
            LOG.log(System.Logger.Level.INFO, "Broker {0} registered again after ZooKeeper session expiry; controller {1}",
                    self.brokerId(), controllerId);
        } catch (Exception e) {
            throw new IllegalStateException("cannot register broker " + self.brokerId() + " again", e);
        }
    }

    /** Creates this broker's ephemeral registration and runs for controller. */
    private void register() throws Exception {
        // The registration and the bid for controller go out together (applied in this order, one group commit).
        String brokerPath = KafkaZkLayout.brokerPath(self.brokerId());
        java.util.LinkedHashMap<String, byte[]> ephemeral = new java.util.LinkedHashMap<>();
        ephemeral.put(brokerPath, KafkaZkLayout.encodeBroker(self));
        ephemeral.put(KafkaZkLayout.CONTROLLER, KafkaZkLayout.encodeController(self.brokerId(), System.currentTimeMillis()));
        Map<String, Boolean> created = store.createAll(ephemeral, true);
        if (!created.get(brokerPath)) {
            // A stale registration from our own previous run (its session not yet expired) is replaced.
            store.deleteRecursive(brokerPath);
            if (!store.create(brokerPath, KafkaZkLayout.encodeBroker(self), true)) {
                throw new IllegalStateException("broker id " + self.brokerId() + " is already registered");
            }
        }
        electController(created.get(KafkaZkLayout.CONTROLLER));
    }

    /** {@code won}: whether this broker's create of {@code /controller} succeeded (else another broker holds it). */
    private void electController(boolean won) throws Exception {
        if (won) {
            byte[] epoch = store.getData(KafkaZkLayout.CONTROLLER_EPOCH);
            controllerEpoch = (epoch == null || epoch.length == 0 ? 0 : KafkaZkLayout.decodeControllerEpoch(epoch)) + 1;
            store.setData(KafkaZkLayout.CONTROLLER_EPOCH, KafkaZkLayout.encodeControllerEpoch(controllerEpoch));
            controllerId = self.brokerId();
        } else {
            byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
            controllerId = data == null ? -1 : KafkaZkLayout.decodeControllerId(data);
        }
    }

    public String clusterId() {
        return clusterId;
    }

    public int controllerId() {
        return controllerId;
    }

    public BrokerRegistration self() {
        return self;
    }

    public List<BrokerRegistration> liveBrokers() {
        List<BrokerRegistration> brokers = new ArrayList<>();
        try {
            for (String child : store.getChildren(KafkaZkLayout.BROKER_IDS)) {
                byte[] data = store.getData(KafkaZkLayout.BROKER_IDS + "/" + child);
                if (data != null) brokers.add(KafkaZkLayout.decodeBroker(Integer.parseInt(child), data));
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot list brokers; answering with this broker only", e);
        }
        if (brokers.stream().noneMatch(b -> b.brokerId() == self.brokerId())) brokers.add(self);
        brokers.sort((a, b) -> Integer.compare(a.brokerId(), b.brokerId()));
        return brokers;
    }

    private TopicInfo loadTopic(String name) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(name));
        if (data == null) {
            topics.remove(name);
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
        for (Map.Entry<Integer, List<Integer>> e : assignment.replicas().entrySet()) {
            byte[] stored = store.getData(KafkaZkLayout.partitionStatePath(name, e.getKey()));
            PartitionState state = stored == null ? initialState(e.getValue(), liveBrokerIds())
                    : KafkaZkLayout.decodePartitionState(stored);
            states.put(e.getKey(), shrinkIsrIfLeader(name, e.getKey(), state));
        }
        byte[] config = store.getData(KafkaZkLayout.topicConfigPath(name));
        TopicInfo info = new TopicInfo(name, id, assignment.replicas(), states,
                KafkaZkLayout.decodeEntityConfig(config));
        topics.put(name, info);
        return info;
    }

    /**
     * A new partition's state as Kafka's controller writes it, with one difference that keeps it true: the leader is
     * the first live replica of the assignment, and the ISR is that leader alone, because Tandem brokers do not
     * replicate yet and a follower that never fetches is not in sync. No live replica: no leader, an empty ISR.
     */
    private PartitionState initialState(List<Integer> replicas, List<Integer> liveBrokerIds) {
        int leader = replicas.stream().filter(liveBrokerIds::contains).findFirst().orElse(NO_LEADER);
        return new PartitionState(leader, 0, Math.max(controllerEpoch, 1),
                leader == NO_LEADER ? List.of() : List.of(leader));
    }

    /**
     * A partition this broker leads whose stored ISR names other replicas (written by an earlier Tandem that claimed
     * them): those replicas never fetched from us, so the leader shrinks the ISR to itself, as a Kafka leader does
     * with followers that fall behind for replica.lag.time.max.ms.
     */
    private PartitionState shrinkIsrIfLeader(String topic, int partition, PartitionState state) throws Exception {
        if (state.leader() != self.brokerId() || state.isr().equals(List.of(self.brokerId()))) return state;
        PartitionState shrunk = new PartitionState(state.leader(), state.leaderEpoch(), state.controllerEpoch(),
                List.of(self.brokerId()));
        store.setData(KafkaZkLayout.partitionStatePath(topic, partition), KafkaZkLayout.encodePartitionState(shrunk));
        LOG.log(System.Logger.Level.INFO, "Shrank the ISR of {0}-{1} from {2} to {3}: no follower replicates from this broker",
                topic, partition, state.isr(), shrunk.isr());
        return shrunk;
    }

    private List<Integer> liveBrokerIds() {
        return liveBrokers().stream().map(BrokerRegistration::brokerId).toList();
    }

    /** The topic, re-read from the store when this broker does not know it (another broker may have made it). */
    public TopicInfo topic(String name) {
        TopicInfo info = topics.get(name);
        if (info != null) return info;
        try {
            return loadTopic(name);
        } catch (Exception e) {
            throw new ApiException(UNKNOWN_SERVER_ERROR, "cannot read topic " + name + ": " + e.getMessage());
        }
    }

    public TopicInfo topicById(UUID id) {
        for (TopicInfo info : topics.values()) {
            if (info.id().equals(id)) return info;
        }
        return null;
    }

    /** All topics, picking up ones other brokers created. */
    public Collection<TopicInfo> topics() {
        try {
            List<String> names = store.getChildren(KafkaZkLayout.BROKER_TOPICS);
            for (String name : names) {
                if (!topics.containsKey(name)) loadTopic(name);
            }
            topics.keySet().retainAll(names);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot list topics; answering from the cache", e);
        }
        List<TopicInfo> list = new ArrayList<>(topics.values());
        list.sort((a, b) -> a.name().compareTo(b.name()));
        return list;
    }

    /**
     * Creates a topic the way Kafka's admin path and controller together do: config, assignment, then each
     * partition's leader state. Validation of names, counts and configs is the caller's.
     */
    public synchronized TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                              SortedMap<Integer, List<Integer>> manualAssignment,
                                              Map<String, String> configs, boolean validateOnly) throws Exception {
        if (topic(name) != null) throw new ApiException(TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
        SortedMap<Integer, List<Integer>> assignment = manualAssignment;
        List<Integer> live = liveBrokerIds();
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
        Map<Integer, PartitionState> states = new TreeMap<>();
        for (Map.Entry<Integer, List<Integer>> e : assignment.entrySet()) states.put(e.getKey(), initialState(e.getValue(), live));
        TopicInfo info = new TopicInfo(name, id, new TreeMap<>(assignment), states, new LinkedHashMap<>(configs));
        if (validateOnly) return info;
        // Kafka's order: the config before the assignment (a broker seeing the topic finds its config), then the
        // partition states as the controller writes them.
        java.util.LinkedHashMap<String, byte[]> nodes = new java.util.LinkedHashMap<>();
        nodes.put(KafkaZkLayout.topicConfigPath(name), KafkaZkLayout.encodeEntityConfig(configs));
        nodes.put(KafkaZkLayout.topicPath(name), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(id, assignment)));
        for (Map.Entry<Integer, PartitionState> e : states.entrySet()) {
            nodes.put(KafkaZkLayout.partitionStatePath(name, e.getKey()), KafkaZkLayout.encodePartitionState(e.getValue()));
        }
        store.writeAll(nodes, true);
        topics.put(name, info);
        return info;
    }

    /** Adds partitions up to {@code totalCount}, spread like new topics' partitions. */
    public synchronized TopicInfo createPartitions(String name, int totalCount, boolean validateOnly) throws Exception {
        TopicInfo info = topic(name);
        if (info == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        int current = info.partitionCount();
        if (totalCount < current) {
            throw new ApiException(INVALID_PARTITIONS, "Topic currently has " + current
                    + " partitions, which is higher than the requested " + totalCount + ".");
        }
        if (totalCount == current) {
            throw new ApiException(INVALID_PARTITIONS, "Topic already has " + current + " partitions.");
        }
        int replicationFactor = info.replicas().get(0).size();
        List<Integer> brokerIds = liveBrokerIds();
        if (replicationFactor > brokerIds.size()) {
            throw new ApiException(INVALID_REPLICATION_FACTOR, "Not enough live brokers for replication factor "
                    + replicationFactor);
        }
        SortedMap<Integer, List<Integer>> added = ReplicaAssignment.assign(brokerIds, current, totalCount - current,
                replicationFactor, ThreadLocalRandom.current().nextInt(brokerIds.size()));
        SortedMap<Integer, List<Integer>> all = new TreeMap<>(info.replicas());
        all.putAll(added);
        Map<Integer, PartitionState> states = new TreeMap<>(info.states());
        for (Map.Entry<Integer, List<Integer>> e : added.entrySet()) states.put(e.getKey(), initialState(e.getValue(), brokerIds));
        TopicInfo updated = new TopicInfo(name, info.id(), all, states, info.configs());
        if (validateOnly) return updated;
        java.util.LinkedHashMap<String, byte[]> nodes = new java.util.LinkedHashMap<>();
        nodes.put(KafkaZkLayout.topicPath(name), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(info.id(), all)));
        for (Map.Entry<Integer, List<Integer>> e : added.entrySet()) {
            nodes.put(KafkaZkLayout.partitionStatePath(name, e.getKey()), KafkaZkLayout.encodePartitionState(states.get(e.getKey())));
        }
        store.writeAll(nodes, true);
        topics.put(name, updated);
        return updated;
    }

    /**
     * Deletes a topic. Kafka's controller does this asynchronously from {@code /admin/delete_topics}; with the
     * broker acting as controller it is done at once, leaving no marker behind.
     */
    public synchronized TopicInfo deleteTopic(String name) throws Exception {
        TopicInfo info = topic(name);
        if (info == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
        store.deleteRecursive(KafkaZkLayout.topicPath(name));
        store.deleteRecursive(KafkaZkLayout.topicConfigPath(name));
        store.deleteRecursive(KafkaZkLayout.deleteTopicPath(name));
        topics.remove(name);
        return info;
    }

    /** Replaces the topic's config overrides and leaves the change notification Kafka's brokers watch for. */
    public synchronized TopicInfo setTopicConfig(String name, Map<String, String> configs) throws Exception {
        TopicInfo info = topic(name);
        if (info == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        store.setData(KafkaZkLayout.topicConfigPath(name), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/config_change_",
                KafkaZkLayout.encodeConfigChange("topics/" + name));
        TopicInfo updated = new TopicInfo(name, info.id(), info.replicas(), info.states(), new LinkedHashMap<>(configs));
        topics.put(name, updated);
        return updated;
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
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/config_change_",
                KafkaZkLayout.encodeConfigChange("brokers/" + self.brokerId()));
    }

    /** Reserves the next producer id block in {@code /latest_producer_id_block}; returns its first id. */
    public synchronized long reserveProducerIdBlock(long blockSize) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK);
        long start = KafkaZkLayout.decodeProducerIdBlockEnd(data) + 1;
        store.setData(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK,
                KafkaZkLayout.encodeProducerIdBlock(self.brokerId(), start, start + blockSize - 1));
        return start;
    }

    @Override
    public void close() {
        store.close();
    }
}
