package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zookeeper.set.acl=true} side by side: Apache Kafka 3.9.1 and a Tandem broker, each on its own Tandem
 * ZooKeeper with SASL DIGEST-MD5 and each logging in from a JAAS {@code Client} section as user {@code kafka}, make the
 * same topic and SCRAM user; every znode both trees hold must carry the same ACL.
 */
class ZnodeAclDifferentialTest {
    private static final String SERVER_JAAS =
            "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka=\"kafka-secret\"; };\n";
    private static final String CLIENT_JAAS = "Client { org.apache.zookeeper.server.auth.DigestLoginModule required "
            + "username=\"kafka\" password=\"kafka-secret\"; };\n";

    @TempDir
    Path dir;

    private static TandemConfig saslZooKeeper(Path dir, Path serverJaas) {
        return TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
    }

    private static void prepare(int port) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000))) {
            admin.createTopics(List.of(new NewTopic("guarded", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "alice-secret")))
                    .all().get(60, TimeUnit.SECONDS);
        }
    }

    /** Every znode's ACL (but ZooKeeper's own), read by a client logged in as the brokers' user. */
    private static Map<String, List<ACL>> acls(String connect) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty("zookeeper.fips-mode", "false"); // the 3.9 client's FIPS mode forbids DIGEST-MD5
        CountDownLatch authenticated = new CountDownLatch(1);
        try (ZooKeeper zk = new ZooKeeper(connect, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) authenticated.countDown();
        }, config)) {
            assertTrue(authenticated.await(30, TimeUnit.SECONDS), "logged in to " + connect);
            Map<String, List<ACL>> acls = new TreeMap<>();
            for (String root : zk.getChildren("/", false)) {
                if (!root.equals("zookeeper")) walk(zk, "/" + root, acls);
            }
            return acls;
        }
    }

    private static void walk(ZooKeeper zk, String path, Map<String, List<ACL>> acls) throws Exception {
        acls.put(path, zk.getACL(path, null));
        for (String child : zk.getChildren(path, false)) walk(zk, path + "/" + child, acls);
    }

    @Test
    void shouldPutTheSameAclsOnTheSameZnodesAsApacheKafka39() throws Exception {
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), SERVER_JAAS);
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), CLIENT_JAAS);
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.put("zookeeper.set.acl", "true");
        Configuration previous = Configuration.getConfiguration();
        // This JVM's JAAS configuration: the Tandem broker's and the reading client's Client section.
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(clientJaas.toUri())));
        try (Tandem apacheZooKeeper = Tandem.start(saslZooKeeper(dir.resolve("zk-apache"), serverJaas));
             Tandem tandemZooKeeper = Tandem.start(saslZooKeeper(dir.resolve("zk-tandem"), serverJaas));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), apacheZooKeeper.zookeeperConnect(),
                     settings, List.of("-Djava.security.auth.login.config=" + clientJaas));
             Tandem tandem = Tandem.start(applied(TandemConfig.forTests(dir.resolve("tandem"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                     .set("zookeeper.connect", tandemZooKeeper.zookeeperConnect()), settings))) {
            Differential.awaitReady(apache).close();
            prepare(apache.port());
            prepare(tandem.kafkaPort());
            Map<String, List<ACL>> fromApache = acls(apacheZooKeeper.zookeeperConnect());
            Map<String, List<ACL>> fromTandem = acls(tandemZooKeeper.zookeeperConnect());
            TreeSet<String> both = new TreeSet<>(fromApache.keySet());
            both.retainAll(fromTandem.keySet());
            System.out.println("znode ACL differential: only Apache's tree " + minus(fromApache, both)
                    + ", only Tandem's " + minus(fromTandem, both));
            for (String path : List.of("/brokers/ids/0", "/brokers/topics/guarded", "/config/users/alice",
                    "/config/topics/guarded", "/controller", "/cluster/id", "/consumers", "/config/brokers", "/feature")) {
                assertTrue(both.contains(path), path + " is in both trees: " + both);
            }
            Map<String, String> differences = new TreeMap<>();
            for (String path : both) {
                if (!fromApache.get(path).equals(fromTandem.get(path))) {
                    differences.put(path, "Apache " + fromApache.get(path) + ", Tandem " + fromTandem.get(path));
                }
            }
            assertTrue(both.size() > 25, "most of the tree was compared: " + both);
            assertEquals(Map.of(), differences, "znode ACLs that differ from Apache Kafka 3.9.1's");
        } finally {
            Configuration.setConfiguration(previous);
        }
    }

    private static TandemConfig applied(TandemConfig config, Map<String, String> settings) {
        settings.forEach(config::set);
        return config;
    }

    private static TreeSet<String> minus(Map<String, List<ACL>> tree, TreeSet<String> both) {
        TreeSet<String> only = new TreeSet<>(tree.keySet());
        only.removeAll(both);
        return only;
    }
}
