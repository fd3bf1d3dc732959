package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.tandem.compat.kafka.KafkaCompat.*;
import static org.junit.jupiter.api.Assertions.*;

/** The official Kafka Java client (4.x) against Tandem: producer, consumer groups, admin, compression, restart. */
class JavaClientCompatTest {
    @TempDir
    Path dir;

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
    }

    @Test
    void idempotentProducerShouldGetConsecutiveOffsetsPerPartition() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("idem", 2, (short) 1))).all().get();
            Map<Integer, List<Long>> offsets = new HashMap<>();
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
                List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
                for (int i = 0; i < 200; i++) futures.add(producer.send(new ProducerRecord<>("idem", i % 2, null, "v" + i)));
                for (var f : futures) {
                    RecordMetadata md = f.get();
                    offsets.computeIfAbsent(md.partition(), p -> new ArrayList<>()).add(md.offset());
                }
            }
            for (List<Long> list : offsets.values()) {
                for (int i = 0; i < list.size(); i++) assertEquals(i, list.get(i), "offsets in send order, no gaps");
            }
            assertEquals(100, offsets.get(0).size());
            assertEquals(100, offsets.get(1).size());
        }
    }

    @Test
    void threeConsumersShouldShareSixPartitionsAndConsumeEverythingOnce() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("six", 6, (short) 1))).all().get();
            Map<String, String> received = new ConcurrentHashMap<>();
            List<String> duplicates = new CopyOnWriteArrayList<>();
            Map<Integer, Set<TopicPartition>> assignments = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            for (int c = 0; c < 3; c++) {
                int id = c;
                Thread t = new Thread(() -> {
                    try (KafkaConsumer<String, String> consumer = consumer(tandem, "six-group", Map.of())) {
                        consumer.subscribe(List.of("six"));
                        while (!stop.get()) {
                            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                                if (received.put(r.value(), "c" + id) != null) duplicates.add(r.value());
                            }
                            consumer.commitSync();
                            assignments.put(id, new HashSet<>(consumer.assignment()));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(t);
                t.start();
            }
            // Wait until the group settled with every member owning two partitions.
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline && !(assignments.size() == 3
                    && assignments.values().stream().allMatch(a -> a.size() == 2))) {
                Thread.sleep(100);
            }
            Set<TopicPartition> all = new HashSet<>();
            assignments.values().forEach(all::addAll);
            assertEquals(6, all.size(), "the six partitions are split between the three consumers: " + assignments);
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                for (int i = 0; i < 120; i++) producer.send(new ProducerRecord<>("six", "k" + i, "m" + i));
                producer.flush();
            }
            while (System.currentTimeMillis() < deadline && received.size() < 120) Thread.sleep(100);
            stop.set(true);
            for (Thread t : threads) t.join(30_000);
            assertEquals(List.of(), failures);
            assertEquals(120, received.size());
            assertEquals(List.of(), duplicates);
            assertEquals(3, new HashSet<>(received.values()).size(), "every consumer got some of the records");
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("six-group")).all().get().get("six-group");
            assertNotNull(group);
        }
    }

    @Test
    void cooperativeStickyConsumersShouldEndUpSharingThePartitions() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("coop", 4, (short) 1))).all().get();
            Map<String, Object> cooperative = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                    CooperativeStickyAssignor.class.getName());
            try (KafkaConsumer<String, String> first = consumer(tandem, "coop-group", cooperative);
                 KafkaConsumer<String, String> second = consumer(tandem, "coop-group", cooperative)) {
                first.subscribe(List.of("coop"));
                long deadline = System.currentTimeMillis() + 30_000;
                while (first.assignment().size() < 4 && System.currentTimeMillis() < deadline) first.poll(Duration.ofMillis(100));
                assertEquals(4, first.assignment().size());
                second.subscribe(List.of("coop"));
                // Cooperative rebalancing takes two rounds: the first revokes, the second hands partitions over.
                while (System.currentTimeMillis() < deadline
                        && !(first.assignment().size() == 2 && second.assignment().size() == 2)) {
                    first.poll(Duration.ofMillis(50));
                    second.poll(Duration.ofMillis(50));
                }
                assertEquals(2, first.assignment().size(), "first: " + first.assignment());
                assertEquals(2, second.assignment().size(), "second: " + second.assignment());
                Set<TopicPartition> union = new HashSet<>(first.assignment());
                union.addAll(second.assignment());
                assertEquals(4, union.size());
            }
        }
    }

    @Test
    void staticMemberShouldComeBackToItsPartitionWithoutARebalance() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("static", 2, (short) 1))).all().get();
            List<String> secondEvents = new CopyOnWriteArrayList<>();
            ConsumerRebalanceListener recorder = new ConsumerRebalanceListener() {
                @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) secondEvents.add("revoked " + partitions);
                }
                @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) secondEvents.add("assigned " + partitions);
                }
            };
            Map<String, Object> staticA = Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-a",
                    ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
            Map<String, Object> staticB = Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-b",
                    ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
            try (KafkaConsumer<String, String> b = consumer(tandem, "static-group", staticB)) {
                b.subscribe(List.of("static"), recorder);
                Set<TopicPartition> aPartitions;
                long deadline = System.currentTimeMillis() + 30_000;
                try (KafkaConsumer<String, String> a = consumer(tandem, "static-group", staticA)) {
                    a.subscribe(List.of("static"));
                    while (System.currentTimeMillis() < deadline
                            && !(a.assignment().size() == 1 && b.assignment().size() == 1)) {
                        a.poll(Duration.ofMillis(50));
                        b.poll(Duration.ofMillis(50));
                    }
                    aPartitions = new HashSet<>(a.assignment());
                    assertEquals(1, aPartitions.size());
                }
                secondEvents.clear();
                // The same instance comes back under a new member id: it gets its partition, nobody rebalances.
                try (KafkaConsumer<String, String> again = consumer(tandem, "static-group", staticA)) {
                    again.subscribe(List.of("static"));
                    while (System.currentTimeMillis() < deadline && again.assignment().isEmpty()) {
                        again.poll(Duration.ofMillis(50));
                        b.poll(Duration.ofMillis(50));
                    }
                    assertEquals(aPartitions, again.assignment());
                    for (int i = 0; i < 10; i++) b.poll(Duration.ofMillis(50));
                    assertEquals(List.of(), secondEvents, "the other member saw no rebalance");
                    assertEquals(2, admin.describeConsumerGroups(List.of("static-group")).all().get()
                            .get("static-group").members().size());
                }
            }
        }
    }

    @Test
    void assignAndSeekShouldReadFromTheChosenOffset() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("seek", 1, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                for (int i = 0; i < 50; i++) producer.send(new ProducerRecord<>("seek", "v" + i));
            }
            TopicPartition tp = new TopicPartition("seek", 0);
            try (KafkaConsumer<String, String> consumer = consumer(tandem, null, Map.of())) {
                consumer.assign(List.of(tp));
                assertEquals(0L, consumer.beginningOffsets(List.of(tp)).get(tp));
                assertEquals(50L, consumer.endOffsets(List.of(tp)).get(tp));
                consumer.seek(tp, 42);
                List<ConsumerRecord<String, String>> records = pollUntil(consumer, r -> r.size() >= 8, Duration.ofSeconds(20));
                assertEquals(8, records.size());
                assertEquals(42, records.get(0).offset());
                assertEquals("v42", records.get(0).value());
                assertEquals("v49", records.get(7).value());
                long when = records.get(3).timestamp();
                long found = consumer.offsetsForTimes(Map.of(tp, when)).get(tp).offset();
                assertTrue(found <= 45, "the first offset with a timestamp at or after record 45's is at most 45: " + found);
            }
        }
    }

    @Test
    void adminClientShouldManageTopicsConfigsAndGroups() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("admin-t", 2, (short) 1)
                    .configs(Map.of("retention.ms", "3600000")))).all().get();
            ExecutionException exists = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("admin-t", 1, (short) 1))).all().get());
            assertInstanceOf(TopicExistsException.class, exists.getCause());
            ExecutionException invalid = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("bad name!", 1, (short) 1))).all().get());
            assertInstanceOf(InvalidTopicException.class, invalid.getCause());

            TopicDescription description = admin.describeTopics(List.of("admin-t")).allTopicNames().get().get("admin-t");
            assertEquals(2, description.partitions().size());
            admin.createPartitions(Map.of("admin-t", NewPartitions.increaseTo(4))).all().get();
            assertEquals(4, admin.describeTopics(List.of("admin-t")).allTopicNames().get().get("admin-t").partitions().size());

            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "admin-t");
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("3600000", config.get("retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("retention.ms").source());
            assertEquals("delete", config.get("cleanup.policy").value());
            admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("max.message.bytes", "2000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE)))).all().get();
            config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("2000", config.get("max.message.bytes").value());
            assertEquals("604800000", config.get("retention.ms").value());

            // The topic config is enforced: a batch above max.message.bytes is refused.
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                ExecutionException tooLarge = assertThrows(ExecutionException.class,
                        () -> producer.send(new ProducerRecord<>("admin-t", 0, null, "x".repeat(5000))).get());
                assertEquals("RecordTooLargeException", tooLarge.getCause().getClass().getSimpleName());
            }

            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                producer.send(new ProducerRecord<>("admin-t", 0, null, "hello")).get();
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "admin-group", Map.of())) {
                consumer.assign(List.of(new TopicPartition("admin-t", 0)));
                consumer.commitSync(Map.of(new TopicPartition("admin-t", 0), new OffsetAndMetadata(1, "my-metadata")));
            }
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("admin-group")
                    .partitionsToOffsetAndMetadata().get();
            assertEquals(1, committed.get(new TopicPartition("admin-t", 0)).offset());
            assertEquals("my-metadata", committed.get(new TopicPartition("admin-t", 0)).metadata());
            Collection<String> groups = admin.listConsumerGroups().all().get().stream().map(g -> g.groupId()).toList();
            assertTrue(groups.contains("admin-group"), groups.toString());
            admin.deleteConsumerGroups(List.of("admin-group")).all().get();
            assertTrue(admin.listConsumerGroupOffsets("admin-group").partitionsToOffsetAndMetadata().get().isEmpty());

            admin.deleteTopics(List.of("admin-t")).all().get();
            assertFalse(admin.listTopics().names().get().contains("admin-t"));
            assertEquals(1, admin.describeCluster().nodes().get().size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void everyCompressionShouldRoundTrip(String compression) throws Exception {
        try (Tandem tandem = Tandem.start(config(dir))) {
            List<String> sent = new ArrayList<>();
            try (KafkaProducer<String, String> producer = producer(tandem,
                    Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression, ProducerConfig.LINGER_MS_CONFIG, 20))) {
                for (int i = 0; i < 100; i++) {
                    String value = compression + "-" + i + "-" + "payload".repeat(i % 7);
                    sent.add(value);
                    producer.send(new ProducerRecord<>("comp-" + compression, 0, null, value));
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, null, Map.of())) {
                consumer.assign(List.of(new TopicPartition("comp-" + compression, 0)));
                consumer.seekToBeginning(consumer.assignment());
                List<ConsumerRecord<String, String>> records = pollUntil(consumer, r -> r.size() >= sent.size(),
                        Duration.ofSeconds(30));
                assertEquals(sent, records.stream().map(ConsumerRecord::value).toList());
            }
        }
    }

    @Test
    void restartShouldKeepEveryRecordInOrderWithNothingLostOrDuplicated() throws Exception {
        Map<Integer, List<String>> sent = new HashMap<>();
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("durable", 3, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                for (int i = 0; i < 300; i++) {
                    RecordMetadata md = producer.send(new ProducerRecord<>("durable", "key" + (i % 17), "r" + i)).get();
                    sent.computeIfAbsent(md.partition(), p -> new ArrayList<>()).add("r" + i);
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "durable-group", Map.of())) {
                consumer.subscribe(List.of("durable"));
                pollUntil(consumer, r -> r.size() >= 300, Duration.ofSeconds(30));
                consumer.commitSync();
            }
        }
        try (Tandem tandem = Tandem.start(config(dir))) {
            try (KafkaProducer<String, String> producer = producer(tandem, Map.of())) {
                for (int i = 300; i < 330; i++) {
                    RecordMetadata md = producer.send(new ProducerRecord<>("durable", "key" + (i % 17), "r" + i)).get();
                    sent.computeIfAbsent(md.partition(), p -> new ArrayList<>()).add("r" + i);
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "durable-group", Map.of())) {
                consumer.subscribe(List.of("durable"));
                List<ConsumerRecord<String, String>> rest = pollUntil(consumer, r -> r.size() >= 30, Duration.ofSeconds(30));
                assertEquals(30, rest.size(), "the group resumes from its committed offsets");
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, null, Map.of())) {
                List<TopicPartition> partitions = List.of(new TopicPartition("durable", 0),
                        new TopicPartition("durable", 1), new TopicPartition("durable", 2));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                List<ConsumerRecord<String, String>> all = pollUntil(consumer, r -> r.size() >= 330, Duration.ofSeconds(30));
                Map<Integer, List<String>> byPartition = new HashMap<>();
                for (ConsumerRecord<String, String> r : all) {
                    byPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.value());
                }
                assertEquals(sent, byPartition);
            }
        }
    }
}
