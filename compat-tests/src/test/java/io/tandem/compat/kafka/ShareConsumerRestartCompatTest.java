package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A share group survives a broker restart (KIP-932's share coordinator on {@code __share_group_state}): the Java
 * {@link KafkaShareConsumer} 4.4 acknowledges part of a partition, Tandem is stopped and started again on the same
 * data directory, and a new consumer of the group continues where the group was: acknowledged and rejected records
 * are never delivered again, released ones come back with their delivery count raised, and the admin sees the
 * group and its start offset before anyone rejoins.
 */
class ShareConsumerRestartCompatTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String TOPIC = "jobs", GROUP = "job-workers";

    @TempDir
    Path dir;

    private static TandemConfig config(Path dir) {
        return KafkaCompat.config(dir)
                // Few state partitions and a snapshot every 3 writes, so the restart replays snapshots and updates.
                .set("share.coordinator.state.topic.num.partitions", "3")
                .set("share.coordinator.snapshot.update.records.per.snapshot", "3")
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "1000");
    }

    private static Admin admin(Tandem tandem) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaShareConsumer<String, String> shareConsumer(Tandem tandem, int maxPollRecords) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static void produce(Tandem tandem, int from, int to) throws Exception {
        try (KafkaProducer<String, String> producer = KafkaCompat.producer(tandem, Map.of())) {
            for (int i = from; i < to; i++) producer.send(new ProducerRecord<>(TOPIC, 0, null, "job-" + i));
            producer.flush();
        }
    }

    @Test
    void aShareGroupShouldContinueWhereItWasAfterTheBrokerRestarts() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.alterShareGroupOffsets(GROUP, Map.of(new TopicPartition(TOPIC, 0), 0L)).all()
                    .get(30, TimeUnit.SECONDS);
            // Only ten records before the restart, so a fetch ahead of the consumer's polls cannot hold later ones.
            produce(tandem, 0, 10);
            // Offsets 0-9: accept 0-4, reject 5, release 6-9. Several acknowledgements, so updates follow snapshots.
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(tandem, 10)) {
                consumer.subscribe(List.of(TOPIC));
                Map<Long, Short> got = new TreeMap<>();
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                while (got.size() < 10) {
                    if (System.nanoTime() > deadline) fail("timed out before 10 records, got " + got.keySet());
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        got.put(r.offset(), r.deliveryCount().orElseThrow());
                        AcknowledgeType type = r.offset() < 5 ? AcknowledgeType.ACCEPT
                                : r.offset() == 5 ? AcknowledgeType.REJECT : AcknowledgeType.RELEASE;
                        consumer.acknowledge(r, type);
                        consumer.commitSync();
                    }
                }
                assertEquals(Set.of((short) 1), Set.copyOf(got.values()));
            }
        }

        try (Tandem tandem = Tandem.start(config(dir)); Admin admin = admin(tandem)) {
            // The group is known again, with its start offset, before any member rejoins.
            Set<String> shareGroups = admin.listGroups(org.apache.kafka.clients.admin.ListGroupsOptions.forShareGroups())
                    .all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId).collect(Collectors.toSet());
            assertEquals(Set.of(GROUP), shareGroups);
            Map<TopicPartition, SharePartitionOffsetInfo> offsets = admin.listShareGroupOffsets(
                    Map.of(GROUP, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(GROUP)
                    .get(30, TimeUnit.SECONDS);
            // 0-4 accepted and 5 rejected (archived) are done: the share-partition starts at 6.
            assertEquals(6L, offsets.get(new TopicPartition(TOPIC, 0)).startOffset());
            produce(tandem, 10, 30);

            Map<Long, Short> redelivered = new TreeMap<>();
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(tandem, 50)) {
                consumer.subscribe(List.of(TOPIC));
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                while (redelivered.size() < 24) {
                    if (System.nanoTime() > deadline) fail("timed out before 24 records, got " + redelivered);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        assertNull(redelivered.put(r.offset(), r.deliveryCount().orElseThrow()),
                                "offset " + r.offset() + " delivered twice after the restart");
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync();
                }
            }
            Map<Long, Short> expected = new TreeMap<>();
            for (long o = 6; o < 30; o++) expected.put(o, (short) (o < 10 ? 2 : 1));
            // 0-4 accepted and 5 rejected before the restart never come back; 6-9 come back on their 2nd delivery.
            assertEquals(expected, redelivered);
            assertEquals(GroupType.SHARE, admin.listGroups(org.apache.kafka.clients.admin.ListGroupsOptions
                    .forShareGroups()).all().get(30, TimeUnit.SECONDS).iterator().next().type().orElseThrow());
        }
    }
}
