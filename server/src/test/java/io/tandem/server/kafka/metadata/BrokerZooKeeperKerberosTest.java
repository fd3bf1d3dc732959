package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.URIParameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.security.auth.login.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
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
 * A Tandem node whose ZooKeeper side accepts only SASL-authenticated connections (Kerberos: {@code enforce.auth} with
 * the {@code sasl} scheme, a Krb5LoginModule Server section) and whose broker logs in to it as Kafka 3.9's does with a
 * Krb5LoginModule {@code Client} section and a keytab, asking for a ticket to
 * {@code zookeeper.sasl.client.username/host}. The broker registers, topics work, and with
 * {@code zookeeper.set.acl=true} every znode it created carries Kafka's ACL for its Kerberos principal
 * ({@code sasl:kafkazk/localhost@EXAMPLE.COM}, the id Apache's server derives by default). A keytab login that fails
 * stops the broker at start-up with the reason.
 */
class BrokerZooKeeperKerberosTest {
    /** The ZooKeeper service (the KDC makes each principal once per JVM, so not ZooKeeper's default name). */
    private static final String SERVICE = "zkbrokersvc";
    private static final String BROKER_PRINCIPAL = TestKdc.servicePrincipal("kafkazk");
    private static final Id BROKER = new Id("sasl", BROKER_PRINCIPAL);
    private static final Id ANYONE = new Id("world", "anyone");

    @TempDir
    static Path dir;
    static Tandem node;
    static Configuration previousJaas;
    static ZooKeeper asBroker;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path serverKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        Path brokerKeytab = kdc.keytab(BROKER_PRINCIPAL);
        Path serverJaas = Files.writeString(dir.resolve("server-jaas.conf"), "Server {\n    "
                + TestKdc.krb5LoginModule(serverKeytab, TestKdc.servicePrincipal(SERVICE)) + "\n};\n");
        Path clientJaas = Files.writeString(dir.resolve("client-jaas.conf"), "Client {\n    "
                + TestKdc.krb5LoginModule(brokerKeytab, BROKER_PRINCIPAL) + "\n};\n");
        previousJaas = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(clientJaas.toUri())));
        // The ZooKeeper client's own system properties, as Kafka's broker passes them on: the service, and no
        // canonicalisation, so the ticket is for SERVICE/localhost whatever this machine's resolver says.
        System.setProperty("zookeeper.sasl.client.username", SERVICE);
        System.setProperty("zookeeper.sasl.client.canonicalize.hostname", "false");
        int zookeeperPort = TestPorts.freePort();
        node = Tandem.start(TandemConfig.forTests(dir.resolve("node")).zookeeperPort(zookeeperPort)
                .set("java.security.auth.login.config", serverJaas.toString())
                .set("authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
                .set("enforce.auth.enabled", "true").set("enforce.auth.schemes", "sasl")
                .set("zookeeper.connect", TestKdc.HOST + ":" + zookeeperPort).set("zookeeper.set.acl", "true")
                .set("offsets.topic.num.partitions", "1").set("group.initial.rebalance.delay.ms", "0"));
        // The official 3.9 client with the broker's own Client section, to read every ACL (the sensitive nodes give
        // no one else READ).
        ZKClientConfig sasl = new ZKClientConfig();
        CountDownLatch authenticated = new CountDownLatch(1);
        asBroker = new ZooKeeper(TestKdc.HOST + ":" + zookeeperPort, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SaslAuthenticated) authenticated.countDown();
        }, sasl);
        assertTrue(authenticated.await(30, TimeUnit.SECONDS), "the official client logged in");
    }

    @AfterAll
    static void stop() throws Exception {
        if (asBroker != null) asBroker.close();
        if (node != null) node.close();
        Configuration.setConfiguration(previousJaas);
        System.clearProperty("zookeeper.sasl.client.username");
        System.clearProperty("zookeeper.sasl.client.canonicalize.hostname");
    }

    private static Map<String, Object> client() {
        return Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers());
    }

    @Test
    void shouldRegisterServeTopicsAndPutKafkasAclWithTheKerberosPrincipalOnItsZnodes() throws Exception {
        assertTrue(asBroker.exists("/brokers/ids/0", false) != null, "the broker registered");
        try (Admin admin = Admin.create(client())) {
            admin.createTopics(List.of(new NewTopic("kerberos-zk", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(client(), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 4; i++) producer.send(new ProducerRecord<>("kerberos-zk", i % 2, null, "v" + i)).get();
        }
        Map<String, Object> consumerSettings = new java.util.HashMap<>(client());
        consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, "kerberos-zk-group");
        consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> received = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerSettings, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("kerberos-zk"));
            long deadline = System.currentTimeMillis() + 30_000;
            while (received.size() < 4 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) received.add(r.value());
            }
        }
        assertEquals(4, received.size(), received.toString());

        Map<String, List<ACL>> acls = new TreeMap<>();
        for (String root : asBroker.getChildren("/", false)) walk("/" + root, acls);
        for (String path : List.of("/brokers/ids/0", "/brokers/topics/kerberos-zk", "/controller", "/cluster/id",
                "/config/topics/kerberos-zk", "/config/users", "/config/brokers")) {
            assertTrue(acls.containsKey(path), path + " was written by the broker: " + acls.keySet());
        }
        List<String> wrong = new ArrayList<>();
        acls.forEach((path, acl) -> {
            if (!acl.equals(kafkaAcl(path))) wrong.add(path + " has " + acl + ", Kafka's is " + kafkaAcl(path));
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void shouldStopABrokerWhoseKeytabLoginFailsAtStartUp() throws Exception {
        Path wrongJaas = Files.writeString(dir.resolve("wrong-jaas.conf"), "Client {\n    "
                + TestKdc.krb5LoginModule(dir.resolve("no-such.keytab"), BROKER_PRINCIPAL) + "\n};\n");
        Configuration current = Configuration.getConfiguration();
        Configuration.setConfiguration(Configuration.getInstance("JavaLoginConfig", new URIParameter(wrongJaas.toUri())));
        try {
            Exception e = assertThrows(Exception.class, () -> Tandem.start(TandemConfig.forTests(dir.resolve("other"))
                    .roles(java.util.EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("zookeeper.connect", TestKdc.HOST + ":" + node.zookeeperPort())).close());
            String message = causes(e);
            assertTrue(message.contains("Kerberos login") && message.contains("'Client'"), message);
        } finally {
            Configuration.setConfiguration(current);
        }
    }

    private static String causes(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) all.append(t).append(" / ");
        return all.toString();
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
}
