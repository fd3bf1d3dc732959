package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ElectLeadersRequest;
import io.tandem.kafka.wire.message.ElectLeadersResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.metadata.ClusterMetadata;
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
 * once loaded, and this handler's thread does not wait for it. "Every partition" (a null list) names every partition
 * of this broker's metadata cache, and its answer leaves out those that needed no election. A broker that is not the
 * controller answers each partition named NOT_CONTROLLER with no top-level error (Kafka 3.9 sends none for this API;
 * the Java Admin does not retry it). The partitions elected are answered, as Kafka's DelayedElectLeader, only once
 * this broker's metadata cache shows their new leaders (the controller's UpdateMetadata), so a client that asks this
 * broker's Metadata next sees them; a partition whose new leader is not shown by the request's timeout is
 * REQUEST_TIMED_OUT. Kafka waits for the controller's decision itself without a bound; here it is bounded by the
 * request's timeout too (every partition named is then REQUEST_TIMED_OUT), since the client that sent the timeout
 * has given up on the request by then.
 */
final class ElectLeadersHandler implements ApiHandler<ElectLeadersRequest> {
    private final KafkaBroker broker;

    ElectLeadersHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ElectLeadersRequest request, Responder responder) throws Exception {
        long startNanos = System.nanoTime();
        short version = context.apiVersion();
        KafkaController.ElectionType type = version >= 1 && request.electionType == 1
                ? KafkaController.ElectionType.UNCLEAN : KafkaController.ElectionType.PREFERRED;
        ElectLeadersResponse response = new ElectLeadersResponse();
        if (version >= 1 && request.electionType != 0 && request.electionType != 1) {
            response.errorCode = INVALID_REQUEST;
            responder.send(response);
            return;
        }
        boolean every = request.topicPartitions == null;
        Set<TopicPartition> named = new LinkedHashSet<>();
        if (every) {
            for (ClusterMetadata.TopicInfo topic : broker.metadata().topics()) {
                for (int p : topic.states().keySet()) named.add(new TopicPartition(topic.name(), p));
            }
        } else {
            for (ElectLeadersRequest.TopicPartitions t : request.topicPartitions) {
                for (int p : t.partitions) named.add(new TopicPartition(t.topic, p));
            }
        }
        KafkaController controller = broker.controller();
        if (!controller.isElected()) {
            send(response, notController(named), every, responder);
            return;
        }
        long waitMs = request.timeoutMs > 0 ? request.timeoutMs : KafkaController.EVENT_WAIT_MS;
        controller.electLeaders(type, named)
                .completeOnTimeout(decided(named, REQUEST_TIMED_OUT), waitMs, TimeUnit.MILLISECONDS)
                .whenComplete((results, failure) -> {
                    if (failure instanceof RejectedExecutionException) {
                        // The controller closed under the request (its broker is stopping): no longer the controller.
                        send(response, notController(named), every, responder);
                    } else if (failure != null) {
                        // ZooKeeper failed under the election's writes: nothing is known to have been elected.
                        send(response, decided(named, UNKNOWN_SERVER_ERROR), every, responder);
                    } else {
                        long leftMs = request.timeoutMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
                        awaitLeaders(response, results, leftMs, every, responder);
                    }
                });
    }

    /**
     * Kafka's electionCallback: the partitions elected wait (at most {@code leftMs}) until this broker's cache shows
     * their new leaders, and are REQUEST_TIMED_OUT if it does not by then; with none elected the answer goes at once.
     */
    private void awaitLeaders(ElectLeadersResponse response, Map<TopicPartition, KafkaController.ElectionResult> results,
                              long leftMs, boolean every, Responder responder) {
        Map<TopicPartition, Integer> expected = new LinkedHashMap<>();
        results.forEach((tp, result) -> {
            if (result.error() == NONE && result.leader() >= 0) expected.put(tp, result.leader());
        });
        if (expected.isEmpty()) {
            send(response, results, every, responder);
            return;
        }
        broker.topics().whenLeadersShown(expected, leftMs, notShown -> {
            Map<TopicPartition, KafkaController.ElectionResult> answered = new LinkedHashMap<>(results);
            for (TopicPartition tp : notShown) answered.put(tp, new KafkaController.ElectionResult(REQUEST_TIMED_OUT, null));
            send(response, answered, every, responder);
        }, responder::fail);
    }

    private static Map<TopicPartition, KafkaController.ElectionResult> notController(Set<TopicPartition> named) {
        return decided(named, NOT_CONTROLLER);
    }

    /** Every partition named answered {@code error}. */
    private static Map<TopicPartition, KafkaController.ElectionResult> decided(Set<TopicPartition> named, short error) {
        Map<TopicPartition, KafkaController.ElectionResult> results = new LinkedHashMap<>();
        for (TopicPartition tp : named) results.put(tp, new KafkaController.ElectionResult(error, null));
        return results;
    }

    /** {@code every}: the request named no partitions, so those that needed no election are left out (as Kafka). */
    private static void send(ElectLeadersResponse response, Map<TopicPartition, KafkaController.ElectionResult> results,
                             boolean every, Responder responder) {
        Map<String, ElectLeadersResponse.ReplicaElectionResult> byTopic = new LinkedHashMap<>();
        results.forEach((tp, result) -> {
            if (every && result.error() == ELECTION_NOT_NEEDED) return;
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
