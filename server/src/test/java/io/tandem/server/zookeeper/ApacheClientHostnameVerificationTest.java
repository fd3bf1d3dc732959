package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whether the secure client port checks a TLS client's host name, before and after its trust store is reloaded:
 * Apache ZooKeeper 3.9.5 in this JVM (NettyServerCnxnFactory, the keys as zoo.cfg makes them system properties)
 * beside Tandem, with two trusted client certificates, one naming 127.0.0.1 and one naming only another host, the
 * official 3.9 client connecting from 127.0.0.1.
 *
 * <p>What Apache does, from its X509Util, ClientX509Util and ZKTrustManager and confirmed by the rows: the client
 * port's check is {@code ssl.hostnameVerification && ssl.clientHostnameVerification}, the latter off by default
 * (ClientX509Util.shouldVerifyClientHostname is false). Off, no client's host is checked; a reload (client.certReload,
 * or the per-connection read without ssl.authProvider) rebuilds the trust manager and the x509 provider from the same
 * keys, so the answer stays the same after it, and the provider's second check (X509AuthenticationProvider's
 * two-argument checkClientTrusted) never checks a host. On, outside FIPS mode ZKTrustManager checks the client's
 * address against its certificate (no reverse lookup: ssl.allowReverseDnsLookup is off on the client port); in the
 * default FIPS mode ClientX509Util asks the JDK for HTTPS endpoint identification on an engine made without the
 * peer's host, and every client is refused. Tandem never checks a client's host and refuses
 * ssl.clientHostnameVerification=true at start-up.
 */
