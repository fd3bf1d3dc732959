package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.FeatureCompatibility;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What the active controller knows of the cluster: live brokers, topic assignments and partition states, read from
 * ZooKeeper at its election and kept current by its events. Changes go to ZooKeeper first, each partition state in a
 * multi that checks the controller epoch's version (Kafka's fencing), then here. Used on the event thread only.
 */
final class ControllerState {
    private static final System.Logger LOG = System.getLogger(ControllerState.class.getName());
    final Map<Integer, BrokerRegistration> live = new TreeMap<>();
    /**
     * Each live broker's epoch (the zxid that created its registration), as Kafka's liveBrokerIdAndEpochs: a new one
     * means the broker registered again, its requests must carry it, and the controller's requests name it.
     */
    final Map<Integer, Long> brokerEpochs = new HashMap<>();
    /**
     * Registered brokers whose process was seen gone ({@link BrokerProcessProbe}), with the epoch of the registration
     * that was then current: left out of {@link #live} as if their session had ended, until they register again (a new
     * epoch), their registration goes, or their port answers again.
     */
    final Map<Integer, Long> processGone = new HashMap<>();
    /**
     * Brokers in a controlled shutdown, with the epoch of the registration that asked for it (Kafka's
     * shuttingDownBrokerIds): still live, but no longer eligible to join an ISR, until that registration goes or is
     * replaced by a new one.
     */
    final Map<Integer, Long> shuttingDown = new HashMap<>();
    /** Registered brokers left out of {@link #live} for their features (see {@link #setLive}). */
    final Set<Integer> incompatible = new HashSet<>();
    final Map<String, TopicAssignment> topics = new HashMap<>();
    final Map<TopicPartition, PartitionState> states = new HashMap<>();
    /** This controller's epoch, and the version of {@code /controller_epoch} it wrote (the fence). */
    int epoch;
    int epochZkVersion;
    private final ZnodeStore store;
    /** Runs when a write found the epoch moved: another controller took over. */
    private final Runnable onFenced;

    ControllerState(ZnodeStore store, Runnable onFenced) {
        this.store = store;
        this.onFenced = onFenced;
    }

    /**
     * Bumps {@code /controller_epoch} for a newly elected controller, fenced as Kafka's
     * registerControllerAndIncrementControllerEpoch: created under the {@code /controller} this broker just made, or
     * set at the version just read. False when another controller got there first (nothing was written).
     */
    boolean claimEpoch() throws Exception {
        ZnodeStore.Versioned current = store.getVersioned(KafkaZkLayout.CONTROLLER_EPOCH);
        int previous = current == null || current.data().length == 0 ? 0
                : KafkaZkLayout.decodeControllerEpoch(current.data());
        LinkedHashMap<String, ZnodeStore.Versioned> write = new LinkedHashMap<>();
        write.put(KafkaZkLayout.CONTROLLER_EPOCH, new ZnodeStore.Versioned(
                KafkaZkLayout.encodeControllerEpoch(previous + 1), current == null ? -1 : current.version()));
        try {
            epochZkVersion = current == null
                    ? store.writeFenced(KafkaZkLayout.CONTROLLER, 0, write).get(KafkaZkLayout.CONTROLLER_EPOCH)
                    : store.writeFenced(KafkaZkLayout.CONTROLLER_EPOCH, current.version(), write)
                    .get(KafkaZkLayout.CONTROLLER_EPOCH);
        } catch (ZnodeStore.FencedWriteException e) {
            return false;
        }
        epoch = previous + 1;
        return true;
    }

