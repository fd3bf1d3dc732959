package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.KubernetesSecret;
import io.tandem.server.tls.ServedCertificate;
import io.tandem.server.tls.TestCertificates;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZooKeeper 3.9's {@code client.certReload}: the secure client port watches its key and trust store files and, when
 * one is rewritten, new handshakes use the new material while connections already open stay, as Apache's
 * NettyServerCnxnFactory with ClientX509Util's file watchers. Driven with the official 3.9 client over Netty TLS and
 * a raw TLS socket that reads the served certificate's serial number; certificates are made at test time.
 */
class SecurePortCertificateReloadTest {
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    /** The renewed server key store (same names, another key pair) and a client trust store holding only it. */
    static Path renewedKeyStore;
    static Path renewedClientTrust;
    static BigInteger originalSerial;
    static BigInteger renewedSerial;
    /** A second client key pair that only the replacement server trust store trusts. */
    static Path secondClientKeyStore;
    static Path replacementServerTrust;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = TestCertificates.create(dir);
        renewedKeyStore = dir.resolve("renewed.p12");
        Path renewedPem = TestCertificates.serverKeyStore(renewedKeyStore, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost");
        renewedClientTrust = dir.resolve("renewed-trust.p12");
        TestCertificates.trust(renewedClientTrust, "broker", renewedPem);
        originalSerial = serialOf(certificates.serverCertificate);
        renewedSerial = serialOf(renewedPem);
        assertNotEquals(originalSerial, renewedSerial);
        secondClientKeyStore = dir.resolve("client2.p12");
        Path secondClientPem = TestCertificates.serverKeyStore(secondClientKeyStore, "CN=client2", "DNS:client2");
        replacementServerTrust = dir.resolve("server-trust2.p12");
        TestCertificates.trust(replacementServerTrust, "client2", secondClientPem);
    }

    /** A secure port whose stores are copies in {@code live}, which the test then overwrites; client.certReload on. */
    static Tandem start(Path live, boolean certReload) throws Exception {
        return start(live, certReload, false);
    }

