package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.admin;
import static io.tandem.server.ShareClusterClients.leader;
import static io.tandem.server.ShareClusterClients.led;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A group config altered through one broker is in force at once on the group's coordinator on another: the altering
 * broker leaves a change notification under {@code /config/changes}, which every broker follows (Kafka 3.9's
 * ConfigChangeListener), where before the coordinator kept the value it had read first until it restarted. A
 * broker that starts reads them all.
 */
class GroupConfigChangesTest {
    private static final String TOPIC = "events";
    private static final String GROUP = "g";
    private static final long PROMPTLY_MS = 10_000;

    @TempDir
    Path dir;

    /**
     * A new member's first heartbeat; asked again, as a consumer does, while the coordinator's broker is still taking
     * the offsets partition's leadership it was just given (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), or has
     * created the offsets topic but not yet heard of it from the controller (COORDINATOR_NOT_AVAILABLE: the 4.x
     * consumer's heartbeat manager marks the coordinator unknown and asks again, as for the other two).
     */
    private static ConsumerGroupHeartbeatResponseData join(OfficialClientConnection c) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            ConsumerGroupHeartbeatResponse r = c.call(new ConsumerGroupHeartbeatRequest.Builder(
                    new ConsumerGroupHeartbeatRequestData().setGroupId(GROUP).setMemberId(Uuid.randomUuid().toString())
                            .setMemberEpoch(0).setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of(TOPIC))
                            .setTopicPartitions(List.of())).build((short) 1));
            short error = r.data().errorCode();
            boolean loading = error == Errors.NOT_COORDINATOR.code()
                    || error == Errors.COORDINATOR_LOAD_IN_PROGRESS.code()
                    || error == Errors.COORDINATOR_NOT_AVAILABLE.code();
            if (!loading || System.currentTimeMillis() > deadline) {
                assertEquals(0, error, r.data().toString());
                return r.data();
            }
            Thread.sleep(20);
        }
    }

    private static void alter(OfficialClientConnection c, String name, String value) throws Exception {
        IncrementalAlterConfigsRequestData.AlterableConfigCollection configs =
                new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
        configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName(name).setValue(value)
                .setConfigOperation((byte) 0));
        IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources =
                new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
        resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(ConfigResource.Type.GROUP.id()).setResourceName(GROUP).setConfigs(configs));
        IncrementalAlterConfigsResponse r = c.call(new IncrementalAlterConfigsRequest.Builder(
                new IncrementalAlterConfigsRequestData().setResources(resources)).build((short) 1));
        assertEquals(0, r.data().responses().get(0).errorCode(), r.data().toString());
    }

    private static String described(OfficialClientConnection c, String name) throws Exception {
        DescribeConfigsResponse r = c.call(new DescribeConfigsRequest.Builder(new DescribeConfigsRequestData()
                .setResources(List.of(new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType(ConfigResource.Type.GROUP.id()).setResourceName(GROUP)
                        .setConfigurationKeys(List.of(name))))).build((short) 4));
        return r.data().results().get(0).configs().get(0).value();
    }

    @Test
    void aGroupConfigAlteredOnOneBrokerShouldBeInForceOnTheCoordinatorOnAnother() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, c -> c
                .set("offsets.topic.num.partitions", "1")
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.heartbeat.interval.ms", "300")
                .set("group.consumer.min.session.timeout.ms", "1000")
                .set("group.consumer.session.timeout.ms", "6000"));
             Admin admin = admin(cluster)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            // One offsets partition: its leader coordinates every group.
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            int coordinator = leader(led(any, () -> any.topics().ensureOffsetsTopic()), 0);
            int other = coordinator % 3 + 1;
            try (OfficialClientConnection atCoordinator = new OfficialClientConnection(
                    cluster.broker(coordinator).kafkaPort());
                 OfficialClientConnection atOther = new OfficialClientConnection(cluster.broker(other).kafkaPort())) {
                // The coordinator has applied the group's (absent) configs: the broker's interval.
                assertEquals(300, join(atCoordinator).heartbeatIntervalMs());
                assertEquals("300", described(atCoordinator, "consumer.heartbeat.interval.ms"));

                alter(atOther, "consumer.heartbeat.interval.ms", "2500");
                assertEquals("2500", described(atOther, "consumer.heartbeat.interval.ms"));

                long deadline = System.currentTimeMillis() + PROMPTLY_MS;
                int interval;
                while ((interval = join(atCoordinator).heartbeatIntervalMs()) != 2500) {
                    assertTrue(System.currentTimeMillis() < deadline, "the coordinator on broker " + coordinator
                            + " still answers " + interval + " ms after broker " + other + " stored 2500");
                    Thread.sleep(100);
                }
                assertEquals("2500", described(atCoordinator, "consumer.heartbeat.interval.ms"));
                // The third broker follows the notifications too.
                int third = 6 - coordinator - other;
                try (OfficialClientConnection atThird =
                             new OfficialClientConnection(cluster.broker(third).kafkaPort())) {
                    deadline = System.currentTimeMillis() + PROMPTLY_MS;
                    while (!described(atThird, "consumer.heartbeat.interval.ms").equals("2500")) {
                        assertTrue(System.currentTimeMillis() < deadline, "broker " + third + " never saw it");
                        Thread.sleep(50);
                    }
                }
                // A broker starting reads every group's configs before it serves a group request.
                cluster.stopBroker(third);
                cluster.restartBroker(third);
                try (OfficialClientConnection restarted =
                             new OfficialClientConnection(cluster.broker(third).kafkaPort())) {
                    assertEquals("2500", described(restarted, "consumer.heartbeat.interval.ms"));
                }
            }
        }
    }
}
