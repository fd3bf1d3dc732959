package io.tandem.server.kafka.handlers;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.TopicProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.PartitionProduceResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.log.RecordConversions;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Produce: validates and appends each partition's batches on the partition's leader, then wakes long-polling
 * fetches on them. Tandem brokers do not replicate yet, so the ISR is the leader alone and the high watermark moves
 * with the append: acks=1 and acks=all are both answered at once, and acks=all is refused (NOT_ENOUGH_REPLICAS)
 * wherever min.insync.replicas asks for more copies than that.
 */
final class ProduceHandler implements ApiHandler<ProduceRequest> {
    private static final System.Logger LOG = System.getLogger(ProduceHandler.class.getName());
    private final KafkaBroker broker;

    ProduceHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ProduceRequest request, Responder responder) {
        short version = context.apiVersion();
        ProduceResponse response = new ProduceResponse();
        boolean validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1;
        List<TopicPartition> appended = new ArrayList<>();
        for (ProduceRequest.TopicProduceData topicData : request.topicData) {
            TopicProduceResponse topicResponse = new TopicProduceResponse();
            topicResponse.name = topicData.name;
            topicResponse.topicId = topicData.topicId;
            TopicInfo topic = version >= 13 ? broker.metadata().topicById(topicData.topicId)
                    : broker.metadata().topic(topicData.name);
            for (ProduceRequest.PartitionProduceData data : topicData.partitionData) {
                PartitionProduceResponse partitionResponse = new PartitionProduceResponse();
                partitionResponse.index = data.index;
                partitionResponse.baseOffset = -1;
                if (!validAcks) {
                    partitionResponse.errorCode = INVALID_REQUIRED_ACKS;
                } else if (topic == null) {
                    partitionResponse.errorCode = version >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION;
                } else if (TopicNames.isInternal(topic.name())) {
                    partitionResponse.errorCode = INVALID_TOPIC_EXCEPTION;
                    partitionResponse.errorMessage = "Cannot append to internal topic " + topic.name();
                } else if (!topic.replicas().containsKey(data.index)) {
                    partitionResponse.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    append(topic, data, request.acks, partitionResponse, appended);
                }
                topicResponse.partitionResponses.add(partitionResponse);
            }
            response.responses.add(topicResponse);
        }
        for (TopicPartition tp : appended) broker.fetchPurgatory().checkAndComplete(tp);
        if (request.acks == 0) {
            responder.noResponse();
        } else {
            responder.send(response);
        }
    }

    /**
     * acks=all promises the record is on every in-sync replica and on at least min.insync.replicas of them; with
     * fewer in sync the write is refused before it is appended, with Kafka's error and words.
     */
    private void checkMinInSyncReplicas(TopicInfo topic, int partition) {
        List<Integer> isr = topic.states().get(partition).isr();
        int minIsr = Integer.parseInt(broker.topicConfigs().value(topic.configs(), "min.insync.replicas").trim());
        if (isr.size() < minIsr) {
            throw new ApiException(NOT_ENOUGH_REPLICAS, "The size of the current ISR : " + isr.size()
                    + " is insufficient to satisfy the min.isr requirement of " + minIsr + " for partition "
                    + topic.name() + "-" + partition + ", live replica(s) broker.id are : " + isr);
        }
    }

    private void append(TopicInfo topic, ProduceRequest.PartitionProduceData data, short acks,
                        PartitionProduceResponse out, List<TopicPartition> appended) {
        try {
            Partition partition = broker.leaderPartition(topic, data.index);
            if (acks == -1) checkMinInSyncReplicas(topic, data.index);
            if (data.records == null || data.records.readableBytes() == 0) {
                out.errorCode = CORRUPT_MESSAGE;
                out.errorMessage = "produce request without records";
                return;
            }
            int maxMessageBytes = Integer.parseInt(broker.topicConfigs().value(topic.configs(), "max.message.bytes").trim());
            boolean logAppendTime = "LogAppendTime".equals(
                    broker.topicConfigs().value(topic.configs(), "message.timestamp.type"));
            long now = System.currentTimeMillis();
            CompressionType topicCodec = RecordConversions.topicCompression(
                    broker.topicConfigs().value(topic.configs(), "compression.type"));
            ByteBuf converted;
            try {
                converted = RecordConversions.convertForAppend(data.records, topicCodec, now);
            } catch (CorruptRecordException e) {
                out.errorCode = CORRUPT_MESSAGE;
                out.errorMessage = e.getMessage();
                return;
            }
            Partition.AppendResult result;
            try {
                result = partition.append(converted != null ? converted : data.records, maxMessageBytes,
                        logAppendTime ? now : -1);
            } finally {
                if (converted != null) converted.release();
            }
            out.errorCode = result.error();
            out.errorMessage = result.errorMessage();
            out.baseOffset = result.error() == NONE ? result.baseOffset() : -1;
            out.logAppendTimeMs = result.error() == NONE ? result.logAppendTimeMs() : -1;
            out.logStartOffset = result.logStartOffset();
            if (result.error() == NONE) appended.add(partition.topicPartition());
        } catch (ApiException e) {
            out.errorCode = e.error();
            out.errorMessage = e.getMessage();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Append to " + topic.name() + "-" + data.index + " failed", e);
            out.errorCode = KAFKA_STORAGE_ERROR;
            out.errorMessage = e.getMessage();
        }
    }
}
