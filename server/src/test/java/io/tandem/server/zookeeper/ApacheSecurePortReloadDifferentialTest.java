package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.tls.TestCertificates;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.auth.ProviderRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * When the secure client port starts serving a rewritten key store, Apache ZooKeeper 3.9.5 in this JVM (its
 * NettyServerCnxnFactory on a secure port, the stores from system properties as zoo.cfg would set them) beside
 * Tandem: the certificate a new connection sees 3 s after the file is replaced, with and without
 * {@code client.certReload} and {@code ssl.authProvider}. Apache serves the new file unless ssl.authProvider is set
 * and client.certReload is not (its initSSL reads the stores for every connection when no ssl.authProvider is set).
 */
class ApacheSecurePortReloadDifferentialTest {
    private static final long SETTLE_MS = 3_000;
    @TempDir
    static Path dir;

    /** The certificates of SecurePortCertificateReloadTest, made once for every row. */
    @BeforeAll
    static void certificates() throws Exception {
        SecurePortCertificateReloadTest.dir = Files.createDirectories(dir.resolve("certificates"));
        SecurePortCertificateReloadTest.certificates();
    }

    @ParameterizedTest(name = "certReload={0}, ssl.authProvider={1}")
    @CsvSource({"false, false, true", "false, true, false", "true, true, true", "true, false, true"})
    void shouldServeTheRewrittenKeyStoreExactlyWhenApacheDoes(boolean certReload, boolean sslAuthProvider,
                                                               boolean apacheRenews) throws Exception {
        Path dir = Files.createDirectories(ApacheSecurePortReloadDifferentialTest.dir.resolve(
                "reload-" + certReload + "-auth-" + sslAuthProvider));
        boolean apache = apacheServesRenewed(dir.resolve("apache"), certReload, sslAuthProvider);
        boolean tandem;
        Path live = dir.resolve("tandem");
        try (Tandem server = SecurePortCertificateReloadTest.start(live, certReload, sslAuthProvider)) {
            tandem = servesRenewedAfterReplacement(live, server.zookeeperSecurePort());
        }
        assertEquals(apacheRenews, apache, "Apache 3.9.5's behaviour as this test records it");
        assertEquals(apache, tandem, "Tandem serves the rewritten key store when Apache does");
    }

    private static boolean servesRenewedAfterReplacement(Path live, int port) throws Exception {
        BigInteger before = SecurePortCertificateReloadTest.servedSerial(port);
        assertEquals(SecurePortCertificateReloadTest.originalSerial, before);
        Files.copy(SecurePortCertificateReloadTest.renewedKeyStore, live.resolve("keystore.p12"),
                StandardCopyOption.REPLACE_EXISTING);
        Thread.sleep(SETTLE_MS);
        BigInteger served = SecurePortCertificateReloadTest.servedSerial(port);
        return served.equals(SecurePortCertificateReloadTest.renewedSerial);
    }

    private static boolean apacheServesRenewed(Path live, boolean certReload, boolean sslAuthProvider)
            throws Exception {
        Files.createDirectories(live);
        Files.copy(SecurePortCertificateReloadTest.certificates.serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(SecurePortCertificateReloadTest.certificates.serverTrustStore, live.resolve("truststore.p12"));
        // What Apache's QuorumPeerConfig makes of the zoo.cfg keys: zookeeper.<key> system properties.
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("zookeeper.serverCnxnFactory", ZkSecurity.NETTY_FACTORY);
        properties.put("zookeeper.authProvider.x509", ZkSecurity.X509_PROVIDER);
        properties.put("zookeeper.ssl.keyStore.location", live.resolve("keystore.p12").toString());
        properties.put("zookeeper.ssl.keyStore.password", TestCertificates.PASSWORD);
        properties.put("zookeeper.ssl.trustStore.location", live.resolve("truststore.p12").toString());
        properties.put("zookeeper.ssl.trustStore.password", TestCertificates.PASSWORD);
        if (sslAuthProvider) properties.put("zookeeper.ssl.authProvider", "x509");
        if (certReload) properties.put("zookeeper.client.certReload", "true");
        properties.forEach(System::setProperty);
        ProviderRegistry.reset();
        ZooKeeperServer server = new ZooKeeperServer(live.resolve("snapshots").toFile(), live.resolve("log").toFile(),
                2000);
        ServerCnxnFactory secure = ServerCnxnFactory.createFactory();
        try {
            secure.configure(new InetSocketAddress("127.0.0.1", 0), 100, -1, true);
            secure.startup(server);
            return servesRenewedAfterReplacement(live, secure.getLocalPort());
        } finally {
            secure.shutdown();
            server.shutdown();
            // Other tests' Apache clients and servers would read them as their own defaults.
            properties.keySet().forEach(System::clearProperty);
            ProviderRegistry.reset();
        }
    }
}