class ApacheClientHostnameVerificationTest {
    private static final long SETTLE_MS = 3_000;
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    /** Trusted client key pairs: one naming 127.0.0.1, one naming only elsewhere.example. */
    static Path addressClient;
    static Path otherHostClient;
    /** Server trust stores holding both client certificates (the second in another order: other bytes). */
    static Path trustBoth;
    static Path trustBothRewritten;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = TestCertificates.serverOnly(dir);
        addressClient = dir.resolve("address-client.p12");
        Path addressPem = TestCertificates.serverKeyStore(addressClient, "CN=addressclient", "IP:127.0.0.1");
        otherHostClient = dir.resolve("other-host-client.p12");
        Path otherPem = TestCertificates.serverKeyStore(otherHostClient, "CN=otherclient", "DNS:elsewhere.example");
        trustBoth = dir.resolve("trust-both.p12");
        TestCertificates.trust(trustBoth, "address", addressPem);
        TestCertificates.trust(trustBoth, "other", otherPem);
        trustBothRewritten = dir.resolve("trust-both-rewritten.p12");
        TestCertificates.trust(trustBothRewritten, "other", otherPem);
        TestCertificates.trust(trustBothRewritten, "address", addressPem);
    }

    /**
     * Each row: Apache's keys, then which clients Apache 3.9.5 admits (address-naming, other-host) before and after
     * the trust store is rewritten; recorded 2026-12-07.
     */
    @ParameterizedTest(name = "clientHostnameVerification={0}, fips-mode={1}, ssl.authProvider={2}, certReload={3}")
    @CsvSource({
            "unset, unset, false, true,  true true true true",
            "unset, unset, true,  false, true true true true",
            "unset, unset, false, false, true true true true",
            "true,  unset, false, true,  false false false false",
            "true,  false, false, true,  true false true false",
            "true,  false, true,  true,  true false true false",
            "true,  false, false, false, true false true false"})
    void shouldCheckClientHostNamesExactlyWhenApacheDoes(String clientHostnameVerification, String fipsMode,
                                                       boolean authProvider, boolean certReload, String apacheAdmits)
            throws Exception {
        Path live = Files.createDirectories(dir.resolve("apache-" + clientHostnameVerification + "-" + fipsMode
                + "-" + authProvider + "-" + certReload));
        assertEquals(apacheAdmits, apache(live, clientHostnameVerification, fipsMode, authProvider, certReload),
                "Apache 3.9.5's behaviour as this test records it");
        if (clientHostnameVerification.equals("unset")) {
            assertEquals(apacheAdmits, tandem(dir.resolve("tandem-" + authProvider + "-" + certReload), authProvider,
                    certReload), "Tandem admits the clients Apache admits");
        }
    }

    @Test
    void shouldRefuseToCheckClientHostNamesRatherThanIgnoreTheKey() {
        String key = ZooKeeperConfigKeys.CLIENT_HOSTNAME_VERIFICATION;
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "false", Map.of()));
        assertNotEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "true", Map.of()));
    }

    private static String tandem(Path live, boolean authProvider, boolean certReload) throws Exception {
        Files.createDirectories(live);
        Files.copy(certificates.serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(trustBoth, live.resolve("truststore.p12"));
        TandemConfig config = ZooKeeperTlsTest.secure(TandemConfig.forTests(live.resolve("data")))
                .set("ssl.keyStore.location", live.resolve("keystore.p12").toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", live.resolve("truststore.p12").toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD);
        if (certReload) config.set("client.certReload", "true");
        if (authProvider) config.set("ssl.authProvider", "x509");
        try (Tandem server = Tandem.start(config)) {
            return admittedBeforeAndAfterRewrite(live, server.zookeeperSecurePort());
        }
    }

    private static String apache(Path live, String clientHostnameVerification, String fipsMode, boolean authProvider,
                                 boolean certReload) throws Exception {
        Files.copy(certificates.serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(trustBoth, live.resolve("truststore.p12"));
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("zookeeper.serverCnxnFactory", ZkSecurity.NETTY_FACTORY);
        properties.put("zookeeper.authProvider.x509", ZkSecurity.X509_PROVIDER);
        properties.put("zookeeper.ssl.keyStore.location", live.resolve("keystore.p12").toString());
        properties.put("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        properties.put("zookeeper.ssl.trustStore.location", live.resolve("truststore.p12").toString());
        properties.put("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        if (!clientHostnameVerification.equals("unset")) {
            properties.put("zookeeper.ssl.clientHostnameVerification", clientHostnameVerification);
        }
        if (!fipsMode.equals("unset")) properties.put("zookeeper.fips-mode", fipsMode);
        if (authProvider) properties.put("zookeeper.ssl.authProvider", "x509");
        if (certReload) properties.put("zookeeper.client.certReload", "true");
        properties.forEach(System::setProperty);
        ProviderRegistry.reset();
        ZooKeeperServer server = new ZooKeeperServer(live.resolve("snapshots").toFile(), live.resolve("log").toFile(),
                2000);
        ServerCnxnFactory secure = ServerCnxnFactory.createFactory();
        try {
            secure.configure(new InetSocketAddress("127.0.0.1", 0), 100, -1, true);
            secure.startup(server);
            return admittedBeforeAndAfterRewrite(live, secure.getLocalPort());
        } finally {
            secure.shutdown();
            server.shutdown();
            // Other tests' Apache clients and servers would read them as their own defaults.
            properties.keySet().forEach(System::clearProperty);
            ProviderRegistry.reset();
        }
    }

    private static String admittedBeforeAndAfterRewrite(Path live, int port) throws Exception {
        String before = admitted(port, addressClient) + " " + admitted(port, otherHostClient);
        Files.copy(trustBothRewritten, live.resolve("truststore.p12"), StandardCopyOption.REPLACE_EXISTING);
        Thread.sleep(SETTLE_MS);
        return before + " " + admitted(port, addressClient) + " " + admitted(port, otherHostClient);
    }

    /**
     * Whether the official client with this key store (trusting the server's certificate) gets a session and an
     * answer within 8 s: the first connection to a fresh JVM's first server loads Netty's TLS classes.
     */
    private static boolean admitted(int port, Path keyStore) throws Exception {
        ZooKeeper zk = SecurePortCertificateReloadTest.connectOrNull(port, keyStore, certificates.trustStore, 8);
        if (zk == null) return false;
        try {
            zk.exists("/", false);
            return true;
        } catch (Exception e) {
            return false;
        } finally {
            zk.close();
        }
    }
}
