package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * AlterPartition (56) from partition leaders, as Kafka 3.9's controller judges it: the sender must be the live
 * broker at the epoch it names and the partition's leader at its leader epoch and partition epoch (the state znode's
 * version); the new ISR must hold the leader and only live assigned replicas. Accepted changes are written fenced,
 * told to every broker, and may finish a partition move. Runs on the controller's event thread, when active.
 */
final class IsrChanges {
    private final ControllerState cluster;
    private final ControllerRequests requests;
    private final Reassignments moves;

    IsrChanges(ControllerState cluster, ControllerRequests requests, Reassignments moves) {
        this.cluster = cluster;
        this.requests = requests;
        this.moves = moves;
    }

    AlterPartitionResponse alter(AlterPartitionRequest request) throws Exception {
        AlterPartitionResponse response = new AlterPartitionResponse();
        // Kafka's check: an ISR change from a broker that registered again since (another epoch) is refused.
        if (request.brokerEpoch != -1 && request.brokerEpoch != cluster.brokerEpoch(request.brokerId)) {
            response.errorCode = STALE_BROKER_EPOCH;
            return response;
        }
        List<TopicPartition> changed = new ArrayList<>();
        for (AlterPartitionRequest.TopicData topic : request.topics) {
            AlterPartitionResponse.TopicData topicResult = new AlterPartitionResponse.TopicData();
            topicResult.topicName = topic.topicName;
            topicResult.topicId = topic.topicId;
            // v2+ name the topic by id only.
            String name = topic.topicName != null && !topic.topicName.isEmpty() ? topic.topicName
                    : cluster.topics.entrySet().stream().filter(t -> t.getValue().topicId().equals(topic.topicId))
                    .map(Map.Entry::getKey).findFirst().orElse("");
            for (AlterPartitionRequest.PartitionData data : topic.partitions) {
                TopicPartition tp = new TopicPartition(name, data.partitionIndex);
                AlterPartitionResponse.PartitionData result = new AlterPartitionResponse.PartitionData();
                result.partitionIndex = data.partitionIndex;
                List<Integer> newIsr = data.newIsr.isEmpty() && !data.newIsrWithEpochs.isEmpty()
                        ? data.newIsrWithEpochs.stream().map(b -> b.brokerId).toList() : data.newIsr;
                PartitionState state = cluster.states.get(tp);
                TopicAssignment assignment = cluster.topics.get(tp.topic());
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
                        || !newIsr.stream().allMatch(cluster::isrEligible)) {
                    // A broker in a controlled shutdown is not taken back into the ISR it just left, as in Kafka.
                    result.errorCode = INELIGIBLE_REPLICA;
                } else {
                    PartitionState next = cluster.writeState(tp, new PartitionState(state.leader(), state.leaderEpoch(), cluster.epoch,
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
            requests.updateMetadata(cluster.live.keySet(), changed);
            moves.progress(changed);
        }
        return response;
    }
}
