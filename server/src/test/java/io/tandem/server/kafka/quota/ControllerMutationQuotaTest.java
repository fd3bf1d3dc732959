package io.tandem.server.kafka.quota;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.RawKafkaConnection;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.ThrottlingQuotaExceededException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The controller mutation quota (KIP-599) end to end on a real broker: raw CreateTopics, CreatePartitions and
 * DeleteTopics from client id {@code test} (RawKafkaConnection's), at the versions that get THROTTLING_QUOTA_EXCEEDED
 * and at the older ones that are only throttled, and the Java Admin client, which waits and retries on
 * THROTTLING_QUOTA_EXCEEDED unless told not to. The quota is 2 partitions per second over 2 windows of 1 s
 * (controller.quota.window.num=2), so a client's bucket holds 4 permits: a 10-partition topic is admitted whole and
 * leaves it 6 in debt, 3 s to refill. Each test has its own broker, so each starts with a full bucket.
 */
class ControllerMutationQuotaTest {
    private static final double RATE = 2.0;
    private TandemCluster cluster;

    @BeforeEach
    void startCluster() throws Exception {
        cluster = TandemCluster.start(1, c -> c.set("controller.quota.window.num", "2")
                .set("controller.quota.window.size.seconds", "1"));
    }

    @AfterEach
    void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private Admin admin(String clientId) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                AdminClientConfig.CLIENT_ID_CONFIG, clientId));
    }

    private void setRate(String clientId, Double rate) throws Exception {
        try (Admin admin = admin("quota-admin")) {
            Map<String, String> entity = new HashMap<>();
            entity.put(ClientQuotaEntity.CLIENT_ID, clientId);
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(entity),
                    List.of(new ClientQuotaAlteration.Op("controller_mutation_rate", rate))))).all().get();
        }
    }

    private static CreateTopicsRequest createTopics(Map<String, Integer> partitions) {
        CreateTopicsRequest request = new CreateTopicsRequest();
        partitions.forEach((name, count) -> {
            CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
            topic.name = name;
            topic.numPartitions = count;
            topic.replicationFactor = 1;
            request.topics.add(topic);
        });
        request.timeoutMs = 30_000;
        return request;
    }

    private static Map<String, CreateTopicsResponse.CreatableTopicResult> byName(CreateTopicsResponse response) {
        Map<String, CreateTopicsResponse.CreatableTopicResult> results = new HashMap<>();
        response.topics.forEach(t -> results.put(t.name, t));
        return results;
    }

    private Set<String> topics() throws Exception {
        try (Admin admin = admin("lister")) {
            return admin.listTopics().names().get();
        }
    }

    /** Milliseconds the last {@link #timed} round trip took. */
    private long lastRoundTripMs;

    private <R> R timed(java.util.concurrent.Callable<R> roundTrip) throws Exception {
        long start = System.nanoTime();
        R result = roundTrip.call();
        lastRoundTripMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return result;
    }

    /**
     * Kafka's throttle time: the debt's refill time when measured, less the time the answer then waited (for the
     * topics' leaders, or their deletion), so at most {@code debtMs} and at least that less the round trip.
     */
    private void assertThrottle(long debtMs, int throttleTimeMs) {
        assertTrue(throttleTimeMs <= debtMs && throttleTimeMs >= debtMs - lastRoundTripMs - 50,
                "throttle_time_ms " + throttleTimeMs + " for a debt of " + debtMs + " ms, answered in "
                        + lastRoundTripMs + " ms");
    }

    /** How long the connection stays unread after an answer: an ApiVersions sent now is answered that much later. */
    private static long mutedMs(RawKafkaConnection connection) throws Exception {
        long sent = System.nanoTime();
        int id = connection.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
        connection.receive(id, (short) 0, (short) 0, ApiVersionsResponse::read);
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    }

    @Test
    void shouldAdmitABurstThenRefuseTheTopicsBeyondItFromCreateTopicsV6() throws Exception {
        setRate("test", RATE);
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(1).kafkaPort())) {
            connection.setTimeout(30_000);
            Map<String, Integer> wanted = new java.util.LinkedHashMap<>();
            wanted.put("burst", 10);
            wanted.put("refused", 1);
            CreateTopicsResponse response = timed(() -> connection.roundTrip(ApiKey.CREATE_TOPICS, (short) 6,
                    (short) 1, createTopics(wanted), CreateTopicsResponse::read));
            Map<String, CreateTopicsResponse.CreatableTopicResult> results = byName(response);
            assertEquals(Errors.NONE.code(), results.get("burst").errorCode, "the burst goes below zero, admitted");
            assertEquals(10, results.get("burst").numPartitions);
            assertEquals(Errors.THROTTLING_QUOTA_EXCEEDED.code(), results.get("refused").errorCode);
            // Kafka's ApiError leaves out a message that only repeats the code's own.
            assertNull(results.get("refused").errorMessage);
            // 4 - 10 = -6 permits at 2 per second: 3 s, less the time the answer waited for the leaders.
            assertThrottle(3000, response.throttleTimeMs);
            long muted = mutedMs(connection);
            assertTrue(muted >= response.throttleTimeMs - 200, "read again after " + muted + " ms");
        }
        Set<String> topics = topics();
        assertTrue(topics.contains("burst"));
        assertFalse(topics.contains("refused"));
    }

    @Test
    void shouldCreateEveryTopicOfAnOlderVersionAndOnlyThrottleIt() throws Exception {
        setRate("test", RATE);
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(1).kafkaPort())) {
            connection.setTimeout(30_000);
            Map<String, Integer> wanted = new java.util.LinkedHashMap<>();
            wanted.put("old-a", 10);
            wanted.put("old-b", 1);
            CreateTopicsResponse response = timed(() -> connection.roundTrip(ApiKey.CREATE_TOPICS, (short) 5,
                    (short) 1, createTopics(wanted), CreateTopicsResponse::read));
            byName(response).values().forEach(r -> assertEquals(Errors.NONE.code(), r.errorCode, r.name));
            // 4 - 11 = -7 permits: 3.5 s.
            assertThrottle(3500, response.throttleTimeMs);
        }
        assertTrue(topics().containsAll(Set.of("old-a", "old-b")));
    }

    @Test
    void shouldChargeAddedAndDeletedPartitions() throws Exception {
        try (Admin admin = admin("setup")) {
            admin.createTopics(List.of(new NewTopic("del-big", 10, (short) 1), new NewTopic("del-small", 1, (short) 1),
                    new NewTopic("grow-a", 1, (short) 1), new NewTopic("grow-b", 1, (short) 1),
                    new NewTopic("grow-c", 1, (short) 1))).all().get();
        }
        setRate("test", RATE);
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(1).kafkaPort())) {
            connection.setTimeout(30_000);
            // CreatePartitions v3: 10 new partitions on a full bucket of 4 are admitted, the next topic is not.
            CreatePartitionsRequest grow = grow(Map.of("grow-a", 11));
            grow.topics.addAll(grow(Map.of("grow-b", 2)).topics);
            CreatePartitionsResponse refused = timed(() -> connection.roundTrip(ApiKey.CREATE_PARTITIONS, (short) 3,
                    (short) 1, grow, CreatePartitionsResponse::read));
            Map<String, Short> grown = new HashMap<>();
            refused.results.forEach(r -> grown.put(r.name, r.errorCode));
            assertEquals(Map.of("grow-a", Errors.NONE.code(), "grow-b", Errors.THROTTLING_QUOTA_EXCEEDED.code()),
                    grown);
            assertNull(refused.results.get(1).errorMessage);
            assertThrottle(3000, refused.throttleTimeMs);

            // The connection is read again once the debt is repaid; a second more refills 2 permits.
            mutedMs(connection);
            Thread.sleep(1000);
            DeleteTopicsRequest delete = new DeleteTopicsRequest();
            delete.topicNames = List.of("del-big", "del-small");
            delete.timeoutMs = 30_000;
            DeleteTopicsResponse deleted = connection.roundTrip(ApiKey.DELETE_TOPICS, (short) 5, (short) 1, delete,
                    DeleteTopicsResponse::read);
            Map<String, Short> errors = new HashMap<>();
            deleted.responses.forEach(r -> errors.put(r.name, r.errorCode));
            assertEquals(Map.of("del-big", Errors.NONE.code(), "del-small", Errors.THROTTLING_QUOTA_EXCEEDED.code()),
                    errors);
            // About 2 - 10 = -8 permits (a little more refilled while the ApiVersions went round): at most 4 s.
            assertTrue(deleted.throttleTimeMs > 0 && deleted.throttleTimeMs <= 4000,
                    "throttle_time_ms " + deleted.throttleTimeMs);

            // CreatePartitions v2 predates THROTTLING_QUOTA_EXCEEDED: the topic grows, the client is throttled.
            mutedMs(connection);
            CreatePartitionsResponse permissive = connection.roundTrip(ApiKey.CREATE_PARTITIONS, (short) 2,
                    (short) 1, grow(Map.of("grow-c", 11)), CreatePartitionsResponse::read);
            assertEquals(Errors.NONE.code(), permissive.results.get(0).errorCode);
            assertTrue(permissive.throttleTimeMs > 0, "throttle_time_ms " + permissive.throttleTimeMs);
        }
        Set<String> topics = topics();
        assertTrue(topics.contains("del-small"));
        assertFalse(topics.contains("del-big"));
        try (Admin admin = admin("checker")) {
            Map<String, Integer> counts = new HashMap<>();
            admin.describeTopics(List.of("grow-a", "grow-b", "grow-c")).allTopicNames().get()
                    .forEach((name, d) -> counts.put(name, d.partitions().size()));
            assertEquals(Map.of("grow-a", 11, "grow-b", 1, "grow-c", 11), counts);
        }
    }

    private static CreatePartitionsRequest grow(Map<String, Integer> counts) {
        CreatePartitionsRequest request = new CreatePartitionsRequest();
        request.topics = new java.util.ArrayList<>();
        counts.forEach((topic, count) -> {
            CreatePartitionsRequest.CreatePartitionsTopic t = new CreatePartitionsRequest.CreatePartitionsTopic();
            t.name = topic;
            t.count = count;
            t.assignments = null;
            request.topics.add(t);
        });
        request.timeoutMs = 30_000;
        return request;
    }

    @Test
    void shouldLetTheJavaAdminWaitOutTheQuotaOrFailAtOnceWhenToldNotToRetry() throws Exception {
        setRate("mutator", RATE);
        try (Admin admin = admin("mutator")) {
            admin.createTopics(List.of(new NewTopic("admin-burst", 10, (short) 1))).all().get();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> admin.createTopics(
                    List.of(new NewTopic("admin-refused", 1, (short) 1)),
                    new CreateTopicsOptions().retryOnQuotaViolation(false)).all().get());
            ThrottlingQuotaExceededException throttled =
                    assertInstanceOf(ThrottlingQuotaExceededException.class, failed.getCause());
            assertTrue(throttled.throttleTimeMs() > 1000, "throttleTimeMs " + throttled.throttleTimeMs());
            // By default the Admin client retries once the throttle time has passed, and gets the topic.
            long start = System.nanoTime();
            admin.createTopics(List.of(new NewTopic("admin-retried", 1, (short) 1))).all().get();
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(waitedMs >= 1000, "created after " + waitedMs + " ms");
            assertTrue(admin.listTopics().names().get().containsAll(Set.of("admin-burst", "admin-retried")));
            assertFalse(admin.listTopics().names().get().contains("admin-refused"));
        }
    }

    @Test
    void shouldStoreAndDescribeTheRateAsKafkaDoes() throws Exception {
        try (Admin admin = admin("quota-admin")) {
            ClientQuotaEntity user = new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "mutating-user"));
            // A DOUBLE key: a fraction is kept.
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(user,
                    List.of(new ClientQuotaAlteration.Op("controller_mutation_rate", 2.5))))).all().get();
            assertEquals(Map.of(user, Map.of("controller_mutation_rate", 2.5)), admin.describeClientQuotas(
                    ClientQuotaFilter.containsOnly(List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER,
                            "mutating-user")))).entities().get());
        }
    }
}
