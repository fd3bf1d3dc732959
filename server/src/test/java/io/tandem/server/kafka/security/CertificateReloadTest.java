package io.tandem.server.kafka.security;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TLS listener's key store reloaded at runtime as Kafka's brokers do it (KIP-226): IncrementalAlterConfigs on this
 * broker setting {@code listener.name.<l>.ssl.keystore.location} to the same path reloads a file rewritten in place,
 * a new path with a matching certificate is taken, a certificate with another subject or other subject alternative
 * names is refused with Kafka's message, a wrong password fails the store's validation and a right one is refused
 * as Kafka 3.9 refuses it without password.encoder.secret; new connections get the new certificate, connections already open keep working.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertificateReloadTest {
    private static final String LOCATION = "listener.name.ssl.ssl.keystore.location";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Path live;
    static Certificate first;
    static Certificate renewed;
    static Path renewedStore;
    static Path otherSubjectStore;
    static Path otherNamesStore;
    static Path firstStoreCopy;
    static Path clientTrust;

    @BeforeAll
    static void start() throws Exception {
        Path firstStore = dir.resolve("first.p12");
        first = certificate(TestCertificates.serverKeyStore(firstStore, "CN=localhost", "IP:127.0.0.1,DNS:localhost"));
        renewedStore = dir.resolve("renewed.p12");
        renewed = certificate(TestCertificates.serverKeyStore(renewedStore, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        otherSubjectStore = dir.resolve("other-subject.p12");
        Path otherSubject = TestCertificates.serverKeyStore(otherSubjectStore, "CN=elsewhere",
                "IP:127.0.0.1,DNS:localhost");
        otherNamesStore = dir.resolve("other-names.p12");
        TestCertificates.serverKeyStore(otherNamesStore, "CN=localhost", "IP:127.0.0.1");
        clientTrust = dir.resolve("client-trust.p12");
        TestCertificates.trust(clientTrust, "first", firstStore.resolveSibling("first.p12.pem"));
        TestCertificates.trust(clientTrust, "renewed", renewedStore.resolveSibling("renewed.p12.pem"));
        TestCertificates.trust(clientTrust, "other", otherSubject);
        live = Files.copy(firstStore, dir.resolve("live.p12"));
        firstStoreCopy = Files.copy(firstStore, dir.resolve("first-copy.p12"));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set(LOCATION, live.toString())
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                .set("listener.name.ssl.ssl.key.password", TestCertificates.PASSWORD)
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = admin("PLAINTEXT")) {
            admin.createTopics(List.of(new NewTopic("reloaded", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
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

    private static Map<String, Object> clientSettings(String listener) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort(listener));
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        if (listener.equals("SSL")) {
            p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
            p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
            p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, clientTrust.toString());
            p.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        }
        return p;
    }

    private static Admin admin(String listener) {
        return Admin.create(clientSettings(listener));
    }

    /** A TLS connection to the SSL listener, trusting every test certificate. */
    private static SSLSocket connect() throws Exception {
        SSLContext context = TestCertificates.trustingContext(clientTrust);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", tandem.kafkaPort("SSL"));
        socket.setSoTimeout(15_000);
        socket.startHandshake();
        return socket;
    }

    private static Certificate presented() throws Exception {
        try (SSLSocket socket = connect()) {
            return socket.getSession().getPeerCertificates()[0];
        }
    }

    /** An ApiVersions round trip over an open TLS connection: the connection still serves. */
    private static void assertServes(SSLSocket socket) throws Exception {
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, 1, "test", ApiKey.API_VERSIONS, (short) 0,
                new ApiVersionsRequest());
        byte[] bytes = new byte[frame.readableBytes()];
        frame.readBytes(bytes);
        frame.release();
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        assertEquals(1, ((response[0] & 0xff) << 24) | ((response[1] & 0xff) << 16) | ((response[2] & 0xff) << 8)
                | (response[3] & 0xff), "the answer's correlation id");
    }

    private static void setLocation(Admin admin, String key, String value) throws Exception {
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
        admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(new ConfigEntry(key, value),
                AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    }

    private static void assertRefused(Admin admin, String key, String value, String messageStart) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> setLocation(admin, key, value));
        assertInstanceOf(InvalidRequestException.class, e.getCause(), String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().startsWith(messageStart), e.getCause().getMessage());
    }

    /** Rewrites the live key store in place, its modification time moved on so the change shows on any file system. */
    private static void rewriteLive(Path from) throws Exception {
        FileTime before = Files.getLastModifiedTime(live);
        Files.copy(from, live, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(live, FileTime.fromMillis(before.toMillis() + 5_000));
    }

    @Test
    @Order(1)
    void shouldReloadAKeyStoreRewrittenInPlaceWhenItsPathIsSetAgain() throws Exception {
        assertEquals(first, presented());
        try (SSLSocket open = connect(); Admin admin = admin("PLAINTEXT")) {
            rewriteLive(renewedStore);
            assertEquals(first, presented(), "nothing is reloaded before the broker is told");
            setLocation(admin, LOCATION, live.toString());
            assertEquals(renewed, presented(), "new connections get the renewed certificate");
            assertServes(open);
            assertEquals(first, open.getSession().getPeerCertificates()[0], "the open connection keeps its session");
            Config described = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, "0")))
                    .all().get(30, TimeUnit.SECONDS).values().iterator().next();
            ConfigEntry entry = described.get(LOCATION);
            assertNotNull(entry, "the dynamic key is described");
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, entry.source());
            assertEquals(live.toString(), entry.value());
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings(), new StringSerializer(),
                new StringSerializer())) {
            assertEquals(0, producer.send(new ProducerRecord<>("reloaded", "k", "v")).get(30, TimeUnit.SECONDS)
                    .partition(), "the Java client works against the renewed certificate");
        }
    }

    private static Map<String, Object> producerSettings() {
        Map<String, Object> p = clientSettings("SSL");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        return p;
    }

    @Test
    @Order(2)
    void shouldRefuseAKeyStoreWithAnotherSubjectOrOtherNames() throws Exception {
        Certificate before = presented();
        try (Admin admin = admin("PLAINTEXT")) {
            assertRefused(admin, LOCATION, otherSubjectStore.toString(), "Validation of dynamic config update of "
                    + "SSLFactory failed: org.apache.kafka.common.config.ConfigException: Keystore DistinguishedName "
                    + "does not match:");
            assertRefused(admin, LOCATION, otherNamesStore.toString(), "Validation of dynamic config update of "
                    + "SSLFactory failed: org.apache.kafka.common.config.ConfigException: Keystore SubjectAltNames "
                    + "do not match:");
            assertRefused(admin, LOCATION, dir.resolve("missing.p12").toString(), "Validation of dynamic config "
                    + "update of SSLFactory failed:");
            // As Kafka: the store is checked with the new password first (DynamicBrokerConfig.validate), and only a
            // password that would be stored meets the missing password.encoder.secret.
            assertRefused(admin, "listener.name.ssl.ssl.keystore.password", "other", "Validation of dynamic config "
                    + "update of SSLFactory failed:");
            assertRefused(admin, "listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD,
                    "Password encoder secret not configured");
            // Kafka encrypts a password only when storing it: validateOnly needs no secret.
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, "0"), List.of(
                    new AlterConfigOp(new ConfigEntry("listener.name.ssl.ssl.keystore.password",
                            TestCertificates.PASSWORD), AlterConfigOp.OpType.SET))),
                    new org.apache.kafka.clients.admin.AlterConfigsOptions().validateOnly(true))
                    .all().get(30, TimeUnit.SECONDS);
        }
        assertEquals(before, presented(), "a refused store changes nothing");
    }

    @Test
    @Order(3)
    void shouldTakeAMatchingKeyStoreAtANewPath() throws Exception {
        try (Admin admin = admin("PLAINTEXT")) {
            setLocation(admin, LOCATION, firstStoreCopy.toString());
        }
        assertEquals(first, presented());
    }
}
