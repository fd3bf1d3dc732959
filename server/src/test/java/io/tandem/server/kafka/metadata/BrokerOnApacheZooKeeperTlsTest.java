package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.tls.TestCertificates;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker's TLS client against Apache ZooKeeper 3.9.5's own secure client port (NettyServerCnxnFactory with
 * {@code configure(..., secure = true)}, its X509Util defaults, client certificates required, the x509 provider), in
 * this JVM: with zookeeper.set.acl=true Apache's server makes the certificate's subject the creator id of Kafka's
 * ACLs, as Tandem's does; Kafka's default zookeeper.ssl.protocol (TLSv1.2, then the only protocol offered) is refused
 * by Apache's default (TLSv1.3), for Apache's own client as for the broker's.
 */
class BrokerOnApacheZooKeeperTlsTest {
    /** Apache's server reads these system properties when its factory and auth providers are made. */
    private static final Map<String, String> SERVER_PROPERTIES = new java.util.LinkedHashMap<>();

    @TempDir
    static Path dir;
    static TestCertificates certificates;
    static ZooKeeperServer server;
    static ServerCnxnFactory secure;

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.create(dir);
        SERVER_PROPERTIES.put("zookeeper.serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        SERVER_PROPERTIES.put("zookeeper.authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider");
        SERVER_PROPERTIES.put("zookeeper.ssl.keyStore.location", certificates.serverKeyStore.toString());
        SERVER_PROPERTIES.put("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        SERVER_PROPERTIES.put("zookeeper.ssl.trustStore.location", certificates.serverTrustStore.toString());
        SERVER_PROPERTIES.put("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        // Apache's factory reads the stores for each new connection: they stay set while this class runs.
        SERVER_PROPERTIES.forEach(System::setProperty);
        ProviderRegistry.reset();
        server = new ZooKeeperServer(dir.resolve("snapshots").toFile(), dir.resolve("log").toFile(), 2000);
        secure = ServerCnxnFactory.createFactory();
        secure.configure(new InetSocketAddress("127.0.0.1", 0), 100, -1, true);
        secure.startup(server);
    }

    @AfterAll
    static void stop() {
        if (secure != null) secure.shutdown();
        if (server != null) server.shutdown();
        // Other tests' Apache clients and servers would read them as their own defaults.
        SERVER_PROPERTIES.keySet().forEach(System::clearProperty);
        ProviderRegistry.reset();
    }

    @Test
    void shouldRunABrokerOverTlsOnApachesSecurePortWithTheCertificateAsTheAclCreator() throws Exception {
        int port = secure.getLocalPort();
        // Apache's 3.9 server speaks only its default protocol, TLSv1.3 (X509Util.DEFAULT_PROTOCOL on a JDK that has
        // it); Kafka's zookeeper.ssl.protocol default, TLSv1.2, is then the only protocol its client offers.
        try (Tandem broker = Tandem.start(BrokerZooKeeperTlsTest.tlsBroker(dir.resolve("kafka"), port,
                certificates.trustStore, certificates).set("zookeeper.set.acl", "true")
                .set("zookeeper.ssl.protocol", "TLSv1.3"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.kafkaPort()));
             ZooKeeper zk = BrokerZooKeeperTlsTest.asBroker(port, certificates)) {
            admin.createTopics(List.of(new NewTopic("on-apache", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Id client = new Id("x509", "CN=client");
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, client), new ACL(ZooDefs.Perms.READ, new Id("world", "anyone"))),
                    zk.getACL("/brokers/topics/on-apache", null));
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, client)), zk.getACL("/config/users", null));
        }
    }

    @Test
    void shouldFailAsKafkaDoesWithItsDefaultProtocolAgainstApachesDefault() throws Exception {
        int port = secure.getLocalPort();
        Exception e = assertThrows(Exception.class, () -> Tandem.start(BrokerZooKeeperTlsTest.tlsBroker(
                dir.resolve("kafka-tls12"), port, certificates.trustStore, certificates)).close());
        String why = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
        assertTrue(why.contains("TLS handshake with") && why.contains("protocol_version"), why);
        // The official client offering TLSv1.2 only, as Kafka's does by default, is not served either.
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        config.setProperty("zookeeper.ssl.keyStore.location", certificates.clientKeyStore.toString());
        config.setProperty("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.trustStore.location", certificates.trustStore.toString());
        config.setProperty("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.protocol", "TLSv1.2");
        CountDownLatch connected = new CountDownLatch(1);
        try (ZooKeeper official = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        }, config)) {
            assertFalse(connected.await(5, TimeUnit.SECONDS), "Apache's server refuses TLSv1.2 to its client too");
        }
    }
}
