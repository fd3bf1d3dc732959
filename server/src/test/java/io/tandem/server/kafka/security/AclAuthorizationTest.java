package io.tandem.server.kafka.security;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Kafka's ACL authorization end to end with the Java clients: two brokers, a SASL_PLAINTEXT listener with PLAIN users
 * alice, bob and admin (a super user), and the PLAINTEXT inter-broker listener whose User:ANONYMOUS is a super user,
 * as Apache deployments with plaintext inter-broker traffic configure it.
 */
class AclAuthorizationTest {
    private static TandemCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TandemCluster.start(2, c -> AclTestNodes.withPlainUsersAndAcls(c, "alice", "bob")
                .set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "1")
                .set("offsets.topic.replication.factor", "1"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    static Map<String, Object> client(TandemCluster cluster, int broker, String user) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + cluster.broker(broker).kafkaPort("SASL_PLAINTEXT"));
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"" + user + "\" password=\"" + user + "-secret\";");
        return p;
    }

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, String user,
                                    AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW));
    }

    private static KafkaProducer<String, String> producer(String user, boolean idempotent) {
        Map<String, Object> p = client(cluster, 1, user);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(String user, String group) {
        return consumer(user, group, "classic");
    }

    private static KafkaConsumer<String, String> consumer(String user, String group, String protocol) {
        Map<String, Object> p = client(cluster, 1, user);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<String> consume(KafkaConsumer<String, String> consumer, String topic, int count) {
        consumer.subscribe(List.of(topic));
        List<String> received = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (received.size() < count && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) received.add(r.value());
        }
        consumer.commitSync();
        return received;
    }

    @Test
    void shouldLetAliceUseHerTopicAndGroupAndRefuseBob() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(new NewTopic("alice-topic", 2, (short) 2), new NewTopic("hidden-topic", 1,
                    (short) 1))).all().get();
            MetadataWait.propagated(cluster, "alice-topic", 2);
            MetadataWait.propagated(cluster, "hidden-topic", 1);
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "alice-topic", PatternType.LITERAL, "alice", AclOperation.WRITE),
                    allow(ResourceType.TOPIC, "alice-topic", PatternType.LITERAL, "alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "alice-group", PatternType.LITERAL, "alice", AclOperation.READ)))
                    .all().get();
        }
        try (KafkaProducer<String, String> producer = producer("alice", true)) {
            for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>("alice-topic", "k" + i, "v" + i)).get();
        }
        try (KafkaConsumer<String, String> consumer = consumer("alice", "alice-group")) {
            assertEquals(5, consume(consumer, "alice-topic", 5).size());
        }
        try (Admin alice = Admin.create(client(cluster, 1, "alice"))) {
            // Other tests of this class grant everyone the shared- prefix and alice the on- topics.
            Set<String> listed = new java.util.TreeSet<>(alice.listTopics().names().get());
            listed.removeIf(t -> t.startsWith("shared-") || t.startsWith("on-"));
            assertEquals(Set.of("alice-topic"), listed, "only the topics alice may describe");
            assertEquals(Set.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE),
                    alice.describeTopics(List.of("alice-topic"),
                            new org.apache.kafka.clients.admin.DescribeTopicsOptions().includeAuthorizedOperations(true))
                            .allTopicNames().get().get("alice-topic").authorizedOperations());
            org.apache.kafka.clients.admin.DescribeClusterOptions withOperations =
                    new org.apache.kafka.clients.admin.DescribeClusterOptions().includeAuthorizedOperations(true);
            assertEquals(Set.of(), alice.describeCluster(withOperations).authorizedOperations().get());
            try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
                assertEquals(Set.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER,
                        AclOperation.DESCRIBE), admin.describeCluster(withOperations).authorizedOperations().get());
            }
            assertEquals(Set.of(AclOperation.READ, AclOperation.DESCRIBE), alice.describeConsumerGroups(
                    List.of("alice-group"), new org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions()
                            .includeAuthorizedOperations(true)).all().get().get("alice-group").authorizedOperations());
            ExecutionException hidden = assertThrows(ExecutionException.class,
                    () -> alice.describeTopics(List.of("hidden-topic")).allTopicNames().get());
            assertInstanceOf(TopicAuthorizationException.class, hidden.getCause());
            ExecutionException create = assertThrows(ExecutionException.class,
                    () -> alice.createTopics(List.of(new NewTopic("alice-new", 1, (short) 1))).all().get());
            assertInstanceOf(TopicAuthorizationException.class, create.getCause());
            ExecutionException acls = assertThrows(ExecutionException.class,
                    () -> alice.describeAcls(AclBindingFilter.ANY).values().get());
            assertInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class, acls.getCause());
        }
        try (KafkaProducer<String, String> producer = producer("bob", false)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("alice-topic", "k", "v")).get(15, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
        }
        try (Admin bob = Admin.create(client(cluster, 1, "bob"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> bob.listConsumerGroupOffsets("alice-group").partitionsToOffsetAndMetadata().get());
            assertInstanceOf(GroupAuthorizationException.class, e.getCause());
        }
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createAcls(List.of(allow(ResourceType.GROUP, "bob-group", PatternType.LITERAL, "bob",
                    AclOperation.READ))).all().get();
        }
        try (KafkaConsumer<String, String> consumer = consumer("bob", "bob-group")) {
            assertThrows(TopicAuthorizationException.class, () -> consume(consumer, "alice-topic", 1));
        }
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createAcls(List.of(allow(ResourceType.TOPIC, "bob-created", PatternType.LITERAL, "bob",
                    AclOperation.CREATE))).all().get();
        }
        try (Admin bob = Admin.create(client(cluster, 1, "bob"))) {
            org.apache.kafka.clients.admin.CreateTopicsResult created =
                    bob.createTopics(List.of(new NewTopic("bob-created", 1, (short) 1)));
            created.all().get();
            ExecutionException configs = assertThrows(ExecutionException.class,
                    () -> created.numPartitions("bob-created").get());
            assertInstanceOf(TopicAuthorizationException.class, configs.getCause(),
                    "CREATE without DESCRIBE_CONFIGS: created, but its configs are not told");
        }
    }

    @Test
    void shouldAuthorizeConsumerProtocolGroupsByGroupAndSubscribedTopics() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(new NewTopic("kip848-topic", 1, (short) 2))).all().get();
            MetadataWait.propagated(cluster, "kip848-topic", 1);
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "kip848-topic", PatternType.LITERAL, "alice", AclOperation.WRITE),
                    allow(ResourceType.TOPIC, "kip848-topic", PatternType.LITERAL, "alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "kip848-group", PatternType.LITERAL, "alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "kip848-bob", PatternType.LITERAL, "bob", AclOperation.READ)))
                    .all().get();
        }
        try (KafkaProducer<String, String> producer = producer("alice", true)) {
            for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("kip848-topic", "k" + i, "v" + i)).get();
        }
        try (KafkaConsumer<String, String> consumer = consumer("alice", "kip848-group", "consumer")) {
            assertEquals(3, consume(consumer, "kip848-topic", 3).size());
        }
        // Bob may use his group but not describe the topic: the heartbeat that subscribes to it is refused.
        try (KafkaConsumer<String, String> consumer = consumer("bob", "kip848-bob", "consumer")) {
            assertThrows(TopicAuthorizationException.class, () -> consume(consumer, "kip848-topic", 1));
        }
        try (Admin bob = Admin.create(client(cluster, 1, "bob"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> bob.describeConsumerGroups(List.of("kip848-group")).all().get());
            assertInstanceOf(GroupAuthorizationException.class, e.getCause());
        }
    }

    @Test
    void shouldRunAliceTransactionsAndRefuseBobsTransactionalId() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(new NewTopic("txn-topic", 1, (short) 2))).all().get();
            MetadataWait.propagated(cluster, "txn-topic", 1);
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "txn-topic", PatternType.LITERAL, "alice", AclOperation.WRITE),
                    allow(ResourceType.TOPIC, "txn-topic", PatternType.LITERAL, "bob", AclOperation.WRITE),
                    allow(ResourceType.TRANSACTIONAL_ID, "alice-txn", PatternType.LITERAL, "alice",
                            AclOperation.WRITE))).all().get();
        }
        Map<String, Object> settings = client(cluster, 1, "alice");
        settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "alice-txn");
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("txn-topic", "k", "committed")).get();
            producer.commitTransaction();
        }
        Map<String, Object> bob = client(cluster, 1, "bob");
        bob.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bob-txn");
        bob.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(bob, new StringSerializer(),
                new StringSerializer())) {
            assertThrows(org.apache.kafka.common.errors.TransactionalIdAuthorizationException.class,
                    producer::initTransactions);
        }
    }

    @Test
    void shouldApplyPrefixedAclsAndLetDenyBeatAllow() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(new NewTopic("shared-1", 1, (short) 2))).all().get();
            MetadataWait.propagated(cluster, "shared-1", 1);
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "shared-", PatternType.PREFIXED, "*", AclOperation.ALL),
                    new AclBinding(new ResourcePattern(ResourceType.TOPIC, "shared-1", PatternType.LITERAL),
                            new AccessControlEntry("User:bob", "*", AclOperation.WRITE, AclPermissionType.DENY))))
                    .all().get();
        }
        try (KafkaProducer<String, String> producer = producer("alice", false)) {
            producer.send(new ProducerRecord<>("shared-1", "k", "from alice")).get(15, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = producer("bob", false)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("shared-1", "k", "v")).get(15, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause());
        }
        try (Admin bob = Admin.create(client(cluster, 1, "bob"))) {
            assertTrue(bob.listTopics().names().get().contains("shared-1"), "the deny is for WRITE, not DESCRIBE");
            // Bob may create topics under the prefix: ALL includes CREATE.
            bob.createTopics(List.of(new NewTopic("shared-2", 1, (short) 1))).all().get();
        }
    }

    @Test
    void shouldDescribeAndDeleteAclsWithFilters() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "filter-topic", PatternType.LITERAL, "carol", AclOperation.READ),
                    allow(ResourceType.TOPIC, "filter-", PatternType.PREFIXED, "carol", AclOperation.WRITE),
                    allow(ResourceType.GROUP, "filter-group", PatternType.LITERAL, "carol", AclOperation.READ)))
                    .all().get();
            AccessControlEntryFilter carol = new AccessControlEntryFilter("User:carol", null, AclOperation.ANY,
                    AclPermissionType.ANY);
            Collection<AclBinding> all = admin.describeAcls(new AclBindingFilter(ResourcePatternFilter.ANY, carol))
                    .values().get();
            assertEquals(3, all.size(), all.toString());
            Collection<AclBinding> matching = admin.describeAcls(new AclBindingFilter(new ResourcePatternFilter(
                    ResourceType.TOPIC, "filter-topic", PatternType.MATCH), carol)).values().get();
            assertEquals(2, matching.size(), "the literal and the prefix both apply: " + matching);
            Collection<AclBinding> prefixed = admin.describeAcls(new AclBindingFilter(new ResourcePatternFilter(
                    ResourceType.ANY, null, PatternType.PREFIXED), carol)).values().get();
            assertEquals(1, prefixed.size(), prefixed.toString());
            Collection<AclBinding> deleted = admin.deleteAcls(List.of(new AclBindingFilter(new ResourcePatternFilter(
                    ResourceType.TOPIC, null, PatternType.ANY), carol))).all().get();
            assertEquals(2, deleted.size(), deleted.toString());
            assertEquals(1, admin.describeAcls(new AclBindingFilter(ResourcePatternFilter.ANY, carol))
                    .values().get().size());
            ExecutionException invalid = assertThrows(ExecutionException.class, () -> admin.createAcls(List.of(
                    allow(ResourceType.CLUSTER, "not-the-cluster", PatternType.LITERAL, "carol", AclOperation.ALTER)))
                    .all().get());
            assertInstanceOf(org.apache.kafka.common.errors.InvalidRequestException.class, invalid.getCause());
        }
    }

    /**
     * An ACL written straight to ZooKeeper as Apache's kafka-acls.sh --authorizer-properties does (the resource
     * znode, then a change notification) is followed by both brokers: each leads one of the topics alice writes to.
     */
    @Test
    void shouldFollowAclChangesOnEveryBroker() throws Exception {
        try (Admin admin = Admin.create(client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(
                    new NewTopic("on-one", Map.of(0, List.of(1))),
                    new NewTopic("on-two", Map.of(0, List.of(2))))).all().get();
            MetadataWait.propagated(cluster, "on-one", 1);
            MetadataWait.propagated(cluster, "on-two", 1);
        }
        ZooKeeper zk = new ZooKeeper(cluster.zookeeperConnect(), 10_000, event -> { });
        try {
            for (String topic : List.of("on-one", "on-two")) {
                createWithParents(zk, "/kafka-acl/Topic/" + topic, ("{\"version\":1,\"acls\":[{\"principal\":"
                        + "\"User:alice\",\"permissionType\":\"Allow\",\"operation\":\"Write\",\"host\":\"*\"}]}")
                        .getBytes(StandardCharsets.UTF_8));
                zk.create("/kafka-acl-changes/acl_changes_", ("TOPIC:" + topic).getBytes(StandardCharsets.UTF_8),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            }
        } finally {
            zk.close();
        }
        long deadline = System.currentTimeMillis() + 30_000;
        Exception last = null;
        try (KafkaProducer<String, String> producer = producer("alice", false)) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    producer.send(new ProducerRecord<>("on-one", "k", "v")).get(15, TimeUnit.SECONDS);
                    producer.send(new ProducerRecord<>("on-two", "k", "v")).get(15, TimeUnit.SECONDS);
                    last = null;
                    break;
                } catch (ExecutionException e) {
                    last = e;
                    Thread.sleep(200);
                }
            }
        }
        assertNull(last, "both brokers allow alice once the change notifications arrive");
    }

    private static void createWithParents(ZooKeeper zk, String path, byte[] data) throws Exception {
        StringBuilder prefix = new StringBuilder();
        String[] parts = path.substring(1).split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            prefix.append('/').append(parts[i]);
            if (zk.exists(prefix.toString(), false) == null) {
                try {
                    zk.create(prefix.toString(), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (org.apache.zookeeper.KeeperException.NodeExistsException raced) {
                    // Created meanwhile.
                }
            }
        }
        zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }
}
