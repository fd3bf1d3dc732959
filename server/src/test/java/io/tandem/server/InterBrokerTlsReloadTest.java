package io.tandem.server;

import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The broker's own TLS client (its connections to other brokers) follows the inter-broker listener's stores when
 * they are reloaded through IncrementalAlterConfigs, as Kafka reconfigures its inter-broker channel builders: after
 * {@code listener.name.ssl.ssl.keystore.location} and {@code .truststore.location} change, a new connection from the
 * broker's inter-broker TLS context presents the renewed certificate and trusts a peer only the new trust store
 * trusts. The peers are real TLS servers requiring client authentication.
 */
class InterBrokerTlsReloadTest {
    private static final String PREFIX = "listener.name.ssl.";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Certificate first;
    static Certificate renewed;
    static Path peerKnownStore;
    static Path peerNewStore;
    static Path peerTrust;

    @BeforeAll
    static void start() throws Exception {
        first = certificate(TestCertificates.serverKeyStore(dir.resolve("first.p12"), "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        renewed = certificate(TestCertificates.serverKeyStore(dir.resolve("renewed.p12"), "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        peerKnownStore = dir.resolve("peer-known.p12");
        Path peerKnown = TestCertificates.serverKeyStore(peerKnownStore, "CN=peer-known", "IP:127.0.0.1");
        peerNewStore = dir.resolve("peer-new.p12");
        Path peerNew = TestCertificates.serverKeyStore(peerNewStore, "CN=peer-new", "IP:127.0.0.1");
        // The broker's trust stores: before, itself and the known peer; after, also the new peer.
        Path trustBefore = dir.resolve("trust-before.p12");
        TestCertificates.trust(trustBefore, "first", dir.resolve("first.p12.pem"));
        TestCertificates.trust(trustBefore, "renewed", dir.resolve("renewed.p12.pem"));
        TestCertificates.trust(trustBefore, "peer-known", peerKnown);
        Path trustAfter = dir.resolve("trust-after.p12");
        Files.copy(trustBefore, trustAfter);
        TestCertificates.trust(trustAfter, "peer-new", peerNew);
        // The peers trust both of the broker's certificates: what they see tells which one it presented.
        peerTrust = dir.resolve("peer-trust.p12");
        TestCertificates.trust(peerTrust, "first", dir.resolve("first.p12.pem"));
        TestCertificates.trust(peerTrust, "renewed", dir.resolve("renewed.p12.pem"));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "SSL")
                .set("ssl.endpoint.identification.algorithm", "")
                .set(PREFIX + "ssl.keystore.type", "PKCS12")
                .set(PREFIX + "ssl.keystore.location", dir.resolve("first.p12").toString())
                .set(PREFIX + "ssl.keystore.password", TestCertificates.PASSWORD)
                .set(PREFIX + "ssl.key.password", TestCertificates.PASSWORD)
                .set(PREFIX + "ssl.truststore.type", "PKCS12")
                .set(PREFIX + "ssl.truststore.location", trustBefore.toString())
                .set(PREFIX + "ssl.truststore.password", TestCertificates.PASSWORD));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static KeyStore load(Path store) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        return keys;
    }

    /**
     * Connects the broker's inter-broker TLS client to a peer that shows {@code peerStore}'s certificate and requires
     * a client certificate; answers the certificate the broker presented.
     */
    private static Certificate presentedTo(Path peerStore) throws Exception {
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(load(peerStore), TestCertificates.PASSWORD.toCharArray());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(load(peerTrust));
        SSLContext peer = SSLContext.getInstance("TLS");
        peer.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        try (SSLServerSocket server = (SSLServerSocket) peer.getServerSocketFactory().createServerSocket(0)) {
            server.setNeedClientAuth(true);
            server.setSoTimeout(30_000);
            CompletableFuture<Certificate> seen = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket accepted = (SSLSocket) server.accept()) {
                    accepted.setSoTimeout(30_000);
                    accepted.startHandshake();
                    return accepted.getSession().getPeerCertificates()[0];
                } catch (IOException e) {
                    return null;
                }
            });
            SSLContext client = tandem.kafkaBroker().interBrokerSecurity().client().sslContext();
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1",
                    server.getLocalPort())) {
                socket.setSoTimeout(30_000);
                socket.startHandshake();
                socket.getSession().getPeerCertificates(); // the broker's side completed and trusted the peer
            }
            return seen.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldPresentTheReloadedCertificateAndTrustTheReloadedTrustStoreToOtherBrokers() throws Exception {
        assertEquals(first, presentedTo(peerKnownStore));
        assertThrows(SSLException.class, () -> presentedTo(peerNewStore), "the new peer is not trusted yet");
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT"), CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, "0"), List.of(
                    new AlterConfigOp(new ConfigEntry(PREFIX + "ssl.keystore.location",
                            dir.resolve("renewed.p12").toString()), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry(PREFIX + "ssl.truststore.location",
                            dir.resolve("trust-after.p12").toString()), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        assertEquals(renewed, presentedTo(peerKnownStore), "new inter-broker connections present the renewed certificate");
        assertEquals(renewed, presentedTo(peerNewStore), "and trust what the reloaded trust store trusts");
    }
}
