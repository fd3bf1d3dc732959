package io.tandem.server;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CreateTopics' checks in Kafka 3.9's ZooKeeper-mode order (ZkAdminManager.createTopics, then
 * AdminZkClient.validateTopicCreate), where Tandem's order differed: a config sent without a value is refused right
 * after the cache's existence check, with every such name; a topic whose deletion waits is "marked for deletion"
 * before its assignment and configs are looked at; a name colliding with another over '.' and '_' is refused before
 * its configs. Validate-only answers alike. Real broker, Apache's Admin client.
 */
class CreateTopicsCheckOrderTest {
    private static final long WAIT_S = 60;

    @TempDir
    Path dir;

    @Test
    void shouldRefuseConfigsWithoutValueFirst() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("controlled.shutdown.enable", "false"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = admin(tandem)) {
            // Null values, named in the request's order, before the bad count (Kafka checks them first); the
            // Admin client sends a map's null value as a null string.
            Map<String, String> nulls = new LinkedHashMap<>();
            nulls.put("segment.ms", null);
            nulls.put("retention.ms", "1000");
            nulls.put("cleanup.policy", null);
            for (boolean validateOnly : List.of(false, true)) {
                refused(admin, new NewTopic("nulls", 0, (short) 1).configs(nulls), validateOnly,
                        InvalidConfigurationException.class,
                        "Null value not supported for topic configs: segment.ms,cleanup.policy");
            }
            assertNull(zk.exists("/brokers/topics/nulls", false), "a refused topic is not written");
        }
    }

    @Test
    void shouldRefuseANameCollidingOverDotAndUnderscoreBeforeItsConfigs() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("controlled.shutdown.enable", "false"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = admin(tandem)) {
            // A name colliding over '.' and '_' with a topic there: refused before its configs, and with good
            // configs too (Tandem used to create it).
            admin.createTopics(List.of(new NewTopic("metrics_a", 1, (short) 1))).all().get(WAIT_S, TimeUnit.SECONDS);
            for (boolean validateOnly : List.of(false, true)) {
                for (Map<String, String> configs : List.of(Map.of("retention.ms", "soon"), Map.<String, String>of())) {
                    refused(admin, new NewTopic("metrics.a", 1, (short) 1).configs(configs), validateOnly,
                            InvalidTopicException.class, "Topic 'metrics.a' collides with existing topics: metrics_a");
                }
            }
            assertNull(zk.exists("/brokers/topics/metrics.a", false), "a colliding topic is not written");
        }
    }

    @Test
    void shouldRefuseATopicMarkedForDeletionBeforeItsAssignmentAndConfigs() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("controlled.shutdown.enable", "false"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = admin(tandem)) {
            // A topic whose deletion cannot finish (its only replica is on broker 99, registered but never running,
            // so its replica is never deleted): it has left the cache, its znodes stay, and it is "marked for
            // deletion" before a bad assignment or bad configs.
            register(zk, 99);
            admin.createTopics(List.of(new NewTopic("doomed", Map.of(0, List.of(99))))).all()
                    .get(WAIT_S, TimeUnit.SECONDS);
            assertNotNull(zk.exists("/brokers/topics/doomed", false));
            admin.deleteTopics(List.of("doomed")).all().get(WAIT_S, TimeUnit.SECONDS);
            assertNotNull(zk.exists("/admin/delete_topics/doomed", false), "the deletion waits for broker 99");
            String marked = "Topic 'doomed' is marked for deletion.";
            for (boolean validateOnly : List.of(false, true)) {
                refused(admin, new NewTopic("doomed", 1, (short) 1).configs(Map.of("retention.ms", "soon")),
                        validateOnly, TopicExistsException.class, marked);
                refused(admin, new NewTopic("doomed", Map.of(0, List.of(1, 1))), validateOnly,
                        TopicExistsException.class, marked);
                refused(admin, new NewTopic("doomed", 1, (short) 1), validateOnly, TopicExistsException.class,
                        marked);
            }
        }
    }

    private static void refused(Admin admin, NewTopic topic, boolean validateOnly,
                                Class<? extends Throwable> error, String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(topic),
                new CreateTopicsOptions().validateOnly(validateOnly)).all().get(WAIT_S, TimeUnit.SECONDS));
        assertInstanceOf(error, e.getCause(), topic + " validateOnly " + validateOnly);
        assertEquals(message, e.getCause().getMessage(), topic + " validateOnly " + validateOnly);
    }

    /**
     * A broker registered as Kafka registers one but never running: its port refuses connections, and its
     * registration is dated an hour ahead so the controller's dead-process probe keeps it live for the whole test.
     */
    private static void register(ZooKeeper zk, int id) throws Exception {
        long graceUntilTheTestEnds = System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1);
        zk.create("/brokers/ids/" + id, KafkaZkLayout.encodeBroker(new KafkaZkLayout.BrokerRegistration(id,
                        "127.0.0.1", 1, "PLAINTEXT", null, graceUntilTheTestEnds)),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    private static ZooKeeper zooKeeper(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS), "ZooKeeper session");
        return zk;
    }
}
