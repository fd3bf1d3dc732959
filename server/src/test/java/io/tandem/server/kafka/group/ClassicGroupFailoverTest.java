package io.tandem.server.kafka.group;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.PartitionWaits;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Stable classic group of two real Java consumers (one static) keeps its members when the leadership of its
 * {@code __consumer_offsets} partition moves on a cluster of three Tandem brokers: the leader stops, another broker
 * takes the lead and loads the group from the replicated records, as Kafka 3.9 does in ZooKeeper mode. DescribeGroups
 * at the new coordinator shows the same members, and the consumers carry on heartbeating in their generation for
 * longer than a session timeout, without a rebalance.
 */
class ClassicGroupFailoverTest {
    private static final int BROKERS = 3;
    private static final int OFFSETS_PARTITIONS = 3;
    private static final String OFFSETS = "__consumer_offsets", TOPIC = "orders", GROUP = "order-readers";
    private static final int SESSION_MS = 6_000;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Tandem zookeeper;
    private final List<Tandem> brokers = new ArrayList<>();
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        for (int id = 1; id <= BROKERS; id++) {
            brokers.add(Tandem.start(TandemConfig.forTests(dir.resolve("broker" + id))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", Integer.toString(id))
                    .set("zookeeper.connect", zookeeper.zookeeperConnect())
                    .set("offsets.topic.replication.factor", "3")
                    .set("offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS))
                    .set("group.initial.rebalance.delay.ms", "0")));
        }
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    @AfterEach
    void stop() {
        if (admin != null) admin.close(Duration.ofSeconds(5));
        brokers.forEach(b -> {
            if (b != null) b.close();
        });
        if (zookeeper != null) zookeeper.close();
    }

    private String bootstrap() {
        return brokers.stream().map(Tandem::bootstrapServers).collect(Collectors.joining(","));
    }

    private KafkaConsumer<String, String> consumer(String clientId, String instanceId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_MS);
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Counts the rebalances a consumer takes part in (a new assignment, or partitions revoked or lost). */
    private static final class Rebalances implements ConsumerRebalanceListener {
        volatile int count;

        @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) count++;
        }

        @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            count++;
        }

        @Override public void onPartitionsLost(Collection<TopicPartition> partitions) {
            count++;
        }
    }

    private ConsumerGroupDescription describe() throws Exception {
        return admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get(30, TimeUnit.SECONDS);
    }

    private static List<String> members(ConsumerGroupDescription group) {
        List<String> members = new ArrayList<>();
        group.members().stream().sorted(Comparator.comparing(MemberDescription::consumerId)).forEach(m ->
                members.add(m.consumerId() + " " + m.groupInstanceId() + " " + m.clientId() + " " + m.host() + " "
                        + m.assignment().topicPartitions()));
        return members;
    }

    @Test
    void aStableGroupShouldKeepItsMembersWhenItsCoordinatorMovesToAnotherBroker() throws Exception {
        admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 3))).all().get(30, TimeUnit.SECONDS);
        Rebalances rebalancesA = new Rebalances(), rebalancesB = new Rebalances();
        try (KafkaConsumer<String, String> a = consumer("reader-a", null);
             KafkaConsumer<String, String> b = consumer("reader-b", "instance-b")) {
            a.subscribe(List.of(TOPIC), rebalancesA);
            b.subscribe(List.of(TOPIC), rebalancesB);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (a.assignment().size() != 1 || b.assignment().size() != 1
                    || a.groupMetadata().generationId() != b.groupMetadata().generationId()
                    || describe().groupState() != GroupState.STABLE) {
                if (System.nanoTime() > deadline) fail("the group never became Stable with both consumers");
                a.poll(Duration.ofMillis(100));
                b.poll(Duration.ofMillis(100));
            }
            ConsumerGroupMetadata beforeA = a.groupMetadata(), beforeB = b.groupMetadata();
            List<String> membersBefore = members(describe());
            int rebalancesBefore = rebalancesA.count + rebalancesB.count;

            // The group's offsets partition, with its record on every replica, loses its leader.
            int partition = OffsetsTopicCodec.partitionFor(GROUP, OFFSETS_PARTITIONS);
            PartitionWaits.awaitIsrSize(admin, brokers, OFFSETS, partition, BROKERS);
            Thread.sleep(2_000);
            int coordinator = PartitionWaits.describe(admin, OFFSETS).partitions().get(partition).leader().id();
            brokers.get(coordinator - 1).close();
            brokers.set(coordinator - 1, null);
            int next = PartitionWaits.awaitLeaderChange(admin, OFFSETS, partition, coordinator);
            assertNotEquals(coordinator, next);

            ConsumerGroupDescription moved = describe();
            assertEquals(next, moved.coordinator().id());
            assertEquals(GroupState.STABLE, moved.groupState());
            assertEquals(membersBefore, members(moved));

            long until = System.nanoTime() + Duration.ofMillis(2L * SESSION_MS).toNanos();
            while (System.nanoTime() < until) {
                a.poll(Duration.ofMillis(100));
                b.poll(Duration.ofMillis(100));
            }
            assertEquals(rebalancesBefore, rebalancesA.count + rebalancesB.count, "no rebalance after the move");
            assertEquals(beforeA.generationId(), a.groupMetadata().generationId(), "no new generation");
            assertEquals(beforeB.generationId(), b.groupMetadata().generationId());
            assertEquals(beforeA.memberId(), a.groupMetadata().memberId());
            assertEquals(beforeB.memberId(), b.groupMetadata().memberId(), "the static member keeps its member id");
            ConsumerGroupDescription later = describe();
            assertEquals(GroupState.STABLE, later.groupState());
            assertEquals(membersBefore, members(later));
        }
    }
}
