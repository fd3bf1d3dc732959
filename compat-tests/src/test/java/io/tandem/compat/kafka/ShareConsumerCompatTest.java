package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.ShareMemberDescription;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java {@link KafkaShareConsumer} 4.4 (KIP-932 share groups) against a Tandem broker: records shared between
 * consumers without one delivered to two while locked, RELEASE and REJECT with redelivery and delivery counts, the
 * delivery count limit, redelivery after an acquisition lock times out, and the admin's view of share groups.
 */
class ShareConsumerCompatTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    /** Short locks, so a lock timeout shows within the test (Kafka's minimum key lowered to allow it). */
    private static final int LOCK_MS = 3_000;

    @TempDir
    Path dir;

    private static TandemConfig config(Path dir) {
        return KafkaCompat.config(dir)
                .set("group.share.min.record.lock.duration.ms", "1000")
                .set("group.share.record.lock.duration.ms", String.valueOf(LOCK_MS))
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "1000");
    }

    private static Admin admin(Tandem tandem) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaShareConsumer<String, String> shareConsumer(Tandem tandem, String group, boolean explicit,
                                                                     int maxPollRecords) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, explicit ? "explicit" : "implicit");
        return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** A topic, and the group set to start at offset 0 (share.auto.offset.reset is "latest" otherwise). */
    private static void topicFromStart(Admin admin, String topic, int partitions, String group) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (int p = 0; p < partitions; p++) offsets.put(new TopicPartition(topic, p), 0L);
        admin.alterShareGroupOffsets(group, offsets).all().get(30, TimeUnit.SECONDS);
    }

    private static void produce(Tandem tandem, String topic, int count) throws Exception {
        try (KafkaProducer<String, String> producer = KafkaCompat.producer(tandem, Map.of())) {
            for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
            producer.flush();
        }
    }

    private static void until(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
        }
    }

    @Test
    void twoShareConsumersShareOnePartitionWithoutDeliveringARecordTwice() throws Exception {
        String topic = "shared", group = "share-split";
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            topicFromStart(admin, topic, 1, group);
            produce(tandem, topic, 200);
            Map<Long, String> owner = new HashMap<>();
            List<String> duplicates = new ArrayList<>();
            Map<String, Integer> counts = new HashMap<>();
            try (KafkaShareConsumer<String, String> a = shareConsumer(tandem, group, true, 10);
                 KafkaShareConsumer<String, String> b = shareConsumer(tandem, group, true, 10)) {
                a.subscribe(List.of(topic));
                b.subscribe(List.of(topic));
                until(() -> {
                    for (var entry : Map.of("a", a, "b", b).entrySet()) {
                        for (ConsumerRecord<String, String> r : entry.getValue().poll(Duration.ofMillis(100))) {
                            String previous = owner.putIfAbsent(r.offset(), entry.getKey());
                            if (previous != null) duplicates.add(r.offset() + " to " + previous + " and " + entry.getKey());
                            counts.merge(entry.getKey(), 1, Integer::sum);
                            assertEquals(Short.valueOf((short) 1), r.deliveryCount().orElseThrow());
                            entry.getValue().acknowledge(r, AcknowledgeType.ACCEPT);
                        }
                        entry.getValue().commitSync();
                    }
                    return owner.size() == 200;
                }, "all 200 records are consumed");
                assertEquals(List.of(), duplicates, "no record went to both consumers");
                assertTrue(counts.getOrDefault("a", 0) > 0 && counts.getOrDefault("b", 0) > 0,
                        "both consumers got records: " + counts);

                ShareGroupDescription d = admin.describeShareGroups(List.of(group)).all().get(30, TimeUnit.SECONDS)
                        .get(group);
                assertEquals(GroupState.STABLE, d.groupState());
                assertEquals(2, d.members().size());
                for (ShareMemberDescription m : d.members()) {
                    assertEquals(Set.of(new TopicPartition(topic, 0)), m.assignment().topicPartitions(),
                            "with one partition and two members, the partition is shared");
                }
                GroupListing listing = admin.listGroups().all().get(30, TimeUnit.SECONDS).stream()
                        .filter(g -> g.groupId().equals(group)).findFirst().orElseThrow();
                assertEquals(GroupType.SHARE, listing.type().orElseThrow());
                Map<TopicPartition, SharePartitionOffsetInfo> offsets = admin.listShareGroupOffsets(
                        Map.of(group, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(group)
                        .get(30, TimeUnit.SECONDS);
                assertEquals(200, offsets.get(new TopicPartition(topic, 0)).startOffset(),
                        "every record is acknowledged, so the share-partition starts after them");
            }
            until(() -> {
                try {
                    return admin.describeShareGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group)
                            .groupState() == GroupState.EMPTY;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "the closed consumers have left");
            admin.deleteShareGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
            assertTrue(admin.listGroups().all().get(30, TimeUnit.SECONDS).stream()
                    .noneMatch(g -> g.groupId().equals(group)));
        }
    }

    @Test
    void releasedRecordsComeBackWithAHigherDeliveryCountRejectedOnesNeverAndTheLimitArchives() throws Exception {
        String topic = "redeliver", group = "share-redeliver";
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            topicFromStart(admin, topic, 1, group);
            produce(tandem, topic, 3);
            Map<Long, List<Short>> deliveries = new HashMap<>();
            try (KafkaShareConsumer<String, String> c = shareConsumer(tandem, group, true, 100)) {
                c.subscribe(List.of(topic));
                // Offset 0 is released every time, offset 1 rejected, offset 2 accepted.
                until(() -> {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        deliveries.computeIfAbsent(r.offset(), k -> new ArrayList<>())
                                .add(r.deliveryCount().orElseThrow());
                        c.acknowledge(r, r.offset() == 0 ? AcknowledgeType.RELEASE
                                : r.offset() == 1 ? AcknowledgeType.REJECT : AcknowledgeType.ACCEPT);
                    }
                    c.commitSync();
                    return deliveries.getOrDefault(0L, List.of()).size() >= 5;
                }, "offset 0 is delivered five times");
                // Released at the limit (group.share.delivery.count.limit, 5): archived, never delivered again.
                long quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (System.nanoTime() < quietUntil) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        fail("offset " + r.offset() + " delivered again, count " + r.deliveryCount());
                    }
                }
            }
            assertEquals(List.of((short) 1, (short) 2, (short) 3, (short) 4, (short) 5), deliveries.get(0L));
            assertEquals(List.of((short) 1), deliveries.get(1L), "a rejected record is not redelivered");
            assertEquals(List.of((short) 1), deliveries.get(2L));
            Map<TopicPartition, SharePartitionOffsetInfo> offsets = admin.listShareGroupOffsets(
                    Map.of(group, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(group)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(3, offsets.get(new TopicPartition(topic, 0)).startOffset());
        }
    }

    @Test
    void recordsWhoseLockTimesOutAreDeliveredToAnotherConsumer() throws Exception {
        String topic = "locks", group = "share-locks";
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            topicFromStart(admin, topic, 1, group);
            produce(tandem, topic, 5);
            try (KafkaShareConsumer<String, String> holder = shareConsumer(tandem, group, true, 100);
                 KafkaShareConsumer<String, String> other = shareConsumer(tandem, group, true, 100)) {
                holder.subscribe(List.of(topic));
                Set<Long> held = new HashSet<>();
                until(() -> {
                    for (ConsumerRecord<String, String> r : holder.poll(Duration.ofMillis(100))) held.add(r.offset());
                    return held.size() == 5;
                }, "the first consumer holds all five records");
                // It neither acknowledges nor polls again: after the lock duration the records go to the other.
                long lockedUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOCK_MS);
                other.subscribe(List.of(topic));
                Map<Long, Short> redelivered = new HashMap<>();
                until(() -> {
                    for (ConsumerRecord<String, String> r : other.poll(Duration.ofMillis(100))) {
                        assertTrue(System.nanoTime() >= lockedUntil - TimeUnit.MILLISECONDS.toNanos(500),
                                "offset " + r.offset() + " delivered while still locked");
                        redelivered.put(r.offset(), r.deliveryCount().orElseThrow());
                        other.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    other.commitSync();
                    return redelivered.size() == 5;
                }, "the other consumer gets the five records once their locks expire");
                for (short count : redelivered.values()) assertEquals(2, count);
            }
        }
    }
}
