package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys.Verdict;
import io.tandem.server.TestPorts;
import io.tandem.server.tls.KubernetesSecret;
import io.tandem.server.tls.ServedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache's {@code sslQuorumReloadCertFiles=true} on real files: after the quorum key store is replaced, a new TLS
 * handshake with the quorum port shows the new certificate, and a member that trusts only the new certificate
 * connects; after the trust store is replaced, a member only it trusts connects; the dialling side presents its
 * replaced key store too. The stores are Kubernetes secret volumes ({@link KubernetesSecret}: links through
 * {@code ..data}, swapped by a rename) or plain files written in place. Without the key, a replaced store changes
 * nothing, as in Apache.
 */
class QuorumTlsReloadTest {
    /** The watcher settles in 100 ms; this leaves room for a loaded machine, far below its 10 s periodic check. */
    private static final long RELOAD_WAIT_MS = 5_000;

    @TempDir
    static Path dir;
    private static QuorumCertificates certificates;
    /** A renewed member key pair (CN=renewed, 127.0.0.1) and a trust store holding only it. */
    private static Path renewed;
    private static Path renewedTrust;
    /** A trust store holding the member certificate and the one nobody else trusts (CN=rogue). */
    private static Path trustWithRogue;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = QuorumCertificates.shared();
        renewed = dir.resolve("renewed.p12");
        QuorumCertificates.keyPair(renewed, "CN=renewed", "SAN=IP:127.0.0.1");
        renewedTrust = QuorumCertificates.trustStore(dir.resolve("renewed-trust.p12"), renewed);
        trustWithRogue = QuorumCertificates.trustStore(dir.resolve("trust-with-rogue.p12"), certificates.member,
                certificates.untrusted);
    }

    @Test
    void shouldPresentTheSwappedKeyStoreOfAKubernetesSecretToNewQuorumConnections() throws Exception {
        KubernetesSecret secret = KubernetesSecret.create(dir.resolve("secret-1"),
                Map.of("keystore.p12", certificates.member, "truststore.p12", certificates.trust));
        Map<Integer, QuorumTransport.Peer> peers = peers();
        try (QuorumTransport one = transport(1, peers, secret.file("keystore.p12"), secret.file("truststore.p12"),
                true)) {
            int port = peers.get(1).quorumPort();
            assertEquals("CN=member", servedSubject(port));
            secret.update(Map.of("keystore.p12", renewed, "truststore.p12", certificates.trust));
            assertEquals("CN=renewed", awaitServedSubject(port, "CN=renewed"));
            // A member that trusts only the renewed certificate now reaches member 1 (it dials 1: lower ids accept).
            try (QuorumTransport two = transport(2, peers, certificates.member, renewedTrust, false)) {
                assertTrue(connectedWithin(two, 1, 10_000), "a member trusting only the new certificate connects");
            }
        }
    }

    @Test
    void shouldAdmitAMemberOnlyTheRewrittenTrustStoreTrusts() throws Exception {
        Path live = Files.createDirectories(dir.resolve("trust-in-place"));
        Path keyStore = Files.copy(certificates.member, live.resolve("keystore.p12"));
        Path trustStore = Files.copy(certificates.trust, live.resolve("truststore.p12"));
        Map<Integer, QuorumTransport.Peer> peers = peers();
        try (QuorumTransport one = transport(1, peers, keyStore, trustStore, true);
             QuorumTransport rogue = transport(2, peers, certificates.untrusted, certificates.trust, false)) {
            assertFalse(connectedWithin(one, 2, 2_000), "member 1 does not trust CN=rogue yet");
            // Written in place, as a certificate manager renewing the file does.
            Files.copy(trustWithRogue, trustStore, StandardCopyOption.REPLACE_EXISTING);
            assertTrue(connectedWithin(one, 2, RELOAD_WAIT_MS + 5_000),
                    "member 2 is admitted once the trust store that holds its certificate is loaded");
        }
    }

    @Test
    void shouldDialWithTheSwappedKeyStore() throws Exception {
        KubernetesSecret secret = KubernetesSecret.create(dir.resolve("secret-2"),
                Map.of("keystore.p12", certificates.untrusted, "truststore.p12", certificates.trust));
        Map<Integer, QuorumTransport.Peer> peers = peers();
        try (QuorumTransport one = transport(1, peers, certificates.member, certificates.trust, false);
             QuorumTransport two = transport(2, peers, secret.file("keystore.p12"), secret.file("truststore.p12"),
                     true)) {
            assertFalse(connectedWithin(one, 2, 2_000), "member 2 dials with CN=rogue, which member 1 refuses");
            secret.update(Map.of("keystore.p12", certificates.member, "truststore.p12", certificates.trust));
            assertTrue(connectedWithin(one, 2, RELOAD_WAIT_MS + 5_000),
                    "member 2's redial presents the swapped key store and is admitted");
        }
    }

    @Test
    void shouldKeepTheStartUpStoresWithoutTheKey() throws Exception {
        Path live = Files.createDirectories(dir.resolve("no-reload"));
        Path keyStore = Files.copy(certificates.member, live.resolve("keystore.p12"));
        Path trustStore = Files.copy(certificates.trust, live.resolve("truststore.p12"));
        Map<Integer, QuorumTransport.Peer> peers = peers();
        try (QuorumTransport one = transport(1, peers, keyStore, trustStore, false)) {
            Files.copy(renewed, keyStore, StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(1_000);
            assertEquals("CN=member", servedSubject(peers.get(1).quorumPort()));
        }
    }

    @Test
    void shouldKeepTheStoresInForceWhenTheNewKeyStoreIsUnreadable() throws Exception {
        Path live = Files.createDirectories(dir.resolve("broken"));
        Path keyStore = Files.copy(certificates.member, live.resolve("keystore.p12"));
        Path trustStore = Files.copy(certificates.trust, live.resolve("truststore.p12"));
        Map<Integer, QuorumTransport.Peer> peers = peers();
        try (QuorumTransport one = transport(1, peers, keyStore, trustStore, true)) {
            int port = peers.get(1).quorumPort();
            Files.writeString(keyStore, "not a key store");
            Thread.sleep(1_000);
            assertEquals("CN=member", servedSubject(port));
            Files.copy(renewed, keyStore, StandardCopyOption.REPLACE_EXISTING);
            assertEquals("CN=renewed", awaitServedSubject(port, "CN=renewed"));
        }
    }

    @Test
    void shouldTakeTheKeyAsImplementedAndRefuseAValueThatIsNotABoolean() {
        // Apache's QuorumPeerConfig.parseBoolean: true or false, anything else a configuration error.
        String key = QuorumTls.RELOAD_CERT_FILES;
        assertEquals(Verdict.IMPLEMENTED, QuorumTls.verdict(key, "true"));
        assertEquals(Verdict.IMPLEMENTED, QuorumTls.verdict(key, "FALSE"));
        assertFalse(QuorumTls.verdict(key, "yes").equals(Verdict.IMPLEMENTED));
    }

    private static QuorumTransport transport(int id, Map<Integer, QuorumTransport.Peer> peers, Path keyStore,
                                             Path trustStore, boolean reload) throws InterruptedException {
        Map<String, String> settings = new HashMap<>(certificates.settings(keyStore));
        settings.put("ssl.quorum.trustStore.location", trustStore.toString());
        if (reload) settings.put("sslQuorumReloadCertFiles", "true");
        LinkedBlockingQueue<Object> ignored = new LinkedBlockingQueue<>();
        return new QuorumTransport(id, peers, (from, m) -> ignored.add(m), QuorumTransport.FRAME_BYTES_MAX_DEFAULT,
                QuorumAuth.NONE, QuorumTls.from(settings)).start();
    }

    private static Map<Integer, QuorumTransport.Peer> peers() throws Exception {
        return Map.of(1, new QuorumTransport.Peer(1, "127.0.0.1", TestPorts.freePort(), -1),
                2, new QuorumTransport.Peer(2, "127.0.0.1", TestPorts.freePort(), -1));
    }

    private static boolean connectedWithin(QuorumTransport a, int b, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < deadline) {
            if (a.isConnected(b)) return true;
            Thread.sleep(10);
        }
        return false;
    }

    private static String awaitServedSubject(int port, String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELOAD_WAIT_MS);
        String served = servedSubject(port);
        while (!served.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            served = servedSubject(port);
        }
        return served;
    }

    /** The subject of the certificate the quorum port shows to a member presenting the member certificate. */
    private static String servedSubject(int port) throws Exception {
        return ServedCertificate.of(port, certificates.member, QuorumCertificates.PASSWORD).getSubjectX500Principal()
                .getName();
    }
}
