package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/** DeleteTopics: by name (v0-5) or by name or id (v6+), with a result per topic. */
final class DeleteTopicsHandler implements ApiHandler<DeleteTopicsRequest> {
    private static final UUID ZERO_UUID = new UUID(0, 0);
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
        // Kafka 3.9 (ZooKeeper mode, KafkaApis.handleDeleteTopicsRequest) refuses the whole request first when
        // deletion is disabled, then when an entry names a topic both by name and by id (InvalidRequestException:
        // every entry INVALID_REQUEST, no message), before any authorization.
        short refusal = NONE;
        if (!broker.config().deleteTopicEnable()) {
            refusal = version < 3 ? INVALID_REQUEST : TOPIC_DELETION_DISABLED;
        } else if (wanted.stream().anyMatch(s -> s.name != null && s.topicId != null && !ZERO_UUID.equals(s.topicId))) {
            refusal = INVALID_REQUEST;
        }
        if (refusal != NONE) {
            for (DeleteTopicsRequest.DeleteTopicState s : wanted) {
                DeleteTopicsResponse.DeletableTopicResult result = new DeleteTopicsResponse.DeletableTopicResult();
                result.name = s.name;
                result.topicId = s.topicId == null ? ZERO_UUID : s.topicId;
                result.errorCode = refusal;
                response.responses.add(result);
            }
            responder.send(response);
            return;
        }
        // The topics that pass every check are deleted together (one pass over their znodes and one round of
        // StopReplica instead of one per topic), then answered.
        List<DeleteTopicsResponse.DeletableTopicResult> deleting = new ArrayList<>();
        for (DeleteTopicsRequest.DeleteTopicState s : wanted) {
            DeleteTopicsResponse.DeletableTopicResult result = new DeleteTopicsResponse.DeletableTopicResult();
            result.name = s.name;
            result.topicId = s.topicId == null ? ZERO_UUID : s.topicId;
            try {
                TopicInfo topic;
                if (s.name == null) {
                    topic = broker.metadata().topicById(s.topicId);
                    if (topic == null) throw new ApiException(UNKNOWN_TOPIC_ID, "Topic id " + s.topicId + " does not exist.");
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
                    topic = broker.metadata().topic(s.name);
                    if (topic == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
                }
                if (TopicNames.isInternal(topic.name())) {
                    throw new ApiException(TOPIC_AUTHORIZATION_FAILED, "Internal topics cannot be deleted.");
                }
                result.topicId = topic.id();
                if (deleting.stream().noneMatch(d -> d.name.equals(topic.name()))) deleting.add(result);
            } catch (ApiException e) {
                // Kafka 3.9 (ZooKeeper mode) answers DeleteTopics with codes only: the message stays null.
                result.errorCode = e.error();
            } catch (Exception e) {
                result.errorCode = UNKNOWN_SERVER_ERROR;
            }
            response.responses.add(result);
        }
        try {
            broker.topics().deleteTopics(deleting.stream().map(d -> d.name).toList());
        } catch (ApiException e) {
            for (DeleteTopicsResponse.DeletableTopicResult result : deleting) result.errorCode = e.error();
        } catch (Exception e) {
            for (DeleteTopicsResponse.DeletableTopicResult result : deleting) result.errorCode = UNKNOWN_SERVER_ERROR;
        }
        responder.send(response);
    }
}
