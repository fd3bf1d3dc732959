package io.tandem.server.kafka.security;

import io.tandem.server.tls.TestCertificates;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.security.InterBrokerTestSettings.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Three brokers whose only listener is secure, so every inter-broker connection (replica fetchers, the
 * controller's LeaderAndIsr / UpdateMetadata / StopReplica channel, AlterPartition) must run TLS and SASL as Kafka's
 * brokers do: SASL_SSL with SCRAM-SHA-256, and SSL with client certificates required. A topic of replication factor
 * 3 takes acks=all writes with min.insync.replicas=3 (so every follower really fetched over the secure listener) and
 * keeps a full ISR. A broker with the wrong inter-broker password never joins the ISR, and its log says why.
 */
class InterBrokerSecurityClusterTest {
    private static final String ADMIN_PASSWORD = "admin-secret";
    @TempDir
    Path dir;
    private TestCertificates certificates;
    private SecureBrokerCluster brokers;

    @BeforeEach
    void start() throws Exception {
        certificates = TestCertificates.create(dir);
        brokers = new SecureBrokerCluster();
    }

    @AfterEach
    void stop() {
        brokers.close();
    }

    @Test
    void shouldReplicateOverSaslSslWithScramAndKeepTheIsrFull() throws Exception {
        brokers.start(id -> scramSettings(ADMIN_PASSWORD), InterBrokerSecurityClusterTest::addScramAdmin);
        brokers.assertReplicatesWithFullIsr(scramClient(), "secured");
    }

    @Test
    void shouldReplicateOverTlsWithClientCertificatesRequiredAndKeepTheIsrFull() throws Exception {
        // Brokers show their own certificate to each other; the test client shows the client one. The brokers'
        // trust store holds both, and no private key of anyone's is in it.
        Path brokerTrust = dir.resolve("broker-trust.p12");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        copyCertificates(certificates.trustStore, trust);
        copyCertificates(certificates.serverTrustStore, trust);
        try (OutputStream out = Files.newOutputStream(brokerTrust)) {
            trust.store(out, TestCertificates.PASSWORD.toCharArray());
        }
        Map<String, String> settings = clientCertificatesRequired(certificates.serverKeyStore, brokerTrust);
        brokers.start(id -> settings, zookeeperConnect -> { });
        Map<String, Object> client = trustingClient("SSL");
        client.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
        client.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, certificates.clientKeyStore.toString());
        client.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        brokers.assertReplicatesWithFullIsr(client, "secured");
    }

    @Test
    void shouldKeepABrokerWithTheWrongInterBrokerPasswordOutOfTheIsrAndLogWhy() throws Exception {
        brokers.start(id -> {
            Map<String, String> settings = scramSettings(id == 3 ? "not-the-password" : ADMIN_PASSWORD);
            // Broker 3 never fetches, so it leaves the ISR after this whatever its value; broker 2 must stay in, and
            // 1 s let a fetch of broker 2 stalled on a loaded machine (SASL over TLS, two cores) take it out too (CI).
            settings.put("replica.lag.time.max.ms", "10000");
            return settings;
        }, InterBrokerSecurityClusterTest::addScramAdmin);
        Map<String, Object> client = scramClient();
        try (Admin admin = Admin.create(client)) {
            // Led by broker 1: broker 3 has to fetch from it, which it cannot.
            admin.createTopics(List.of(new NewTopic("guarded", Map.of(0, List.of(1, 2, 3)))))
                    .all().get(30, TimeUnit.SECONDS);
            Map<String, Object> producerSettings = new HashMap<>(client);
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>("guarded", "v" + i)).get(30, TimeUnit.SECONDS);
            }
            SecureBrokerCluster.assertBroker3LeavesTheIsrAndStaysOut(admin, "guarded",
                    "the broker that cannot authenticate left the ISR");
        }
        assertTrue(brokers.warnings.stream().anyMatch(w -> w.startsWith("broker-3-fetcher-1: cannot authenticate to broker 1")
                && w.contains("SASL_SSL, as admin") && w.contains("SASL_AUTHENTICATION_FAILED")
                && !w.contains("not-the-password")), brokers.warnings.toString());
    }

    private Map<String, String> scramSettings(String interBrokerPassword) {
        Map<String, String> settings = saslSsl(certificates, "SCRAM-SHA-256",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\""
                        + interBrokerPassword + "\";");
        return settings;
    }

    private Map<String, Object> scramClient() {
        Map<String, Object> client = trustingClient("SASL_SSL");
        client.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-256");
        client.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"admin\" password=\"" + ADMIN_PASSWORD + "\";");
        return client;
    }

    /** A Kafka client of broker 1's one listener (named as its {@code protocol}) that trusts the test CA. */
    private Map<String, Object> trustingClient(String protocol) {
        Map<String, Object> client = new HashMap<>();
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        client.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        client.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificates.trustStore.toString());
        client.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + brokers.cluster().broker(1).kafkaPort(protocol));
        return client;
    }

    private static void addScramAdmin(String zookeeperConnect) throws Exception {
        addScramUser(zookeeperConnect, "admin", ADMIN_PASSWORD);
    }

    /** The user's SCRAM-SHA-256 credential where Kafka keeps it, as kafka-configs.sh --zookeeper writes it before brokers start. */
    private static void addScramUser(String zookeeperConnect, String user, String password) throws Exception {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        ScramMechanism mechanism = ScramMechanism.SCRAM_SHA_256;
        int iterations = ScramMechanism.ITERATIONS_MIN;
        ScramCredential credential = mechanism.credential(salt,
                mechanism.saltedPassword(password.getBytes(StandardCharsets.UTF_8), salt, iterations), iterations);
        try (ZkZnodeStore store = ZkZnodeStore.connect(zookeeperConnect, Duration.ofSeconds(10),
                Duration.ofSeconds(10))) {
            new ScramCredentialStore(() -> store).alter(user, Map.of(mechanism, credential));
        }
    }

    private static void copyCertificates(Path from, KeyStore into) throws Exception {
        KeyStore source = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(from)) {
            source.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        for (String alias : java.util.Collections.list(source.aliases())) {
            into.setCertificateEntry(from.getFileName() + "-" + alias, source.getCertificate(alias));
        }
    }
}
