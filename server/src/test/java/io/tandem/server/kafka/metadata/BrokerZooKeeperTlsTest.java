package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
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
 * A broker reaching ZooKeeper's secure client port with Kafka 3.9's {@code zookeeper.ssl.*} keys (KIP-515), its
 * certificate checked by the server ({@code ssl.clientAuth=need}, the x509 provider): with
 * {@code zookeeper.set.acl=true} and no SASL login, the certificate's subject is the creator id of Kafka's ACLs. An
 * untrusted server, and a server whose certificate does not name the host dialled, fail the start-up saying why,
 * unless hostname verification is off ({@code zookeeper.ssl.endpoint.identification.algorithm} empty).
 */
class BrokerZooKeeperTlsTest {
    private static final Id CLIENT = new Id("x509", "CN=client");
    private static final Id ANYONE = new Id("world", "anyone");

    @TempDir
    static Path dir;
    static TestCertificates certificates;
    /** Secure port with the certificate TestCertificates makes for 127.0.0.1 and localhost. */
    static Tandem zookeeper;
    /** Secure port with a certificate for zookeeper.invalid only, trusted by {@link #misnamedTrust}. */
    static Tandem misnamed;
    static Path misnamedTrust;

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.create(dir);
        zookeeper = Tandem.start(secureZooKeeper(dir.resolve("zk"), certificates.serverKeyStore));
        Path misnamedStore = dir.resolve("misnamed.p12");
        Path misnamedCertificate = TestCertificates.serverKeyStore(misnamedStore, "CN=zookeeper.invalid",
                "DNS:zookeeper.invalid");
        misnamedTrust = dir.resolve("misnamed-trust.p12");
        TestCertificates.trust(misnamedTrust, "zookeeper", misnamedCertificate);
        misnamed = Tandem.start(secureZooKeeper(dir.resolve("zk-misnamed"), misnamedStore));
    }

    @AfterAll
    static void stop() {
        if (zookeeper != null) zookeeper.close();
        if (misnamed != null) misnamed.close();
    }

    static TandemConfig secureZooKeeper(Path data, Path keyStore) {
        return secureZooKeeper(data, keyStore, certificates);
    }

    static TandemConfig secureZooKeeper(Path data, Path keyStore, TestCertificates certificates) {
        return TandemConfig.forTests(data).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("secureClientPort", "0")
                .set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
                .set("authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider")
                .set("ssl.clientAuth", "need")
                // Apache's default, TLSv1.3 alone, refuses Kafka's default client protocol TLSv1.2 (shown against
                // Apache's server in BrokerOnApacheZooKeeperTlsTest): these servers take both.
                .set("ssl.enabledProtocols", "TLSv1.3,TLSv1.2")
                .set("ssl.keyStore.location", keyStore.toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", certificates.serverTrustStore.toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD);
    }

    /** A broker with TLS to {@code port}; the stores' types come from their names (.p12), as ZooKeeper's do. */
    static TandemConfig tlsBroker(Path data, int port, Path trustStore) {
        return tlsBroker(data, port, trustStore, certificates);
    }

    static TandemConfig tlsBroker(Path data, int port, Path trustStore, TestCertificates certificates) {
        return tlsBrokerWithoutKeyStore(data, port, trustStore)
                .set("zookeeper.ssl.keystore.location", certificates.clientKeyStore.toString())
                .set("zookeeper.ssl.keystore.password", TestCertificates.PASSWORD);
    }

    static TandemConfig tlsBrokerWithoutKeyStore(Path data, int port, Path trustStore) {
        return TandemConfig.forTests(data).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("zookeeper.connect", "127.0.0.1:" + port)
                .set("zookeeper.ssl.client.enable", "true")
                .set("zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty")
                .set("zookeeper.ssl.truststore.location", trustStore.toString())
                .set("zookeeper.ssl.truststore.password", TestCertificates.PASSWORD)
                .set("zookeeper.connection.timeout.ms", "4000");
    }

    /** The official client over TLS with the same certificate as the broker. */
    static ZooKeeper asBroker(int port) throws Exception {
        return asBroker(port, certificates);
    }

    static ZooKeeper asBroker(int port, TestCertificates certificates) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        config.setProperty("zookeeper.ssl.keyStore.location", certificates.clientKeyStore.toString());
        config.setProperty("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.trustStore.location", certificates.trustStore.toString());
        config.setProperty("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        }, config);
        assertTrue(connected.await(30, TimeUnit.SECONDS), "no TLS connection");
        return zk;
    }

    @Test
    void shouldRunOverTlsWithTheCertificateSubjectAsTheCreatorOfKafkasAcls() throws Exception {
        try (Tandem broker = Tandem.start(tlsBroker(dir.resolve("kafka"), zookeeper.zookeeperSecurePort(),
                certificates.trustStore).set("zookeeper.set.acl", "true"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.kafkaPort()));
             ZooKeeper zk = asBroker(zookeeper.zookeeperSecurePort())) {
            admin.createTopics(List.of(new NewTopic("over-tls", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertEquals(2, admin.describeTopics(List.of("over-tls")).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get("over-tls").partitions().size());
            // Kafka 3.9's ZkData.defaultAcls(isSecure = true): the "auth" creator id, which is the x509 subject.
            List<ACL> readable = List.of(new ACL(ZooDefs.Perms.ALL, CLIENT), new ACL(ZooDefs.Perms.READ, ANYONE));
            for (String path : List.of("/brokers/topics/over-tls", "/brokers/topics/over-tls/partitions/1/state",
                    "/brokers/ids/0", "/controller", "/config/topics/over-tls")) {
                assertEquals(readable, zk.getACL(path, null), path);
            }
            assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, CLIENT)), zk.getACL("/config/users", null));
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, zk.getACL("/consumers", null));
            // DescribeConfigs lists the keys in force, as Kafka lists them: set, defaulted, or sensitive.
            Config described = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, "0")))
                    .all().get(30, TimeUnit.SECONDS).values().iterator().next();
            assertEquals("true", described.get("zookeeper.ssl.client.enable").value());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG,
                    described.get("zookeeper.ssl.client.enable").source());
            assertEquals("TLSv1.2", described.get("zookeeper.ssl.protocol").value());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, described.get("zookeeper.ssl.protocol").source());
            assertEquals("HTTPS", described.get("zookeeper.ssl.endpoint.identification.algorithm").value());
            assertTrue(described.get("zookeeper.ssl.keystore.password").isSensitive());
            assertEquals(null, described.get("zookeeper.ssl.keystore.password").value());
        }
    }

    @Test
    void shouldFailTheStartUpSayingWhyWhenTheServerIsNotTrusted() {
        // This trust store holds the client's certificate only, not the server's.
        Exception e = assertThrows(Exception.class, () -> Tandem.start(tlsBroker(dir.resolve("untrusting"),
                zookeeper.zookeeperSecurePort(), certificates.serverTrustStore)).close());
        String why = causes(e);
        assertTrue(why.contains("cannot connect to ZooKeeper at 127.0.0.1:" + zookeeper.zookeeperSecurePort()), why);
        assertTrue(why.contains("TLS handshake with") && why.contains("PKIX"), why);
    }

    @Test
    void shouldVerifyTheServersHostnameUnlessTheEndpointIdentificationAlgorithmIsEmpty() throws Exception {
        Exception e = assertThrows(Exception.class, () -> Tandem.start(tlsBroker(dir.resolve("verifying"),
                misnamed.zookeeperSecurePort(), misnamedTrust)).close());
        String why = causes(e);
        // ZooKeeper's ZKTrustManager: neither 127.0.0.1 nor its reverse lookup, localhost, is named.
        assertTrue(why.contains("TLS handshake with") && why.contains("Failed to verify both host address and host "
                + "name") && why.contains("doesn't match any of the subject alternative names: [zookeeper.invalid]"),
                why);
        // Trusted, and no longer asked to name 127.0.0.1: the broker runs.
        try (Tandem broker = Tandem.start(tlsBroker(dir.resolve("not-verifying"), misnamed.zookeeperSecurePort(),
                misnamedTrust).set("zookeeper.ssl.endpoint.identification.algorithm", ""));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.kafkaPort()))) {
            admin.createTopics(List.of(new NewTopic("misnamed", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldTakeACertificateNamingTheReverseLookupOfTheAddressDialledAsKafkasZooKeeperClientDoes()
            throws Exception {
        // A certificate for "localhost" only, dialled as 127.0.0.1: the address is not named, its host name is.
        Path store = dir.resolve("localhost-only.p12");
        Path certificate = TestCertificates.serverKeyStore(store, "CN=localhost", "DNS:localhost");
        Path trust = dir.resolve("localhost-only-trust.p12");
        TestCertificates.trust(trust, "zookeeper", certificate);
        try (Tandem server = Tandem.start(secureZooKeeper(dir.resolve("zk-localhost-only"), store))) {
            try (Tandem broker = Tandem.start(tlsBroker(dir.resolve("reverse-lookup"), server.zookeeperSecurePort(),
                    trust));
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         "127.0.0.1:" + broker.kafkaPort()))) {
                admin.createTopics(List.of(new NewTopic("by-name", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            // In FIPS mode the ZooKeeper client leaves the check to the JDK, which looks no name up.
            System.setProperty("zookeeper.fips-mode", "true");
            try {
                Exception e = assertThrows(Exception.class, () -> Tandem.start(tlsBroker(dir.resolve("fips"),
                        server.zookeeperSecurePort(), trust)).close());
                assertTrue(causes(e).contains("No subject alternative names matching IP address 127.0.0.1"),
                        causes(e));
            } finally {
                System.clearProperty("zookeeper.fips-mode");
            }
        }
    }

    @Test
    void shouldRefuseSetAclWithoutACertificateOrALogin() {
        // TLS without a key store authenticates nobody: Kafka's zkTlsClientAuthEnabled is false, and so is its check.
        TandemConfig config = tlsBrokerWithoutKeyStore(dir.resolve("anonymous"), zookeeper.zookeeperSecurePort(),
                certificates.trustStore).set("zookeeper.set.acl", "true");
        Exception e = assertThrows(Exception.class, () -> Tandem.start(config).close());
        assertTrue(causes(e).contains("zookeeper.set.acl is true, but ZooKeeper client TLS configuration"), causes(e));
    }

    @Test
    void shouldFallBackToTheZooKeeperClientsSystemPropertiesAsKafkaDoes() throws Exception {
        Map<String, String> properties = Map.of("zookeeper.client.secure", "true",
                "zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty",
                "zookeeper.ssl.keyStore.location", certificates.clientKeyStore.toString(),
                "zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD,
                "zookeeper.ssl.trustStore.location", certificates.trustStore.toString(),
                "zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        properties.forEach(System::setProperty);
        try {
            // Nothing in server.properties but the secure port: TLS with a certificate, so set.acl is allowed too.
            try (Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("system-properties"))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("zookeeper.connect", "127.0.0.1:" + zookeeper.zookeeperSecurePort())
                    .set("zookeeper.set.acl", "true").set("zookeeper.connection.timeout.ms", "4000"))) {
                assertTrue(broker.kafkaPort() > 0);
            }
            System.setProperty("zookeeper.ssl.crl", "true");
            Exception e = assertThrows(Exception.class, () -> Tandem.start(TandemConfig.forTests(
                    dir.resolve("system-crl")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                    .set("zookeeper.connect", "127.0.0.1:" + zookeeper.zookeeperSecurePort())).close());
            assertTrue(causes(e).contains("system property zookeeper.ssl.crl (Kafka's zookeeper.ssl.crl.enable=true)"),
                    causes(e));
        } finally {
            properties.keySet().forEach(System::clearProperty);
            System.clearProperty("zookeeper.ssl.crl");
        }
    }

    private static String causes(Throwable e) {
        List<String> messages = new ArrayList<>();
        for (Throwable t = e; t != null; t = t.getCause()) messages.add(String.valueOf(t.getMessage()));
        return String.join(" / ", messages);
    }
}
