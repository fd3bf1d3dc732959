package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
 * A Tandem Kafka broker keeping its metadata in a three-member Tandem ensemble: when the ZooKeeper leader stops,
 * the broker's session (and so its ephemeral registration) survives the leader change, and it keeps writing
 * metadata through the new leader.
 */
class KafkaOnEnsembleTest {
    @TempDir
    Path dir;

    @Test
    void brokerRegistrationSurvivesAZooKeeperLeaderChange() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            TandemConfig brokerConfig = TandemConfig.forTests(dir.resolve("broker"))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("zookeeper.connect", ensemble.connectAll())
                    .set("zookeeper.session.timeout.ms", "6000");
            try (Tandem broker = Tandem.start(brokerConfig);
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("before", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                long ownerBefore = registrationOwner(ensemble.connectAll());

                ensemble.stop(leader);
                int newLeader = ensemble.awaitServing(30_000);
                assertNotEquals(leader, newLeader, "another member leads");

                // Metadata writes go through the new leader; the registration is the same session's ephemeral.
                admin.createTopics(List.of(new NewTopic("after", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
                try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(newLeader), 10_000, null)) {
                    assertNotNull(zk.exists("/brokers/topics/after", false), "the topic was written after the change");
                    assertNotNull(zk.exists("/brokers/topics/before", false));
                }
                assertEquals(ownerBefore, registrationOwner(ensemble.connect(newLeader)),
                        "the broker kept its ZooKeeper session, so its registration never went away");
            }
        }
    }

    private static long registrationOwner(String connect) throws Exception {
        try (ZooKeeper zk = TestEnsemble.client(connect, 10_000, null)) {
            Stat stat = zk.exists("/brokers/ids/0", false);
            assertNotNull(stat, "/brokers/ids/0 is registered");
            assertNotEquals(0, stat.getEphemeralOwner(), "the registration is ephemeral");
            return stat.getEphemeralOwner();
        }
    }
}
