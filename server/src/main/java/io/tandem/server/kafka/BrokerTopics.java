package io.tandem.server.kafka;

import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.purgatory.DelayedResponse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.REQUEST_TIMED_OUT;
import static io.tandem.server.kafka.ErrorCodes.TOPIC_ALREADY_EXISTS;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;

/**
 * Topic administration on a broker: creating a topic and waiting for its leaders (as Kafka's CreateTopics), asking
 * the controller to delete topics and waiting for it (as Kafka's DeleteTopics), applying a topic's changed config to
 * its logs, and creating {@code __consumer_offsets} on first use. The assignment and state live in ZooKeeper
 * ({@code ClusterMetadata}); the controller gives leaders.
 */
public final class BrokerTopics {
    private static final System.Logger LOG = System.getLogger(BrokerTopics.class.getName());

    /** How long a broker that is not the controller waits for a new topic's first leaders (CreateTopics). */
    static final long TOPIC_LEADERS_WAIT_MS = 30_000;
    /** The offsets topic rolls smaller segments than other topics so compaction can run (Kafka's value). */
    static final String OFFSETS_TOPIC_SEGMENT_BYTES = "104857600";

    private final KafkaBroker broker;
    private volatile boolean offsetsTopicReady;

    BrokerTopics(KafkaBroker broker) {
        this.broker = broker;
    }

    /**
     * Creates {@code __consumer_offsets} on first use, as Kafka does when the first group looks for its coordinator.
     */
    public TopicInfo ensureOffsetsTopic() {
        TopicInfo offsets = broker.metadata().topic(TopicNames.CONSUMER_OFFSETS);
        if (offsets != null && offsetsTopicReady) return offsets;
        synchronized (this) {
            offsets = broker.metadata().topic(TopicNames.CONSUMER_OFFSETS);
            try {
                if (offsets == null) {
                    int replication = broker.config().offsetsTopicReplicationFactor();
                    int live = broker.metadata().liveBrokers().size();
                    if (live < replication) {
                        // Kafka's words and error: the group waits for enough brokers instead of getting fewer copies.
                        throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Number of alive brokers '" + live
                                + "' does not meet the required replication factor '" + replication
                                + "' for the offsets topic (configured via 'offsets.topic.replication.factor'). This"
                                + " error can be ignored if the cluster is starting up and not all brokers are up yet.");
                    }
                    Map<String, String> topicConfig = new LinkedHashMap<>();
                    topicConfig.put("cleanup.policy", "compact");
                    topicConfig.put("compression.type", "producer");
                    topicConfig.put("segment.bytes", OFFSETS_TOPIC_SEGMENT_BYTES);
                    offsets = createInternalTopic(TopicNames.CONSUMER_OFFSETS,
                            broker.config().offsetsTopicPartitions(), replication, topicConfig);
                }
                // Its partitions' offsets were loaded as this broker became their leader (LeaderAndIsr).
                offsetsTopicReady = true;
            } catch (ApiException e) {
                throw e;
            } catch (Exception e) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "cannot create the offsets topic: " + e.getMessage());
            }
            return offsets;
        }
    }

    /**
     * Creates an internal topic (the offsets, transaction state or share state topic) on a coordinator's first use.
     * Another broker may create it at the same moment: as Kafka's auto-creation lets a TopicExistsException go, the
     * topic the other broker made is used (its metadata read back), or the caller is told to retry
     * (COORDINATOR_NOT_AVAILABLE) while it is not readable yet.
     */
    public TopicInfo createInternalTopic(String name, int partitions, int replicationFactor, Map<String, String> configs)
            throws Exception {
        try {
            return createTopic(name, partitions, replicationFactor, null, configs, false);
        } catch (ApiException e) {
            if (e.error() != TOPIC_ALREADY_EXISTS) throw e;
            TopicInfo raced = broker.metadata().topic(name);
            if (raced == null) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "the topic " + name + " is being created");
            }
            return raced;
        }
    }

    /**
     * Creates a topic and waits (bounded) for its leaders, holding the calling thread: for the internal topics a
     * coordinator makes on first use and for a Metadata request's auto-creation. A client's CreateTopics does not
     * wait here: see {@link #writeTopic} and {@link #whenLeadersKnown}. Validation of the request is the caller's.
     */
    public TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                 SortedMap<Integer, List<Integer>> assignment, Map<String, String> configs,
                                 boolean validateOnly) throws Exception {
        long startNanos = System.nanoTime();
        TopicInfo info = broker.metadata().createTopic(name, partitions, replicationFactor, assignment, configs,
                validateOnly);
        if (!validateOnly) {
            long writtenNanos = System.nanoTime();
            awaitLeaders(info);
            LOG.log(System.Logger.Level.INFO, "Created topic {0} with {1} partitions (metadata {2} ms, leaders {3} ms)",
                    name, info.partitionCount(), Long.toString((writtenNanos - startNanos) / 1_000_000),
                    Long.toString((System.nanoTime() - writtenNanos) / 1_000_000));
        }
        return info;
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
     * After this broker wrote a topic's assignment: the controller gives its partitions leaders. Here that happens
     * before this returns; elsewhere the controller's UpdateMetadata is awaited, as Kafka's CreateTopics waits for
     * the new leaders to reach its metadata cache (bounded; clients retry LEADER_NOT_AVAILABLE past it).
     */
    private void awaitLeaders(TopicInfo topic) throws Exception {
        if (broker.controller().isActive()) {
            try {
                broker.controller().topicsChanged();
            } catch (java.util.concurrent.TimeoutException e) {
                // A replica's broker is registered but unreachable: the topic exists and its leaders are elected,
                // so this answers as the other branch does past its bound (Kafka's CreateTopics waits only for its
                // own metadata cache, never for an answer from every broker), not with UNKNOWN_SERVER_ERROR.
                LOG.log(System.Logger.Level.WARNING, "Topic {0}: not every broker took its role within {1} ms",
                        topic.name(), Long.toString(TOPIC_LEADERS_WAIT_MS));
            }
            return;
        }
        long deadline = System.currentTimeMillis() + TOPIC_LEADERS_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            TopicInfo known = broker.metadata().topic(topic.name());
            if (known != null && known.replicas().keySet().stream().allMatch(p -> known.states().get(p) != null
                    && known.states().get(p).leader() >= 0)) {
                return;
            }
            Thread.sleep(10);
        }
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
        for (int p : topic.replicas().keySet()) {
            Partition partition = broker.logs().get(new TopicPartition(topic.name(), p));
            if (partition != null) partition.updateConfig(broker.topicConfigs().logConfig(topic.configs()));
        }
    }
}
