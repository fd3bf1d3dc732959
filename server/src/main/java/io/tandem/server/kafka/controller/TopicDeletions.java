package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.replica.ReplicaManager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * Topic deletion asked for under {@code /admin/delete_topics}, with the rules of Kafka 3.9's TopicDeletionManager:
 * the topic stays in {@code /brokers/topics} and its request in {@code /admin/delete_topics} until every replica of
 * it has answered a StopReplica with delete. A replica whose broker is down (or leaves, or answers an error) is
 * ineligible and halts the topic's deletion until that broker registers again, when the deletion is retried; only
 * then do the topic's znodes go, so its name cannot be taken again while an old replica may still be on a disk.
 * While queued the topic is out of {@link ControllerState} (no elections, no LeaderAndIsr, no moves) and every broker
 * has been told to forget it (UpdateMetadata with Kafka's leader-during-delete mark). A new controller finds the
 * requests still there and starts over, which is safe: deleting a replica twice deletes nothing.
 * A topic with a partition being moved is ineligible too (Kafka's "topic reassignment in progress"): it stays in the
 * state and served, and every broker keeps it (so a DeleteTopics waiting for the brokers to forget it times out),
 * until its moves finish; then its deletion starts.
 * The topics started together share one StopReplica per broker and, once all deleted, one fenced multi that removes
 * their znodes, so deleting a test's topics costs a few round trips, not a few per topic.
 * Runs on the controller's event thread; answers come back through {@code events}.
 */
final class TopicDeletions {
    private static final System.Logger LOG = System.getLogger(TopicDeletions.class.getName());

    /** Kafka's ReplicaDeletionStarted, ReplicaDeletionSuccessful and ReplicaDeletionIneligible. */
    private enum Progress { STARTED, DELETED, INELIGIBLE }

    private record Replica(TopicPartition partition, int broker) {
    }

    /** A topic queued for deletion, with what the controller knew of it when it left {@link ControllerState}. */
    private static final class Doomed {
        final String topic;
        final TopicAssignment assignment;
        final Map<TopicPartition, PartitionState> states;
        final Map<Replica, Progress> replicas = new LinkedHashMap<>();
        /** Kafka's topicsWithDeletionStarted: the brokers were told to forget the topic. */
        boolean started;
        /** Kafka's topicsIneligibleForDeletion: a replica's broker is down; waits for it to come back. */
        boolean ineligible;

        Doomed(String topic, TopicAssignment assignment, Map<TopicPartition, PartitionState> states) {
            this.topic = topic;
            this.assignment = assignment;
            this.states = states;
        }

        boolean any(Progress progress) {
            return replicas.values().contains(progress);
        }

        boolean allDeleted() {
            for (Map.Entry<Integer, List<Integer>> p : assignment.replicas().entrySet()) {
                for (int broker : p.getValue()) {
                    Replica r = new Replica(new TopicPartition(topic, p.getKey()), broker);
                    if (replicas.get(r) != Progress.DELETED) return false;
                }
            }
            return true;
        }
    }

    private final ZnodeStore store;
    private final ControllerState cluster;
    private final ControllerRequests requests;
    private final Reassignments moves;
    private final AdminZnodes admin;
    /** Runs an action on the controller's event thread, if this broker is still the loaded controller then. */
    private final Consumer<Runnable> events;
    private final Map<String, Doomed> queued = new TreeMap<>();
    /** Moves on at each election, so an answer to an earlier controller term changes nothing. */
    private int term;

    TopicDeletions(ZnodeStore store, ControllerState cluster, ControllerRequests requests, Reassignments moves,
                   AdminZnodes admin, Consumer<Runnable> events) {
        this.store = store;
        this.cluster = cluster;
        this.requests = requests;
        this.moves = moves;
        this.admin = admin;
        this.events = events;
        moves.onTopicSettled(topic -> events.accept(() -> {
            try {
                requested();
            } catch (Exception e) {
                throw new IllegalStateException("cannot resume the deletion of " + topic, e);
            }
        }), queued::containsKey);
    }

    boolean isQueued(String topic) {
        return queued.containsKey(topic);
    }

    /** Whether the partition is one of a topic queued for deletion. */
    boolean isQueuedPartition(TopicPartition tp) {
        Doomed d = queued.get(tp.topic());
        return d != null && d.assignment.replicas().containsKey(tp.partition());
    }

    /**
     * At this broker's election, after the cluster state was read and before any election or LeaderAndIsr: the
     * topics with a deletion request leave the state (nothing is sent yet; {@link #resume} starts them).
     */
    void load() throws Exception {
        queued.clear();
        term++;
        enqueueRequested(true);
    }

    /** The children of {@code /admin/delete_topics} changed: new requests are queued and deletions go on. */
    void requested() throws Exception {
        enqueueRequested(false);
        resume();
    }

    /** {@code loading}: at an election, when only ZooKeeper's adding and removing replicas say what is moving. */
    private void enqueueRequested(boolean loading) throws Exception {
        for (String topic : store.getChildren(KafkaZkLayout.DELETE_TOPICS)) {
            if (queued.containsKey(topic)) continue;
            TopicAssignment moving = cluster.topics.get(topic);
            if (moving != null && (!loading && moves.moving(topic) || !moving.adding().isEmpty() || !moving.removing().isEmpty())) {
                // Kafka's markTopicIneligibleForDeletion("topic reassignment in progress"): nothing is sent, so the
                // brokers keep serving it, until Reassignments says its moves are done (requested() runs again).
                LOG.log(System.Logger.Level.INFO, "Deletion of {0} waits for its reassignment", topic);
                continue;
            }
            TopicAssignment assignment = cluster.topics.remove(topic);
            if (assignment == null) {
                // Kafka's controller drops a request for a topic that does not exist.
                LOG.log(System.Logger.Level.INFO, "Ignoring the deletion of {0}: no such topic", topic);
                store.deleteRecursive(KafkaZkLayout.deleteTopicPath(topic));
                continue;
            }
            Map<TopicPartition, PartitionState> states = new HashMap<>();
            cluster.states.entrySet().removeIf(e -> {
                if (!e.getKey().topic().equals(topic)) return false;
                states.put(e.getKey(), e.getValue());
                return true;
            });
            queued.put(topic, new Doomed(topic, assignment, states));
            // No move is in progress (see above); a request for one left in ZooKeeper goes with the topic.
            admin.removeFromReassignment(moves.forget(topic));
            LOG.log(System.Logger.Level.INFO, "Topic {0} queued for deletion", topic);
        }
    }

    /**
     * Brokers registered ({@code joined}) or left ({@code departed}): a departed broker's replicas that were not
     * deleted become ineligible and halt their topics; a returning broker's topics are retried (Kafka's
     * onBrokerFailure and onBrokerStartup).
     */
    void brokersChanged(Set<Integer> joined, Set<Integer> departed) {
        if (queued.isEmpty()) return;
        for (Doomed d : queued.values()) {
            for (Map.Entry<Integer, List<Integer>> p : d.assignment.replicas().entrySet()) {
                for (int broker : p.getValue()) {
                    Replica r = new Replica(new TopicPartition(d.topic, p.getKey()), broker);
                    if (departed.contains(broker) && d.replicas.get(r) != Progress.DELETED) {
                        d.replicas.put(r, Progress.INELIGIBLE);
                        d.ineligible = true;
                    }
                    if (joined.contains(broker)) d.ineligible = false;
                }
            }
        }
        resume();
    }

    /** Kafka's resumeDeletions: finished topics go, halted ones are retried, eligible ones (re)started. */
    void resume() {
        List<Doomed> eligible = new ArrayList<>();
        List<Doomed> done = new ArrayList<>();
        for (Doomed d : List.copyOf(queued.values())) {
            if (d.allDeleted()) {
                done.add(d);
                continue;
            }
            if (!d.any(Progress.STARTED) && d.any(Progress.INELIGIBLE)) {
                // Retried: the ineligible replicas are tried again (those still on a down broker become ineligible
                // again below, and halt the topic until that broker returns).
                d.replicas.values().removeIf(p -> p == Progress.INELIGIBLE);
            }
            if (!d.any(Progress.STARTED) && !d.ineligible) eligible.add(d);
        }
        if (!done.isEmpty()) complete(done);
        if (!eligible.isEmpty()) start(eligible);
    }

    /** Kafka's onTopicDeletion and onPartitionDeletion. */
    private void start(List<Doomed> topics) {
        Map<TopicPartition, PartitionState> marked = new LinkedHashMap<>();
        Map<String, TopicAssignment> assignments = new HashMap<>();
        for (Doomed d : topics) {
            d.started = true;
            assignments.put(d.topic, d.assignment);
            for (int p : d.assignment.replicas().keySet()) {
                TopicPartition tp = new TopicPartition(d.topic, p);
                PartitionState state = d.states.get(tp);
                if (state == null) continue;
                marked.put(tp, new PartitionState(ReplicaManager.LEADER_DURING_DELETE, state.leaderEpoch(),
                        cluster.epoch, state.isr(), state.zkVersion()));
            }
        }
        // Every broker stops serving the topics first (a broker whose cache forgot one answers it as unknown).
        requests.updateMetadata(cluster.live.keySet(), marked.keySet(), marked::get,
                topic -> assignments.get(topic));
        // One StopReplica per broker for all the topics' replicas on it, as Kafka's controller batches them.
        Map<Integer, Map<String, List<Integer>>> byBroker = new TreeMap<>();
        Map<String, Doomed> asked = new HashMap<>();
        for (Doomed d : topics) {
            asked.put(d.topic, d);
            d.assignment.replicas().forEach((p, replicas) -> {
                for (int broker : replicas) {
                    Replica r = new Replica(new TopicPartition(d.topic, p), broker);
                    if (d.replicas.get(r) == Progress.DELETED) continue;
                    if (!cluster.live.containsKey(broker)) {
                        d.replicas.put(r, Progress.INELIGIBLE);
                        d.ineligible = true;
                        continue;
                    }
                    d.replicas.put(r, Progress.STARTED);
                    byBroker.computeIfAbsent(broker, b -> new LinkedHashMap<>())
                            .computeIfAbsent(d.topic, t -> new ArrayList<>()).add(p);
                }
            });
            if (d.ineligible) {
                LOG.log(System.Logger.Level.INFO, "Deletion of {0} halted until its replicas'' brokers return: {1}",
                        d.topic, d.replicas);
            }
        }
        int askedIn = term;
        byBroker.forEach((broker, partitions) -> requests.stopReplicas(broker, partitions, true)
                .thenAccept(outcome -> events.accept(() -> answered(askedIn, asked, broker, partitions, outcome))));
    }

    /** A StopReplica with delete answered (or dropped): Kafka's completeReplicaDeletion or failReplicaDeletion. */
    private void answered(int askedIn, Map<String, Doomed> asked, int broker, Map<String, List<Integer>> partitions,
                          ControllerTransport.Outcome outcome) {
        if (askedIn != term) return;
        StopReplicaResponse response = outcome.response() instanceof StopReplicaResponse r ? r : null;
        Map<TopicPartition, Short> errors = new HashMap<>();
        if (response != null) {
            for (var e : response.partitionErrors) errors.put(new TopicPartition(e.topicName, e.partitionIndex), e.errorCode);
        }
        partitions.forEach((topic, indexes) -> {
            Doomed d = asked.get(topic);
            if (queued.get(topic) != d) return;
            for (int p : indexes) {
                TopicPartition tp = new TopicPartition(topic, p);
                Replica r = new Replica(tp, broker);
                if (d.replicas.get(r) != Progress.STARTED) continue;
                boolean deleted = outcome.delivered() && (response == null
                        || response.errorCode == NONE && errors.getOrDefault(tp, NONE) == NONE);
                if (deleted) {
                    d.replicas.put(r, Progress.DELETED);
                } else {
                    d.replicas.put(r, Progress.INELIGIBLE);
                    d.ineligible = true;
                }
            }
        });
        resume();
    }

    /**
     * Kafka's completeDeleteTopic for every topic whose replicas are all deleted: each topic's znodes go, last its
     * request, all in one multi fenced by the controller epoch (Kafka fences each of these deletes with it). The
     * assignment znode goes only if it is still the deleted topic's (same topic id, and the version read), never a
     * topic made since under the same name. A topic whose znodes are not Kafka's layout (a partition without a
     * state, a child nobody expected) makes the multi fail and change nothing; each topic is then read and deleted
     * on its own.
     */
    private void complete(List<Doomed> done) {
        try {
            List<String> topicPaths = new ArrayList<>();
            for (Doomed d : done) topicPaths.add(KafkaZkLayout.topicPath(d.topic));
            Map<String, ZnodeStore.Versioned> current = store.getVersionedAll(topicPaths);
            LinkedHashMap<String, Integer> deletes = new LinkedHashMap<>();
            for (Doomed d : done) {
                ZnodeStore.Versioned topic = current.get(KafkaZkLayout.topicPath(d.topic));
                if (topic != null && java.util.Objects.equals(KafkaZkLayout.decodeTopicAssignment(topic.data())
                        .topicId(), d.assignment.topicId())) {
                    for (int p : d.assignment.replicas().keySet()) {
                        deletes.put(KafkaZkLayout.partitionStatePath(d.topic, p), -1);
                        deletes.put(KafkaZkLayout.partitionPath(d.topic, p), -1);
                    }
                    deletes.put(KafkaZkLayout.partitionsPath(d.topic), -1);
                    deletes.put(KafkaZkLayout.topicPath(d.topic), topic.version());
                    deletes.put(KafkaZkLayout.topicConfigPath(d.topic), -1);
                    deletes.put(KafkaZkLayout.deleteTopicPath(d.topic), -1);
                } else {
                    deletes = null;
                    break;
                }
            }
            if (deletes == null || !store.deleteFenced(KafkaZkLayout.CONTROLLER_EPOCH, cluster.epochZkVersion, deletes)) {
                for (Doomed d : done) completeAlone(d);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot remove deleted topics from ZooKeeper", e);
        }
        for (Doomed d : done) {
            queued.remove(d.topic);
            LOG.log(System.Logger.Level.INFO, "Deletion of topic {0} completed", d.topic);
        }
    }

    /** {@link #complete} for one topic, reading what is there: the slow way, for a layout the multi did not fit. */
    private void completeAlone(Doomed d) {
        try {
            byte[] data = store.getData(KafkaZkLayout.topicPath(d.topic));
            if (data == null || java.util.Objects.equals(KafkaZkLayout.decodeTopicAssignment(data).topicId(),
                    d.assignment.topicId())) {
                store.deleteRecursive(KafkaZkLayout.topicPath(d.topic));
                store.deleteRecursive(KafkaZkLayout.topicConfigPath(d.topic));
            }
            store.deleteRecursive(KafkaZkLayout.deleteTopicPath(d.topic));
        } catch (Exception e) {
            throw new IllegalStateException("cannot remove deleted topic " + d.topic + " from ZooKeeper", e);
        }
    }
}
