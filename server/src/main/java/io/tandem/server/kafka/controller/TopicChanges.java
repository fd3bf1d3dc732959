package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.replica.ReplicaManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The controller's side of topics coming and going, as Kafka 3.9's: new topics and partitions under
 * {@code /brokers/topics} get leaders and their replicas are told; a topic whose znode vanished (deleted directly,
 * not asked for under {@code /admin/delete_topics}: that is {@link TopicDeletions}'s) is forgotten by every broker
 * and its live replicas deleted. On the event thread only.
 */
final class TopicChanges {
    private final ZnodeStore store;
    private final ControllerState cluster;
    private final Elections elections;
    private final ControllerRequests requests;
    private final TopicDeletions deletions;
    /** What a watch on a topic's assignment znode runs (the controller queues a topic-change event). */
    private final Runnable onAssignmentChange;

    TopicChanges(ZnodeStore store, ControllerState cluster, Elections elections, ControllerRequests requests,
                 TopicDeletions deletions, Runnable onAssignmentChange) {
        this.store = store;
        this.cluster = cluster;
        this.elections = elections;
        this.requests = requests;
        this.deletions = deletions;
        this.onAssignmentChange = onAssignmentChange;
    }

    /** Every topic read again: new ones (or new partitions) get leaders, vanished ones are deleted. */
    void topicsChanged() throws Exception {
        List<String> current = store.getChildren(KafkaZkLayout.BROKER_TOPICS);
        List<TopicPartition> changed = new ArrayList<>();
        // A topic queued for deletion keeps its znode until its last replica is gone; it is not served meanwhile.
        List<String> served = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        for (String topic : current) {
            if (deletions.isQueued(topic)) continue;
            served.add(topic);
            paths.add(KafkaZkLayout.topicPath(topic));
        }
        // Every topic's assignment asked together: one round trip to the store, not one per topic.
        Map<String, ZnodeStore.Versioned> read = store.getVersionedAll(paths);
        for (int i = 0; i < served.size(); i++) {
            String topic = served.get(i);
            TopicAssignment known = cluster.topics.get(topic);
            ZnodeStore.Versioned node = read.get(paths.get(i));
            if (node == null) continue;
            TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(node.data());
            if (known == null) {
                cluster.loadTopic(topic, onAssignmentChange);
            } else if (!known.equals(assignment)) {
                cluster.topics.put(topic, assignment);
            }
            changed.addAll(elections.initializeNewPartitions(topic));
        }
        Set<String> deleted = new HashSet<>(cluster.topics.keySet());
        deleted.removeAll(current);
        for (String topic : deleted) delete(topic);
        if (changed.isEmpty()) return;
        // LeaderAndIsr first, so a broker hears of a partition it serves no later than that others may ask it.
        for (int broker : cluster.live.keySet()) {
            requests.leaderAndIsr(broker, cluster.partitionsOn(broker, changed), false);
        }
        requests.updateMetadata(cluster.live.keySet(), changed);
    }

    private void delete(String topic) {
        TopicAssignment assignment = cluster.topics.get(topic);
        // Every broker forgets the topic: its partitions go out once more with Kafka's leader-during-delete mark.
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p : assignment.replicas().keySet()) {
            TopicPartition tp = new TopicPartition(topic, p);
            PartitionState state = cluster.states.get(tp);
            if (state == null) continue;
            cluster.states.put(tp, new PartitionState(ReplicaManager.LEADER_DURING_DELETE, state.leaderEpoch(),
                    cluster.epoch, state.isr(), state.zkVersion()));
            partitions.add(tp);
        }
        requests.updateMetadata(cluster.live.keySet(), partitions);
        cluster.topics.remove(topic);
        cluster.states.keySet().removeIf(tp -> tp.topic().equals(topic));
        requests.stopReplicasDeleting(topic, assignment);
    }
}
