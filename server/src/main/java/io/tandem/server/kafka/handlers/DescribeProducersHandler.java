package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeProducersRequest;
import io.tandem.kafka.wire.message.DescribeProducersResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.producer.ProducerStateTable;

import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DescribeProducers: the idempotent and transactional producers a partition's leader knows, with their epoch, last
 * sequence and timestamp, the coordinator epoch of their last marker and the first offset of their open
 * transaction (-1 when none), as Kafka reports them.
 */
final class DescribeProducersHandler implements ApiHandler<DescribeProducersRequest> {
    private final KafkaBroker broker;

    DescribeProducersHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeProducersRequest request, Responder responder) {
        DescribeProducersResponse response = new DescribeProducersResponse();
        for (DescribeProducersRequest.TopicRequest topicRequest : request.topics) {
            DescribeProducersResponse.TopicResponse topicResponse = new DescribeProducersResponse.TopicResponse();
            topicResponse.name = topicRequest.name;
            TopicInfo topic = broker.metadata().knownTopic(topicRequest.name);
            boolean allowed = broker.authorization().topic(context, AclOperation.READ, topicRequest.name);
            for (int index : topicRequest.partitionIndexes) {
                DescribeProducersResponse.PartitionResponse out = new DescribeProducersResponse.PartitionResponse();
                out.partitionIndex = index;
                if (!allowed) {
                    out.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    out.errorMessage = null;
                } else if (topic == null || !topic.replicas().containsKey(index)) {
                    out.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    try {
                        describe(broker.leaderPartition(topic, index), out);
                    } catch (ApiException e) {
                        out.errorCode = e.error();
                    }
                }
                topicResponse.partitions.add(out);
            }
            response.topics.add(topicResponse);
        }
        responder.send(response);
    }

    private static void describe(Partition partition, DescribeProducersResponse.PartitionResponse out) {
        Map<Long, Long> open = partition.log().openTransactions();
        for (ProducerStateTable.ProducerSnapshot p : partition.producerSnapshot()) {
            DescribeProducersResponse.ProducerState state = new DescribeProducersResponse.ProducerState();
            state.producerId = p.producerId();
            state.producerEpoch = p.epoch();
            state.lastSequence = p.lastSequence();
            state.lastTimestamp = p.lastTimestamp();
            state.coordinatorEpoch = p.coordinatorEpoch();
            state.currentTxnStartOffset = open.getOrDefault(p.producerId(), -1L);
            out.activeProducers.add(state);
        }
        out.errorCode = NONE;
    }
}
