package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.AlterConfigsRequest;
import io.tandem.kafka.wire.message.AlterConfigsResponse;
import io.tandem.kafka.wire.message.ResponseHeader;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Dynamic broker configs through the real AdminClient: the ones Tandem applies take effect (on topics without their
 * own override, on the request handler pool) and are reported as in force; the rest get Kafka's error, or, where
 * Kafka would accept a key Tandem cannot apply, an error naming it.
 */
class DynamicBrokerConfigTest {
    private static final ConfigResource CLUSTER_DEFAULT = new ConfigResource(ConfigResource.Type.BROKER, "");
    private static final ConfigResource BROKER = new ConfigResource(ConfigResource.Type.BROKER, "0");

    @TempDir
    Path dir;

    private TandemConfig config() {
        return TandemConfig.forTests(dir).set("group.initial.rebalance.delay.ms", "0");
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
    }

    private static KafkaProducer<byte[], byte[]> producer(Tandem tandem) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 0), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static void set(Admin admin, ConfigResource resource, String key, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, value),
                AlterConfigOp.OpType.SET)))).all().get();
    }

    private static Config describe(Admin admin, ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }

    @Test
    void clusterDefaultMessageMaxBytesShouldBindTopicsWithoutTheirOwnOverride() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem);
             KafkaProducer<byte[], byte[]> producer = producer(tandem)) {
            admin.createTopics(List.of(new NewTopic("plain", 1, (short) 1),
                    new NewTopic("own", 1, (short) 1).configs(Map.of("max.message.bytes", "100000")))).all().get();
            byte[] big = new byte[5000];
            producer.send(new ProducerRecord<>("plain", big)).get();

            set(admin, CLUSTER_DEFAULT, "message.max.bytes", "1000");

            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("plain", big)).get());
            assertInstanceOf(RecordTooLargeException.class, e.getCause());
            producer.send(new ProducerRecord<>("own", big)).get(); // its own override still wins
            ConfigEntry topicValue = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, "plain"))
                    .get("max.message.bytes");
            assertEquals("1000", topicValue.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, topicValue.source());
            assertEquals(List.of("message.max.bytes"),
                    describe(admin, CLUSTER_DEFAULT).entries().stream().map(ConfigEntry::name).toList());
            ConfigEntry brokerValue = describe(admin, BROKER).get("message.max.bytes");
            assertEquals("1000", brokerValue.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, brokerValue.source());

            admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, List.of(new AlterConfigOp(
                    new ConfigEntry("message.max.bytes", null), AlterConfigOp.OpType.DELETE)))).all().get();
            producer.send(new ProducerRecord<>("plain", big)).get();
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, describe(admin, BROKER).get("message.max.bytes").source());
        }
    }

    @Test
    void perBrokerSegmentSizeShouldRollTheLogsOfExistingTopics() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem);
             KafkaProducer<byte[], byte[]> producer = producer(tandem)) {
            admin.createTopics(List.of(new NewTopic("rolled", 1, (short) 1))).all().get();
            set(admin, BROKER, "log.segment.bytes", "1048576");
            byte[] value = new byte[10_000];
            for (int i = 0; i < 160; i++) producer.send(new ProducerRecord<>("rolled", value));
            producer.flush();
            try (Stream<Path> files = Files.list(dir.resolve("kafka-logs").resolve("rolled-0"))) {
                long segments = files.filter(f -> f.toString().endsWith(".log")).count();
                assertTrue(segments >= 2, "1.6 MB in 1 MiB segments, found " + segments + " segment(s)");
            }
            ConfigEntry segmentBytes = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, "rolled"))
                    .get("segment.bytes");
            assertEquals("1048576", segmentBytes.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, segmentBytes.source());
        }
    }

    @Test
    void ioThreadsShouldResizeTheRequestHandlerPool() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            // Each request starts a handler thread until the pool is full; counted as a difference, so handler
            // threads of other brokers in this JVM do not matter.
            for (int i = 0; i < 40; i++) admin.describeCluster().nodes().get();
            long before = requestHandlerThreads();
            set(admin, BROKER, "num.io.threads", "16");
            for (int i = 0; i < 40; i++) admin.describeCluster().nodes().get();
            assertEquals(8, requestHandlerThreads() - before, "a pool of 8 grown to 16");
            ConfigEntry threads = describe(admin, BROKER).get("num.io.threads");
            assertEquals("16", threads.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, threads.source());
            assertInvalidRequest(admin, BROKER, "num.io.threads", "40", "Invalid dynamic configuration");
        }
    }

    @Test
    void keysKafkaRefusesDynamicallyShouldGetKafkasErrors() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            assertInvalidRequest(admin, BROKER, "log.dirs", "/elsewhere", "Cannot update these configs dynamically: [log.dirs]");
            assertInvalidRequest(admin, CLUSTER_DEFAULT, "log.retention.hours", "1",
                    "Cannot update these configs dynamically: [log.retention.hours]");
            assertInvalidRequest(admin, BROKER, "ssl.keystore.location", "/k.jks", "These security configs can be "
                    + "dynamically updated only per-listener using the listener prefix: [ssl.keystore.location]");
            assertInvalidRequest(admin, CLUSTER_DEFAULT, "listeners", "PLAINTEXT://:1", "Cannot update these configs "
                    + "at default cluster level, broker id must be specified: [listeners]");
            assertInvalidRequest(admin, BROKER, "log.retention.ms", "abc",
                    "Invalid value abc for configuration log.retention.ms: Not a number of type LONG");
            assertInvalidRequest(admin, BROKER, "log.segment.bytes", "100",
                    "Invalid value 100 for configuration log.segment.bytes: Value must be at least 1048576");
            assertTrue(describe(admin, CLUSTER_DEFAULT).entries().isEmpty(), "nothing was stored");
        }
    }

    @Test
    void clusterDefaultMinInsyncReplicasShouldBindAcksAllProducesAtOnce() throws Exception {
        // Kafka's leader asks acks=all for min(min.insync.replicas, replicas) in sync (Partition.effectiveMinIsr): a
        // default of 2 binds a two-replica partition whose ISR is down to its leader, not a one-replica topic.
        try (TandemCluster cluster = TandemCluster.start(2);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("isr", Map.of(0, List.of(1, 2))))).all().get();
            PartitionWaits.awaitIsrSize(admin, cluster, "isr", 0, 2);
            cluster.stopBroker(2);
            PartitionWaits.awaitIsrSize(admin, cluster, "isr", 0, 1);
            Map<String, Object> settings = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                    ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.RETRIES_CONFIG, 0);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("isr", new byte[1])).get();
                set(admin, CLUSTER_DEFAULT, "min.insync.replicas", "2");
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> producer.send(new ProducerRecord<>("isr", new byte[1])).get());
                assertInstanceOf(org.apache.kafka.common.errors.NotEnoughReplicasException.class, e.getCause());
                ConfigEntry entry = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, "isr"))
                        .get("min.insync.replicas");
                assertEquals("2", entry.value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, entry.source());
                assertFalse(describe(admin, new ConfigResource(ConfigResource.Type.BROKER, "1"))
                        .get("min.insync.replicas").isReadOnly());
                admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, List.of(new AlterConfigOp(
                        new ConfigEntry("min.insync.replicas", null), AlterConfigOp.OpType.DELETE)))).all().get();
                producer.send(new ProducerRecord<>("isr", new byte[1])).get();
            }
            assertInvalidRequest(admin, CLUSTER_DEFAULT, "min.insync.replicas", "0",
                    "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1");
        }
    }

    /**
     * Kafka 3.9 applies unclean.leader.election.enable at runtime (DynamicLogConfig; turned on, the controller elects
     * leaders for partitions without one): both values are stored and described, per broker and as the default.
     */
    @Test
    void uncleanLeaderElectionShouldBeDynamic() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            set(admin, CLUSTER_DEFAULT, "unclean.leader.election.enable", "false");
            assertEquals("false", describe(admin, BROKER).get("unclean.leader.election.enable").value());
            assertFalse(describe(admin, BROKER).get("unclean.leader.election.enable").isReadOnly());
            set(admin, BROKER, "unclean.leader.election.enable", "true");
            assertEquals("true", describe(admin, BROKER).get("unclean.leader.election.enable").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG,
                    describe(admin, BROKER).get("unclean.leader.election.enable").source());
        }
    }

    @Test
    void keysTandemDoesNotApplyShouldBeRefusedNamingThem() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            for (String key : List.of("background.threads", "num.network.threads", "num.recovery.threads.per.data.dir", "no.such.key")) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> set(admin, CLUSTER_DEFAULT, key, "2"));
                assertInstanceOf(InvalidConfigurationException.class, e.getCause(), key);
                assertEquals("Dynamic update of these configs is not supported by Tandem: [" + key + "]",
                        e.getCause().getMessage());
            }
            assertTrue(describe(admin, CLUSTER_DEFAULT).entries().isEmpty(), "nothing was stored");
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, describe(admin, BROKER).get("listeners").source());
        }
    }

    @Test
    void validateOnlyShouldStoreNothingAndStoredSettingsShouldSurviveARestart() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            admin.incrementalAlterConfigs(Map.of(BROKER, List.of(new AlterConfigOp(
                            new ConfigEntry("log.retention.ms", "60000"), AlterConfigOp.OpType.SET))),
                    new AlterConfigsOptions().validateOnly(true)).all().get();
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, describe(admin, BROKER).get("log.retention.ms").source());
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(BROKER, List.of(new AlterConfigOp(new ConfigEntry("background.threads", "2"),
                            AlterConfigOp.OpType.SET))), new AlterConfigsOptions().validateOnly(true)).all().get());
            assertInstanceOf(InvalidConfigurationException.class, e.getCause(), "validateOnly validates");
            set(admin, CLUSTER_DEFAULT, "log.cleanup.policy", "compact");
            admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, List.of(new AlterConfigOp(
                    new ConfigEntry("log.cleanup.policy", "delete"), AlterConfigOp.OpType.APPEND)))).all().get();
        }
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            ConfigEntry policy = describe(admin, BROKER).get("log.cleanup.policy");
            assertEquals("compact,delete", policy.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, policy.source());
        }
    }

    @Test
    void aClusterDefaultSetThroughOneBrokerShouldTakeEffectOnAnother() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(java.util.EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            TandemConfig first = TandemConfig.forTests(dir.resolve("b1")).roles(java.util.EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("broker.id", "1").set("zookeeper.connect", zookeeper.zookeeperConnect());
            TandemConfig second = TandemConfig.forTests(dir.resolve("b2")).roles(java.util.EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("broker.id", "2").set("zookeeper.connect", zookeeper.zookeeperConnect());
            try (Tandem one = Tandem.start(first); Tandem two = Tandem.start(second);
                 Admin viaOne = admin(one); Admin viaTwo = admin(two)) {
                set(viaOne, CLUSTER_DEFAULT, "log.retention.ms", "7200000");
                ConfigResource brokerTwo = new ConfigResource(ConfigResource.Type.BROKER, "2");
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                ConfigEntry retention = describe(viaTwo, brokerTwo).get("log.retention.ms");
                while (!"7200000".equals(retention.value())) {
                    assertTrue(System.nanoTime() < deadline, "broker 2 never applied the cluster default");
                    Thread.sleep(100);
                    retention = describe(viaTwo, brokerTwo).get("log.retention.ms");
                }
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, retention.source());
            }
        }
    }

    @Test
    void legacyAlterConfigsShouldReplaceTheSetAndRefuseNullValues() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            set(admin, BROKER, "log.retention.ms", "60000");
            AlterConfigsResponse.AlterConfigsResourceResponse replaced = alterConfigs(tandem, "0",
                    Map.of("log.retention.bytes", "1000000"));
            assertEquals(Errors.NONE.code(), replaced.errorCode, replaced.errorMessage);
            Config now = describe(admin, BROKER);
            assertEquals("1000000", now.get("log.retention.bytes").value());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, now.get("log.retention.ms").source(),
                    "AlterConfigs replaces the whole set");

            AlterConfigsResponse.AlterConfigsResourceResponse refused = alterConfigs(tandem, "0",
                    java.util.Collections.singletonMap("log.retention.ms", null));
            assertEquals(Errors.INVALID_REQUEST.code(), refused.errorCode);
            assertEquals("Null value not supported for : log.retention.ms", refused.errorMessage);
            AlterConfigsResponse.AlterConfigsResourceResponse unsupported = alterConfigs(tandem, "",
                    Map.of("background.threads", "2"));
            assertEquals(Errors.INVALID_CONFIG.code(), unsupported.errorCode);
            // The AdminClient sends a broker's resource to that broker, so only a raw request can name another.
            AlterConfigsResponse.AlterConfigsResourceResponse otherBroker = alterConfigs(tandem, "7",
                    Map.of("log.retention.ms", "1"));
            assertEquals(Errors.INVALID_REQUEST.code(), otherBroker.errorCode);
            assertEquals("Unexpected broker id, expected 0, but received 7", otherBroker.errorMessage);
        }
    }

    private static long requestHandlerThreads() {
        return io.tandem.server.TestThreads.named("kafka-request-handler-");
    }

    private static void assertInvalidRequest(Admin admin, ConfigResource resource, String key, String value,
                                             String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> set(admin, resource, key, value));
        assertInstanceOf(InvalidRequestException.class, e.getCause(), key);
        assertEquals(message, e.getCause().getMessage());
    }

    /** The legacy AlterConfigs (v1) over a raw socket: the 4.x AdminClient no longer sends it. */
    private static AlterConfigsResponse.AlterConfigsResourceResponse alterConfigs(Tandem tandem, String broker,
                                                                                 Map<String, String> configs)
            throws IOException {
        AlterConfigsRequest.AlterConfigsResource resource = new AlterConfigsRequest.AlterConfigsResource();
        resource.resourceType = 4;
        resource.resourceName = broker;
        configs.forEach((name, value) -> {
            AlterConfigsRequest.AlterableConfig c = new AlterConfigsRequest.AlterableConfig();
            c.name = name;
            c.value = value;
            resource.configs.add(c);
        });
        AlterConfigsRequest request = new AlterConfigsRequest();
        request.resources.add(resource);
        try (Socket socket = new Socket("127.0.0.1", tandem.kafkaPort())) {
            socket.setSoTimeout(10_000);
            ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, 1, "test", ApiKey.ALTER_CONFIGS,
                    (short) 1, request);
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            frame.release();
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ByteBuf buf = Unpooled.wrappedBuffer(response);
            assertEquals(1, ResponseHeader.read(buf, (short) 0).correlationId);
            return AlterConfigsResponse.read(buf, (short) 1).responses.get(0);
        }
    }
}
