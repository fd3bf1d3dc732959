package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A node whose only listener is SASL_PLAINTEXT with OAUTHBEARER, used between brokers too: the broker's own
 * connections (the controller's LeaderAndIsr to itself) log in with Kafka's unsecured login from the listener's
 * OAuthBearerLoginModule entry, pass the validator's required scope, and are the super user the ACLs name; the Java
 * client produces and consumes through it.
 */
class OAuthBearerInterBrokerTest {
    @TempDir
    Path dir;

    @Test
    void shouldServeATopicWhoseLeadershipCameOverAnOAuthBearerInterBrokerConnection() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "SASL_PLAINTEXT://127.0.0.1:0")
                .set("sasl.enabled.mechanisms", "OAUTHBEARER")
                .set("sasl.mechanism.inter.broker.protocol", "OAUTHBEARER")
                .set("listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config", JaasLoginModule.OAUTHBEARER_LOGIN_MODULE
                        + " required unsecuredValidatorRequiredScope=\"kafka\" unsecuredLoginStringClaim_sub=\"broker\""
                        + " unsecuredLoginListClaim_scope=\",kafka\";")
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:broker;User:alice")
                .set("offsets.topic.num.partitions", "1")
                .set("group.initial.rebalance.delay.ms", "0");
        try (Tandem tandem = Tandem.start(config)) {
            Map<String, Object> client = new HashMap<>();
            client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"));
            client.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
            client.put(SaslConfigs.SASL_MECHANISM, "OAUTHBEARER");
            client.put(SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.OAUTHBEARER_LOGIN_MODULE
                    + " required unsecuredLoginStringClaim_sub=\"alice\" unsecuredLoginListClaim_scope=\",kafka\";");
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic("oauth-led", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                TopicDescription description = admin.describeTopics(List.of("oauth-led")).allTopicNames()
                        .get(30, TimeUnit.SECONDS).get("oauth-led");
                assertNotNull(description.partitions().get(0).leader(), "the controller's LeaderAndIsr arrived");
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(client, new StringSerializer(),
                    new StringSerializer())) {
                producer.send(new ProducerRecord<>("oauth-led", "k", "v")).get(30, TimeUnit.SECONDS);
            }
            Map<String, Object> consumerConfig = new HashMap<>(client);
            consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.assign(List.of(new TopicPartition("oauth-led", 0)));
                long deadline = System.currentTimeMillis() + 30_000;
                int read = 0;
                while (read == 0 && System.currentTimeMillis() < deadline) {
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                    read += records.count();
                }
                assertEquals(1, read);
            }
        }
    }
}
