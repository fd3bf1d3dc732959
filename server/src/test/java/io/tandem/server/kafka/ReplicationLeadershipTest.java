package io.tandem.server.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leadership moving between the replicas of three Tandem brokers, through the controller: a stopping broker hands
 * its leaderships over first (controlled shutdown, with Kafka's retries and backoff), and leadership goes back to the
 * preferred replica on request (ElectLeaders) or on its own (auto.leader.rebalance.enable).
 */
class ReplicationLeadershipTest extends ReplicationClusterTest {
    @Test
    void shouldMoveLeadershipAwayBeforeAStoppingBrokerIsGone() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("handover", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        // The controller has elected the new partition and told its leader (a ControlledShutdown that reaches the
        // controller before the topic's creation does finds nothing to move, as in Kafka: CI saw that once).
        PartitionWaits.awaitIsrSize(admin, cluster, "handover", 0, 3);
        int leader = PartitionWaits.describe(admin, "handover").partitions().get(0).leader().id();
        cluster.stopBroker(leader);
        PartitionWaits.awaitLeaderChange(admin, "handover", 0, leader);
        // ControlledShutdown: the controller moved the leadership (and the ISR) while the broker was still
        // registered, so the state changed before the registration went (ZooKeeper's zxids order the two).
        try (ZooKeeper zk = zkClient()) {
            org.apache.zookeeper.data.Stat state = zk.exists("/brokers/topics/handover/partitions/0/state", false);
            org.apache.zookeeper.data.Stat ids = zk.exists("/brokers/ids", false);
            assertTrue(state.getMzxid() < ids.getPzxid(), "leadership moved at zxid " + state.getMzxid()
                    + ", after broker " + leader + "'s registration went at " + ids.getPzxid());
            String data = new String(zk.getData("/brokers/topics/handover/partitions/0/state", false, null),
                    StandardCharsets.UTF_8);
            assertFalse(data.matches(".*\"isr\":\\[[^\\]]*\\b" + leader + "\\b.*"), data);
        }
    }

    /**
     * Kafka 3.9's controlled shutdown retries (KafkaServer.controlledShutdown): a stopping broker whose request to the
     * controller fails asks again controlled.shutdown.retry.backoff.ms later, up to controlled.shutdown.max.retries
     * times. Broker 2 stops while the controller (broker 1, reached through a proxy) is cut off, and the link heals
     * between its first and second try: only the second can move its leadership before it is gone. Before, the tries
     * were 200 ms apart whatever the setting, and all were spent before the link healed.
     */
    @Test
    void shouldRetryAFailedControlledShutdownAfterTheBackoff() throws Exception {
        int port = io.tandem.server.ensemble.TestEnsemble.freePort();
        try (io.tandem.server.ensemble.FaultyProxy proxy = new io.tandem.server.ensemble.FaultyProxy(port)) {
            // Broker 1 starts first, so it is the controller; the others reach it through the proxy.
            use(kafka.start(2, config -> {
                // Broker 2's alone: the last broker to stop at the end still leads, and need not wait that long.
                if (config.get("broker.id").equals("2")) config.set("controlled.shutdown.retry.backoff.ms", "3000");
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { }));
            admin.createTopics(List.of(new NewTopic("retried", Map.of(0, List.of(2, 1))))).all()
                    .get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "retried", 0, 2);
            proxy.cut();
            java.util.concurrent.CompletableFuture<Void> stopped = java.util.concurrent.CompletableFuture.runAsync(
                    () -> cluster.stopBroker(2));
            Thread.sleep(1_000);
            proxy.heal();
            stopped.get(60, TimeUnit.SECONDS);
            assertLeadershipMovedBeforeTheBrokerWent("retried", 1);
        }
    }

    /**
     * A broker whose leadership no other in-sync replica can take is told so by every try; it waits the backoff
     * between them and then stops anyway (Kafka's "unclean shutdown" after the last try). Before, the first such
     * answer ended the controlled shutdown at once.
     */
    @Test
    void shouldTryEveryRetryWhileAPartitionCannotMoveThenStopAnyway() throws Exception {
        startBrokers(Map.of("controlled.shutdown.retry.backoff.ms", "1000"));
        admin.createTopics(List.of(new NewTopic("stuck", Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, cluster, "stuck", 0, 2);
        // Its follower goes first: then broker 1 is the partition's only in-sync replica.
        cluster.stopBroker(2);
        PartitionWaits.awaitIsrSize(admin, cluster, "stuck", 0, 1);
        long started = System.nanoTime();
        cluster.stopBroker(1);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMs >= 2_000, "three tries wait two backoffs of 1 s, but the stop took " + tookMs + " ms");
    }

    /** The partition's state names {@code leader}, written while the stopped broker was still registered. */
    private void assertLeadershipMovedBeforeTheBrokerWent(String topic, int leader) throws Exception {
        try (ZooKeeper zk = zkClient()) {
            String path = "/brokers/topics/" + topic + "/partitions/0/state";
            org.apache.zookeeper.data.Stat state = zk.exists(path, false);
            org.apache.zookeeper.data.Stat ids = zk.exists("/brokers/ids", false);
            String data = new String(zk.getData(path, false, null), StandardCharsets.UTF_8);
            assertTrue(data.contains("\"leader\":" + leader), "the leadership moved to broker " + leader + ": " + data);
            assertTrue(state.getMzxid() < ids.getPzxid(), "leadership moved at zxid " + state.getMzxid()
                    + ", the broker's registration went at " + ids.getPzxid() + ": the move must come first; " + data);
        }
    }

    @Test
    void shouldElectThePreferredLeaderBackOnRequest() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("preferred", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        int preferred = PartitionWaits.describe(admin, "preferred").partitions().get(0).replicas().get(0).id();
        cluster.stopBroker(preferred);
        PartitionWaits.awaitLeaderChange(admin, "preferred", 0, preferred);
        cluster.restartBroker(preferred);
        PartitionWaits.awaitIsrSize(admin, cluster, "preferred", 0, 3);
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("preferred", 0);
        // Kafka's Admin sends ElectLeaders to the controller it last learnt of and, unlike CreateTopics, does not look
        // again on NOT_CONTROLLER: when the stopped broker was the controller, this test's client may still name it
        // (it answers again, as a broker), as it would with Apache's brokers. A client made now learns the new one.
        try (Admin elector = Admin.create(Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap()))) {
            elector.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all()
                    .get(30, TimeUnit.SECONDS);
            assertEquals(preferred, PartitionWaits.describe(admin, "preferred").partitions().get(0).leader().id());
            ExecutionException again = assertThrows(ExecutionException.class, () -> elector.electLeaders(
                    org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all().get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.ElectionNotNeededException.class, again.getCause());
        }
    }

    @Test
    void shouldMoveLeadershipBackToThePreferredReplicaOnItsOwn() throws Exception {
        Map<String, String> fastRebalance = Map.of("leader.imbalance.check.interval.seconds", "1");
        startBrokers(fastRebalance);
        admin.createTopics(List.of(new NewTopic("rebalanced", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        int preferred = PartitionWaits.describe(admin, "rebalanced").partitions().get(0).replicas().get(0).id();
        cluster.stopBroker(preferred);
        PartitionWaits.awaitLeaderChange(admin, "rebalanced", 0, preferred);
        cluster.restartBroker(preferred);
        long deadline = System.currentTimeMillis() + 30_000;
        while (PartitionWaits.describe(admin, "rebalanced").partitions().get(0).leader() == null
                || PartitionWaits.describe(admin, "rebalanced").partitions().get(0).leader().id() != preferred) {
            assertTrue(System.currentTimeMillis() < deadline, "leadership never went back to broker " + preferred);
            Thread.sleep(100);
        }
    }
}
