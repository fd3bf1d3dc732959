package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka 3.9.1's {@code zookeeper-security-migration} tool (kafka.admin.ZkSecurityMigrator, run from Kafka's own jars
 * in its own JVM, logged in with SASL DIGEST-MD5 as user {@code kafka}) against Tandem's ZooKeeper and against Apache
 * ZooKeeper 3.9.5 (its own jars, its own JVM), each holding the same Kafka tree made with open ACLs: after
 * {@code --zookeeper.acl=secure} and again after {@code --zookeeper.acl=unsecure}, every znode (ZooKeeper's own
 * {@code /zookeeper} aside) must carry the same ACL on both servers, the root included.
 */
class ZkSecurityMigratorDifferentialTest {
    private static final String SERVER_JAAS =
            "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka=\"kafka-secret\"; };\n";
    private static final String CLIENT_JAAS = "Client { org.apache.zookeeper.server.auth.DigestLoginModule required "
            + "username=\"kafka\" password=\"kafka-secret\"; };\n";
    private static final String SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
    private static final Id KAFKA = new Id("sasl", "kafka");
    private static final Id ANYONE = new Id("world", "anyone");
    /** A broker's tree (as a Kafka cluster without zookeeper.set.acl leaves it) and a path Kafka does not own. */
    private static final List<String> TREE = List.of("/brokers", "/brokers/ids", "/brokers/topics",
            "/brokers/topics/t", "/brokers/topics/t/partitions", "/brokers/topics/t/partitions/0",
            "/brokers/topics/t/partitions/0/state", "/config", "/config/topics", "/config/topics/t", "/config/users",
            "/config/users/alice", "/config/brokers", "/config/changes", "/admin", "/admin/delete_topics", "/cluster",
            "/cluster/id", "/controller_epoch", "/consumers", "/consumers/g", "/app", "/app/data");

    @TempDir
    Path dir;

