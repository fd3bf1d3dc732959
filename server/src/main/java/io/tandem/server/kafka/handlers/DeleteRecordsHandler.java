package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteRecordsRequest;
import io.tandem.kafka.wire.message.DeleteRecordsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.storage.log.OffsetOutOfRangeException;

import java.io.IOException;

import static io.tandem.server.kafka.ErrorCodes.*;

/** DeleteRecords: raises each partition's log start offset (-1: to the high watermark). */
final class DeleteRecordsHandler implements ApiHandler<DeleteRecordsRequest> {
    private final KafkaBroker broker;

    DeleteRecordsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DeleteRecordsRequest request, Responder responder) {
        DeleteRecordsResponse response = new DeleteRecordsResponse();
        for (DeleteRecordsRequest.DeleteRecordsTopic t : request.topics) {
            DeleteRecordsResponse.DeleteRecordsTopicResult topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult();
            topicResult.name = t.name;
            TopicInfo topic = broker.metadata().knownTopic(t.name);
            boolean allowed = broker.authorization().topic(context, AclOperation.DELETE, t.name);
            for (DeleteRecordsRequest.DeleteRecordsPartition p : t.partitions) {
                DeleteRecordsResponse.DeleteRecordsPartitionResult result =
                        new DeleteRecordsResponse.DeleteRecordsPartitionResult();
                result.partitionIndex = p.partitionIndex;
                result.lowWatermark = -1;
                try {
                    if (!allowed) {
                        result.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    } else if (topic == null || !topic.replicas().containsKey(p.partitionIndex)) {
                        result.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                    } else {
                        Partition partition = broker.leaderPartition(topic, p.partitionIndex);
                        result.lowWatermark = partition.log().deleteRecordsBefore(p.offset);
                    }
                } catch (OffsetOutOfRangeException e) {
                    result.errorCode = OFFSET_OUT_OF_RANGE;
                } catch (ApiException e) {
                    result.errorCode = e.error();
                } catch (IOException e) {
                    result.errorCode = KAFKA_STORAGE_ERROR;
                }
                topicResult.partitions.add(result);
            }
            response.topics.add(topicResult);
        }
        responder.send(response);
    }
}
