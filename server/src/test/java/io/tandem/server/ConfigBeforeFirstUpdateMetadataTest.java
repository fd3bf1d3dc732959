package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.storage.log.LogConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic config change, or a change of the dynamic broker defaults, made after a broker opened its logs but before
 * the controller's first UpdateMetadata told it of their topics, reaches those logs: Kafka's LogManager applies such
 * changes to every log it holds (TopicConfigHandler, DynamicLogConfig), whatever its metadata cache knows. Tandem
 * applied them only to the logs of topics its cache knew, so these logs kept their start-up settings until the next
 * change. The controller is held off by this test's own ZooKeeper session owning {@code /controller} (a controller
 * that never sends anything), so the broker stays without UpdateMetadata for as long as the test needs.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConfigBeforeFirstUpdateMetadataTest {
    private static final String TOPIC = "early";

    @Test
    void shouldApplyConfigChangesToLogsWhoseTopicTheCacheDoesNotKnowYet(@TempDir Path dir) throws Exception {
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            ZooKeeper client = connect(zookeeper.zookeeperConnect());
            try {
                try (Tandem first = broker(dir, zookeeper.zookeeperConnect());
                     Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                             first.bootstrapServers()))) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                    awaitTrue(() -> first.kafkaBroker().logs().get(tp) != null, "the log of " + tp);
                }
                client.create("/controller", ("{\"version\":1,\"brokerid\":99,\"timestamp\":\"0\"}")
                        .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);

                try (Tandem again = broker(dir, zookeeper.zookeeperConnect())) {
                    KafkaBroker broker = again.kafkaBroker();
                    Partition partition = broker.logs().get(tp);
                    assertNotNull(partition, "the log on disk is open at start-up");
                    assertNull(broker.metadata().knownTopic(TOPIC), "no UpdateMetadata has come");
                    long defaultRetentionMs = partition.log().config().retentionMs();
                    assertTrue(defaultRetentionMs != 1234, "retention " + defaultRetentionMs);

                    // A topic override, as Kafka's AdminZkClient.changeTopicConfig writes it.
                    put(client, KafkaZkLayout.topicConfigPath(TOPIC),
                            KafkaZkLayout.encodeEntityConfig(Map.of("retention.ms", "1234")));
                    notifyChange(client, "topics/" + TOPIC);
                    awaitConfig(partition, c -> c.retentionMs() == 1234, "the topic's retention.ms");

                    // The cluster default of the brokers' settings: the log keeps its topic's override beside it.
                    put(client, "/config/brokers/<default>",
                            KafkaZkLayout.encodeEntityConfig(Map.of("log.segment.bytes", "2000000")));
                    notifyChange(client, "brokers/<default>");
                    awaitConfig(partition, c -> c.segmentBytes() == 2_000_000, "the default log.segment.bytes");
                    assertEquals(1234, partition.log().config().retentionMs());
                    assertNull(broker.metadata().knownTopic(TOPIC), "still no UpdateMetadata");
                    // The controller may come now, so the broker shuts down as usual.
                    client.delete("/controller", -1);
                }
            } finally {
                client.close();
            }
        }
    }

    private static Tandem broker(Path dir, String zookeeperConnect) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("broker")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", "1").set("zookeeper.connect", zookeeperConnect)
                .set("controlled.shutdown.retry.backoff.ms", "100"));
    }

    private static ZooKeeper connect(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper client = new ZooKeeper(connectString, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS), "connected to ZooKeeper");
        return client;
    }

    private static void put(ZooKeeper client, String path, byte[] data) throws Exception {
        try {
            client.setData(path, data, -1);
        } catch (KeeperException.NoNodeException e) {
            client.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    private static void notifyChange(ZooKeeper client, String entityPath) throws Exception {
        client.create(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange(entityPath), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL);
    }

    private static void awaitConfig(Partition partition, Predicate<LogConfig> applied, String what)
            throws InterruptedException {
        awaitTrue(() -> applied.test(partition.log().config()), what + " in the log's config");
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "never: " + what);
            Thread.sleep(20);
        }
    }
}
