package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.Header;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Produces record batches to partition leaders, one batch per request and one request at a time. It is not
 * idempotent: a batch whose answer is lost is reported as failed, never silently sent twice (only answers carrying a
 * retriable error code, which mean the batch was not appended, are retried).
 */
public final class RecordSender {
    private final KafkaClient client;
    private final KafkaAdmin admin;
    private final short acks;
    private final CompressionType compression;
    private Map<String, TopicInfo> topics = Map.of();

    /**
     * @param acks 1 (leader) or -1 (all in-sync replicas); 0 is refused because a broker sends no answer then, so
     *             errors could not be reported
     */
    public RecordSender(KafkaClient client, short acks, CompressionType compression) {
        if (acks != 1 && acks != -1) {
            throw new IllegalArgumentException("acks must be 1 or -1 (all), not " + acks);
        }
        this.client = client;
        this.admin = new KafkaAdmin(client);
        this.acks = acks;
        this.compression = compression;
    }

    /** The topic's partition count, from metadata fetched once (and again after a leader change). */
    public int partitionCount(String topic) {
        TopicInfo info = topics.get(topic);
        if (info == null) {
            info = admin.describeTopic(topic);
            topics = Map.of(topic, info);
        }
        return info.partitions().size();
    }

    /**
     * Sends {@code records} as one batch to {@code topic}'s {@code partition} and returns the offset the broker gave
     * the first of them.
     */
    public long send(String topic, int partition, List<ProducerRecord> records) {
        if (records.isEmpty()) {
            throw new IllegalArgumentException("no records to send");
        }
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).compression(compression)) {
            for (ProducerRecord record : records) {
                List<Header> headers = new ArrayList<>(record.headers().size());
                for (RecordHeader header : record.headers()) {
                    headers.add(new Header(header.key(),
                            header.value() == null ? null : Unpooled.wrappedBuffer(header.value())));
                }
                builder.append(record.timestamp(), record.key() == null ? null : Unpooled.wrappedBuffer(record.key()),
                        record.value() == null ? null : Unpooled.wrappedBuffer(record.value()), headers);
            }
            builder.build();
        }
        TopicPartition tp = new TopicPartition(topic, partition);
        return client.retrying(() -> {
            try {
                return sendOnce(tp, batch.duplicate());
            } catch (KafkaClientException e) {
                topics = Map.of();
                throw e;
            }
        });
    }

    private long sendOnce(TopicPartition tp, ByteBuf batch) {
        if (!topics.containsKey(tp.topic())) {
            topics = Map.of(tp.topic(), admin.describeTopic(tp.topic()));
        }
        int leader = KafkaAdmin.leaderOf(topics, tp);
        KafkaConnection connection = client.connection(leader);
        short version = connection.version(ApiKey.PRODUCE);
        if (version < 3) {
            throw new KafkaClientException(Errors.UNSUPPORTED_VERSION, "broker " + leader
                    + " only takes legacy message sets (Produce v" + version + ")");
        }
        ProduceRequest request = new ProduceRequest().setAcks(acks)
                .setTimeoutMs(Math.toIntExact(Math.min(Integer.MAX_VALUE, client.requestTimeout().toMillis())))
                .setTopicData(new ArrayList<>(List.of(new ProduceRequest.TopicProduceData().setName(tp.topic())
                        .setPartitionData(new ArrayList<>(List.of(new ProduceRequest.PartitionProduceData()
                                .setIndex(tp.partition()).setRecords(batch)))))));
        ProduceResponse response = connection.send(request, version, client.requestTimeout());
        for (ProduceResponse.TopicProduceResponse topic : response.responses) {
            for (ProduceResponse.PartitionProduceResponse partition : topic.partitionResponses) {
                String message = partition.errorMessage;
                if (message == null && !partition.recordErrors.isEmpty()) {
                    message = partition.recordErrors.get(0).batchIndexErrorMessage;
                }
                KafkaClientException.check(partition.errorCode, "producing to " + tp, message);
                return partition.baseOffset;
            }
        }
        throw new KafkaClientException(Errors.UNKNOWN_SERVER_ERROR, "Produce answer names no partition");
    }
}
