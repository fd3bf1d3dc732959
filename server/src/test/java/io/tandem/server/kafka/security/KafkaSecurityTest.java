package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The official Java client over every kind of secure listener of one node: TLS (with the records of a fetch
 * copied rather than sent as file regions), SASL PLAIN from the listener's JAAS users, SCRAM-SHA-256/512 with
 * credentials created through AlterUserScramCredentials, both over TLS; and the failures Apache gives (wrong
 * password, unknown user, deleted credential) as the same client exceptions.
 */
class KafkaSecurityTest {
    @TempDir
    static Path dir;
    static TestCertificates certificates;
    static Tandem tandem;

    private static final String PLAIN_USERS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";";

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.create(dir);
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,"
                        + "SASL_SSL://127.0.0.1:0,MUTUAL://127.0.0.1:0,PEM://127.0.0.1:0,INLINE://127.0.0.1:0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,"
                        + "SASL_SSL:SASL_SSL,MUTUAL:SSL,PEM:SSL,INLINE:SSL")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.sasl_ssl.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.mutual.ssl.client.auth", "required")
                .set("listener.name.mutual.ssl.truststore.type", "PKCS12")
                .set("listener.name.mutual.ssl.truststore.location", certificates.serverTrustStore.toString())
                .set("listener.name.mutual.ssl.truststore.password", TestCertificates.PASSWORD)
                // PEM key stores: a file with the key and its chain, and both inline.
                .set("listener.name.pem.ssl.keystore.type", "PEM")
                .set("listener.name.pem.ssl.keystore.location", pemFile().toString())
                .set("listener.name.inline.ssl.keystore.type", "PEM")
                .set("listener.name.inline.ssl.keystore.key", certificates.serverKeyPem())
                .set("listener.name.inline.ssl.keystore.certificate.chain", certificates.serverCertificatePem())
                .set("offsets.topic.num.partitions", "1")
                .set("group.initial.rebalance.delay.ms", "0");
        // The PKCS12 key store per listener (Kafka, like Tandem, refuses a file and an inline PEM key together).
        for (String listener : List.of("ssl", "sasl_ssl", "mutual")) {
            config.set("listener.name." + listener + ".ssl.keystore.type", "PKCS12")
                    .set("listener.name." + listener + ".ssl.keystore.location", certificates.serverKeyStore.toString())
                    .set("listener.name." + listener + ".ssl.keystore.password", TestCertificates.PASSWORD)
                    .set("listener.name." + listener + ".ssl.key.password", TestCertificates.PASSWORD);
        }
        tandem = Tandem.start(config);
        try (Admin admin = Admin.create(clientProperties("PLAINTEXT", null, null, null))) {
            admin.createTopics(List.of(new NewTopic("secure", 1, (short) 1))).all().get();
            admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "bob-secret"),
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "bob-secret"),
                    new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "carol-secret")))
                    .all().get();
        }
    }

    private static Path pemFile() throws Exception {
        return java.nio.file.Files.writeString(dir.resolve("server-key-and-chain.pem"),
                certificates.serverKeyPem() + certificates.serverCertificatePem());
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
    }

    /** Client settings for a listener; a null mechanism means no SASL. */
    static Map<String, Object> clientProperties(String listener, String mechanism, String user, String password) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort(listener));
        String protocol = switch (listener) {
            case "MUTUAL", "PEM", "INLINE" -> "SSL";
            default -> listener;
        };
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
        if (protocol.contains("SSL")) {
            p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
            p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificates.trustStore.toString());
            p.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        }
        if (mechanism != null) {
            p.put(SaslConfigs.SASL_MECHANISM, mechanism);
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + user + "\" password=\"" + password + "\";");
        }
        return p;
    }

    private static List<String> roundTrip(Map<String, Object> settings, String tag) throws Exception {
        Map<String, Object> producerSettings = new HashMap<>(settings);
        producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
        producerSettings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>("secure", tag, tag + "-" + i)).get();
        }
        Map<String, Object> consumerSettings = new HashMap<>(settings);
        consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, "group-" + tag);
        consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> received = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerSettings, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("secure"));
            long deadline = System.currentTimeMillis() + 30_000;
            while (received.size() < 5 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key().equals(tag)) received.add(r.value());
                }
            }
            consumer.commitSync();
        }
        return received;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "SASL_PLAINTEXT, PLAIN, alice, alice-secret",
            "SASL_PLAINTEXT, SCRAM-SHA-256, bob, bob-secret",
            "SASL_PLAINTEXT, SCRAM-SHA-512, bob, bob-secret",
            "SSL, , , ",
            "PEM, , , ",
            "INLINE, , , ",
            "SASL_SSL, SCRAM-SHA-512, carol, carol-secret",
            "SASL_SSL, PLAIN, alice, alice-secret",
    })
    void shouldProduceAndConsumeOverASecureListener(String listener, String mechanism, String user, String password)
            throws Exception {
        String tag = listener + "-" + mechanism;
        assertEquals(List.of(tag + "-0", tag + "-1", tag + "-2", tag + "-3", tag + "-4"),
                roundTrip(clientProperties(listener, mechanism, user, password), tag));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
            "SASL_PLAINTEXT, PLAIN, alice, wrong, Authentication failed: Invalid username or password",
            "SASL_PLAINTEXT, PLAIN, mallory, alice-secret, Authentication failed: Invalid username or password",
            "SASL_PLAINTEXT, SCRAM-SHA-256, bob, wrong, Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
            "SASL_PLAINTEXT, SCRAM-SHA-256, carol, carol-secret, Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
            "SASL_SSL, SCRAM-SHA-512, mallory, x, Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    })
    void shouldRefuseBadCredentialsWithSaslAuthenticationException(String listener, String mechanism, String user,
                                                                   String password, String message) {
        try (Admin admin = Admin.create(clientProperties(listener, mechanism, user, password))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get());
            assertInstanceOf(SaslAuthenticationException.class, e.getCause(), e.toString());
            assertEquals(message, e.getCause().getMessage());
        }
    }

    @Test
    void shouldRefuseATlsClientWithoutACertificateWhereClientAuthIsRequired() throws Exception {
        try (Admin admin = Admin.create(clientProperties("MUTUAL", null, null, null))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get());
            assertInstanceOf(SslAuthenticationException.class, e.getCause(), e.toString());
        }
        Map<String, Object> withCertificate = clientProperties("MUTUAL", null, null, null);
        withCertificate.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        withCertificate.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, certificates.clientKeyStore.toString());
        withCertificate.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        try (Admin admin = Admin.create(withCertificate)) {
            assertTrue(admin.listTopics().names().get().contains("secure"));
        }
    }

    @Test
    void shouldTellEachClientTheEndpointOfItsOwnListener() throws Exception {
        try (Admin admin = Admin.create(clientProperties("SASL_PLAINTEXT", "PLAIN", "alice", "alice-secret"))) {
            var nodes = admin.describeCluster().nodes().get();
            assertEquals(1, nodes.size());
            assertEquals(tandem.kafkaPort("SASL_PLAINTEXT"), nodes.iterator().next().port());
        }
    }

    @Test
    void shouldDescribeAlterAndDeleteScramCredentialsAsApacheDoes() throws Exception {
        try (Admin admin = Admin.create(clientProperties("PLAINTEXT", null, null, null))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("dave",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 5000), "dave-secret"))).all().get();
            UserScramCredentialsDescription dave = admin.describeUserScramCredentials(List.of("dave")).description("dave").get();
            assertEquals(List.of(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 5000)), dave.credentialInfos());
            assertTrue(admin.describeUserScramCredentials().users().get().containsAll(List.of("bob", "carol", "dave")));

            try (Admin asDave = Admin.create(clientProperties("SASL_PLAINTEXT", "SCRAM-SHA-256", "dave", "dave-secret"))) {
                assertTrue(asDave.listTopics().names().get().contains("secure"));
            }
            admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("dave", ScramMechanism.SCRAM_SHA_256)))
                    .all().get();
            try (Admin asDave = Admin.create(clientProperties("SASL_PLAINTEXT", "SCRAM-SHA-256", "dave", "dave-secret"))) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> asDave.listTopics().names().get());
                assertInstanceOf(SaslAuthenticationException.class, e.getCause());
            }
            ExecutionException missing = assertThrows(ExecutionException.class, () -> admin.alterUserScramCredentials(
                    List.of(new UserScramCredentialDeletion("dave", ScramMechanism.SCRAM_SHA_256))).all().get());
            assertInstanceOf(ResourceNotFoundException.class, missing.getCause());
            assertEquals("Attempt to delete a user credential that does not exist", missing.getCause().getMessage());
            ExecutionException unknown = assertThrows(ExecutionException.class,
                    () -> admin.describeUserScramCredentials(List.of("dave")).description("dave").get());
            assertInstanceOf(ResourceNotFoundException.class, unknown.getCause());
            ExecutionException few = assertThrows(ExecutionException.class, () -> admin.alterUserScramCredentials(
                    List.of(new UserScramCredentialUpsertion("erin", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 1000),
                            "erin-secret"))).all().get());
            assertInstanceOf(UnacceptableCredentialException.class, few.getCause());
            assertEquals("Too few iterations", few.getCause().getMessage());
        }
    }
}
