package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ListPartitionReassignmentsRequest;
import io.tandem.kafka.wire.message.ListPartitionReassignmentsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.NOT_CONTROLLER;

/** ListPartitionReassignments (46): the moves in progress, as the controller knows them. */
final class ListPartitionReassignmentsHandler implements ApiHandler<ListPartitionReassignmentsRequest> {
    private final KafkaBroker broker;

    ListPartitionReassignmentsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ListPartitionReassignmentsRequest request, Responder responder)
            throws Exception {
        ListPartitionReassignmentsResponse response = new ListPartitionReassignmentsResponse();
        if (!broker.controller().isElected()) {
            response.errorCode = NOT_CONTROLLER;
            responder.send(response);
            return;
        }
        Set<TopicPartition> asked = null;
        if (request.topics != null) {
            asked = new LinkedHashSet<>();
            for (var t : request.topics) for (int p : t.partitionIndexes) asked.add(new TopicPartition(t.name, p));
        }
        Map<String, ListPartitionReassignmentsResponse.OngoingTopicReassignment> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, KafkaController.Reassignment> e : broker.controller().reassignments(asked).entrySet()) {
            var topic = byTopic.computeIfAbsent(e.getKey().topic(), name -> {
                var t = new ListPartitionReassignmentsResponse.OngoingTopicReassignment();
                t.name = name;
                return t;
            });
            var partition = new ListPartitionReassignmentsResponse.OngoingPartitionReassignment();
            partition.partitionIndex = e.getKey().partition();
            partition.replicas = new ArrayList<>(e.getValue().replicas());
            partition.addingReplicas = new ArrayList<>(e.getValue().adding());
            partition.removingReplicas = new ArrayList<>(e.getValue().removing());
            topic.partitions.add(partition);
        }
        response.topics.addAll(byTopic.values());
        responder.send(response);
    }
}
