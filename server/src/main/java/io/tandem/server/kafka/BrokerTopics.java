package io.tandem.server.kafka;

import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.purgatory.DelayedResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.LEADER_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.REQUEST_TIMED_OUT;
import static io.tandem.server.kafka.ErrorCodes.TOPIC_ALREADY_EXISTS;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;

/**
 * Topic administration on a broker: creating a topic and parking the answer until its leaders are known (as Kafka's
 * CreateTopics), asking the controller to delete topics and parking the answer until it did (as Kafka's DeleteTopics),
 * applying a topic's changed config to its logs, creating the internal topics on first use and topics asked for in a
 * Metadata request (auto-creation). No thread waits for the controller: an answer is parked or given at once. The
 * assignment and state live in ZooKeeper ({@code ClusterMetadata}); the controller gives leaders.
 */
public final class BrokerTopics {
    private static final System.Logger LOG = System.getLogger(BrokerTopics.class.getName());

    /** The offsets topic rolls smaller segments than other topics so compaction can run (Kafka's value). */
    static final String OFFSETS_TOPIC_SEGMENT_BYTES = "104857600";

    private final KafkaBroker broker;
    /**
     * The topics this broker is writing for a first use right now (Kafka's DefaultAutoTopicCreationManager
     * inflightTopics): a second request for one of them, on another request thread, neither writes nor waits. The
     * write is done on the request's own thread and the name removed after it, so the set never holds more names
     * than there are request threads.
     */
    private final java.util.Set<String> inflight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    BrokerTopics(KafkaBroker broker) {
        this.broker = broker;
    }

    /** An internal topic's creation: its assignment and configs written, the topic as written returned. */
    @FunctionalInterface
    public interface InternalTopicWrite {
        TopicInfo write() throws Exception;
    }

    /**
     * {@code __consumer_offsets}, created on first use as Kafka does when the first group looks for its coordinator.
     * Returns as soon as it is written, its partitions still leaderless: see {@link #ensureInternalTopic}.
     */
    public TopicInfo ensureOffsetsTopic() {
        return ensureInternalTopic(TopicNames.CONSUMER_OFFSETS, broker.config().offsetsTopicReplicationFactor(),
                "offsets.topic.replication.factor", this::createOffsetsTopic);
    }

    /** Writes {@code __consumer_offsets} with Kafka's configs for it (GroupCoordinator.offsetsTopicConfigs). */
    TopicInfo createOffsetsTopic() throws Exception {
        Map<String, String> topicConfig = new LinkedHashMap<>();
        topicConfig.put("cleanup.policy", "compact");
        topicConfig.put("compression.type", "producer");
        topicConfig.put("segment.bytes", OFFSETS_TOPIC_SEGMENT_BYTES);
        return writeInternalTopic(TopicNames.CONSUMER_OFFSETS, broker.config().offsetsTopicPartitions(),
                broker.config().offsetsTopicReplicationFactor(), topicConfig);
    }

