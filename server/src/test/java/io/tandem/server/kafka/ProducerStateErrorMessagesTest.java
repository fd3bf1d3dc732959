package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The Produce answer's error_message for the errors of the log's producer-state checks, read raw with Kafka's own
 * response class: Kafka's ProducerAppendInfo throws them from inside the log append, and ReplicaManager's
 * LogAppendResult passes a message on only for a RecordValidationException, so Kafka 3.9 and 4.x send null with
 * OUT_OF_ORDER_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH (and the log start offset, as for any failed append). The
 * same holds for the partition's own refusals (NOT_ENOUGH_REPLICAS, RECORD_LIST_TOO_LARGE), while records refused
 * one by one keep Kafka's message; the differential tests (TxnScripts) compare all of them with Apache's brokers.
 */
class ProducerStateErrorMessagesTest {
    private static final String TOPIC = "sequenced";

    @TempDir
    Path dir;

    @Test
    void anOutOfOrderSequenceShouldCarryNoErrorMessage() throws Exception {
        try (Tandem tandem = started(); OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            long producerId = producerId(c);
            assertEquals(Errors.NONE.code(), produce(c, producerId, (short) 0, 0).errorCode());
            // Sequence 0 is in; 5 leaves a gap.
            ProduceResponseData.PartitionProduceResponse gap = produce(c, producerId, (short) 0, 5);
            assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), gap.errorCode());
            assertNull(gap.errorMessage());
            assertEquals(0, gap.logStartOffset());
        }
    }

    @Test
    void anOlderProducerEpochShouldCarryNoErrorMessage() throws Exception {
        try (Tandem tandem = started(); OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            long producerId = producerId(c);
            // The idempotent producer bumped its epoch (as the Java client does after an unresolved sequence).
            assertEquals(Errors.NONE.code(), produce(c, producerId, (short) 1, 0).errorCode());
            ProduceResponseData.PartitionProduceResponse stale = produce(c, producerId, (short) 0, 1);
            assertEquals(Errors.INVALID_PRODUCER_EPOCH.code(), stale.errorCode());
            assertNull(stale.errorMessage());
            assertEquals(0, stale.logStartOffset());
        }
    }

    @Test
    void thePartitionsRefusalsShouldCarryNoErrorMessageAndRecordRefusalsKafkasMessage() throws Exception {
        try (Tandem tandem = started(); OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            admin.createTopics(List.of(
                    new NewTopic("narrow", 1, (short) 1).configs(Map.of("min.insync.replicas", "2",
                            "segment.bytes", "1048576", "max.message.bytes", "3000000")),
                    new NewTopic("compacted", 1, (short) 1).configs(Map.of("cleanup.policy", "compact"))))
                    .all().get(30, TimeUnit.SECONDS);
            // Kafka's effectiveMinIsr: min.insync.replicas above the replication factor asks for every replica only.
            ProduceResponseData.PartitionProduceResponse oneReplica = produce(c, "narrow", (short) -1,
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("k".getBytes(), "v".getBytes())));
            assertEquals(Errors.NONE.code(), oneReplica.errorCode());
            assertEquals(0, oneReplica.baseOffset());
            ProduceResponseData.PartitionProduceResponse tooLarge = produce(c, "narrow", (short) 1,
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("k".getBytes(), new byte[1_200_000])));
            assertEquals(Errors.RECORD_LIST_TOO_LARGE.code(), tooLarge.errorCode());
            assertNull(tooLarge.errorMessage());
            assertEquals(-1, tooLarge.logStartOffset(), "Kafka's UNKNOWN_LOG_APPEND_INFO");
            ProduceResponseData.PartitionProduceResponse noKey = produce(c, "compacted", (short) 1,
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(null, "v".getBytes())));
            assertEquals(Errors.INVALID_RECORD.code(), noKey.errorCode());
            assertEquals("One or more records have been rejected due to 1 record errors in total, and only showing"
                    + " the first three errors at most: [RecordError(batchIndex=0, message='Compacted topic cannot"
                    + " accept message without key in topic partition compacted-0')]", noKey.errorMessage());
        }
    }

    private Tandem started() throws Exception {
        Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(java.util.Set.of(TandemConfig.Role.KAFKA)));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return tandem;
    }

    /** An idempotent producer id (InitProducerId without a transactional id). */
    private static long producerId(OfficialClientConnection c) throws Exception {
        InitProducerIdResponse init = c.call(new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(Integer.MAX_VALUE)).build((short) 4));
        assertEquals(Errors.NONE.code(), init.data().errorCode());
        return init.data().producerId();
    }

    /** One record from the producer at {@code epoch} and {@code sequence}, Produce v9, acks=1. */
    private static ProduceResponseData.PartitionProduceResponse produce(OfficialClientConnection c, long producerId,
                                                                       short epoch, int sequence) throws Exception {
        return produce(c, TOPIC, (short) 1, MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch,
                sequence, new SimpleRecord("v".getBytes())));
    }

    /** {@code records} to partition 0 of {@code topic}, Produce v9. */
    private static ProduceResponseData.PartitionProduceResponse produce(OfficialClientConnection c, String topic,
                                                                       short acks, MemoryRecords records)
            throws Exception {
        ProduceRequestData data = new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
        data.setTopicData(topics);
        ProduceResponse response = c.call(ProduceRequest.builder(data).build((short) 9));
        return response.data().responses().iterator().next().partitionResponses().get(0);
    }
}
