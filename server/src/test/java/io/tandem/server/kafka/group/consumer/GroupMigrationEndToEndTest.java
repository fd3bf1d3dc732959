package io.tandem.server.kafka.group.consumer;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * KIP-848 online migration with the real Java 4.x clients, under the default bidirectional policy: a running classic
 * group of two consumers is upgraded member by member to {@code group.protocol=consumer} while a producer writes a
 * numbered sequence, then downgraded back to classic members. Every record is consumed, no partition is ever owned by
 * two members at once (checked live from the members' rebalance callbacks), and committed offsets never go back.
 */
class GroupMigrationEndToEndTest {
    private static final String TOPIC = "orders";
    private static final String GROUP = "migrating";
    private static final int PARTITIONS = 4;
    /** Generous: the box is shared, and a member must not be fenced for being slow. */
    private static final long WAIT_MS = 90_000;

    @TempDir
    Path dir;

    private final Map<Integer, String> owners = new ConcurrentHashMap<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Set<String> consumed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger sent = new AtomicInteger();

    private TandemConfig config() {
        return TandemConfig.forTests(dir).set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "3")
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.heartbeat.interval.ms", "300")
                .set("group.consumer.min.session.timeout.ms", "1000")
                .set("group.consumer.session.timeout.ms", "30000");
    }

    /** One consumer on its own thread: polls, records what it reads, commits, and tracks what it owns. */
    private final class Member implements AutoCloseable {
        final String name;
        final String protocol;
        final Set<Integer> owned = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;
        private volatile Throwable failure;

        Member(Tandem tandem, String name, String protocol) {
            this.name = name;
            this.protocol = protocol;
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            if (protocol.equals("classic")) {
                p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300");
                p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
            }
            thread = new Thread(() -> run(p), "member-" + name);
            thread.start();
        }

        private void run(Properties p) {
            Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        // Commit what was read before letting the partitions go, as a careful application does.
                        Map<TopicPartition, OffsetAndMetadata> leaving = new HashMap<>();
                        for (TopicPartition tp : partitions) {
                            OffsetAndMetadata o = pending.remove(tp);
                            if (o != null) leaving.put(tp, o);
                        }
                        commit(consumer, leaving);
                        release(partitions);
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> partitions) {
                        for (TopicPartition tp : partitions) pending.remove(tp);
                        release(partitions);
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        for (TopicPartition tp : partitions) {
                            String previous = owners.putIfAbsent(tp.partition(), name);
                            if (previous != null && !previous.equals(name)) {
                                violations.add(name + " was assigned " + tp + " still owned by " + previous);
                            }
                            owned.add(tp.partition());
                        }
                    }
                });
                while (!stop.get()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        consumed.add(r.value());
                        pending.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    }
                    pending.keySet().retainAll(consumer.assignment());
                    if (!pending.isEmpty() && commit(consumer, pending)) pending.clear();
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        private boolean commit(KafkaConsumer<String, String> consumer, Map<TopicPartition, OffsetAndMetadata> offsets) {
            if (offsets.isEmpty()) return true;
            try {
                consumer.commitSync(offsets);
                return true;
            } catch (KafkaException e) {
                // A commit refused during a rebalance (the member's generation or epoch moved): the records are
                // read again by whoever owns the partition next, which at-least-once allows.
                return false;
            }
        }

        private void release(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                owners.remove(tp.partition(), name);
                owned.remove(tp.partition());
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(WAIT_MS);
            assertFalse(thread.isAlive(), name + " did not stop");
            assertNull(failure, () -> name + " failed: " + failure);
        }
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting until " + what);
            Thread.sleep(50);
        }
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
    }

    private static GroupType groupType(Admin admin) throws Exception {
        return admin.listGroups().all().get().stream().filter(g -> g.groupId().equals(GROUP)).findFirst()
                .orElseThrow().type().orElseThrow();
    }

    private boolean everyPartitionOwnedBy(Member... members) {
        int total = 0;
        for (Member m : members) {
            if (m.owned.isEmpty()) return false;
            total += m.owned.size();
        }
        return total == PARTITIONS && owners.size() == PARTITIONS;
    }

    /** Committed offsets never go back while the group changes protocol. */
    private Map<TopicPartition, Long> checkCommittedNeverGoBack(Admin admin, Map<TopicPartition, Long> before)
            throws Exception {
        Map<TopicPartition, Long> now = new HashMap<>();
        admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get()
                .forEach((tp, o) -> now.put(tp, o.offset()));
        before.forEach((tp, offset) -> assertTrue(now.getOrDefault(tp, -1L) >= offset,
                tp + " went back from " + offset + " to " + now.get(tp)));
        return now;
    }

    @Test
    void shouldUpgradeARunningClassicGroupMemberByMemberAndDowngradeItBackWithoutLosingOrDoubleOwningAnything()
            throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicBoolean producerFailed = new AtomicBoolean();
            Thread producer = new Thread(() -> produce(tandem, producing, producerFailed), "producer");
            Map<TopicPartition, Long> committed = new HashMap<>();

            Member c1 = new Member(tandem, "classic-1", "classic");
            Member c2 = new Member(tandem, "classic-2", "classic");
            waitUntil(() -> everyPartitionOwnedBy(c1, c2), "the classic group splits the partitions");
            assertEquals(GroupType.CLASSIC, groupType(admin));
            producer.start();
            waitUntil(() -> consumed.size() > 50, "the classic members consume");

            // Upgrade: a consumer-protocol member joins the live classic group, then replaces classic-1...
            Member n1 = new Member(tandem, "consumer-1", "consumer");
            waitUntil(() -> !n1.owned.isEmpty(), "the consumer-protocol member gets partitions");
            assertEquals(GroupType.CONSUMER, groupType(admin), "the classic group was upgraded");
            ConsumerGroupDescription mixed = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            assertEquals(3, mixed.members().size());
            assertEquals(2, mixed.members().stream().filter(m -> !m.upgraded().orElseThrow()).count(),
                    "the classic members are described as not upgraded");
            c1.close();
            committed = checkCommittedNeverGoBack(admin, committed);
            // ...and classic-2.
            Member n2 = new Member(tandem, "consumer-2", "consumer");
            waitUntil(() -> !n2.owned.isEmpty(), "the second consumer-protocol member gets partitions");
            c2.close();
            waitUntil(() -> everyPartitionOwnedBy(n1, n2), "the consumer-protocol members share the partitions");
            committed = checkCommittedNeverGoBack(admin, committed);
            int upgradedAt = consumed.size();
            waitUntil(() -> consumed.size() > upgradedAt + 50, "the upgraded group consumes");

            // Downgrade: a classic member joins the consumer group, and the consumer-protocol members leave.
            Member c3 = new Member(tandem, "classic-3", "classic");
            waitUntil(() -> !c3.owned.isEmpty(), "a classic member inside the consumer group gets partitions");
            n1.close();
            committed = checkCommittedNeverGoBack(admin, committed);
            n2.close();
            waitUntil(() -> everyPartitionOwnedBy(c3), "the classic member owns everything after the downgrade");
            assertEquals(GroupType.CLASSIC, groupType(admin), "the last consumer-protocol member left: classic again");
            Member c4 = new Member(tandem, "classic-4", "classic");
            waitUntil(() -> everyPartitionOwnedBy(c3, c4), "the classic group splits the partitions again");
            committed = checkCommittedNeverGoBack(admin, committed);

            producing.set(false);
            producer.join(WAIT_MS);
            assertFalse(producerFailed.get(), "the producer failed");
            int total = sent.get();
            waitUntil(() -> consumed.size() == total, "every record is consumed (" + total + " sent)");
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
            Map<TopicPartition, Long> ends = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
            waitUntil(() -> {
                try {
                    Map<TopicPartition, Long> now = new HashMap<>();
                    admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get()
                            .forEach((tp, o) -> now.put(tp, o.offset()));
                    return now.equals(ends);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "the committed offsets reach the end of every partition");
            checkCommittedNeverGoBack(admin, committed);
            c3.close();
            c4.close();
            assertEquals(List.of(), violations, "no partition was owned by two members at once");
            for (int i = 0; i < total; i++) assertTrue(consumed.contains("seq-" + i), "seq-" + i + " consumed");
        }
    }

    private void produce(Tandem tandem, AtomicBoolean producing, AtomicBoolean failed) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            while (producing.get()) {
                int i = sent.get();
                producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, "k" + i, "seq-" + i)).get();
                sent.incrementAndGet();
                // Pacing only (a steady stream over the whole migration), never synchronisation.
                Thread.sleep(5);
            }
        } catch (Exception e) {
            failed.set(true);
        }
    }
}
