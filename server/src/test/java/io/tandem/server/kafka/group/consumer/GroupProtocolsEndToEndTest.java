package io.tandem.server.kafka.group.consumer;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java 4.x consumer through the same group scenarios with {@code group.protocol=classic} (JoinGroup/SyncGroup)
 * and {@code group.protocol=consumer} (KIP-848 ConsumerGroupHeartbeat): consume and commit, a second member splits
 * the partitions, a member leaves and its partitions move, committed offsets survive a restart, a static member
 * rejoins and gets its partitions back, a static member that does not come back loses its partitions when its
 * session times out, and the rebalance listener never sees a partition given to one member before the other gave
 * it up.
 */
class GroupProtocolsEndToEndTest {
    private static final String TOPIC = "events";
    private static final int PARTITIONS = 4;
    /**
     * Every member's session, both protocols: the case that waits a session out waits this long, so it is short (it
     * was 6 s); a heartbeat (300 ms) fits thirteen times over, and a closed static member is back well within it.
     */
    private static final int SESSION_MS = 4_000;

    @TempDir
    Path dir;

    private TandemConfig config() {
        return TandemConfig.forTests(dir).set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "3")
                // Short heartbeats and sessions so membership changes show within a test's patience.
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.heartbeat.interval.ms", "300")
                .set("group.consumer.min.session.timeout.ms", "1000")
                .set("group.consumer.session.timeout.ms", Integer.toString(SESSION_MS))
                // Kafka's floor for a classic member's session is 6 s; the tests' brokers allow the shorter one.
                .set("group.min.session.timeout.ms", "1000");
    }

    private static KafkaConsumer<String, String> consumer(Tandem tandem, String protocol, String group,
                                                          String instanceId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        if (protocol.equals("classic")) {
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300");
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(SESSION_MS));
        }
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<String> produce(Tandem tandem, int count) throws Exception {
        List<String> sent = new ArrayList<>();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                String value = "event-" + i;
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, "k" + i, value)).get();
                sent.add(value);
            }
        }
        return sent;
    }

    private static void createTopic(Tandem tandem) throws Exception {
        try (Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
        }
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
    }

    /** Polls every consumer until {@code done} holds (or the deadline fails the test). */
    private static void pollUntil(List<KafkaConsumer<String, String>> consumers, List<String> received,
                                  BooleanSupplier done, String what) {
        long deadline = System.currentTimeMillis() + 45_000;
        while (!done.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting until " + what);
            for (KafkaConsumer<String, String> c : consumers) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) received.add(r.value());
            }
        }
    }

    private static Set<Integer> partitionsOf(KafkaConsumer<String, String> consumer) {
        Set<Integer> set = new HashSet<>();
        for (TopicPartition tp : consumer.assignment()) set.add(tp.partition());
        return set;
    }

    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void shouldConsumeCommitAndKeepOffsetsAcrossRestart(String protocol) throws Exception {
        List<String> sent;
        String group = "billing-" + protocol;
        try (Tandem tandem = Tandem.start(config())) {
            createTopic(tandem);
            sent = produce(tandem, 40);
            try (KafkaConsumer<String, String> consumer = consumer(tandem, protocol, group, null)) {
                consumer.subscribe(List.of(TOPIC));
                List<String> received = new ArrayList<>();
                pollUntil(List.of(consumer), received, () -> received.size() >= sent.size(), "all records arrive");
                assertEquals(Set.copyOf(sent), Set.copyOf(received));
                assertEquals(sent.size(), received.size(), "nothing duplicated");
                assertEquals(Set.of(0, 1, 2, 3), partitionsOf(consumer), "one member owns every partition");
                consumer.commitSync();
            }
            try (Admin admin = admin(tandem)) {
                GroupListing listing = admin.listGroups().all().get().stream()
                        .filter(g -> g.groupId().equals(group)).findFirst().orElseThrow();
                assertEquals(protocol.equals("consumer") ? GroupType.CONSUMER : GroupType.CLASSIC,
                        listing.type().orElseThrow());
            }
        }
        try (Tandem tandem = Tandem.start(config())) {
            if (protocol.equals("consumer")) {
                try (Admin admin = admin(tandem)) {
                    // The group itself came back from its records, not only its offsets.
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    assertEquals(GroupType.CONSUMER, d.type());
                    assertTrue(d.groupEpoch().orElseThrow() >= 2, "the group epoch is restored");
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, protocol, group, null)) {
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(
                        new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1), new TopicPartition(TOPIC, 2),
                        new TopicPartition(TOPIC, 3)));
                long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
                assertEquals(sent.size(), total, "committed offsets survive the restart");
                // And a member that joins again starts after them: nothing is read twice.
                consumer.subscribe(List.of(TOPIC));
                List<String> more = new ArrayList<>();
                pollUntil(List.of(consumer), more, () -> partitionsOf(consumer).size() == PARTITIONS, "it is assigned");
                for (int i = 0; i < 5; i++) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) more.add(r.value());
                }
                assertEquals(List.of(), more);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void shouldSplitPartitionsWhenASecondMemberJoinsAndMoveThemWhenItLeaves(String protocol) throws Exception {
        String group = "split-" + protocol;
        try (Tandem tandem = Tandem.start(config())) {
            createTopic(tandem);
            List<String> received = new ArrayList<>();
            KafkaConsumer<String, String> first = consumer(tandem, protocol, group, null);
            try (first) {
                first.subscribe(List.of(TOPIC));
                pollUntil(List.of(first), received, () -> partitionsOf(first).size() == PARTITIONS, "first owns all");
                try (KafkaConsumer<String, String> second = consumer(tandem, protocol, group, null)) {
                    second.subscribe(List.of(TOPIC));
                    pollUntil(List.of(first, second), received,
                            () -> partitionsOf(first).size() == 2 && partitionsOf(second).size() == 2,
                            "the partitions are split two and two");
                    Set<Integer> union = new HashSet<>(partitionsOf(first));
                    union.addAll(partitionsOf(second));
                    assertEquals(Set.of(0, 1, 2, 3), union, "no partition is owned twice or by nobody");
                    List<String> sent = produce(tandem, 20);
                    pollUntil(List.of(first, second), received, () -> received.size() >= sent.size(),
                            "both members read their share");
                    assertEquals(Set.copyOf(sent), Set.copyOf(received));
                }
                // The second member left: its partitions move to the first.
                pollUntil(List.of(first), received, () -> partitionsOf(first).size() == PARTITIONS,
                        "the partitions of the member that left move");
            }
            if (protocol.equals("consumer")) {
                try (Admin admin = admin(tandem)) {
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    assertEquals(GroupType.CONSUMER, d.type());
                    assertEquals(0, d.members().size());
                    assertEquals("uniform", d.partitionAssignor());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void shouldGiveAStaticMemberItsPartitionsBackWhenItRejoins(String protocol) throws Exception {
        String group = "static-" + protocol;
        try (Tandem tandem = Tandem.start(config())) {
            createTopic(tandem);
            List<String> received = new ArrayList<>();
            try (KafkaConsumer<String, String> stays = consumer(tandem, protocol, group, "instance-a")) {
                stays.subscribe(List.of(TOPIC));
                Set<Integer> before;
                KafkaConsumer<String, String> restarting = consumer(tandem, protocol, group, "instance-b");
                try (restarting) {
                    restarting.subscribe(List.of(TOPIC));
                    pollUntil(List.of(stays, restarting), received,
                            () -> partitionsOf(stays).size() == 2 && partitionsOf(restarting).size() == 2,
                            "the partitions are split");
                    before = partitionsOf(restarting);
                }
                // A static member's close only says it will be back: its partitions wait for it.
                for (int i = 0; i < 5; i++) stays.poll(Duration.ofMillis(100));
                assertEquals(2, partitionsOf(stays).size(), "the remaining member does not take them over");
                try (KafkaConsumer<String, String> back = consumer(tandem, protocol, group, "instance-b")) {
                    back.subscribe(List.of(TOPIC));
                    pollUntil(List.of(stays, back), received, () -> partitionsOf(back).size() == 2,
                            "the instance is back");
                    assertEquals(before, partitionsOf(back), "it gets the same partitions back");
                }
            }
        }
    }

    /**
     * A member gone without a word (a static member's close, as after a crash, says only "wait for me") keeps its
     * partitions for its session timeout, then they move to the member that stayed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void shouldMoveTheMissingMembersPartitionsOnlyOnceItsSessionTimesOut(String protocol) throws Exception {
        String group = "gone-" + protocol;
        try (Tandem tandem = Tandem.start(config())) {
            createTopic(tandem);
            List<String> received = new ArrayList<>();
            try (KafkaConsumer<String, String> stays = consumer(tandem, protocol, group, null)) {
                stays.subscribe(List.of(TOPIC));
                KafkaConsumer<String, String> gone = consumer(tandem, protocol, group, "instance-gone");
                try (gone) {
                    gone.subscribe(List.of(TOPIC));
                    pollUntil(List.of(stays, gone), received,
                            () -> partitionsOf(stays).size() == 2 && partitionsOf(gone).size() == 2,
                            "the partitions are split");
                }
                long closedAt = System.nanoTime();
                pollUntil(List.of(stays), received, () -> partitionsOf(stays).size() == PARTITIONS,
                        "the missing member's partitions move");
                long waitedMs = (System.nanoTime() - closedAt) / 1_000_000;
                // A second of slack for when the expiry was noticed (the member's last heartbeat came before its close).
                assertTrue(waitedMs >= SESSION_MS - 1_000,
                        "the partitions moved after " + waitedMs + " ms, before the session ended");
            }
        }
    }

    /**
     * Every member's listener calls, in one order across the group: a partition is handed to a member only after the
     * member that had it revoked it (never both owning it), and a member closing revokes what it owns (a leave, not a
     * loss).
     */
    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void shouldRevokeAPartitionBeforeAnotherMemberIsAssignedIt(String protocol) throws Exception {
        String group = "callbacks-" + protocol;
        try (Tandem tandem = Tandem.start(config())) {
            createTopic(tandem);
            List<String> received = new ArrayList<>();
            List<String> events = new ArrayList<>();
            Map<Integer, String> owner = new java.util.HashMap<>();
            List<String> overlaps = new ArrayList<>();
            KafkaConsumer<String, String> first = consumer(tandem, protocol, group, null);
            try (first) {
                first.subscribe(List.of(TOPIC), listener("first", events, owner, overlaps));
                pollUntil(List.of(first), received, () -> partitionsOf(first).size() == PARTITIONS, "first owns all");
                try (KafkaConsumer<String, String> second = consumer(tandem, protocol, group, null)) {
                    second.subscribe(List.of(TOPIC), listener("second", events, owner, overlaps));
                    pollUntil(List.of(first, second), received,
                            () -> partitionsOf(first).size() == 2 && partitionsOf(second).size() == 2, "split");
                }
                pollUntil(List.of(first), received, () -> partitionsOf(first).size() == PARTITIONS, "first owns all");
            }
            assertEquals(List.of(), overlaps, "partitions assigned while another member owned them: " + events);
            assertTrue(events.stream().anyMatch(e -> e.startsWith("second revoked [") && !e.endsWith("[]")),
                    "the leaver revoked its partitions: " + events);
            assertTrue(events.stream().noneMatch(e -> e.contains("lost")), "nothing was lost: " + events);
            assertEquals(Map.of(), owner, "every partition revoked by the end: " + events);
        }
    }

    private static org.apache.kafka.clients.consumer.ConsumerRebalanceListener listener(
            String name, List<String> events, Map<Integer, String> owner, List<String> overlaps) {
        return new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                List<Integer> ps = sorted(partitions);
                events.add(name + " revoked " + ps);
                for (int p : ps) owner.remove(p, name);
            }

            @Override
            public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                List<Integer> ps = sorted(partitions);
                events.add(name + " assigned " + ps);
                for (int p : ps) {
                    String previous = owner.putIfAbsent(p, name);
                    if (previous != null) overlaps.add(p + " to " + name + " while " + previous + " owned it");
                }
            }

            @Override
            public void onPartitionsLost(java.util.Collection<TopicPartition> partitions) {
                List<Integer> ps = sorted(partitions);
                events.add(name + " lost " + ps);
                for (int p : ps) owner.remove(p, name);
            }
        };
    }

    private static List<Integer> sorted(java.util.Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).sorted().toList();
    }

    @org.junit.jupiter.api.Test
    void shouldAssignTheTopicsARegexSubscriptionMatches() throws Exception {
        try (Tandem tandem = Tandem.start(config())) {
            try (Admin admin = admin(tandem)) {
                admin.createTopics(List.of(new NewTopic("logs-a", 2, (short) 1), new NewTopic("logs-b", 1, (short) 1),
                        new NewTopic("metrics", 1, (short) 1))).all().get();
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "consumer", "regex", null)) {
                consumer.subscribe(new org.apache.kafka.clients.consumer.SubscriptionPattern("logs-.*"));
                List<String> received = new ArrayList<>();
                pollUntil(List.of(consumer), received, () -> consumer.assignment().size() == 3,
                        "the matching topics are assigned");
                for (TopicPartition tp : consumer.assignment()) assertTrue(tp.topic().startsWith("logs-"));
            }
        }
    }
}
