package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.ConfigKeys;
import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ssl.clientHostnameVerification=true} on the secure client port, as Apache 3.9.5 checks clients outside FIPS
 * mode (ApacheClientHostnameVerificationTest records it: with fips-mode=false the client whose certificate names
 * 127.0.0.1 is admitted and the trusted one naming only another host is refused, before and after the trust store is
 * rewritten): the client's address against its certificate, no reverse lookup. With ssl.hostnameVerification=false
 * nothing is checked, as Apache's X509Util ands the two.
 */
class ClientHostnameVerificationTest {
    /**
     * How long the port gets to take up the rewritten trust store (StoreFileWatcher reloads 100 ms after the last
     * file event); the answer does not change with the reload, so there is nothing to poll for (as in
     * ApacheClientHostnameVerificationTest).
     */
    private static final long SETTLE_MS = 1_000;
    @TempDir
    static Path dir;
    static ClientHostCertificates certs;

    @BeforeAll
    static void certificates() throws Exception {
        certs = ClientHostCertificates.make(dir);
    }

    @Test
    void shouldAdmitOnlyTheClientWhoseCertificateNamesItsAddressBeforeAndAfterAReload() throws Exception {
        assertEquals("true false true false", admitted(dir.resolve("checked"), Map.of(
                "ssl.clientHostnameVerification", "true", "client.certReload", "true")));
    }

    @Test
    void shouldCheckWithTheX509ProviderToo() throws Exception {
        assertEquals("true false true false", admitted(dir.resolve("checked-x509"), Map.of(
                "ssl.clientHostnameVerification", "true", "ssl.authProvider", "x509")));
    }

    @Test
    void shouldCheckNothingWhenHostnameVerificationIsOff() throws Exception {
        assertEquals("true true true true", admitted(dir.resolve("unchecked"), Map.of(
                "ssl.clientHostnameVerification", "true", "ssl.hostnameVerification", "false",
                "client.certReload", "true")));
    }

    @Test
    void shouldTakeTheKeyAsImplementedAndRefuseAValueThatIsNotABoolean() {
        String key = ZooKeeperConfigKeys.CLIENT_HOSTNAME_VERIFICATION;
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "true", Map.of()));
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "false", Map.of()));
        assertEquals(ConfigKeys.Kind.REFUSED, ZooKeeperConfigKeys.verdict(key, "yes", Map.of()).kind());
    }

    /** Which of the two clients get a session, before and after the trust store is rewritten. */
    private static String admitted(Path live, Map<String, String> settings) throws Exception {
        Files.createDirectories(live);
        Files.copy(certs.server().serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(certs.trustBoth(), live.resolve("truststore.p12"));
        TandemConfig config = ZooKeeperTlsTest.secure(TandemConfig.forTests(live.resolve("data")))
                .set("ssl.keyStore.location", live.resolve("keystore.p12").toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", live.resolve("truststore.p12").toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD);
        settings.forEach(config::set);
        try (Tandem server = Tandem.start(config)) {
            int port = server.zookeeperSecurePort();
            String before = admitted(port, certs.addressClient()) + " " + admitted(port, certs.otherHostClient());
            Files.copy(certs.trustBothRewritten(), live.resolve("truststore.p12"), StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(SETTLE_MS);
            return before + " " + admitted(port, certs.addressClient()) + " " + admitted(port, certs.otherHostClient());
        }
    }

    /** Probed with a raw TLS client: the official client would wait out its connect timeout on each refusal. */
    private static boolean admitted(int port, Path keyStore) throws Exception {
        return TlsAdmissionProbe.admitted(port, keyStore, certs.server().trustStore);
    }
}
