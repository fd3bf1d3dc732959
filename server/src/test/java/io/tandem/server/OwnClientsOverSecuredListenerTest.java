package io.tandem.server;

import io.tandem.server.console.ConsoleServer;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tandem's own clients of a node whose only Kafka listener is SASL_SSL, the web console and {@link Tandem#reset()},
 * reach its broker over that listener with the broker's own inter-broker TLS and credentials (they used to speak
 * plaintext to it: the console showed nothing but errors and reset failed).
 */
class OwnClientsOverSecuredListenerTest {
    @TempDir
    Path dir;

    private static final String PLAIN_USERS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\";";

    @Test
    void shouldShowAndResetTopicsOfABrokerWhoseOnlyListenerIsSaslSsl() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "SASL_SSL://127.0.0.1:0")
                .set("ssl.keystore.type", "PKCS12")
                .set("ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("ssl.keystore.password", TestCertificates.PASSWORD)
                .set("ssl.truststore.type", "PKCS12")
                .set("ssl.truststore.location", certificates.trustStore.toString())
                .set("ssl.truststore.password", TestCertificates.PASSWORD)
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("sasl.mechanism.inter.broker.protocol", "PLAIN")
                .set("listener.name.sasl_ssl.plain.sasl.jaas.config", PLAIN_USERS)
                .set(ConsoleServer.PORT, "0");
        try (Tandem tandem = Tandem.start(config)) {
            Map<String, Object> client = Map.of(
                    CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort("SASL_SSL"),
                    CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL",
                    SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12",
                    SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificates.trustStore.toString(),
                    SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD,
                    SaslConfigs.SASL_MECHANISM, "PLAIN",
                    SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                            + "username=\"admin\" password=\"admin-secret\";");
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic("behind-tls", 2, (short) 1))).all().get();
            }
            HttpResponse<String> topics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + tandem.consolePort() + "/api/topics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, topics.statusCode(), topics.body());
            assertTrue(topics.body().contains("\"behind-tls\""), topics.body());

            tandem.reset();
            try (Admin admin = Admin.create(client)) {
                assertFalse(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("behind-tls"));
            }
        }
    }
}
