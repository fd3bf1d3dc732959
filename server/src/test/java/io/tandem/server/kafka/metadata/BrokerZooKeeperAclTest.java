package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker with {@code zookeeper.set.acl=true} logging in to a SASL ZooKeeper (DIGEST-MD5, JAAS {@code Client}
 * section) as Kafka 3.9 does: every znode it wrote carries the ACL Kafka's ZkData.defaultAcls gives its path, and a
 * client that has not logged in can read what Kafka leaves world-readable and change nothing.
 */
class BrokerZooKeeperAclTest {
    private static final Id BROKER = new Id("sasl", "kafka");
    private static final Id ANYONE = new Id("world", "anyone");

    @TempDir
    static Path dir;
    static Tandem zookeeper;
    static Tandem broker;
    static Configuration previousJaas;
    static ZooKeeper anonymous;
    /** Logged in as the broker's user: getACL needs READ or ADMIN, which the sensitive nodes give no one else. */
    static ZooKeeper asBroker;

    @BeforeAll
    static void start() throws Exception {
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), """
                Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka="kafka-secret"; };
                """);
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), """
                Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="kafka" password="kafka-secret"; };
                """);
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(clientJaas.toUri())));
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"));
        broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("zookeeper.connect", zookeeper.zookeeperConnect()).set("zookeeper.set.acl", "true"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + broker.kafkaPort()))) {
            admin.createTopics(List.of(new NewTopic("guarded", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "alice-secret")))
                    .all().get(30, TimeUnit.SECONDS);
        }
        // The official client without SASL, although the JVM's JAAS configuration has a Client section.
        ZKClientConfig plain = new ZKClientConfig();
        plain.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        CountDownLatch connected = new CountDownLatch(1);
        anonymous = new ZooKeeper(zookeeper.zookeeperConnect(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        }, plain);
        assertTrue(connected.await(30, TimeUnit.SECONDS));
        ZKClientConfig sasl = new ZKClientConfig();
        // The 3.9 client's FIPS mode (on by default) forbids DIGEST-MD5.
        sasl.setProperty("zookeeper.fips-mode", "false");
        CountDownLatch authenticated = new CountDownLatch(1);
        asBroker = new ZooKeeper(zookeeper.zookeeperConnect(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) authenticated.countDown();
        }, sasl);
        assertTrue(authenticated.await(30, TimeUnit.SECONDS));
    }

    @AfterAll
    static void stop() throws Exception {
        if (anonymous != null) anonymous.close();
        if (asBroker != null) asBroker.close();
        if (broker != null) broker.close();
        if (zookeeper != null) zookeeper.close();
        Configuration.setConfiguration(previousJaas);
    }

    /** Kafka 3.9's ZkData.defaultAcls(isSecure = true, path), written out from its source. */
    private static List<ACL> kafkaAcl(String path) {
        if (path.equals("/consumers")) return ZooDefs.Ids.OPEN_ACL_UNSAFE;
        List<ACL> acl = new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, BROKER)));
        boolean sensitive = path.startsWith("/config/users") || path.startsWith("/config/brokers")
                || path.startsWith("/delegation_token/tokens");
        if (!sensitive) acl.add(new ACL(ZooDefs.Perms.READ, ANYONE));
        return acl;
    }

    private static void walk(String path, Map<String, List<ACL>> acls) throws Exception {
        if (path.equals("/zookeeper")) return; // the server's own subtree, not the broker's
        acls.put(path, asBroker.getACL(path, null));
        for (String child : asBroker.getChildren(path, false)) walk(path + "/" + child, acls);
    }

    @Test
    void shouldPutKafkasAclOnEveryZnodeTheBrokerCreated() throws Exception {
        Map<String, List<ACL>> acls = new TreeMap<>();
        for (String root : asBroker.getChildren("/", false)) walk("/" + root, acls);
        for (String path : List.of("/brokers/ids/0", "/brokers/topics/guarded", "/brokers/topics/guarded/partitions/1/state",
                "/controller", "/controller_epoch", "/cluster/id", "/config/topics/guarded", "/config/users",
                "/config/brokers", "/config/changes", "/config/users/alice", "/consumers", "/admin/delete_topics", "/latest_producer_id_block")) {
            assertTrue(acls.containsKey(path), path + " was written by the broker: " + acls.keySet());
        }
        List<String> wrong = new ArrayList<>();
        acls.forEach((path, acl) -> {
            if (!acl.equals(kafkaAcl(path))) wrong.add(path + " has " + acl + ", Kafka's is " + kafkaAcl(path));
        });
        assertEquals(List.of(), wrong);
        assertTrue(acls.size() > 25, "the whole tree was walked: " + acls.keySet());
    }

    @Test
    void shouldLetAnUnauthenticatedClientReadOnlyWhatKafkaLeavesOpen() throws Exception {
        assertNotNull(anonymous.getData("/brokers/topics/guarded", false, null), "world-readable");
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getData("/config/users/alice", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getChildren("/config/users", false));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.setData("/brokers/topics/guarded", "{}".getBytes(StandardCharsets.UTF_8), -1));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.delete("/brokers/topics/guarded/partitions/1/state", -1));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.setACL("/controller", ZooDefs.Ids.OPEN_ACL_UNSAFE, -1));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.create("/admin/delete_topics/guarded",
                new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.create("/brokers/ids/7",
                new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));
        // The old consumers' root stays open, as in Kafka.
        anonymous.create("/consumers/anyone", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        anonymous.delete("/consumers/anyone", -1);
    }
}
