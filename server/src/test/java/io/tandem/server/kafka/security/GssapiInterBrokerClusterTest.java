package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three brokers whose only listener is SASL_PLAINTEXT with GSSAPI, used between brokers too
 * ({@code sasl.mechanism.inter.broker.protocol=GSSAPI}), against a real KDC: every inter-broker connection (the
 * controller's LeaderAndIsr / UpdateMetadata channel, replica fetchers, AlterPartition) logs in from the listener's
 * keytab and asks a ticket for {@code kafka/<host dialled>}. With an authorizer whose only super user is
 * {@code User:kafka}, replication works only if each of those connections really authenticated as the broker's
 * principal. A topic of replication factor 3 takes acks=all writes with min.insync.replicas=3 and keeps a full ISR.
 * A broker given the keytab of another principal starts (its login is valid), but the others cannot authenticate to
 * it, so it never joins replication, and the controller's log says why.
 */
class GssapiInterBrokerClusterTest {
    private TestKdc kdc;
    private Path brokerKeytab;
    private SecureBrokerCluster brokers;

    @BeforeEach
    void start() throws Exception {
        kdc = TestKdc.shared();
        brokerKeytab = brokerKeytab();
        brokers = new SecureBrokerCluster();
    }

    /** One keytab for kafka/localhost per JVM: the KDC refuses to create a principal twice. */
    private static Path sharedBrokerKeytab;

    private Path brokerKeytab() throws Exception {
        synchronized (GssapiInterBrokerClusterTest.class) {
            if (sharedBrokerKeytab == null) {
                sharedBrokerKeytab = kdc.keytab(TestKdc.servicePrincipal("kafka"));
            }
            return sharedBrokerKeytab;
        }
    }

    @AfterEach
    void stop() {
        brokers.close();
    }

    @Test
    void shouldReplicateOverGssapiBetweenBrokersAndKeepTheIsrFull() throws Exception {
        brokers.start(id -> settings(brokerKeytab, TestKdc.servicePrincipal("kafka")), zookeeperConnect -> { });
        brokers.assertReplicatesWithFullIsr(client(), "kerberized");
    }

    @Test
    void shouldKeepABrokerWithAnotherPrincipalsKeytabOutOfReplicationAndLogWhy() throws Exception {
        Path intruderKeytab = kdc.keytab(TestKdc.servicePrincipal("intruder"));
        brokers.start(id -> {
            Map<String, String> settings = id == 3 ? settings(intruderKeytab, TestKdc.servicePrincipal("intruder"))
                    : settings(brokerKeytab, TestKdc.servicePrincipal("kafka"));
            // Broker 3 never fetches, so it leaves the ISR after this whatever its value; broker 2 must stay in, and
            // 1 s let a fetch of broker 2 stalled on a loaded machine (SASL over TLS, two cores) take it out too (CI).
            settings.put("replica.lag.time.max.ms", "10000");
            return settings;
            // Broker 3 is not waited for: the controller cannot authenticate to it, so no UpdateMetadata reaches it
            // and its cache lists no live brokers, as a Kafka 3.9 broker's would.
        }, zookeeperConnect -> { }, id -> id != 3);
        try (Admin admin = Admin.create(client())) {
            // Led by broker 1: broker 3 would have to learn of it from the controller and fetch from broker 1.
            try {
                admin.createTopics(List.of(new NewTopic("guarded", Map.of(0, List.of(1, 2, 3)))))
                        .all().get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                // Tandem's controller waits (30 s at most) for every replica to take its role before CreateTopics
                // answers, and broker 3 can never be reached: the answer comes at that bound, as late as the Admin's
                // own request timeout, which may retry and find the topic there (Kafka 3.9 answers once the leaders
                // are known). Its leader is what matters here.
            }
            long created = System.currentTimeMillis() + 30_000;
            while (!admin.listTopics().names().get().contains("guarded") && System.currentTimeMillis() < created) {
                Thread.sleep(200);
            }
            Map<String, Object> producerSettings = client();
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            producerSettings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings,
                    new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>("guarded", "v" + i)).get(60, TimeUnit.SECONDS);
                }
            }
            SecureBrokerCluster.assertBroker3LeavesTheIsrAndStaysOut(admin, "guarded",
                    "the broker the others cannot authenticate to left the ISR");
        }
        assertTrue(brokers.warnings.stream().anyMatch(w -> w.contains("cannot authenticate to broker 3")
                && w.contains("SASL_PLAINTEXT, as kafka") && w.contains("GSSAPI")), brokers.warnings.toString());
    }

    /** The broker logs in from {@code keytab} as {@code principal}; only User:kafka may act as a broker. */
    private static Map<String, String> settings(Path keytab, String principal) {
        Map<String, String> settings = new HashMap<>();
        settings.put("listeners", "SASL_PLAINTEXT://" + TestKdc.HOST + ":0");
        settings.put("sasl.enabled.mechanisms", "GSSAPI");
        settings.put("sasl.mechanism.inter.broker.protocol", "GSSAPI");
        settings.put("sasl.kerberos.service.name", "kafka");
        settings.put("listener.name.sasl_plaintext.gssapi.sasl.jaas.config",
                TestKdc.krb5LoginModule(keytab, principal));
        settings.put("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        settings.put("super.users", "User:kafka");
        return settings;
    }

    /** The Java client, logged in with the brokers' own keytab (the only super user). */
    private Map<String, Object> client() {
        Map<String, Object> client = new HashMap<>();
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        client.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        client.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, "kafka");
        client.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(brokerKeytab, TestKdc.servicePrincipal("kafka")));
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                TestKdc.HOST + ":" + brokers.cluster().broker(1).kafkaPort("SASL_PLAINTEXT"));
        return client;
    }
}
