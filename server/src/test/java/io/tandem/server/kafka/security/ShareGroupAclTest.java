package io.tandem.server.kafka.security;

import io.tandem.server.TandemCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Share groups (KIP-932) under ACLs, as Apache 4.4 checks them: READ on the GROUP for ShareGroupHeartbeat, ShareFetch
 * and ShareAcknowledge, DESCRIBE on each subscribed TOPIC for the heartbeat, DESCRIBE on the GROUP to describe it.
 */
class ShareGroupAclTest {
    private static TandemCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TandemCluster.start(1, c -> AclTestNodes.withPlainUsersAndAcls(c, "alice", "bob")
                .set("offsets.topic.num.partitions", "1")
                .set("offsets.topic.replication.factor", "1"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private static AclBinding allow(ResourceType type, String name, String user, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW));
    }

    private static KafkaShareConsumer<String, String> shareConsumer(String user, String group) {
        Map<String, Object> p = AclAuthorizationTest.client(cluster, 1, user);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<String> consume(KafkaShareConsumer<String, String> consumer, String topic, int count) {
        consumer.subscribe(List.of(topic));
        List<String> received = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (received.size() < count && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) received.add(r.value());
        }
        return received;
    }

    @Test
    void shouldLetAliceShareHerTopicInHerGroupAndRefuseTheRest() throws Exception {
        try (Admin admin = Admin.create(AclAuthorizationTest.client(cluster, 1, "admin"))) {
            admin.createTopics(List.of(new NewTopic("queue", 1, (short) 1))).all().get();
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, "queue", "alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "alice-share", "alice", AclOperation.READ),
                    allow(ResourceType.GROUP, "bob-share", "bob", AclOperation.READ))).all().get();
            admin.alterShareGroupOffsets("alice-share", Map.of(new TopicPartition("queue", 0), 0L)).all().get();
            Map<String, Object> p = AclAuthorizationTest.client(cluster, 1, "admin");
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("queue", "v" + i)).get();
            }
        }
        try (KafkaShareConsumer<String, String> alice = shareConsumer("alice", "alice-share")) {
            assertEquals(List.of("v0", "v1", "v2"), consume(alice, "queue", 3));
        }
        // Alice may not read a group she has no ACL for.
        try (KafkaShareConsumer<String, String> alice = shareConsumer("alice", "someone-elses")) {
            assertThrows(GroupAuthorizationException.class, () -> consume(alice, "queue", 1));
        }
        // Bob may use his group but not describe the topic: the heartbeat that subscribes to it is refused.
        try (KafkaShareConsumer<String, String> bob = shareConsumer("bob", "bob-share")) {
            assertThrows(TopicAuthorizationException.class, () -> consume(bob, "queue", 1));
        }
        try (Admin bob = Admin.create(AclAuthorizationTest.client(cluster, 1, "bob"))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> bob.describeShareGroups(List.of("alice-share")).all().get());
            assertInstanceOf(GroupAuthorizationException.class, e.getCause());
        }
    }
}
