package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.ZooKeeper;
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
 * peer's host, and every client is refused. Tandem takes both values: off as here, on as Apache outside FIPS mode
 * (ClientHostnameVerificationTest), since copying the FIPS-mode refusal of every client would serve no one.
 *
 * <p>Admission is probed with a raw TLS socket ({@link #probe}) rather than the official client: a refused official
 * client reports nothing before its connect timeout, so each refusal cost the whole wait (8 s a probe, 123 s the
 * class), where the probe sees the handshake fail or the port close at once. The official client still connects in
 * two rows, to show that what the probe calls admitted is what the client gets.
 */
class ApacheClientHostnameVerificationTest {
    /**
     * How long the ports get to take up the rewritten trust store. Both watch their store files with the JDK's
     * WatchService (inotify on Linux): Apache's FileChangeWatcher reloads on the event (and without ssl.authProvider
     * reads the stores for every connection anyway), Tandem's StoreFileWatcher 100 ms after the last event. In
     * ApacheSecurePortReloadDifferentialTest, which polls, a row where both serve the rewritten key store takes under
     * 3 s with both start-ups (2.3-2.7 s at load 30 on 2 cores). The answer here does not change with the reload, so
     * there is nothing to poll for.
     */
    private static final long SETTLE_MS = 1_000;
    @TempDir
    static Path dir;
    static ClientHostCertificates certs;

    @BeforeAll
    static void certificates() throws Exception {
        certs = ClientHostCertificates.make(dir);
    }

    /**
     * Each row: Apache's keys, then which clients Apache 3.9.5 admits (address-naming, other-host) before and after
     * the trust store is rewritten, recorded 2026-12-07 with the official client; then whether the official client
     * connects this time too (with the address-naming certificate, which every such row admits). Tandem runs beside
     * Apache in the rows it can be configured as (it refuses ssl.clientHostnameVerification=true), its trust store
     * rewritten at the same moment.
     */
    @ParameterizedTest(name = "clientHostnameVerification={0}, fips-mode={1}, ssl.authProvider={2}, certReload={3}")
    @CsvSource({
            "unset, unset, false, true,  true true true true, true",
            "unset, unset, true,  false, true true true true, false",
            "unset, unset, false, false, true true true true, false",
            "true,  unset, false, true,  false false false false, false",
            "true,  false, false, true,  true false true false, true",
            "true,  false, true,  true,  true false true false, false",
            "true,  false, false, false, true false true false, false"})
    void shouldCheckClientHostNamesExactlyWhenApacheDoes(String clientHostnameVerification, String fipsMode,
                                                       boolean authProvider, boolean certReload, String apacheAdmits,
                                                       boolean officialClient) throws Exception {
        Path row = Files.createDirectories(dir.resolve("row-" + clientHostnameVerification + "-" + fipsMode
                + "-" + authProvider + "-" + certReload));
        Map<String, String> zooCfg = new LinkedHashMap<>();
        if (!clientHostnameVerification.equals("unset")) {
            zooCfg.put("ssl.clientHostnameVerification", clientHostnameVerification);
        }
        if (!fipsMode.equals("unset")) zooCfg.put("fips-mode", fipsMode);
        if (authProvider) zooCfg.put("ssl.authProvider", "x509");
        if (certReload) zooCfg.put("client.certReload", "true");
        // Tandem first: it would read the Apache port's system properties as fallbacks for its own keys.
        Path tandemLive = row.resolve("tandem");
        Tandem tandem = clientHostnameVerification.equals("unset")
                ? tandem(tandemLive, authProvider, certReload) : null;
        try (tandem; ApacheSecurePort apache = new ApacheSecurePort(row.resolve("apache"),
                certs.server().serverKeyStore, certs.trustBoth(), zooCfg)) {
            String apacheBefore = admitted(apache.port());
            String tandemBefore = tandem == null ? null : admitted(tandem.zookeeperSecurePort());
            if (officialClient) {
                assertTrue(officialClientConnects(apache.port()), "Apache admits the official client as the probe");
                if (tandem != null) {
                    assertTrue(officialClientConnects(tandem.zookeeperSecurePort()),
                            "Tandem admits the official client as the probe");
                }
            }
            Files.copy(certs.trustBothRewritten(), apache.trustStore, StandardCopyOption.REPLACE_EXISTING);
            if (tandem != null) {
                Files.copy(certs.trustBothRewritten(), tandemLive.resolve("truststore.p12"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            Thread.sleep(SETTLE_MS);
            assertEquals(apacheAdmits, apacheBefore + " " + admitted(apache.port()),
                    "Apache 3.9.5's behaviour as this test records it");
            if (tandem != null) {
                assertEquals(apacheAdmits, tandemBefore + " " + admitted(tandem.zookeeperSecurePort()),
                        "Tandem admits the clients Apache admits");
            }
        }
    }

    @Test
    void shouldTakeTheKeyEitherWayAsItChecksClientHostNamesWhenOn() {
        String key = ZooKeeperConfigKeys.CLIENT_HOSTNAME_VERIFICATION;
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "false", Map.of()));
        assertEquals(Verdict.IMPLEMENTED, ZooKeeperConfigKeys.verdict(key, "true", Map.of()));
    }

    private static Tandem tandem(Path live, boolean authProvider, boolean certReload) throws Exception {
        Files.createDirectories(live);
        Files.copy(certs.server().serverKeyStore, live.resolve("keystore.p12"));
        Files.copy(certs.trustBoth(), live.resolve("truststore.p12"));
        TandemConfig config = ZooKeeperTlsTest.secure(TandemConfig.forTests(live.resolve("data")))
                .set("ssl.keyStore.location", live.resolve("keystore.p12").toString())
                .set("ssl.keyStore.password", TestCertificates.PASSWORD)
                .set("ssl.trustStore.location", live.resolve("truststore.p12").toString())
                .set("ssl.trustStore.password", TestCertificates.PASSWORD);
        if (certReload) config.set("client.certReload", "true");
        if (authProvider) config.set("ssl.authProvider", "x509");
        return Tandem.start(config);
    }

    /** Whether the port admits the address-naming client, then the other-host one, as "true false". */
    private static String admitted(int port) throws Exception {
        return probe(port, certs.addressClient()) + " " + probe(port, certs.otherHostClient());
    }

    private static boolean probe(int port, Path keyStore) throws Exception {
        return TlsAdmissionProbe.admitted(port, keyStore, certs.server().trustStore);
    }

    /**
     * Whether the official client with the address-naming key store gets a session and an answer within 8 s: the
     * first connection to a fresh JVM's first server loads Netty's TLS classes. Only asked where the probe admits it,
     * so the 8 s are never waited out.
     */
    private static boolean officialClientConnects(int port) throws Exception {
        ZooKeeper zk = SecurePortCertificateReloadTest.connectOrNull(port, certs.addressClient(),
                certs.server().trustStore, 8);
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
