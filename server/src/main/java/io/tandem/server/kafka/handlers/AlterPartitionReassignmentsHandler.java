package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AlterPartitionReassignmentsRequest;
import io.tandem.kafka.wire.message.AlterPartitionReassignmentsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/** AlterPartitionReassignments (45): start or cancel partition moves, done by the controller. */
final class AlterPartitionReassignmentsHandler implements ApiHandler<AlterPartitionReassignmentsRequest> {
    private final KafkaBroker broker;

    AlterPartitionReassignmentsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AlterPartitionReassignmentsRequest request, Responder responder)
            throws Exception {
        AlterPartitionReassignmentsResponse response = new AlterPartitionReassignmentsResponse();
        response.allowReplicationFactorChange = request.allowReplicationFactorChange;
        if (!broker.controller().isElected()) {
            response.errorCode = NOT_CONTROLLER;
            responder.send(response);
            return;
        }
        Map<TopicPartition, List<Integer>> targets = new LinkedHashMap<>();
        Map<TopicPartition, KafkaController.ElectionResult> refused = new LinkedHashMap<>();
        for (AlterPartitionReassignmentsRequest.ReassignableTopic t : request.topics) {
            for (AlterPartitionReassignmentsRequest.ReassignablePartition p : t.partitions) {
                TopicPartition tp = new TopicPartition(t.name, p.partitionIndex);
                var info = broker.metadata().knownTopic(t.name);
                List<Integer> current = info == null ? null : info.replicas().get(p.partitionIndex);
                if (!request.allowReplicationFactorChange && p.replicas != null && current != null
                        && p.replicas.size() != current.size()) {
                    // KIP-860's refusal, in Kafka's words.
                    refused.put(tp, new KafkaController.ElectionResult(INVALID_REPLICATION_FACTOR, "The replication "
                            + "factor is changed from " + current.size() + " to " + p.replicas.size()));
                    continue;
                }
                targets.put(tp, p.replicas);
            }
        }
        Map<TopicPartition, KafkaController.ElectionResult> results = new LinkedHashMap<>(refused);
        results.putAll(broker.controller().reassign(targets));
        Map<String, AlterPartitionReassignmentsResponse.ReassignableTopicResponse> byTopic = new LinkedHashMap<>();
        results.forEach((tp, result) -> {
            var topic = byTopic.computeIfAbsent(tp.topic(), name -> {
                var r = new AlterPartitionReassignmentsResponse.ReassignableTopicResponse();
                r.name = name;
                return r;
            });
            var partition = new AlterPartitionReassignmentsResponse.ReassignablePartitionResponse();
            partition.partitionIndex = tp.partition();
            partition.errorCode = result.error();
            partition.errorMessage = result.message();
            topic.partitions.add(partition);
        });
        response.responses.addAll(byTopic.values());
        responder.send(response);
    }
}
