package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SASL_PLAINTEXT listener with OAUTHBEARER and Kafka's unsecured validator (a required scope), the Java client with
 * Kafka's unsecured login module: the token's subject is the principal ACLs see, and a token without the scope is
 * refused with Kafka's insufficient_scope answer.
 */
class OAuthBearerListenerTest {
    @TempDir
    static Path dir;
    private static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "OAUTHBEARER")
                .set("listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config", JaasLoginModule.OAUTHBEARER_LOGIN_MODULE
                        + " required unsecuredValidatorRequiredScope=\"kafka\";")
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:ANONYMOUS")
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, endpoint("PLAINTEXT")))) {
            admin.createTopics(List.of(new NewTopic("oauth", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "oauth", PatternType.LITERAL),
                    new AccessControlEntry("User:alice", "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static String endpoint(String listener) {
        return "127.0.0.1:" + tandem.kafkaPort(listener);
    }

    private static KafkaProducer<String, String> producer(String subject, String scope) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, endpoint("SASL_PLAINTEXT"));
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, "OAUTHBEARER");
        props.put(SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.OAUTHBEARER_LOGIN_MODULE + " required unsecuredLoginStringClaim_sub=\""
                + subject + "\"" + (scope == null ? "" : " unsecuredLoginListClaim_scope=\"," + scope + "\"") + ";");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    @Test
    void shouldTakeThePrincipalFromTheTokensSubject() throws Exception {
        try (KafkaProducer<String, String> alice = producer("alice", "kafka")) {
            RecordMetadata written = alice.send(new ProducerRecord<>("oauth", "k", "from alice")).get(30, TimeUnit.SECONDS);
            assertEquals(0, written.partition());
        }
        try (KafkaProducer<String, String> bob = producer("bob", "kafka")) {
            ExecutionException denied = assertThrows(ExecutionException.class,
                    () -> bob.send(new ProducerRecord<>("oauth", "k", "from bob")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }
    }

    @Test
    void shouldRefuseATokenWithoutTheRequiredScope() {
        try (KafkaProducer<String, String> carol = producer("carol", null)) {
            Exception refused = assertThrows(Exception.class,
                    () -> carol.send(new ProducerRecord<>("oauth", "k", "v")).get(30, TimeUnit.SECONDS));
            Throwable cause = refused instanceof ExecutionException ? refused.getCause() : refused;
            assertInstanceOf(SaslAuthenticationException.class, cause, String.valueOf(cause));
            assertTrue(cause.getMessage().contains("insufficient_scope"), cause.getMessage());
        }
    }
}
