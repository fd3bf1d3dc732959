package io.tandem.server.kafka.quota;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.RawKafkaConnection;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterClientQuotasOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Client quotas end to end with the Java clients on a real broker and its ZooKeeper: the Admin round trip (default
 * entities, the three match types, removal, Kafka's refusals), the ZooKeeper layout Kafka 3.9 reads, survival of a
 * broker restart, and producer and consumer byte rates holding real clients back with throttle_time_ms > 0. The
 * window is 2 samples of 1 s (quota.window.num=2) so a client's first free burst is one second's worth, not ten.
 */
class ClientQuotasTest {
    private static final int RECORD_BYTES = 10 * 1024;
    /** 2 MiB of record values at 512 KiB/s: at least 4 s minus the one free window, so over 2 s with slack. */
    private static final int RECORDS = 200;
    private static final double RATE = 512 * 1024;
    private static final long THROTTLED_MS_MIN = 2_000;

    private static TandemCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TandemCluster.start(1, c -> c.set("quota.window.num", "2").set("quota.window.size.seconds", "1"));
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("quota-produce", 1, (short) 1),
                    new NewTopic("quota-fetch", 1, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private static Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    }

    private static ClientQuotaEntity entity(String user, String clientId) {
        Map<String, String> parts = new HashMap<>();
        if (user != null) parts.put(ClientQuotaEntity.USER, user.equals("<default>") ? null : user);
        if (clientId != null) parts.put(ClientQuotaEntity.CLIENT_ID, clientId.equals("<default>") ? null : clientId);
        return new ClientQuotaEntity(parts);
    }

    private static void alter(Admin admin, ClientQuotaEntity entity, String key, Double value) throws Exception {
        admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity,
                List.of(new ClientQuotaAlteration.Op(key, value))))).all().get();
    }

    private static Map<ClientQuotaEntity, Map<String, Double>> describe(Admin admin, ClientQuotaFilter filter)
            throws Exception {
        return admin.describeClientQuotas(filter).entities().get();
    }

    @Test
    void shouldRoundTripQuotasWithDefaultEntitiesMatchTypesAndRemoval() throws Exception {
        try (Admin admin = admin()) {
            ClientQuotaEntity alice = entity("rt-alice", null);
            ClientQuotaEntity defaultUser = entity("<default>", null);
            ClientQuotaEntity aliceApp = entity("rt-alice", "rt-app");
            ClientQuotaEntity defaultClient = entity(null, "<default>");
            ClientQuotaEntity app = entity(null, "rt-app");
            alter(admin, alice, "producer_byte_rate", 1024.0);
            alter(admin, defaultUser, "consumer_byte_rate", 2048.0);
            alter(admin, aliceApp, "producer_byte_rate", 4096.0);
            alter(admin, defaultClient, "producer_byte_rate", 8192.0);
            alter(admin, app, "consumer_byte_rate", 16384.0);
            try {
                describeAndRemove(admin, alice, defaultUser, aliceApp, defaultClient, app);
            } finally {
                // The default entities would hold back every other test's clients.
                alter(admin, defaultUser, "consumer_byte_rate", null);
                alter(admin, defaultClient, "producer_byte_rate", null);
            }
            assertEquals(Map.of(), describe(admin, ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.CLIENT_ID)))));
        }
    }

    private static void describeAndRemove(Admin admin, ClientQuotaEntity alice, ClientQuotaEntity defaultUser,
                                          ClientQuotaEntity aliceApp, ClientQuotaEntity defaultClient,
                                          ClientQuotaEntity app) throws Exception {
        {

            // Exact user, strict: only the user entity itself.
            assertEquals(Map.of(alice, Map.of("producer_byte_rate", 1024.0)), describe(admin, ClientQuotaFilter
                    .containsOnly(List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "rt-alice")))));
            // Exact user, not strict: also the user's client entities.
            assertEquals(Map.of(alice, Map.of("producer_byte_rate", 1024.0),
                    aliceApp, Map.of("producer_byte_rate", 4096.0)), describe(admin, ClientQuotaFilter.contains(
                    List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "rt-alice")))));
            // Default user, strict.
            assertEquals(Map.of(defaultUser, Map.of("consumer_byte_rate", 2048.0)), describe(admin, ClientQuotaFilter
                    .containsOnly(List.of(ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.USER)))));
            // Any client id, strict: every client-id-only entity, the default included.
            Map<ClientQuotaEntity, Map<String, Double>> clients = describe(admin, ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntityType(ClientQuotaEntity.CLIENT_ID))));
            assertEquals(Map.of("producer_byte_rate", 8192.0), clients.get(defaultClient));
            assertEquals(Map.of("consumer_byte_rate", 16384.0), clients.get(app));
            assertFalse(clients.containsKey(alice) || clients.containsKey(aliceApp), clients.toString());
            // Everything.
            Map<ClientQuotaEntity, Map<String, Double>> all = describe(admin, ClientQuotaFilter.all());
            for (ClientQuotaEntity e : List.of(alice, defaultUser, aliceApp, defaultClient, app)) {
                assertTrue(all.containsKey(e), e + " missing from " + all);
            }

            // Removal: the entity disappears once it has no quota left.
            alter(admin, aliceApp, "producer_byte_rate", null);
            assertEquals(Map.of(), describe(admin, ClientQuotaFilter.containsOnly(List.of(
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "rt-alice"),
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.CLIENT_ID, "rt-app")))));

            // validateOnly stores nothing.
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity("rt-bob", null),
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 10.0)))),
                    new AlterClientQuotasOptions().validateOnly(true)).all().get();
            assertEquals(Map.of(), describe(admin, ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "rt-bob")))));
        }
    }

    @Test
    void shouldRefuseUnknownKeysAndFractionalByteRatesAsKafkaDoes() throws Exception {
        try (Admin admin = admin()) {
            ExecutionException unknown = assertThrows(ExecutionException.class,
                    () -> alter(admin, entity("bad-user", null), "no_such_quota", 1.0));
            assertInstanceOf(InvalidRequestException.class, unknown.getCause());
            assertEquals("Invalid configuration key no_such_quota", unknown.getCause().getMessage());
            ExecutionException fraction = assertThrows(ExecutionException.class,
                    () -> alter(admin, entity(null, "bad-client"), "producer_byte_rate", 1.5));
            assertInstanceOf(InvalidRequestException.class, fraction.getCause());
            assertEquals("Configuration producer_byte_rate must be a LONG value", fraction.getCause().getMessage());
            // The IP entity's key is not a user's (Kafka's DynamicConfig.User.configKeys). controller_mutation_rate,
            // once refused here as not implemented, is now enforced (ControllerMutationQuotaTest).
            ExecutionException ipKey = assertThrows(ExecutionException.class,
                    () -> alter(admin, entity("bad-user", null), "connection_creation_rate", 10.0));
            assertInstanceOf(InvalidRequestException.class, ipKey.getCause());
            assertEquals("Invalid configuration key connection_creation_rate", ipKey.getCause().getMessage());
            ExecutionException empty = assertThrows(ExecutionException.class,
                    () -> alter(admin, entity(null, ""), "producer_byte_rate", 10.0));
            assertEquals("Empty client-id not supported", empty.getCause().getMessage());
            assertEquals(Map.of(), describe(admin, ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "bad-user")))));
        }
    }

    @Test
    void shouldStoreQuotasWhereKafkaKeepsThemAndKeepThemAcrossARestart() throws Exception {
        try (Admin admin = admin()) {
            alter(admin, entity("zk user", "zk/app"), "consumer_byte_rate", 12345.0);
            alter(admin, entity(null, "zk-client"), "producer_byte_rate", 777.0);
        }
        ZooKeeper zk = new ZooKeeper(cluster.zookeeperConnect(), 10_000, event -> { });
        try {
            // Names are sanitized as Kafka's Sanitizer does; the JSON is Kafka's entity config.
            String both = new String(zk.getData("/config/users/zk%20user/clients/zk%2Fapp", false, null),
                    StandardCharsets.UTF_8);
            assertEquals("{\"version\":1,\"config\":{\"consumer_byte_rate\":\"12345\"}}", both);
            String client = new String(zk.getData("/config/clients/zk-client", false, null), StandardCharsets.UTF_8);
            assertEquals("{\"version\":1,\"config\":{\"producer_byte_rate\":\"777\"}}", client);
            List<String> changes = zk.getChildren("/config/changes", false);
            boolean notified = false;
            for (String change : changes) {
                assertTrue(change.matches("config_change_\\d{10}"), change);
                String data = new String(zk.getData("/config/changes/" + change, false, null), StandardCharsets.UTF_8);
                notified |= data.equals("{\"version\":2,\"entity_path\":\"clients/zk-client\"}");
            }
            assertTrue(notified, "no change notification for clients/zk-client");
        } finally {
            zk.close();
        }
        cluster.stopBroker(1);
        cluster.restartBroker(1);
        try (Admin admin = admin()) {
            assertEquals(Map.of(entity("zk user", "zk/app"), Map.of("consumer_byte_rate", 12345.0)),
                    describe(admin, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "zk user"),
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.CLIENT_ID, "zk/app")))));
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 60_000);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static long produce(KafkaProducer<byte[], byte[]> producer, String topic, int records) throws Exception {
        byte[] value = new byte[RECORD_BYTES];
        long start = System.nanoTime();
        for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(topic, value));
        producer.flush();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().group().equals(group) && e.getKey().name().equals(name)) {
                Object v = e.getValue().metricValue();
                return v instanceof Double d && !d.isNaN() ? d : 0;
            }
        }
        throw new AssertionError("no metric " + group + "/" + name);
    }

    /**
     * The average throttle_time_ms of the answers a client's sensor recorded, failing if it recorded none (Kafka's Avg
     * stat is NaN then; its Max stat is NaN too when every answer said 0, so it cannot tell the two apart): "left
     * alone" is proven by the answers the client got all saying 0, as Kafka's BaseQuotaTest checks it, not by the
     * wall clock, which a loaded machine stretches.
     */
    private static double recordedAverage(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().group().equals(group) && e.getKey().name().equals(name)) {
                Object v = e.getValue().metricValue();
                assertTrue(v instanceof Double d && !d.isNaN(), group + "/" + name + " recorded no answer: " + v);
                return (Double) v;
            }
        }
        throw new AssertionError("no metric " + group + "/" + name);
    }

    @Test
    void shouldHoldAProducerToItsByteRateAndLeaveOthersAlone() throws Exception {
        try (KafkaProducer<byte[], byte[]> free = producer("unthrottled-producer")) {
            produce(free, "quota-produce", RECORDS);
            // Every produce answer said throttle_time_ms = 0, so the broker never muted this connection (KIP-219
            // mutes for exactly the time it reports); its elapsed time is the machine's, not the quota's.
            assertEquals(0.0, metric(free.metrics(), "producer-metrics", "produce-throttle-time-max"));
            assertEquals(0.0, recordedAverage(free.metrics(), "producer-metrics", "produce-throttle-time-avg"),
                    "an unthrottled producer was told to back off");
        }
        try (KafkaProducer<byte[], byte[]> limited = producer("throttled-producer")) {
            // Connected before the quota exists: the change applies to the live connection.
            produce(limited, "quota-produce", 1);
            try (Admin admin = admin()) {
                alter(admin, entity(null, "throttled-producer"), "producer_byte_rate", RATE);
            }
            long limitedMs = produce(limited, "quota-produce", RECORDS);
            double throttle = metric(limited.metrics(), "producer-metrics", "produce-throttle-time-max");
            assertTrue(throttle > 0, "no throttle time reported to the producer");
            assertTrue(limitedMs >= THROTTLED_MS_MIN, "2 MiB at 512 KiB/s took only " + limitedMs + " ms");
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static long consumeAll(KafkaConsumer<byte[], byte[]> consumer, int records) {
        TopicPartition tp = new TopicPartition("quota-fetch", 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long start = System.nanoTime();
        int received = 0;
        long deadline = System.currentTimeMillis() + 60_000;
        while (received < records && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<byte[], byte[]> ignored : consumer.poll(Duration.ofMillis(100))) received++;
        }
        assertEquals(records, received);
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    void shouldHoldAConsumerToItsByteRateAndLeaveOthersAlone() throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = producer("fetch-loader")) {
            produce(producer, "quota-fetch", RECORDS);
        }
        try (Admin admin = admin()) {
            alter(admin, entity(null, "throttled-consumer"), "consumer_byte_rate", RATE);
        }
        try (KafkaConsumer<byte[], byte[]> free = consumer("unthrottled-consumer")) {
            consumeAll(free, RECORDS);
            // As for the producer: every fetch answer said throttle_time_ms = 0, whatever the wall clock says.
            assertEquals(0.0, metric(free.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max"));
            assertEquals(0.0, recordedAverage(free.metrics(), "consumer-fetch-manager-metrics",
                    "fetch-throttle-time-avg"), "an unthrottled consumer was told to back off");
        }
        try (KafkaConsumer<byte[], byte[]> limited = consumer("throttled-consumer")) {
            long limitedMs = consumeAll(limited, RECORDS);
            double throttle = metric(limited.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max");
            assertTrue(throttle > 0, "no throttle time reported to the consumer");
            assertTrue(limitedMs >= THROTTLED_MS_MIN, "2 MiB at 512 KiB/s took only " + limitedMs + " ms");
        }
    }

    private static ProduceRequest rawProduce(short acks, int valueBytes) {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.append(System.currentTimeMillis(), null, new byte[valueBytes]);
            builder.build();
        }
        ProduceRequest request = new ProduceRequest();
        request.acks = acks;
        request.timeoutMs = 5000;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = "quota-produce";
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.index = 0;
        partition.records = records;
        data.partitionData.add(partition);
        request.topicData.add(data);
        return request;
    }

    /**
     * KIP-219 on the wire, with a client that ignores throttle_time_ms (RawKafkaConnection's client id is "test"):
     * the throttled answer comes at once, and a request sent right behind it is not read until the throttle time
     * has passed, for acks=0 (no answer at all) too.
     */
    @Test
    void shouldAnswerAThrottledProduceAtOnceAndMuteTheConnectionAfterwards() throws Exception {
        try (Admin admin = admin()) {
            alter(admin, entity(null, "test"), "producer_byte_rate", 10_000.0);
        }
        short version = 9;
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(1).kafkaPort())) {
            connection.setTimeout(30_000);
            int produceId = connection.send(ApiKey.PRODUCE, version, rawProduce((short) 1, 20_000));
            int versionsId = connection.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            ProduceResponse produced = connection.receive(produceId, (short) 1, version, ProduceResponse::read);
            long answeredNanos = System.nanoTime();
            assertEquals(0, produced.responses.get(0).partitionResponses.get(0).errorCode);
            // 20 kB in a young window of one 1 s sample against 10,000 B/s: about a second.
            assertTrue(produced.throttleTimeMs >= 900, "throttle_time_ms " + produced.throttleTimeMs);
            connection.receive(versionsId, (short) 0, (short) 0, ApiVersionsResponse::read);
            long mutedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answeredNanos);
            assertTrue(mutedMs >= produced.throttleTimeMs - 200, "read again after " + mutedMs + " ms of "
                    + produced.throttleTimeMs);

            long sentNanos = System.nanoTime();
            connection.send(ApiKey.PRODUCE, version, rawProduce((short) 0, 20_000));
            versionsId = connection.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            connection.receive(versionsId, (short) 0, (short) 0, ApiVersionsResponse::read);
            long acksZeroMutedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentNanos);
            assertTrue(acksZeroMutedMs >= 900, "acks=0 produce muted for only " + acksZeroMutedMs + " ms");
        } finally {
            try (Admin admin = admin()) {
                alter(admin, entity(null, "test"), "producer_byte_rate", null);
            }
        }
    }

    /**
     * request_percentage: a request's handler time counts against it (one thread-second is 100%), the answer of any
     * API carries the throttle time, capped at one quota window, as Kafka's ClientRequestQuotaManager.
     */
    @Test
    void shouldThrottleAClientOverItsRequestPercentage() throws Exception {
        short version = 12;
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(1).kafkaPort())) {
            connection.setTimeout(30_000);
            for (int i = 0; i < 5; i++) {
                MetadataResponse free = connection.roundTrip(ApiKey.METADATA, version, (short) 1,
                        new MetadataRequest(), MetadataResponse::read);
                assertEquals(0, free.throttleTimeMs);
            }
            try (Admin admin = admin()) {
                alter(admin, entity(null, "test"), "request_percentage", 0.00001);
            }
            int throttled = 0;
            for (int i = 0; i < 20 && throttled == 0; i++) {
                MetadataResponse answer = connection.roundTrip(ApiKey.METADATA, version, (short) 1,
                        new MetadataRequest(), MetadataResponse::read);
                assertTrue(answer.throttleTimeMs <= 1_000, "over one window: " + answer.throttleTimeMs);
                throttled = answer.throttleTimeMs;
            }
            assertTrue(throttled > 0, "no Metadata answer was throttled");
        } finally {
            try (Admin admin = admin()) {
                alter(admin, entity(null, "test"), "request_percentage", null);
            }
        }
    }
}
