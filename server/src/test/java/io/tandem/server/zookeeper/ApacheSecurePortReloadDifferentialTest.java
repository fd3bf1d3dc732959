package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * When the secure client port starts serving a rewritten key store, Apache ZooKeeper 3.9.5 in this JVM (its
 * NettyServerCnxnFactory on a secure port, the stores from system properties as zoo.cfg would set them) beside
 * Tandem: the certificate a new connection sees within 3 s of the file being replaced, with and without
 * {@code client.certReload} and {@code ssl.authProvider}. Apache serves the new file unless ssl.authProvider is set
 * and client.certReload is not (its initSSL reads the stores for every connection when no ssl.authProvider is set).
 * Both ports run side by side and their files are replaced at the same moment, then polled: a row where both renew
 * ends as soon as both do; only a row where one keeps its old file waits the 3 s out.
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
        Map<String, String> zooCfg = new LinkedHashMap<>();
        if (sslAuthProvider) zooCfg.put("ssl.authProvider", "x509");
        if (certReload) zooCfg.put("client.certReload", "true");
        Path live = dir.resolve("tandem");
        // Tandem first: it would read the Apache port's system properties as fallbacks for its own keys.
        try (Tandem tandem = SecurePortCertificateReloadTest.start(live, certReload, sslAuthProvider);
             ApacheSecurePort apache = new ApacheSecurePort(dir.resolve("apache"),
                     SecurePortCertificateReloadTest.certificates.serverKeyStore,
                     SecurePortCertificateReloadTest.certificates.serverTrustStore, zooCfg)) {
            int apachePort = apache.port();
            int tandemPort = tandem.zookeeperSecurePort();
            assertEquals(SecurePortCertificateReloadTest.originalSerial,
                    SecurePortCertificateReloadTest.servedSerial(apachePort));
            assertEquals(SecurePortCertificateReloadTest.originalSerial,
                    SecurePortCertificateReloadTest.servedSerial(tandemPort));
            Files.copy(SecurePortCertificateReloadTest.renewedKeyStore, apache.keyStore,
                    StandardCopyOption.REPLACE_EXISTING);
            Files.copy(SecurePortCertificateReloadTest.renewedKeyStore, live.resolve("keystore.p12"),
                    StandardCopyOption.REPLACE_EXISTING);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MS);
            boolean apacheRenewed = servesRenewed(apachePort);
            boolean tandemRenewed = servesRenewed(tandemPort);
            while (!(apacheRenewed && tandemRenewed) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                apacheRenewed = servesRenewed(apachePort);
                tandemRenewed = servesRenewed(tandemPort);
            }
            assertEquals(apacheRenews, apacheRenewed, "Apache 3.9.5's behaviour as this test records it");
            assertEquals(apacheRenewed, tandemRenewed, "Tandem serves the rewritten key store when Apache does");
        }
    }

    private static boolean servesRenewed(int port) throws Exception {
        return SecurePortCertificateReloadTest.servedSerial(port).equals(SecurePortCertificateReloadTest.renewedSerial);
    }
}
