package io.tandem.server.kafka.group;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.ensemble.TestEnsemble;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Stable classic group of two real Java consumers (one dynamic, one static) survives its coordinator's restart, as
 * with Apache Kafka, which loads the group with its members from {@code __consumer_offsets} and starts their session
 * timers on load: Tandem stops and starts again on the same data directory and port while both consumers stay open.
 * Afterwards DescribeGroups shows the same members, and the consumers carry on heartbeating in their generation
 * for longer than a session timeout without a rebalance; the static member keeps its member id.
 */
class ClassicGroupRestartTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String TOPIC = "orders", GROUP = "order-readers";
    private static final int SESSION_MS = 6_000;

    @TempDir
    Path dir;

    private static TandemConfig config(Path dir, int port) {
        return TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)).kafkaPort(port)
                .set("offsets.topic.num.partitions", "2")
                .set("group.initial.rebalance.delay.ms", "0");
    }

    private static Admin admin(Tandem tandem) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return Admin.create(p);
    }

    private static KafkaConsumer<String, String> consumer(int port, String clientId, String instanceId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
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

    private static ConsumerGroupDescription describe(Admin admin) throws Exception {
        return admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get(30, TimeUnit.SECONDS);
    }

    private static List<String> members(ConsumerGroupDescription group) {
        List<String> members = new ArrayList<>();
        group.members().stream().sorted(Comparator.comparing(MemberDescription::consumerId)).forEach(m ->
                members.add(m.consumerId() + " " + m.groupInstanceId() + " " + m.clientId() + " " + m.host() + " "
                        + m.assignment().topicPartitions()));
        return members;
    }

    private static void pollBoth(KafkaConsumer<?, ?> a, KafkaConsumer<?, ?> b) {
        a.poll(Duration.ofMillis(100));
        b.poll(Duration.ofMillis(100));
    }

    @Test
    void aStableGroupShouldKeepItsMembersAndGenerationAcrossTheCoordinatorsRestart() throws Exception {
        int port = TestEnsemble.freePort();
        Rebalances rebalancesA = new Rebalances(), rebalancesB = new Rebalances();
        KafkaConsumer<String, String> a = consumer(port, "reader-a", null);
        KafkaConsumer<String, String> b = consumer(port, "reader-b", "instance-b");
        try {
            ConsumerGroupMetadata beforeA, beforeB;
            List<String> membersBefore;
            try (Tandem tandem = Tandem.start(config(dir, port)); Admin admin = admin(tandem)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
                a.subscribe(List.of(TOPIC), rebalancesA);
                b.subscribe(List.of(TOPIC), rebalancesB);
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                while (a.assignment().size() != 1 || b.assignment().size() != 1
                        || a.groupMetadata().generationId() != b.groupMetadata().generationId()
                        || describe(admin).groupState() != GroupState.STABLE) {
                    if (System.nanoTime() > deadline) fail("the group never became Stable with both consumers");
                    pollBoth(a, b);
                }
                beforeA = a.groupMetadata();
                beforeB = b.groupMetadata();
                membersBefore = members(describe(admin));
                assertEquals(2, membersBefore.size());
            }
            int rebalancesBefore = rebalancesA.count + rebalancesB.count;

            try (Tandem tandem = Tandem.start(config(dir, port)); Admin admin = admin(tandem)) {
                // Before any consumer is heard from again: the same members, from the group's record.
                ConsumerGroupDescription after = describe(admin);
                assertEquals(GroupState.STABLE, after.groupState());
                assertEquals(membersBefore, members(after));

                // Longer than a session: the members' sessions, started on load, only last if their heartbeats
                // (in the generation they had) are accepted; one refused would make the consumer rejoin.
                long until = System.nanoTime() + Duration.ofMillis(2L * SESSION_MS).toNanos();
                while (System.nanoTime() < until) pollBoth(a, b);

                assertEquals(rebalancesBefore, rebalancesA.count + rebalancesB.count, "no rebalance after the restart");
                for (ConsumerGroupMetadata[] pair : new ConsumerGroupMetadata[][]{{beforeA, a.groupMetadata()},
                        {beforeB, b.groupMetadata()}}) {
                    assertEquals(pair[0].generationId(), pair[1].generationId(), "no new generation");
                    assertEquals(pair[0].memberId(), pair[1].memberId());
                }
                assertEquals("instance-b", b.groupMetadata().groupInstanceId().orElseThrow());
                ConsumerGroupDescription later = describe(admin);
                assertEquals(GroupState.STABLE, later.groupState());
                assertEquals(membersBefore, members(later), "the static member kept its member id");
                a.close(Duration.ofSeconds(10));
                b.close(Duration.ofSeconds(10));
            }
        } finally {
            a.close(Duration.ZERO);
            b.close(Duration.ZERO);
        }
    }
}