    @Test
    void shouldSetTheAclsApacheZooKeeperEndsWithInBothDirections() throws Exception {
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), SERVER_JAAS);
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), CLIENT_JAAS);
        Configuration previous = Configuration.getConfiguration();
        // This JVM's JAAS configuration: the Client section of the client that builds and reads the trees.
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig",
                new URIParameter(clientJaas.toUri())));
        Process apacheZooKeeper = null;
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", SASL_PROVIDER))) {
            int apachePort = ApacheKafkaLauncher.freePort();
            apacheZooKeeper = startApacheZooKeeper(dir.resolve("apache"), apachePort, serverJaas);
            String apache = "127.0.0.1:" + apachePort;
            String ours = tandem.zookeeperConnect();
            build(apache);
            build(ours);

            migrate("secure", apache, clientJaas);
            migrate("secure", ours, clientJaas);
            Map<String, List<ACL>> secured = acls(ours);
            assertEquals(acls(apache), secured, "ACLs after --zookeeper.acl=secure");
            // Kafka's ZkData.defaultAcls for a secure client: its own ids with all rights, world read where others
            // may look, nothing for others under /config/users; /consumers stays open; a path Kafka does not own
            // keeps its ACL (the root is set, not walked).
            List<ACL> kafkaAndRead = List.of(new ACL(ZooDefs.Perms.ALL, KAFKA), new ACL(ZooDefs.Perms.READ, ANYONE));
            assertEquals(kafkaAndRead, secured.get("/brokers/topics/t/partitions/0/state"));
            assertEquals(kafkaAndRead, secured.get("/"));
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, KAFKA)), secured.get("/config/users/alice"));
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, secured.get("/consumers/g"));
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, secured.get("/app/data"));
            assertTrue(secured.containsKey("/kafka-acl-extended"), "the tool creates Kafka's missing roots: "
                    + secured.keySet());

            migrate("unsecure", apache, clientJaas);
            migrate("unsecure", ours, clientJaas);
            Map<String, List<ACL>> unsecured = acls(ours);
            assertEquals(acls(apache), unsecured, "ACLs after --zookeeper.acl=unsecure");
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, unsecured.get("/config/users/alice"));
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, unsecured.get("/"));
        } finally {
            Configuration.setConfiguration(previous);
            if (apacheZooKeeper != null) ApacheKafkaLauncher.stop(apacheZooKeeper, 10);
        }
    }

    /** Apache ZooKeeper 3.9.5 standalone with the same SASL setup, in its own JVM from its own jars. */
    private static Process startApacheZooKeeper(Path home, int port, Path serverJaas) throws IOException {
        // ZooKeeper's pom marks metrics-core and snappy-java provided, yet its server needs them to start.
        Path lib = ApacheKafkaLauncher.fetchJars("apache-zookeeper-3.9.5-standalone",
                List.of("org.apache.zookeeper:zookeeper:3.9.5", "io.dropwizard.metrics:metrics-core:4.1.12.1",
                        "org.xerial.snappy:snappy-java:1.1.10.8", "org.slf4j:slf4j-simple:2.0.17"));
        Files.createDirectories(home.resolve("data"));
        Path config = Files.writeString(home.resolve("zoo.cfg"), String.join("\n", "tickTime=2000",
                "dataDir=" + home.resolve("data").toAbsolutePath(), "clientPort=" + port,
                "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                "authProvider.sasl=" + SASL_PROVIDER) + "\n");
        Path log = home.resolve("zookeeper.log");
        Process process = ApacheKafkaLauncher.java(lib, "-Xmx128m", "-Djava.security.auth.login.config=" + serverJaas,
                        "org.apache.zookeeper.server.ZooKeeperServerMain", config.toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return process;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException("Apache ZooKeeper did not start:\n" + ApacheKafkaLauncher.tail(log));
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    /** Runs Kafka 3.9.1's tool in its own JVM, logged in from the JAAS Client section; fails with its output. */
    private void migrate(String acl, String connect, Path clientJaas) throws IOException {
        Path lib = ApacheKafkaLauncher.fetchJars("apache-kafka-" + ApacheBroker.ZOOKEEPER_MODE_VERSION + "-zk",
                List.of("org.apache.kafka:kafka_2.13:" + ApacheBroker.ZOOKEEPER_MODE_VERSION,
                        "org.slf4j:slf4j-simple:1.7.36"));
        Path log = dir.resolve("migrator-" + acl + "-" + connect.replace(':', '-') + ".log");
        Process tool = ApacheKafkaLauncher.java(lib, "-Xmx128m", "-Djava.security.auth.login.config=" + clientJaas,
                        "kafka.admin.ZkSecurityMigrator", "--zookeeper.acl=" + acl, "--zookeeper.connect=" + connect)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        ApacheKafkaLauncher.waitFor(tool, "ZkSecurityMigrator --zookeeper.acl=" + acl + " on " + connect, log);
    }

    /** The same open tree on a server, once it answers (Apache's JVM may still be starting). */
    private static void build(String connect) throws Exception {
        try (ZooKeeper zk = login(connect)) {
            for (String path : TREE) {
                zk.create(path, path.getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    /** Every znode's ACL but ZooKeeper's own, read by a client logged in as the tool's user. */
    private static Map<String, List<ACL>> acls(String connect) throws Exception {
        try (ZooKeeper zk = login(connect)) {
            Map<String, List<ACL>> acls = new TreeMap<>();
            acls.put("/", zk.getACL("/", null));
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

    private static ZooKeeper login(String connect) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            ZKClientConfig config = new ZKClientConfig();
            config.setProperty("zookeeper.fips-mode", "false"); // the 3.9 client's FIPS mode forbids DIGEST-MD5
            CountDownLatch authenticated = new CountDownLatch(1);
            ZooKeeper zk = new ZooKeeper(connect, 30_000, event -> {
                if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) authenticated.countDown();
            }, config);
            if (authenticated.await(5, TimeUnit.SECONDS)) return zk;
            zk.close();
            assertTrue(System.nanoTime() < deadline, "no SASL login to " + connect + " within 60 s");
        }
    }
}