    /** As {@link #start(Path, boolean)}, with ssl.authProvider=x509 if {@code sslAuthProvider}. */
    static Tandem start(Path live, boolean certReload, boolean sslAuthProvider) throws Exception {
        Files.createDirectories(live);
        Files.copy(certificates.serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(certificates.serverTrustStore, live.resolve("truststore.p12"));
        TandemConfig config = ZooKeeperTlsTest.secure(TandemConfig.forTests(live.resolve("data")))
                .set("ssl.keyStore.location", live.resolve("keystore.p12").toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", live.resolve("truststore.p12").toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD);
        if (certReload) config.set("client.certReload", "true");
        if (sslAuthProvider) config.set("ssl.authProvider", "x509");
        return Tandem.start(config);
    }

    @Test
    void shouldServeTheRenewedCertificateToNewConnectionsAndKeepOpenOnes() throws Exception {
        Path live = dir.resolve("reload");
        try (Tandem server = start(live, true)) {
            int port = server.zookeeperSecurePort();
            assertEquals(originalSerial, servedSerial(port));
            AtomicInteger disconnects = new AtomicInteger();
            try (ZooKeeper before = connect(port, certificates.clientKeyStore, certificates.trustStore, disconnects)) {
                before.create("/before", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertNull(connectOrNull(port, certificates.clientKeyStore, renewedClientTrust, 3),
                        "a client trusting only the renewed certificate is refused before the key store changes");

                // Written in place, as a certificate manager renewing the file does.
                Files.copy(renewedKeyStore, live.resolve("keystore.p12"), StandardCopyOption.REPLACE_EXISTING);
                assertEquals(renewedSerial, awaitServedSerial(port, renewedSerial));

                try (ZooKeeper after = connect(port, certificates.clientKeyStore, renewedClientTrust, null)) {
                    assertNotNull(after.exists("/before", false));
                }
                // The connection made before the change kept its session and never dropped.
                assertNotNull(before.exists("/before", false));
                assertEquals(ZooKeeper.States.CONNECTED, before.getState());
                assertEquals(0, disconnects.get());
                // A client that trusts only the old certificate cannot make a new connection any more.
                assertNull(connectOrNull(port, certificates.clientKeyStore, certificates.trustStore, 3));
            }
        }
    }

    /**
     * A Kubernetes secret volume: the stores are links through {@code ..data}, swapped by renaming a new link over it,
     * so no event ever names {@code keystore.p12}. Apache's FileChangeWatcher misses it (its onChange filters on the
     * store's name); Tandem's watcher compares what the stores hold on any event in their directory.
     */
    @Test
    void shouldServeTheKeyAndTrustStoresOfASwappedKubernetesSecret() throws Exception {
        KubernetesSecret secret = KubernetesSecret.create(dir.resolve("k8s-secret"), Map.of(
                "keystore.p12", certificates.serverKeyStore, "truststore.p12", certificates.serverTrustStore));
        TandemConfig config = ZooKeeperTlsTest.secure(TandemConfig.forTests(dir.resolve("k8s-data")))
                .set("ssl.keyStore.location", secret.file("keystore.p12").toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", secret.file("truststore.p12").toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD)
                .set("client.certReload", "true");
        try (Tandem server = Tandem.start(config)) {
            int port = server.zookeeperSecurePort();
            assertEquals(originalSerial, servedSerial(port));
            secret.update(Map.of("keystore.p12", renewedKeyStore, "truststore.p12", replacementServerTrust));
            assertEquals(renewedSerial, awaitServedSerial(port, renewedSerial));
            // The swapped trust store is in force too: the second client (trusted only by it) is admitted.
            try (ZooKeeper zk = connect(port, secondClientKeyStore, renewedClientTrust, null)) {
                assertTrue(zk.whoAmI().contains(new ClientInfo("x509", "CN=client2")), String.valueOf(zk.whoAmI()));
            }
        }
    }

    @Test
    void shouldCheckNewClientsAgainstTheReplacedTrustStore() throws Exception {
        Path live = dir.resolve("trust");
        try (Tandem server = start(live, true)) {
            int port = server.zookeeperSecurePort();
            assertNull(connectOrNull(port, secondClientKeyStore, certificates.trustStore, 3),
                    "the second client's certificate is not trusted before the trust store changes");
            Files.copy(replacementServerTrust, live.resolve("truststore.p12"), StandardCopyOption.REPLACE_EXISTING);
            ZooKeeper second = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (second == null && System.nanoTime() < deadline) {
                second = connectOrNull(port, secondClientKeyStore, certificates.trustStore, 3);
            }
            assertNotNull(second, "the second client is admitted once the replaced trust store is loaded");
            try (ZooKeeper zk = second) {
                // Beside the ip id every connection has, as in Apache.
                assertTrue(zk.whoAmI().contains(new ClientInfo("x509", "CN=client2")), String.valueOf(zk.whoAmI()));
            }
        }
    }

    /**
     * Apache keeps the stores it started with only when ssl.authProvider names the provider whose key and trust
     * managers its port uses and client.certReload is off (ApacheSecurePortReloadDifferentialTest).
     */
    @Test
    void shouldKeepTheStartUpStoresWithAnSslAuthProviderAndWithoutCertReload() throws Exception {
        Path live = dir.resolve("static");
        try (Tandem server = start(live, false, true)) {
            int port = server.zookeeperSecurePort();
            Files.copy(renewedKeyStore, live.resolve("keystore.p12"), StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(1_000);
            assertEquals(originalSerial, servedSerial(port));
        }
    }

    @Test
    void shouldKeepServingTheLastGoodStoresWhenTheNewFileIsUnreadable() throws Exception {
        Path live = dir.resolve("broken");
        try (Tandem server = start(live, true)) {
            int port = server.zookeeperSecurePort();
            Files.writeString(live.resolve("keystore.p12"), "not a key store");
            Thread.sleep(1_000);
            assertEquals(originalSerial, servedSerial(port));
            try (ZooKeeper zk = connect(port, certificates.clientKeyStore, certificates.trustStore, null)) {
                assertNotNull(zk.exists("/", false));
            }
            // A good file written afterwards is still picked up.
            Files.copy(renewedKeyStore, live.resolve("keystore.p12"), StandardCopyOption.REPLACE_EXISTING);
            assertEquals(renewedSerial, awaitServedSerial(port, renewedSerial));
        }
    }

    private static void assertNull(ZooKeeper zk, String... why) throws InterruptedException {
        if (zk != null) {
            zk.close();
            throw new AssertionError(why.length == 0 ? "the client connected" : why[0]);
        }
    }

    /** The official client over Netty TLS with these stores; {@code disconnects} counts its Disconnected events. */
    static ZooKeeper connect(int port, Path keyStore, Path trustStore, AtomicInteger disconnects) throws Exception {
        ZooKeeper zk = open(port, keyStore, trustStore, disconnects, 20);
        if (zk == null) throw new AssertionError("no TLS connection to port " + port);
        return zk;
    }

    static ZooKeeper connectOrNull(int port, Path keyStore, Path trustStore, int waitSeconds) throws Exception {
        return open(port, keyStore, trustStore, null, waitSeconds);
    }

    private static ZooKeeper open(int port, Path keyStore, Path trustStore, AtomicInteger disconnects,
                                  int waitSeconds) throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        config.setProperty("zookeeper.ssl.keyStore.location", keyStore.toString());
        config.setProperty("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.keyStore.type", "PKCS12");
        config.setProperty("zookeeper.ssl.trustStore.location", trustStore.toString());
        config.setProperty("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        config.setProperty("zookeeper.ssl.trustStore.type", "PKCS12");
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            if (event.getState() == Watcher.Event.KeeperState.Disconnected && disconnects != null) {
                disconnects.incrementAndGet();
            }
        }, config);
        if (!connected.await(waitSeconds, TimeUnit.SECONDS)) {
            zk.close();
            return null;
        }
        return zk;
    }

    /** Polls the served certificate until it is {@code expected} or 15 s pass; returns the last one seen. */
    static BigInteger awaitServedSerial(int port, BigInteger expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        BigInteger served = servedSerial(port);
        while (!served.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            served = servedSerial(port);
        }
        return served;
    }

    /** The serial number of the certificate the port shows to a client presenting the trusted client certificate. */
    static BigInteger servedSerial(int port) throws Exception {
        return ServedCertificate.of(port, certificates.clientKeyStore, TestCertificates.PASSWORD).getSerialNumber();
    }

    static BigInteger serialOf(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in))
                    .getSerialNumber();
        }
    }

    @Test
    void shouldTakeTheKeyAsImplementedRatherThanWarnItUnknown() {
        for (String value : new String[] {"true", "false"}) {
            assertEquals(ConfigKeys.Verdict.IMPLEMENTED,
                    ZooKeeperConfigKeys.verdict("client.certReload", value, Map.of()));
        }
    }
}