    /**
     * Replaces the live brokers with the {@code registered} ones, reading the epoch of each from its registration,
     * less those whose process is gone under that same registration, and less newcomers (new, or registered again)
     * whose features are incompatible with the finalized ones: Kafka 3.9's controller ignores their registration
     * (partitionOnFeatureCompatibility, checked for new and bounced brokers only, every broker at failover).
     */
    void setLive(List<BrokerRegistration> registered) throws Exception {
        Map<Integer, Long> wasLive = new HashMap<>(brokerEpochs);
        live.clear();
        brokerEpochs.clear();
        Map<Integer, Long> registeredEpochs = new HashMap<>();
        for (BrokerRegistration b : registered) {
            registeredEpochs.put(b.brokerId(), store.czxid(KafkaZkLayout.brokerPath(b.brokerId())));
        }
        processGone.entrySet().removeIf(e -> !e.getValue().equals(registeredEpochs.get(e.getKey())));
        shuttingDown.entrySet().removeIf(e -> !e.getValue().equals(registeredEpochs.get(e.getKey())));
        List<Integer> newcomers = new ArrayList<>();
        registeredEpochs.forEach((id, epoch) -> {
            if (!epoch.equals(wasLive.get(id))) newcomers.add(id);
        });
        incompatible.clear();
        incompatible.addAll(FeatureCompatibility.incompatibleBrokers(store, newcomers));
        if (!incompatible.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring registration of brokers due to incompatibilities with "
                    + "finalized features: {0}", incompatible);
        }
        for (BrokerRegistration b : registered) {
            if (processGone.containsKey(b.brokerId()) || incompatible.contains(b.brokerId())) continue;
            live.put(b.brokerId(), b);
            brokerEpochs.put(b.brokerId(), registeredEpochs.get(b.brokerId()));
        }
    }

    /** Reads a topic's assignment and partition states; {@code onChange} runs when its assignment znode changes. */
    void loadTopic(String topic, Runnable onChange) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(topic));
        if (data == null) return;
        TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(data);
        topics.put(topic, assignment);
        store.watchNode(KafkaZkLayout.topicPath(topic), onChange);
        // The partitions' states asked together: one round trip to the store, not one per partition (a new
        // __consumer_offsets read its 50 missing states one after the other before its leaders were elected).
        List<Integer> partitions = new ArrayList<>(assignment.replicas().keySet());
        List<String> paths = new ArrayList<>(partitions.size());
        for (int p : partitions) paths.add(KafkaZkLayout.partitionStatePath(topic, p));
        Map<String, ZnodeStore.Versioned> read = store.getVersionedAll(paths);
        for (int i = 0; i < partitions.size(); i++) {
            ZnodeStore.Versioned state = read.get(paths.get(i));
            if (state != null) {
                states.put(new TopicPartition(topic, partitions.get(i)),
                        KafkaZkLayout.decodePartitionState(state.data()).withZkVersion(state.version()));
            }
        }
    }

    /**
     * Whether {@code broker} may be in an ISR: live and not shutting down (Kafka's ZooKeeper-mode controller checks
     * its liveBrokerIds, which leave shutting-down brokers out).
     */
    boolean isrEligible(int broker) {
        return live.containsKey(broker) && !shuttingDown.containsKey(broker);
    }

    /** The live broker's epoch, or -1 when it is not live (or the store has no epochs). */
    long brokerEpoch(int broker) {
        return brokerEpochs.getOrDefault(broker, -1L);
    }

    /** The partition's assigned replicas, or null for an unknown partition. */
    List<Integer> replicas(TopicPartition tp) {
        TopicAssignment assignment = topics.get(tp.topic());
        return assignment == null ? null : assignment.replicas().get(tp.partition());
    }

    List<TopicPartition> partitionsOn(int broker, Collection<TopicPartition> partitions) {
        List<TopicPartition> on = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            TopicAssignment assignment = topics.get(tp.topic());
            if (assignment != null && assignment.replicas().getOrDefault(tp.partition(), List.of()).contains(broker)) {
                on.add(tp);
            }
        }
        return on;
    }

    /**
     * Writes a partition state over the version it was read at (-1: the state znode is new), in a multi fenced by
     * the controller epoch. Returns the state with its new version; null when the node moved (the state is re-read);
     * a moved epoch means another controller took over, and this one resigns.
     */
    PartitionState writeState(TopicPartition tp, PartitionState state) throws Exception {
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
                onFenced.run();
                return null;
            }
            ZnodeStore.Versioned stored = store.getVersioned(path);
            if (stored != null) states.put(tp, KafkaZkLayout.decodePartitionState(stored.data()).withZkVersion(stored.version()));
            LOG.log(System.Logger.Level.INFO, "State of {0} changed under the controller; re-read it", tp);
            return null;
        }
    }

    /** New partition states per multi: about 150 bytes each, well inside jute.maxbuffer's 1 MB. */
    static final int STATES_PER_MULTI = 1000;

    /**
     * Writes the first states of new partitions in one fenced multi (a topic's partitions together, as Kafka's
     * controller creates them together); returns the partitions written. When the multi is refused (the epoch moved,
     * or a state appeared meanwhile) each is written alone, so the one that moved is re-read and the rest still go.
     */
    List<TopicPartition> writeNewStates(Map<TopicPartition, PartitionState> fresh) throws Exception {
        if (fresh.size() > STATES_PER_MULTI) {
            List<TopicPartition> written = new ArrayList<>();
            Map<TopicPartition, PartitionState> chunk = new LinkedHashMap<>();
            for (Map.Entry<TopicPartition, PartitionState> e : fresh.entrySet()) {
                chunk.put(e.getKey(), e.getValue());
                if (chunk.size() == STATES_PER_MULTI) {
                    written.addAll(writeNewStates(chunk));
                    chunk = new LinkedHashMap<>();
                }
            }
            written.addAll(writeNewStates(chunk));
            return written;
        }
        if (fresh.isEmpty()) return List.of();
        LinkedHashMap<String, ZnodeStore.Versioned> write = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : fresh.entrySet()) {
            write.put(KafkaZkLayout.partitionStatePath(e.getKey().topic(), e.getKey().partition()),
                    new ZnodeStore.Versioned(KafkaZkLayout.encodePartitionState(e.getValue()), -1));
        }
        try {
            store.writeFenced(KafkaZkLayout.CONTROLLER_EPOCH, epochZkVersion, write);
        } catch (ZnodeStore.FencedWriteException e) {
            List<TopicPartition> written = new ArrayList<>();
            for (Map.Entry<TopicPartition, PartitionState> one : fresh.entrySet()) {
                if (writeState(one.getKey(), one.getValue()) != null) written.add(one.getKey());
            }
            return written;
        }
        // A created node is at version 0.
        fresh.forEach((tp, state) -> states.put(tp, state.withZkVersion(0)));
        return new ArrayList<>(fresh.keySet());
    }

    /**
     * Writes the partition's replicas, and the replicas a move in progress adds and removes (empty lists: none), as
     * Kafka keeps them in {@code adding_replicas} / {@code removing_replicas}, so the next controller resumes it.
     */
    void writeAssignment(TopicPartition tp, List<Integer> replicas, List<Integer> adding, List<Integer> removing)
            throws Exception {
        TopicAssignment assignment = topics.get(tp.topic());
        java.util.SortedMap<Integer, List<Integer>> all = new TreeMap<>(assignment.replicas());
        all.put(tp.partition(), List.copyOf(replicas));
        java.util.SortedMap<Integer, List<Integer>> adds = new TreeMap<>(assignment.adding());
        java.util.SortedMap<Integer, List<Integer>> removes = new TreeMap<>(assignment.removing());
        adds.remove(tp.partition());
        removes.remove(tp.partition());
        if (!adding.isEmpty()) adds.put(tp.partition(), adding);
        if (!removing.isEmpty()) removes.put(tp.partition(), removing);
        TopicAssignment updated = new TopicAssignment(assignment.topicId(), all, adds, removes);
        store.setData(KafkaZkLayout.topicPath(tp.topic()), KafkaZkLayout.encodeTopicAssignment(updated));
        topics.put(tp.topic(), updated);
    }
}
