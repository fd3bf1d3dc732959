package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * State a client's requests leave in the broker goes away by Kafka's rules, so no map grows forever: idempotent
 * producer state (producer.id.expiration.ms), committed offsets (offsets.retention.minutes) and incremental fetch
 * sessions (max.incremental.fetch.session.cache.slots). Over real sockets against an embedded broker.
 */
class BrokerStateExpiryTest {
    @TempDir
    Path dir;

    private TandemConfig config(String... keyValues) {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA));
        for (int i = 0; i < keyValues.length; i += 2) config.set(keyValues[i], keyValues[i + 1]);
        return config;
    }

    /** Produces one idempotent record (producer id, epoch 0, the given sequence); returns the partition's error. */
    private static short produceIdempotent(RawKafkaConnection c, String topic, long producerId, int sequence)
            throws Exception {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records).producer(producerId, (short) 0, sequence)) {
            builder.append(System.currentTimeMillis(), null, ("seq-" + sequence).getBytes());
            builder.build();
        }
        ProduceRequest request = TestRequests.produce(topic, records, (short) -1, 5000);
        int id = c.send(ApiKey.PRODUCE, (short) 9, request);
        return c.receive(id, (short) 1, (short) 9, ProduceResponse::read).responses.get(0).partitionResponses.get(0).errorCode;
    }

    @Test
    void shouldForgetAnIdleProducerAfterProducerIdExpirationMs() throws Exception {
        try (Tandem tandem = Tandem.start(config("producer.id.expiration.ms", "1000",
                "producer.id.expiration.check.interval.ms", "100"));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "idem");
            assertEquals(Errors.NONE.code(), produceIdempotent(c, "idem", 4242, 0));
            assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), produceIdempotent(c, "idem", 4242, 5),
                    "the broker remembers the producer's last sequence");
            long deadline = System.currentTimeMillis() + 10_000;
            short error;
            do {
                Thread.sleep(200);
                error = produceIdempotent(c, "idem", 4242, 5);
            } while (error != Errors.NONE.code() && System.currentTimeMillis() < deadline);
            assertEquals(Errors.NONE.code(), error, "an expired producer is unknown again and any sequence is accepted");
        }
    }

    @Test
    void shouldForgetAnIdleProducerOnceProducerIdExpirationMsIsLoweredAtRuntime() throws Exception {
        try (Tandem tandem = Tandem.start(config("producer.id.expiration.check.interval.ms", "100"));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "idem");
            assertEquals(Errors.NONE.code(), produceIdempotent(c, "idem", 4343, 0));
            assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), produceIdempotent(c, "idem", 4343, 5),
                    "remembered for a day by default");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
                admin.incrementalAlterConfigs(Map.of(clusterDefault, List.of(new AlterConfigOp(
                        new ConfigEntry("producer.id.expiration.ms", "1000"), AlterConfigOp.OpType.SET)))).all().get();
            }
            long deadline = System.currentTimeMillis() + 10_000;
            short error;
            do {
                Thread.sleep(200);
                error = produceIdempotent(c, "idem", 4343, 5);
            } while (error != Errors.NONE.code() && System.currentTimeMillis() < deadline);
            assertEquals(Errors.NONE.code(), error, "forgotten under the lowered expiry, without a restart");
        }
    }

    /** OffsetCommit v1 for a standalone consumer (generation -1), with an explicit commit timestamp (-1: now). */
    private static short commit(RawKafkaConnection c, String group, String topic, int partition, long offset,
                                long commitTimestamp) throws Exception {
        return commit(c, (short) 1, group, topic, partition, offset, commitTimestamp, -1);
    }

    private static short commit(RawKafkaConnection c, short version, String group, String topic, int partition,
                                long offset, long commitTimestamp, long retentionTimeMs) throws Exception {
        OffsetCommitRequest request = new OffsetCommitRequest();
        request.retentionTimeMs = retentionTimeMs;
        request.groupId = group;
        request.generationIdOrMemberEpoch = -1;
        request.memberId = "";
        OffsetCommitRequest.OffsetCommitRequestTopic t = new OffsetCommitRequest.OffsetCommitRequestTopic();
        t.name = topic;
        OffsetCommitRequest.OffsetCommitRequestPartition p = new OffsetCommitRequest.OffsetCommitRequestPartition();
        p.partitionIndex = partition;
        p.committedOffset = offset;
        p.commitTimestamp = commitTimestamp;
        p.committedMetadata = "";
        t.partitions.add(p);
        request.topics.add(t);
        int id = c.send(ApiKey.OFFSET_COMMIT, version, request);
        return c.receive(id, (short) 0, version, OffsetCommitResponse::read).topics.get(0).partitions.get(0).errorCode;
    }

    /** The committed offset of one partition (OffsetFetch v1), -1 if none. */
    private static long committed(RawKafkaConnection c, String group, String topic, int partition) throws Exception {
        OffsetFetchRequest request = new OffsetFetchRequest();
        request.groupId = group;
        OffsetFetchRequest.OffsetFetchRequestTopic t = new OffsetFetchRequest.OffsetFetchRequestTopic();
        t.name = topic;
        t.partitionIndexes.add(partition);
        request.topics = new java.util.ArrayList<>(java.util.List.of(t));
        int id = c.send(ApiKey.OFFSET_FETCH, (short) 1, request);
        return c.receive(id, (short) 0, (short) 1, OffsetFetchResponse::read).topics.get(0).partitions.get(0)
                .committedOffset;
    }

    private static java.util.List<String> groups(RawKafkaConnection c) throws Exception {
        int id = c.send(ApiKey.LIST_GROUPS, (short) 0, new ListGroupsRequest());
        return c.receive(id, (short) 0, (short) 0, ListGroupsResponse::read).groups.stream().map(g -> g.groupId).toList();
    }

    @Test
    void shouldExpireCommittedOffsetsAfterOffsetsRetentionMinutesAndKeepThemExpiredAfterARestart() throws Exception {
        TandemConfig config = config("offsets.retention.check.interval.ms", "200");
        // Kafka 3.9 honours an OffsetCommit v1 commit timestamp: retention of a standalone group's offset counts from it.
        long eightDaysAgo = System.currentTimeMillis() - (10080 + 24 * 60) * 60_000L;
        try (Tandem tandem = Tandem.start(config);
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "offsets", 2);
            GroupCoordinators.await(c, "old-only");
            GroupCoordinators.await(c, "mixed");
            assertEquals(Errors.NONE.code(), commit(c, "old-only", "offsets", 0, 11, eightDaysAgo));
            assertEquals(Errors.NONE.code(), commit(c, "mixed", "offsets", 0, 12, eightDaysAgo));
            assertEquals(Errors.NONE.code(), commit(c, "mixed", "offsets", 1, 13, -1));
            long deadline = System.currentTimeMillis() + 10_000;
            // The check runs every 200 ms; the two old commits may fall on either side of a run.
            while ((committed(c, "old-only", "offsets", 0) != -1 || committed(c, "mixed", "offsets", 0) != -1)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(-1, committed(c, "old-only", "offsets", 0), "the week-old offset expired");
            assertEquals(-1, committed(c, "mixed", "offsets", 0));
            assertEquals(13, committed(c, "mixed", "offsets", 1), "a fresh offset is kept");
            java.util.List<String> listed = groups(c);
            assertTrue(listed.contains("mixed"), listed.toString());
            assertFalse(listed.contains("old-only"), "a group left without offsets is removed: " + listed);
        }
        try (Tandem tandem = Tandem.start(config);
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            assertEquals(-1, committed(c, "old-only", "offsets", 0), "expired offsets stay expired after a restart");
            assertEquals(-1, committed(c, "mixed", "offsets", 0));
            assertEquals(13, committed(c, "mixed", "offsets", 1));
        }
    }

    @Test
    void shouldExpireAnOffsetCommittedWithARetentionTimeOfItsOwnAtThatTime() throws Exception {
        try (Tandem tandem = Tandem.start(config("offsets.retention.check.interval.ms", "100"));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "own-retention", 2);
            GroupCoordinators.await(c, "short-lived");
            // OffsetCommit v2 (kafka-python's version) with retention_time_ms, which Kafka 3.9 still honours.
            assertEquals(Errors.NONE.code(), commit(c, (short) 2, "short-lived", "own-retention", 0, 5, -1, 300));
            assertEquals(Errors.NONE.code(), commit(c, (short) 2, "short-lived", "own-retention", 1, 6, -1, -1));
            long deadline = System.currentTimeMillis() + 10_000;
            while (committed(c, "short-lived", "own-retention", 0) != -1 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(-1, committed(c, "short-lived", "own-retention", 0), "expired after its own 300 ms");
            assertEquals(6, committed(c, "short-lived", "own-retention", 1), "the broker's week applies to the other");
        }
    }

    /** A Fetch v12 that answers at once; sessionId/epoch as given, partition 0 of the topic unless incremental. */
    private static FetchResponse fetch(RawKafkaConnection c, String topic, int sessionId, int epoch) throws Exception {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = 0;
        request.minBytes = 0;
        request.maxBytes = 1 << 20;
        request.sessionId = sessionId;
        request.sessionEpoch = epoch;
        if (epoch == 0) {
            FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
            t.topic = topic;
            FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
            p.partition = 0;
            p.fetchOffset = 0;
            p.partitionMaxBytes = 1024;
            t.partitions.add(p);
            request.topics.add(t);
        }
        int id = c.send(ApiKey.FETCH, (short) 12, request);
        return c.receive(id, (short) 1, (short) 12, FetchResponse::read);
    }

    @Test
    void shouldServeAFullFetchWithoutASessionWhenEverySlotHoldsARecentSession() throws Exception {
        try (Tandem tandem = Tandem.start(config("max.incremental.fetch.session.cache.slots", "2"));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "sessions");
            FetchResponse first = fetch(c, "sessions", 0, 0);
            FetchResponse second = fetch(c, "sessions", 0, 0);
            assertNotEquals(0, first.sessionId);
            assertNotEquals(0, second.sessionId);
            FetchResponse third = fetch(c, "sessions", 0, 0);
            assertEquals(Errors.NONE.code(), third.errorCode);
            assertEquals(0, third.sessionId, "no slot: answered in full without a session");
            assertEquals(1, third.responses.size());
            assertEquals(Errors.NONE.code(), fetch(c, "sessions", first.sessionId, 1).errorCode,
                    "the cached sessions are not evicted by a newcomer");
            assertEquals(Errors.NONE.code(), fetch(c, "sessions", second.sessionId, 1).errorCode);
        }
    }
}
