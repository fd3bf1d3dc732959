package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.ControllerMutationQuota;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DeleteTopics: by name (v0-5) or by name or id (v6+), with a result per topic, as Kafka 3.9's ZooKeeper-mode
 * broker answers it: only the active controller's broker takes it (others NOT_CONTROLLER, and the client asks the
 * controller), which writes {@code /admin/delete_topics/T} for each topic and answers once its own metadata cache
 * has forgotten them (the controller's UpdateMetadata) or at the request's timeout (REQUEST_TIMED_OUT); the
 * controller's TopicDeletions deletes every replica and then the znodes (see {@code BrokerTopics.deleteTopics}).
 * Each topic to delete is charged its partitions against the client's controller_mutation_rate (KIP-599) before its
 * deletion is asked for, as ZkAdminManager.deleteTopics charges it: from v5 a topic asked for while the quota is
 * exhausted is THROTTLING_QUOTA_EXCEEDED and stays, below v5 every topic goes; the answer carries the throttle time
 * and the connection is muted for it. Topics are charged in the request's order (Kafka's follow its set's order).
 */
final class DeleteTopicsHandler implements ApiHandler<DeleteTopicsRequest> {
    private static final UUID ZERO_UUID = new UUID(0, 0);
    /** Kafka's KafkaApis: DeleteTopics v5 and later understand THROTTLING_QUOTA_EXCEEDED (KIP-599). */
    private static final short STRICT_QUOTA_SINCE_VERSION = 5;
    private final KafkaBroker broker;

    DeleteTopicsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DeleteTopicsRequest request, Responder responder) {
        short version = context.apiVersion();
        List<DeleteTopicsRequest.DeleteTopicState> wanted = new ArrayList<>();
        if (version < 6) {
            for (String name : request.topicNames) {
                DeleteTopicsRequest.DeleteTopicState s = new DeleteTopicsRequest.DeleteTopicState();
                s.name = name;
                s.topicId = ZERO_UUID;
                wanted.add(s);
            }
        } else {
            wanted.addAll(request.topics);
        }
        DeleteTopicsResponse response = new DeleteTopicsResponse();
        ControllerMutationQuota quota = broker.clientQuotas().controllerMutationQuota(context,
                STRICT_QUOTA_SINCE_VERSION);
        // Kafka 3.9 (ZooKeeper mode, KafkaApis.handleDeleteTopicsRequest) refuses the whole request first on a broker
        // that is not the controller, then when deletion is disabled, then when an entry names a topic both by name
        // and by id (InvalidRequestException: every entry INVALID_REQUEST, no message), before any authorization.
        short refusal = NONE;
        if (!broker.controller().isElected()) {
            refusal = NOT_CONTROLLER;
        } else if (!broker.config().deleteTopicEnable()) {
            refusal = version < 3 ? INVALID_REQUEST : TOPIC_DELETION_DISABLED;
        } else if (wanted.stream().anyMatch(s -> s.name != null && s.topicId != null && !ZERO_UUID.equals(s.topicId))) {
            refusal = INVALID_REQUEST;
        }
        if (refusal != NONE) {
            for (DeleteTopicsRequest.DeleteTopicState s : wanted) {
                response.responses.add(result(s.name, s.topicId, refusal, null));
            }
            send(context, quota, response, responder);
            return;
        }
        // A name or an id given twice is refused once, with Kafka 4.x's words, and that topic is not deleted (Kafka
        // 3.9 answered only the first of them and left the others NONE whatever became of the topic).
        Map<Object, Integer> counts = new HashMap<>();
        for (DeleteTopicsRequest.DeleteTopicState s : wanted) counts.merge(key(s), 1, Integer::sum);
        Map<String, List<DeleteTopicsResponse.DeletableTopicResult>> deleting = new LinkedHashMap<>();
        Set<String> throttled = new HashSet<>();
        for (DeleteTopicsRequest.DeleteTopicState s : wanted) {
            Object key = key(s);
            int count = counts.getOrDefault(key, 0);
            if (count > 1) {
                counts.put(key, 0);
                boolean byName = key instanceof String;
                response.responses.add(result(byName ? s.name : null, byName ? ZERO_UUID : s.topicId, INVALID_REQUEST,
                        byName ? "Duplicate topic name." : "Duplicate topic id."));
                continue;
            }
            if (count == 0) continue;
            DeleteTopicsResponse.DeletableTopicResult result = result(s.name, s.topicId, NONE, null);
            try {
                TopicInfo topic;
                if (s.name == null) {
                    topic = broker.metadata().topicById(s.topicId);
                    if (topic == null) throw new ApiException(UNKNOWN_TOPIC_ID, null);
                    // As Kafka: without DESCRIBE the name is not returned (the id itself is not secret).
                    if (!broker.authorization().topic(context, AclOperation.DESCRIBE, topic.name())) {
                        throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
                    }
                    result.name = topic.name();
                    if (!broker.authorization().topic(context, AclOperation.DELETE, topic.name())) {
                        throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
                    }
                } else {
                    if (!broker.authorization().topic(context, AclOperation.DELETE, s.name)) {
                        throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
                    }
                    topic = broker.metadata().knownTopic(s.name);
                    if (topic == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, null);
                }
                // An internal topic is deleted too, as Kafka 3.9 (ZooKeeper mode: KafkaApis, AdminZkClient) has no
                // check for one: the coordinators unload the deleted partitions' groups and transactions
                // (BrokerCoordinators, on the StopReplica) and the topic is made again on the next FindCoordinator.
                // Kafka 4.x reports the deleted topic's id for a deletion by name too (3.9's ZooKeeper path the zero
                // id); where the two differ Tandem answers as 4.x (apache-3.9-differences.txt).
                result.topicId = topic.id();
                // A topic named once by name and once by id is asked for (and charged) once; both entries get its
                // outcome.
                if (throttled.contains(topic.name())) throw new ApiException(THROTTLING_QUOTA_EXCEEDED, null);
                if (!deleting.containsKey(topic.name())) {
                    try {
                        quota.record(topic.partitionCount());
                    } catch (ApiException e) {
                        throttled.add(topic.name());
                        throw e;
                    }
                }
                deleting.computeIfAbsent(topic.name(), n -> new ArrayList<>()).add(result);
            } catch (ApiException e) {
                // Kafka 3.9 (ZooKeeper mode) answers DeleteTopics with codes only: the message stays null.
                result.errorCode = e.error();
            } catch (Exception e) {
                result.errorCode = UNKNOWN_SERVER_ERROR;
            }
            response.responses.add(result);
        }
        if (deleting.isEmpty()) {
            send(context, quota, response, responder);
            return;
        }
        broker.topics().deleteTopics(List.copyOf(deleting.keySet()), request.timeoutMs, errors -> {
            errors.forEach((name, error) -> {
                for (DeleteTopicsResponse.DeletableTopicResult result : deleting.get(name)) result.errorCode = error;
            });
            send(context, quota, response, responder);
        }, responder::fail);
    }

    /** The answer with the mutation quota's throttle time, measured now. */
    private static void send(RequestContext context, ControllerMutationQuota quota, DeleteTopicsResponse response,
                             Responder responder) {
        response.throttleTimeMs = ClientQuotas.throttleMutations(context, quota);
        responder.send(response);
    }

    /** What makes two entries the same request: the name, or the id for an entry without a name. */
    private static Object key(DeleteTopicsRequest.DeleteTopicState s) {
        return s.name != null ? s.name : s.topicId == null ? ZERO_UUID : s.topicId;
    }

    /** A result with the request's name and id (zero for a topic named by name). */
    private static DeleteTopicsResponse.DeletableTopicResult result(String name, UUID topicId, short error,
                                                                    String message) {
        DeleteTopicsResponse.DeletableTopicResult result = new DeleteTopicsResponse.DeletableTopicResult();
        result.name = name;
        result.topicId = topicId == null ? ZERO_UUID : topicId;
        result.errorCode = error;
        result.errorMessage = message;
        return result;
    }
}
