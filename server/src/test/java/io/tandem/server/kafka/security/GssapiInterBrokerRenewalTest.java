package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kerberos.TestKdc;
import java.nio.file.Path;
import java.time.Duration;
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
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three brokers with GSSAPI between them whose first tickets last six seconds: their logins are renewed as Kafka's
 * KerberosLogin renews them (sasl.kerberos.min.time.before.relogin lowered to a second), so the fetcher connections
 * a topic created after every first ticket expired makes still authenticate, and acks=all writes with
 * min.insync.replicas=3 succeed. Without renewal the brokers hold only expired tickets and the JDK finds no
 * ticket-granting ticket to ask a service ticket with.
 */
class GssapiInterBrokerRenewalTest {
    private static final int BROKERS = 3;
    private Path brokerKeytab;
    private TandemCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    void shouldAuthenticateNewConnectionsBetweenBrokersAfterTheFirstTicketsExpired() throws Exception {
        TestKdc kdc = TestKdc.shared();
        // Its own principal: the KDC refuses to create one twice, and other classes of the fork make kafka/localhost.
        brokerKeytab = kdc.keytab(TestKdc.servicePrincipal("renewkafka"));
        long firstTicketsEnd;
        try (AutoCloseable shortTickets = kdc.ticketLifetime(Duration.ofSeconds(6))) {
            firstTicketsEnd = System.currentTimeMillis() + 6_000;
            cluster = TandemCluster.start(BROKERS, config -> {
                config.set("offsets.topic.num.partitions", "1").set("offsets.topic.replication.factor", "1");
                settings().forEach(config::set);
                return config;
            });
        }
        // Every broker's first ticket-granting ticket has expired; renewals since then may still be short ones.
        while (System.currentTimeMillis() < firstTicketsEnd + 7_000) Thread.sleep(200);
        try (Admin admin = Admin.create(client())) {
            // No topic had replicas on two brokers: each follower's fetcher dials its leader only now.
            admin.createTopics(List.of(new NewTopic("late", 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "3")))).all().get(60, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, "late", 3);
            Map<String, Object> producerSettings = client();
            producerSettings.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings,
                    new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 3; i++) {
                    producer.send(new ProducerRecord<>("late", i, null, "v" + i)).get(60, TimeUnit.SECONDS);
                }
            }
            for (TopicPartitionInfo p : admin.describeTopics(List.of("late")).allTopicNames().get().get("late")
                    .partitions()) {
                assertEquals(3, p.isr().size(), "every replica is in sync: " + p);
            }
        }
    }

    /** GSSAPI the only listener and between brokers; only the brokers' principal may act as a broker. */
    private Map<String, String> settings() {
        Map<String, String> settings = new HashMap<>();
        settings.put("listeners", "SASL_PLAINTEXT://" + TestKdc.HOST + ":0");
        settings.put("sasl.enabled.mechanisms", "GSSAPI");
        settings.put("sasl.mechanism.inter.broker.protocol", "GSSAPI");
        settings.put("sasl.kerberos.service.name", "renewkafka");
        settings.put("sasl.kerberos.min.time.before.relogin", "1000");
        settings.put("listener.name.sasl_plaintext.gssapi.sasl.jaas.config",
                TestKdc.krb5LoginModule(brokerKeytab, TestKdc.servicePrincipal("renewkafka")));
        settings.put("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        settings.put("super.users", "User:renewkafka");
        return settings;
    }

    /** The Java client, logged in (after the short tickets) with the brokers' own keytab, the only super user. */
    private Map<String, Object> client() {
        Map<String, Object> client = new HashMap<>();
        client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        client.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        client.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, "renewkafka");
        client.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(brokerKeytab,
                TestKdc.servicePrincipal("renewkafka")));
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                TestKdc.HOST + ":" + cluster.broker(1).kafkaPort("SASL_PLAINTEXT"));
        return client;
    }
}
