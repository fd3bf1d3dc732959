package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.KubernetesSecret;
import io.tandem.server.tls.TestCertificates;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS listener whose key store is a Kubernetes secret volume ({@link KubernetesSecret}: {@code keystore.p12 ->
 * ..data/keystore.p12}, {@code ..data} swapped by a rename) reloads the swapped store when the same location is set
 * again through IncrementalAlterConfigs (KIP-226), even when the new file is no newer than the old one (copied with
 * its times kept): the listener compares the stores' content, not their modification time.
 */
class KubernetesSecretListenerReloadTest {
    private static final String LOCATION = "listener.name.ssl.ssl.keystore.location";

    @TempDir
    Path dir;

    @Test
    void shouldReloadTheKeyStoreOfASwappedSecretWhenItsLocationIsSetAgain() throws Exception {
        Path firstStore = dir.resolve("first.p12");
        Certificate first = certificate(TestCertificates.serverKeyStore(firstStore, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        Path renewedStore = dir.resolve("renewed.p12");
        Certificate renewed = certificate(TestCertificates.serverKeyStore(renewedStore, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        Path clientTrust = dir.resolve("client-trust.p12");
        TestCertificates.trust(clientTrust, "first", dir.resolve("first.p12.pem"));
        TestCertificates.trust(clientTrust, "renewed", dir.resolve("renewed.p12.pem"));
        // The renewed file carries the first one's modification time: only its content tells it apart.
        Files.setLastModifiedTime(renewedStore, Files.getLastModifiedTime(firstStore));
        KubernetesSecret secret = KubernetesSecret.create(dir.resolve("secret"), Map.of("keystore.p12", firstStore));
        String location = secret.file("keystore.p12").toString();
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set(LOCATION, location)
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                .set("listener.name.ssl.ssl.key.password", TestCertificates.PASSWORD));
             Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            int port = tandem.kafkaPort("SSL");
            assertEquals(first, presented(port, clientTrust));
            secret.update(Map.of("keystore.p12", renewedStore));
            assertEquals(first, presented(port, clientTrust), "nothing is reloaded before the broker is told");
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(new ConfigEntry(LOCATION,
                    location), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            assertEquals(renewed, presented(port, clientTrust), "new connections get the swapped store's certificate");
        }
    }

    private static Certificate presented(int port, Path trust) throws Exception {
        SSLContext context = TestCertificates.trustingContext(trust);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(15_000);
            socket.startHandshake();
            return socket.getSession().getPeerCertificates()[0];
        }
    }

    private static Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
