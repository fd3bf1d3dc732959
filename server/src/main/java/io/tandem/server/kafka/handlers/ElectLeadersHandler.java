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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ElectLeaders (43): preferred or unclean leader election, decided by the controller, as Kafka 3.9's ZooKeeper-mode
 * broker takes it (KafkaApis.handleElectLeaders, ReplicaManager.electLeaders, KafkaController.electLeaders): the
 * election is an event on the controller's event thread, so a controller whose failover is still loading answers it
 * once loaded, and this handler's thread does not wait for it. A broker that is not the controller answers each
 * partition named NOT_CONTROLLER with no top-level error (the Java Admin retries no top-level NOT_CONTROLLER here:
 * Kafka never sends one for this API in ZooKeeper mode); "every partition" gets an empty answer. The wait for the
 * event is bounded by the request's timeout: partitions not decided by then are REQUEST_TIMED_OUT, Kafka's
 * DelayedElectLeader answer for an election that did not show in time.
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
        KafkaController controller = broker.controller();
        if (!controller.isElected()) {
            send(response, notController(asked), responder);
            return;
        }
        Set<TopicPartition> named = asked;
        long waitMs = request.timeoutMs > 0 ? request.timeoutMs : KafkaController.EVENT_WAIT_MS;
        controller.electLeaders(type, asked)
                .completeOnTimeout(decided(named, REQUEST_TIMED_OUT), waitMs, TimeUnit.MILLISECONDS)
                .whenComplete((results, failure) -> {
                    if (failure instanceof RejectedExecutionException) {
                        // The controller closed under the request (its broker is stopping): no longer the controller.
                        send(response, notController(named), responder);
                    } else if (failure != null) {
                        // ZooKeeper failed under the election's writes: nothing is known to have been elected.
                        send(response, decided(named, UNKNOWN_SERVER_ERROR), responder);
                    } else {
                        send(response, results, responder);
                    }
                });
    }

    private static Map<TopicPartition, KafkaController.ElectionResult> notController(Set<TopicPartition> asked) {
        return decided(asked, NOT_CONTROLLER);
    }

    /** Every partition named answered {@code error}; nothing when every partition was asked for. */
    private static Map<TopicPartition, KafkaController.ElectionResult> decided(Set<TopicPartition> asked, short error) {
        Map<TopicPartition, KafkaController.ElectionResult> results = new LinkedHashMap<>();
        if (asked != null) for (TopicPartition tp : asked) results.put(tp, new KafkaController.ElectionResult(error, null));
        return results;
    }

    private static void send(ElectLeadersResponse response, Map<TopicPartition, KafkaController.ElectionResult> results,
                             Responder responder) {
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
