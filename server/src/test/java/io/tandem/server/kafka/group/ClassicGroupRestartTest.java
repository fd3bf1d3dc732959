package io.tandem.server.kafka.group;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.HeartbeatRequest;
import io.tandem.kafka.wire.message.HeartbeatResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.ensemble.TestEnsemble;
import io.tandem.server.kafka.RawKafkaConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.group.ClassicGroupClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A Stable classic group of two real Java consumers (one dynamic, one static) survives its coordinator's restart, as
 * with Apache Kafka, which loads the group with its members from {@code __consumer_offsets} and starts their session
 * timers on load: Tandem stops and starts again on the same data directory and port while both consumers stay open.
 * Afterwards DescribeGroups shows the same members, and the consumers carry on heartbeating in their generation
 * for longer than a session timeout without a rebalance; the static member keeps its member id. The consumers do not
 * rebootstrap while the broker is down (see {@link ClassicGroupClients#consumer}): a 4.x client that does forgets its
 * topics until it is answered again, and its group leader then rejoins whatever the broker.
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

    private static void assertTopicServed(RawKafkaConnection wire) throws Exception {
        MetadataRequest request = new MetadataRequest();
        request.topics = new java.util.ArrayList<>(List.of(new MetadataRequest.MetadataRequestTopic()));
        request.topics.get(0).name = TOPIC;
        request.allowAutoTopicCreation = false;
        MetadataResponse response = wire.roundTrip(ApiKey.METADATA, (short) 12, (short) 1, request,
                MetadataResponse::read);
        assertEquals(1, response.topics.size());
        assertEquals(NONE, response.topics.get(0).errorCode);
        assertEquals(2, response.topics.get(0).partitions.size());
        for (MetadataResponse.MetadataResponsePartition p : response.topics.get(0).partitions) {
            assertEquals(NONE, p.errorCode, "partition " + p.partitionIndex + " led");
        }
    }

    @Test
    void aStableGroupShouldKeepItsMembersAndGenerationAcrossTheCoordinatorsRestart() throws Exception {
        int port = TestEnsemble.freePort();
        Rebalances rebalancesA = new Rebalances(), rebalancesB = new Rebalances();
        KafkaConsumer<String, String> a = consumer("127.0.0.1:" + port, GROUP, "reader-a", null, SESSION_MS);
        KafkaConsumer<String, String> b = consumer("127.0.0.1:" + port, GROUP, "reader-b", "instance-b", SESSION_MS);
        try {
            ConsumerGroupMetadata beforeA, beforeB;
            List<String> membersBefore;
            try (Tandem tandem = Tandem.start(config(dir, port)); Admin admin = admin(tandem)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
                a.subscribe(List.of(TOPIC), rebalancesA);
                b.subscribe(List.of(TOPIC), rebalancesB);
                awaitStableWithOnePartitionEach(admin, GROUP, a, b, PATIENCE);
                beforeA = a.groupMetadata();
                beforeB = b.groupMetadata();
                membersBefore = members(describe(admin, GROUP));
                assertEquals(2, membersBefore.size());
            }
            int rebalancesBefore = rebalancesA.count + rebalancesB.count;

            try (Tandem tandem = Tandem.start(config(dir, port)); Admin admin = admin(tandem)) {
                // What a consumer meets first, asked on the wire before either polls: the restarted broker answers
                // for the topic with all its partitions led (a topic missing here would make the group's leader
                // rejoin: "cached metadata has changed"), and a heartbeat in the generation before the restart is
                // accepted (the group is loaded before the listener takes requests).
                try (RawKafkaConnection wire = new RawKafkaConnection(port)) {
                    assertTopicServed(wire);
                    HeartbeatRequest heartbeat = new HeartbeatRequest();
                    heartbeat.groupId = GROUP;
                    heartbeat.memberId = beforeA.memberId();
                    heartbeat.generationId = beforeA.generationId();
                    assertEquals(NONE, wire.roundTrip(ApiKey.HEARTBEAT, (short) 3, (short) 0, heartbeat,
                            HeartbeatResponse::read).errorCode);
                }
                // Before any consumer is heard from again: the same members, from the group's record.
                ConsumerGroupDescription after = describe(admin, GROUP);
                assertEquals(GroupState.STABLE, after.groupState());
                assertEquals(membersBefore, members(after));

                // Longer than a session: the members' sessions, started on load, only last if their heartbeats
                // (in the generation they had) are accepted; one refused would make the consumer rejoin.
                pollBothFor(a, b, Duration.ofMillis(2L * SESSION_MS));

                assertEquals(rebalancesBefore, rebalancesA.count + rebalancesB.count, "no rebalance after the restart");
                for (ConsumerGroupMetadata[] pair : new ConsumerGroupMetadata[][]{{beforeA, a.groupMetadata()},
                        {beforeB, b.groupMetadata()}}) {
                    assertEquals(pair[0].generationId(), pair[1].generationId(), "no new generation");
                    assertEquals(pair[0].memberId(), pair[1].memberId());
                }
                assertEquals("instance-b", b.groupMetadata().groupInstanceId().orElseThrow());
                ConsumerGroupDescription later = describe(admin, GROUP);
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
