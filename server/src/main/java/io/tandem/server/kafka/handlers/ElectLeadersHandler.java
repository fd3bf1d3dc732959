package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ElectLeadersRequest;
import io.tandem.kafka.wire.message.ElectLeadersResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ElectLeaders (43): preferred or unclean leader election, decided by the controller. The Admin client sends it to
 * the controller; another broker answers NOT_CONTROLLER (v1+ at the top, v0 per partition) and the client retries.
 */
final class ElectLeadersHandler implements ApiHandler<ElectLeadersRequest> {
    private final KafkaBroker broker;

    ElectLeadersHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ElectLeadersRequest request, Responder responder) throws Exception {
        short version = context.apiVersion();
        KafkaController.ElectionType type = version >= 1 && request.electionType == 1
                ? KafkaController.ElectionType.UNCLEAN : KafkaController.ElectionType.PREFERRED;
        ElectLeadersResponse response = new ElectLeadersResponse();
        if (version >= 1 && request.electionType != 0 && request.electionType != 1) {
            response.errorCode = INVALID_REQUEST;
            responder.send(response);
            return;
        }
        Set<TopicPartition> asked = null;
        if (request.topicPartitions != null) {
            asked = new LinkedHashSet<>();
            for (ElectLeadersRequest.TopicPartitions t : request.topicPartitions) {
                for (int p : t.partitions) asked.add(new TopicPartition(t.topic, p));
            }
        }
        Map<TopicPartition, KafkaController.ElectionResult> results;
        if (broker.controller().isActive()) {
            results = broker.controller().electLeaders(type, asked);
        } else {
            results = new LinkedHashMap<>();
            if (version >= 1) response.errorCode = NOT_CONTROLLER;
            if (asked != null) for (TopicPartition tp : asked) results.put(tp, new KafkaController.ElectionResult(NOT_CONTROLLER, null));
        }
        Map<String, ElectLeadersResponse.ReplicaElectionResult> byTopic = new LinkedHashMap<>();
        results.forEach((tp, result) -> {
            ElectLeadersResponse.ReplicaElectionResult topic = byTopic.computeIfAbsent(tp.topic(), name -> {
                ElectLeadersResponse.ReplicaElectionResult t = new ElectLeadersResponse.ReplicaElectionResult();
                t.topic = name;
                return t;
            });
            ElectLeadersResponse.PartitionResult partition = new ElectLeadersResponse.PartitionResult();
            partition.partitionId = tp.partition();
            partition.errorCode = result.error();
            partition.errorMessage = result.message();
            topic.partitionResult.add(partition);
        });
        response.replicaElectionResults.addAll(byTopic.values());
        responder.send(response);
    }
}