    /**
     * An internal topic (the offsets, transaction state or share state topic) as a coordinator's first use needs it:
     * the topic if it exists, else written now (Kafka 3.9's getCoordinator hands it to AutoTopicCreationManager,
     * which in ZooKeeper mode writes the znodes with a timeout of 0 and waits for nothing). The caller gets it at once,
     * its partitions leaderless until the controller elects them, and answers the client COORDINATOR_NOT_AVAILABLE
     * or NOT_COORDINATOR meanwhile, which clients retry. With fewer live brokers than {@code replication}, or when the
     * write fails, that is COORDINATOR_NOT_AVAILABLE in Kafka's words; a topic another broker made at the same
     * moment is read back and used. While another request of this broker is writing it, this one writes nothing and
     * gets COORDINATOR_NOT_AVAILABLE, as Kafka's in-flight creation answers it.
     */
    public TopicInfo ensureInternalTopic(String name, int replication, String replicationKey,
                                         InternalTopicWrite create) {
        TopicInfo topic = broker.metadata().topic(name);
        if (topic != null) return topic;
        int live = broker.metadata().liveBrokers().size();
        if (live < replication) {
            // Kafka's words and error: the group waits for enough brokers instead of getting fewer copies.
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Number of alive brokers '" + live
                    + "' does not meet the required replication factor '" + replication + "' for the internal topic "
                    + name + " (configured via '" + replicationKey + "'). This error can be ignored if the cluster is"
                    + " starting up and not all brokers are up yet.");
        }
        if (!inflight.add(name)) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, name + " is being created by another request");
        }
        try {
            return create.write();
        } catch (ApiException e) {
            if (e.error() == TOPIC_ALREADY_EXISTS) {
                TopicInfo raced = broker.metadata().topic(name);
                if (raced != null) return raced;
            }
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "cannot create " + name + ": " + e.getMessage());
        } catch (Exception e) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "cannot create " + name + ": " + e.getMessage());
        } finally {
            inflight.remove(name);
        }
    }

    /**
     * Writes an internal topic's config and assignment and tells the controller, returning at once: no thread waits
     * for its leaders. Kafka's own errors (INVALID_REPLICATION_FACTOR, TOPIC_ALREADY_EXISTS) pass to the caller.
     */
    public TopicInfo writeInternalTopic(String name, int partitions, int replicationFactor,
                                       Map<String, String> configs) throws Exception {
        TopicInfo info = writeTopic(name, partitions, replicationFactor, null, configs, false);
        broker.controller().assignmentsWritten();
        return info;
    }

    /**
     * Kafka 3.9's Metadata auto-creation (KafkaApis.getTopicMetadata, then AutoTopicCreationManager.createTopicsInZk
     * with a timeout of 0, ZooKeeper mode): the topic is written with the broker's defaults, or an internal topic
     * with its own partitions, replication and configs, and the answer for it is LEADER_NOT_AVAILABLE at once (also
     * when it already exists: another request or broker made it first), which clients retry; no thread waits for
     * its leaders. Any other failure is answered with its own error (INVALID_REPLICATION_FACTOR with fewer brokers
     * than the replication factor). A topic another request of this broker is writing at that moment is
     * UNKNOWN_TOPIC_OR_PARTITION, written once only (Kafka's inflightTopics). Authorization and the name's validity are
     * the caller's.
     */
    public short autoCreate(String name) {
        if (!inflight.add(name)) return UNKNOWN_TOPIC_OR_PARTITION;
        try {
            switch (name) {
                case TopicNames.CONSUMER_OFFSETS -> createOffsetsTopic();
                case TopicNames.TRANSACTION_STATE -> broker.transactions().createStateTopic();
                case TopicNames.SHARE_GROUP_STATE -> broker.shareStateTopic().createTopic();
                default -> writeInternalTopic(name, broker.config().numPartitions(),
                        broker.config().defaultReplicationFactor(), Map.of());
            }
            return LEADER_NOT_AVAILABLE;
        } catch (ApiException e) {
            return e.error() == TOPIC_ALREADY_EXISTS ? LEADER_NOT_AVAILABLE : e.error();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot auto-create topic " + name, e);
            return UNKNOWN_SERVER_ERROR;
        } finally {
            inflight.remove(name);
        }
    }

    /**
     * Writes a topic's config and assignment (Kafka's AdminZkClient.createTopicWithAssignment) and returns at once;
     * the controller gives the partitions leaders. Validation of the request is the caller's.
     */
    public TopicInfo writeTopic(String name, int partitions, int replicationFactor,
                                SortedMap<Integer, List<Integer>> assignment, Map<String, String> configs,
                                boolean validateOnly) throws Exception {
        TopicInfo info = broker.metadata().createTopic(name, partitions, replicationFactor, assignment, configs,
                validateOnly);
        if (!validateOnly) {
            LOG.log(System.Logger.Level.INFO, "Created topic {0} with {1} partitions", name, info.partitionCount());
        }
        return info;
    }

    /**
     * Kafka's TopicKey: what a CreateTopics or CreatePartitions request waiting for its partitions' leaders, and a
     * DeleteTopics request waiting for its topics to go, are parked under.
     */
    record TopicKey(String topic) {
    }

    /**
     * Kafka 3.9's DelayedCreatePartitions (ZkAdminManager.createTopics and createPartitions, ZooKeeper mode): the
     * assignments are written; the answer waits, parked in the produce purgatory rather than on a request thread,
     * until this broker's own metadata cache has a leader for every partition of {@code created} (topic to its
     * partitions), which the controller's UpdateMetadata brings, or until {@code timeoutMs} passes. Only this
     * broker's cache is awaited, never an answer from each replica's broker, so a registered broker that does not
     * answer the controller delays nothing. {@code then} gets the topics still missing a leader (REQUEST_TIMED_OUT
     * for each, as Kafka), on whichever thread completes the wait; the caller answers at once, without parking, when
     * {@code timeoutMs <= 0}.
     */
    public void whenLeadersKnown(Map<String, java.util.Set<Integer>> created, int timeoutMs,
                                 Consumer<java.util.Set<String>> then, Consumer<Throwable> failed) {
        // A store without watches (a local directory) does not tell the controller of the new assignments.
        broker.controller().assignmentsWritten();
        DelayedResponse delayed = new DelayedResponse(timeoutMs, () -> leaderless(created).isEmpty(),
                () -> then.accept(leaderless(created)), failed);
        broker.producePurgatory().tryCompleteElseWatch(delayed, created.keySet().stream().map(TopicKey::new).toList());
    }

    /**
     * Kafka 3.9's DelayedElectLeader (ReplicaManager.electLeaders, ZooKeeper mode): the answer to an election waits,
     * parked in the produce purgatory, until this broker's metadata cache shows each partition of {@code expected}
     * led by the broker the controller elected, which the controller's UpdateMetadata brings, or until
     * {@code timeoutMs} passes (at once when it is 0 or less, after one look). {@code then} gets the partitions whose
     * leader the cache did not show by then (REQUEST_TIMED_OUT for each, as Kafka), on whichever thread completes
     * the wait.
     */
    public void whenLeadersShown(Map<TopicPartition, Integer> expected, long timeoutMs,
                                 Consumer<java.util.Set<TopicPartition>> then, Consumer<Throwable> failed) {
        DelayedResponse delayed = new DelayedResponse(Math.max(0, timeoutMs), () -> notShown(expected).isEmpty(),
                () -> then.accept(notShown(expected)), failed);
        List<TopicKey> keys = expected.keySet().stream().map(TopicPartition::topic).distinct().map(TopicKey::new).toList();
        broker.producePurgatory().tryCompleteElseWatch(delayed, keys);
    }

    /** Of {@code expected}, the partitions this broker's cache does not show led by the expected broker. */
    private java.util.Set<TopicPartition> notShown(Map<TopicPartition, Integer> expected) {
        java.util.Set<TopicPartition> missing = new java.util.LinkedHashSet<>();
        expected.forEach((tp, leader) -> {
            TopicInfo known = broker.metadata().knownTopic(tp.topic());
            io.tandem.server.kafka.metadata.PartitionState state = known == null ? null : known.states().get(tp.partition());
            if (state == null || state.leader() != leader) missing.add(tp);
        });
        return missing;
    }

    /** Of {@code created}, the topics whose partitions are not all led in this broker's cache (Kafka's NoLeader). */
    private java.util.Set<String> leaderless(Map<String, java.util.Set<Integer>> created) {
        java.util.Set<String> missing = new java.util.LinkedHashSet<>();
        created.forEach((name, partitions) -> {
            TopicInfo known = broker.metadata().knownTopic(name);
            for (int p : partitions) {
                io.tandem.server.kafka.metadata.PartitionState state = known == null ? null : known.states().get(p);
                if (state == null || state.leader() < 0) {
                    missing.add(name);
                    return;
                }
            }
        });
        return missing;
    }

    /**
     * The controller's UpdateMetadata (or LeaderAndIsr) reached this broker's cache for a partition of
     * {@code topic}: CreateTopics and CreatePartitions requests parked on it look again (Kafka's
     * tryCompleteDelayedTopicOperations).
     */
    void partitionStateApplied(String topic) {
        broker.producePurgatory().checkAndComplete(new TopicKey(topic));
    }

    /**
     * Kafka 3.9's ZkAdminManager.deleteTopics, on the controller's broker: each topic gets its
     * {@code /admin/delete_topics/T} request (the controller's TopicDeletions then stops and deletes every replica
     * and removes the znodes), and the answer waits, parked in the produce purgatory rather than on a request
     * thread, until this broker's cache has forgotten every topic (the controller's UpdateMetadata) or
     * {@code timeoutMs} passes: REQUEST_TIMED_OUT for each topic still known then, and at once when
     * {@code timeoutMs <= 0}. A topic whose request cannot be written answers UNKNOWN_SERVER_ERROR.
     * {@code then} gets an error code per topic, on whichever thread completes the wait.
     */
    public void deleteTopics(List<String> names, int timeoutMs, Consumer<Map<String, Short>> then,
                             Consumer<Throwable> failed) {
        Map<String, Short> marked = new LinkedHashMap<>();
        try {
            // Every request at once (one round trip); on a failure, one at a time to tell which topic failed.
            broker.metadata().markForDeletion(names);
            for (String name : names) marked.put(name, NONE);
        } catch (Exception together) {
            for (String name : names) {
                try {
                    broker.metadata().markForDeletion(name);
                    marked.put(name, NONE);
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "Cannot ask for the deletion of topic " + name, e);
                    marked.put(name, UNKNOWN_SERVER_ERROR);
                }
            }
        }
        LOG.log(System.Logger.Level.INFO, "Asked the controller to delete topics {0}", names);
        // A store without watches (a local directory) does not tell the controller; this broker is the controller.
        if (marked.containsValue(NONE)) broker.controller().deletionsRequested();
        Runnable respond = () -> {
            Map<String, Short> errors = new LinkedHashMap<>();
            marked.forEach((name, error) -> errors.put(name,
                    error == NONE && broker.metadata().knownTopic(name) != null ? REQUEST_TIMED_OUT : error));
            then.accept(errors);
        };
        if (timeoutMs <= 0) {
            // Kafka answers every asked topic REQUEST_TIMED_OUT then, whatever the cache says by now.
            Map<String, Short> errors = new LinkedHashMap<>();
            marked.forEach((name, error) -> errors.put(name, error == NONE ? REQUEST_TIMED_OUT : error));
            then.accept(errors);
            return;
        }
        if (!marked.containsValue(NONE)) {
            respond.run();
            return;
        }
        DelayedResponse delayed = new DelayedResponse(timeoutMs, () -> marked.entrySet().stream()
                .noneMatch(e -> e.getValue() == NONE && broker.metadata().knownTopic(e.getKey()) != null),
                respond, failed);
        broker.producePurgatory().tryCompleteElseWatch(delayed, names.stream().map(TopicKey::new).toList());
    }

    /**
     * The controller told this broker to forget the topics (they are being deleted): their offsets leave every
     * group (Kafka's onPartitionsDeleted) and DeleteTopics requests waiting for them are answered.
     */
    void topicsDeleted(List<String> names, java.util.Set<java.util.UUID> ids) {
        if (broker.groups() != null) {
            broker.groups().deleteTopicOffsets(names);
            // Share groups forget the deleted topics' share-partitions, and the share coordinator their state.
            broker.shareState().topicsDeleted(ids);
            broker.shareGroups().topicsDeleted(ids);
        }
        for (String name : names) broker.producePurgatory().checkAndComplete(new TopicKey(name));
    }

    /** After a topic's config changed: the logs pick up the new retention, segment and flush settings. */
    public void topicConfigChanged(TopicInfo topic) {
        heldLogsConfigChanged(topic.name(), topic.configs());
    }

    /**
     * The topic's overrides are now {@code overrides}: every log of it this broker holds takes them, as Kafka's
     * LogManager.updateTopicConfig does for each log it holds of the topic, whether or not the metadata cache knows
     * the topic yet (before the controller's first UpdateMetadata it knows none, yet the logs on disk are open).
     */
    public void heldLogsConfigChanged(String topic, Map<String, String> overrides) {
        io.tandem.storage.log.LogConfig config = null;
        for (Map.Entry<TopicPartition, Partition> e : broker.logs().partitions().entrySet()) {
            if (!e.getKey().topic().equals(topic)) continue;
            if (config == null) config = broker.topicConfigs().logConfig(overrides);
            e.getValue().updateConfig(config);
        }
    }

    /**
     * Settings every log derives from changed (dynamic broker defaults), or the logs just opened at start-up may
     * have missed a topic change made while they opened: every log held takes its topic's overrides over the
     * current defaults, as Kafka's DynamicLogConfig updates all its logs. The overrides of a topic the cache does
     * not know yet are read from {@code /config/topics} (Kafka's logs keep their own).
     */
    public void allHeldLogsConfigChanged() {
        java.util.Set<String> held = new java.util.TreeSet<>();
        for (TopicPartition tp : broker.logs().partitions().keySet()) held.add(tp.topic());
        if (held.isEmpty()) return;
        Map<String, Map<String, String>> overrides = new java.util.HashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String name : held) {
            TopicInfo known = broker.metadata().knownTopic(name);
            if (known != null) {
                overrides.put(name, known.configs());
            } else {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            try {
                overrides.putAll(broker.metadata().storedTopicConfigs(unknown));
            } catch (Exception e) {
                // Their logs keep the settings they have; the next change of the topic or the defaults applies.
                LOG.log(System.Logger.Level.WARNING, "Cannot read the configs of topics " + unknown
                        + " to apply new log settings to their logs: " + e);
                held.removeAll(unknown);
            }
        }
        for (String name : held) heldLogsConfigChanged(name, overrides.getOrDefault(name, Map.of()));
    }
}
