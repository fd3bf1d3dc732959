package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker cut off from ZooKeeper for longer than its session timeout loses its session and with it the ephemeral
 * registration; like Kafka's, it opens a new session once ZooKeeper is reachable again and registers again.
 */
class KafkaSessionExpiryTest {
    @TempDir
    Path dir;

    @Test
    void brokerRegistersAgainAfterItsZooKeeperSessionExpires() throws Exception {
        TandemConfig zkConfig = TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("tickTime", "200");
        try (Tandem zookeeper = Tandem.start(zkConfig);
             FaultyProxy link = new FaultyProxy(zookeeper.zookeeperPort())) {
            String direct = "127.0.0.1:" + zookeeper.zookeeperPort();
            TandemConfig brokerConfig = TandemConfig.forTests(dir.resolve("broker"))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("zookeeper.connect", "127.0.0.1:" + link.port())
                    .set("zookeeper.session.timeout.ms", "1000")
                    // Kafka waits for the first session zookeeper.connection.timeout.ms, by default the session
                    // timeout: 1000 ms is too short a wait on a loaded machine, and the wait is not under test here.
                    .set("zookeeper.connection.timeout.ms", "30000");
            try (Tandem broker = Tandem.start(brokerConfig);
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         broker.bootstrapServers()));
                 ZooKeeper zk = TestEnsemble.client(direct, 10_000, null)) {
                Stat before = zk.exists("/brokers/ids/0", false);
                assertNotNull(before, "registered at start");

                link.cut();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (zk.exists("/brokers/ids/0", false) != null) {
                    assertTrue(System.nanoTime() < deadline, "the cut-off broker's session never expired");
                    Thread.sleep(50);
                }
                link.heal();

                Stat after = null;
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (after == null) {
                    assertTrue(System.nanoTime() < deadline, "the broker did not register again");
                    Thread.sleep(50);
                    after = zk.exists("/brokers/ids/0", false);
                }
                assertNotEquals(before.getEphemeralOwner(), after.getEphemeralOwner(), "under a new session");
                // Registration and the bid for controller are two writes, as in Kafka: the bid follows at once.
                while (zk.exists("/controller", false) == null) {
                    assertTrue(System.nanoTime() < deadline, "it ran for controller again");
                    Thread.sleep(20);
                }

                admin.createTopics(List.of(new NewTopic("after-expiry", 1, (short) 1))).all()
                        .get(60, TimeUnit.SECONDS);
                assertNotNull(zk.exists("/brokers/topics/after-expiry", false), "metadata writes use the new session");
            }
        }
    }
}
