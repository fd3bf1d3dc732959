package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.security.EncryptingPasswordEncoder;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dynamic password configs with {@code password.encoder.secret}, as Kafka 3.9 in ZooKeeper mode: a TLS listener's
 * key store replaced by one with another password through IncrementalAlterConfigs; the passwords stored in
 * {@code /config/brokers/0} encrypted so that Kafka's own EncryptingPasswordEncoder decodes them; a value Kafka's
 * encoder wrote into the znode is decrypted and applied; after a restart with a rotated secret
 * ({@code password.encoder.old.secret}) the stored passwords are encrypted again with the new secret and still
 * apply; DescribeConfigs answers every password with value null and isSensitive, as Apache does.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DynamicPasswordTest {
    private static final String PREFIX = "listener.name.ssl.";
    private static final String SECRET = "first-encoder-secret";
    private static final String ROTATED_SECRET = "second-encoder-secret";
    private static final String NEW_STORE_PASSWORD = "renewed-store-password";
    private static final String KAFKA_STORE_PASSWORD = "written-by-kafka";

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Path clientTrust;
    static Path renewedStore;
    static Path kafkaStore;
    static Certificate first;
    static Certificate renewed;
    static Certificate kafkaWritten;

    @BeforeAll
    static void start() throws Exception {
        Path firstStore = dir.resolve("first.p12");
        first = certificate(TestCertificates.serverKeyStore(firstStore, "CN=localhost", "IP:127.0.0.1,DNS:localhost"));
        Path renewedOriginal = dir.resolve("renewed-original.p12");
        renewed = certificate(TestCertificates.serverKeyStore(renewedOriginal, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        renewedStore = rekeyed(renewedOriginal, dir.resolve("renewed.p12"), NEW_STORE_PASSWORD);
        Path kafkaOriginal = dir.resolve("kafka-original.p12");
        kafkaWritten = certificate(TestCertificates.serverKeyStore(kafkaOriginal, "CN=localhost",
                "IP:127.0.0.1,DNS:localhost"));
        kafkaStore = rekeyed(kafkaOriginal, dir.resolve("kafka.p12"), KAFKA_STORE_PASSWORD);
        clientTrust = dir.resolve("client-trust.p12");
        TestCertificates.trust(clientTrust, "first", dir.resolve("first.p12.pem"));
        TestCertificates.trust(clientTrust, "renewed", dir.resolve("renewed-original.p12.pem"));
        TestCertificates.trust(clientTrust, "kafka", dir.resolve("kafka-original.p12.pem"));
        tandem = Tandem.start(config(SECRET, null));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static TandemConfig config(String secret, String oldSecret) {
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set(PREFIX + "ssl.keystore.type", "PKCS12")
                .set(PREFIX + "ssl.keystore.location", dir.resolve("first.p12").toString())
                .set(PREFIX + "ssl.keystore.password", TestCertificates.PASSWORD)
                .set(PREFIX + "ssl.key.password", TestCertificates.PASSWORD)
                .set("delegation.token.secret.key", "token-secret-never-described")
                .set("password.encoder.secret", secret);
        if (oldSecret != null) config.set("password.encoder.old.secret", oldSecret);
        return config;
    }

    /** A copy of a PKCS12 key store whose store and key passwords are {@code password}. */
    private static Path rekeyed(Path from, Path to, String password) throws Exception {
        KeyStore in = KeyStore.getInstance("PKCS12");
        try (InputStream stream = Files.newInputStream(from)) {
            in.load(stream, TestCertificates.PASSWORD.toCharArray());
        }
        KeyStore out = KeyStore.getInstance("PKCS12");
        out.load(null, null);
        out.setKeyEntry("broker", in.getKey("broker", TestCertificates.PASSWORD.toCharArray()), password.toCharArray(),
                in.getCertificateChain("broker"));
        try (OutputStream stream = Files.newOutputStream(to)) {
            out.store(stream, password.toCharArray());
        }
        return to;
    }

    private static Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static EncryptingPasswordEncoder kafkaEncoder(String secret) {
        return new EncryptingPasswordEncoder(new Password(secret), null, "AES/CBC/PKCS5Padding", 128, 4096);
    }

    private static Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT"), CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    /** The certificate the SSL listener shows a new connection. */
    private static Certificate presented() throws Exception {
        SSLContext context = TestCertificates.trustingContext(clientTrust);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1",
                tandem.kafkaPort("SSL"))) {
            socket.setSoTimeout(15_000);
            socket.startHandshake();
            return socket.getSession().getPeerCertificates()[0];
        }
    }

    private static Certificate presentedWithin(Certificate wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Certificate now = presented();
        while (!wanted.equals(now) && System.nanoTime() < deadline) {
            Thread.sleep(100); // the broker re-reads its stored settings every second: poll for the outcome
            now = presented();
        }
        return now;
    }

    private static void set(Admin admin, boolean validateOnly, Map<String, String> settings) throws Exception {
        List<AlterConfigOp> ops = new ArrayList<>();
        settings.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, "0"), ops),
                new AlterConfigsOptions().validateOnly(validateOnly)).all().get(30, TimeUnit.SECONDS);
    }

    private interface ZkWork<T> {
        T run(ZooKeeper zk) throws Exception;
    }

    private static <T> T withZooKeeper(ZkWork<T> work) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + tandem.zookeeperPort(), 30_000, e -> connected.countDown());
        try {
            assertTrue(connected.await(30, TimeUnit.SECONDS));
            return work.run(zk);
        } finally {
            zk.close();
        }
    }

    private static JsonNode storedConfig() throws Exception {
        return withZooKeeper(zk -> new ObjectMapper().readTree(zk.getData("/config/brokers/0", false, null)))
                .get("config");
    }

    @Test
    @Order(1)
    void shouldRefuseANewStoreWithoutItsPasswordAndTakeItWithIt() throws Exception {
        try (Admin admin = admin()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> set(admin, false,
                    Map.of(PREFIX + "ssl.keystore.location", renewedStore.toString())));
            assertInstanceOf(InvalidRequestException.class, e.getCause(), String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().startsWith("Validation of dynamic config update of SSLFactory "
                    + "failed"), e.getCause().getMessage());
            assertEquals(first, presented());

            set(admin, false, Map.of(PREFIX + "ssl.keystore.location", renewedStore.toString(),
                    PREFIX + "ssl.keystore.password", NEW_STORE_PASSWORD, PREFIX + "ssl.key.password", NEW_STORE_PASSWORD));
            assertEquals(renewed, presented(), "new connections get the store opened with the dynamic passwords");
        }
        JsonNode stored = storedConfig();
        for (String key : List.of("ssl.keystore.password", "ssl.key.password")) {
            String value = stored.get(PREFIX + key).asText();
            assertFalse(value.contains(NEW_STORE_PASSWORD), "stored encrypted: " + key);
            assertTrue(value.contains("encryptedPassword:"), value);
            assertEquals(NEW_STORE_PASSWORD, kafkaEncoder(SECRET).decode(value).value(),
                    "Kafka's own PasswordEncoder decodes what Tandem stored");
        }
        assertEquals(renewedStore.toString(), stored.get(PREFIX + "ssl.keystore.location").asText(),
                "other keys are stored as they are");
    }

    @Test
    @Order(2)
    void shouldDescribeEveryPasswordAsNullAndSensitive() throws Exception {
        try (Admin admin = admin()) {
            Config config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, "0")),
                    new DescribeConfigsOptions().includeSynonyms(true)).all().get(30, TimeUnit.SECONDS)
                    .values().iterator().next();
            ConfigEntry dynamic = config.get(PREFIX + "ssl.keystore.password");
            assertNotNull(dynamic, "the dynamic password is listed");
            assertNull(dynamic.value());
            assertTrue(dynamic.isSensitive());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, dynamic.source());
            for (ConfigEntry.ConfigSynonym synonym : dynamic.synonyms()) assertNull(synonym.value(), synonym.name());
            ConfigEntry token = config.get("delegation.token.secret.key");
            assertNotNull(token, "delegation.token.secret.key is listed as Apache lists it");
            assertNull(token.value());
            assertTrue(token.isSensitive());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, token.source());
            assertTrue(token.isReadOnly());
            ConfigEntry secret = config.get("password.encoder.secret");
            assertNotNull(secret);
            assertNull(secret.value());
            assertTrue(secret.isSensitive());
            ConfigEntry unset = config.get("ssl.truststore.password");
            assertNotNull(unset, "an unset password key is listed too");
            assertNull(unset.value());
            assertTrue(unset.isSensitive());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, unset.source());
            assertEquals(ConfigEntry.ConfigType.PASSWORD, unset.type());
            assertEquals("4096", config.get("password.encoder.iterations").value());
            assertFalse(config.get("password.encoder.iterations").isSensitive());
            for (ConfigEntry entry : config.entries()) {
                String value = String.valueOf(entry.value());
                assertFalse(value.contains(NEW_STORE_PASSWORD) || value.contains("token-secret-never-described")
                        || value.contains(SECRET), "no secret is described: " + entry.name());
            }
        }
    }

    @Test
    @Order(3)
    void shouldApplyAPasswordKafkasEncoderWroteIntoTheZnode() throws Exception {
        String encrypted = kafkaEncoder(SECRET).encode(new Password(KAFKA_STORE_PASSWORD));
        withZooKeeper(zk -> {
            ObjectNode root = new ObjectMapper().createObjectNode();
            root.put("version", 1);
            ObjectNode config = root.putObject("config");
            config.put(PREFIX + "ssl.keystore.type", "PKCS12");
            config.put(PREFIX + "ssl.keystore.location", kafkaStore.toString());
            config.put(PREFIX + "ssl.keystore.password", encrypted);
            config.put(PREFIX + "ssl.key.password", encrypted);
            zk.setData("/config/brokers/0", new ObjectMapper().writeValueAsBytes(root), -1);
            zk.create("/config/changes/config_change_", "{\"version\":2,\"entity_path\":\"brokers/0\"}"
                    .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            return null;
        });
        assertEquals(kafkaWritten, presentedWithin(kafkaWritten),
                "a password Kafka's encoder wrote is decrypted and the store it opens is served");
    }

    @Test
    @Order(4)
    void shouldReEncryptStoredPasswordsWithTheNewSecretAfterARotation() throws Exception {
        tandem.close();
        tandem = null;
        tandem = Tandem.start(config(ROTATED_SECRET, SECRET));
        assertEquals(kafkaWritten, presentedWithin(kafkaWritten), "the stored store and passwords apply at start-up");
        String value = storedConfig().get(PREFIX + "ssl.keystore.password").asText();
        assertEquals(KAFKA_STORE_PASSWORD, kafkaEncoder(ROTATED_SECRET).decode(value).value(),
                "encrypted again with the current secret");
        assertThrows(Exception.class, () -> kafkaEncoder(SECRET).decode(value), "no longer with the old one");
    }
}
