package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A topic deleted under a share group that consumes it, then created again under the same name, as Kafka 4.4 handles
 * it: the group forgets the deleted topic's share-partitions (its ShareGroupStatePartitionMetadata no longer lists
 * them, GroupMetadataManager.maybeCleanupShareGroupState) and the share coordinator drops their state; the
 * recreated topic is a new topic to the group, read from share.auto.offset.reset (earliest here) by the consumer
 * that stayed subscribed, every record on its first delivery.
 */
class ShareGroupTopicDeletionTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String TOPIC = "jobs", GROUP = "job-workers";

    @TempDir
    Path dir;

    @Test
    void aRecreatedTopicShouldBeNewToTheShareGroupAndTheDeletedOnesStateGone() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.num.partitions", "1")
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "500");
        try (Tandem tandem = Tandem.start(config); Admin admin = admin(tandem)) {
            KafkaBroker broker = tandem.kafkaBroker();
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            UUID oldId = topicId(admin);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, GROUP),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(tandem, "old");
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(tandem)) {
                consumer.subscribe(List.of(TOPIC));
                assertEquals(List.of("old-0", "old-1", "old-2"), consume(consumer, 3));
                assertEquals(List.of(oldId), topicIds(broker.shareGroups().offsets(GROUP, System.currentTimeMillis())));
                assertTrue(stateTopicIds(broker).contains(oldId));

                admin.deleteTopics(List.of(TOPIC)).all().get(30, TimeUnit.SECONDS);
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                // Gone from the group's initialized share-partitions and from the share coordinator, once the
                // broker has heard of the deletion.
                while (broker.metadata().topic(TOPIC) != null
                        || !topicIds(broker.shareGroups().offsets(GROUP, System.currentTimeMillis())).isEmpty()
                        || stateTopicIds(broker).contains(oldId)) {
                    if (System.nanoTime() > deadline) {
                        fail("the deleted topic stayed: group " + topicIds(broker.shareGroups().offsets(GROUP,
                                System.currentTimeMillis())) + ", share coordinator " + stateTopicIds(broker));
                    }
                    Thread.sleep(50);
                }

                // Created again once the deletion has completed (until then: "marked for deletion").
                while (true) {
                    try {
                        admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                        break;
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)
                                || System.nanoTime() > deadline) {
                            throw e;
                        }
                        Thread.sleep(100);
                    }
                }
                UUID newId = topicId(admin);
                assertNotEquals(oldId, newId);
                produce(tandem, "new");
                // The same consumer, still subscribed: the new topic from its start, each record delivered once.
                assertEquals(List.of("new-0", "new-1", "new-2"), consume(consumer, 3));
                assertEquals(List.of(newId), topicIds(broker.shareGroups().offsets(GROUP, System.currentTimeMillis())));
                assertEquals(List.of(newId), List.copyOf(stateTopicIds(broker)));
            }
        }
    }

    /** Polls until {@code count} records came, accepting each; every one must be on its first delivery. */
    private static List<String> consume(KafkaShareConsumer<String, String> consumer, int count) {
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (values.size() < count) {
            if (System.nanoTime() > deadline) fail("received only " + values);
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                assertEquals((short) 1, (short) r.deliveryCount().orElseThrow(), r.value() + " delivered again");
                values.add(r.value());
                consumer.acknowledge(r, AcknowledgeType.ACCEPT);
            }
            consumer.commitSync(Duration.ofSeconds(30));
        }
        return values;
    }

    private static List<UUID> topicIds(List<ShareGroupCoordinator.PartitionOffset> offsets) {
        return offsets.stream().map(ShareGroupCoordinator.PartitionOffset::topicId).distinct().toList();
    }

    private static Set<UUID> stateTopicIds(KafkaBroker broker) {
        Set<UUID> ids = new java.util.TreeSet<>();
        for (ShareStateCoordinator.Key k : broker.shareState().keys(GROUP)) ids.add(k.topicId());
        return ids;
    }

    private static UUID topicId(Admin admin) throws Exception {
        org.apache.kafka.common.Uuid id = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                .get(TOPIC).topicId();
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    private static Admin admin(Tandem tandem) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return Admin.create(p);
    }

    private static void produce(Tandem tandem, String prefix) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>(TOPIC, 0, null, prefix + "-" + i));
            producer.flush();
        }
    }

    private static KafkaShareConsumer<String, String> shareConsumer(Tandem tandem) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
