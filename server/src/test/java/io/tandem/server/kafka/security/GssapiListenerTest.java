package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import io.tandem.server.tls.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL GSSAPI (Kerberos) on SASL_PLAINTEXT and SASL_SSL listeners against a real KDC, with the Java client logging in from a
 * keytab: the broker logs in from its Krb5LoginModule entry, the client's Kerberos principal becomes the short name
 * the principal-to-local rules give it (Alice@EXAMPLE.COM -> User:alice through a lower-casing rule), ACLs for that
 * name apply, the session re-authenticates (KIP-368) and keeps producing, a ticket for a service the broker has
 * no key for is refused with Kafka's words, and a principal no rule names authenticates but has its connection closed
 * at its first request, as Kafka's broker closes it when it builds the principal.
 */
class GssapiListenerTest {
    private static final long REAUTH_MS = 1500;
    @TempDir
    static Path dir;
    private static Tandem tandem;
    private static Path clientKeytab;
    private static TestCertificates certificates;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path brokerKeytab = kdc.keytab(TestKdc.servicePrincipal("kafka"));
        clientKeytab = kdc.keytab(TestKdc.principal("Alice"), TestKdc.principal("kbob"),
                TestKdc.servicePrincipal("notkafka"));
        certificates = TestCertificates.create(dir);
        String brokerLogin = TestKdc.krb5LoginModule(brokerKeytab, TestKdc.servicePrincipal("kafka"));
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://" + TestKdc.HOST + ":0,SASL_SSL://"
                        + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
                        + "SASL_SSL:SASL_SSL")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "GSSAPI")
                .set("sasl.kerberos.service.name", "kafka")
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config", brokerLogin)
                .set("listener.name.sasl_ssl.gssapi.sasl.jaas.config", brokerLogin)
                .set("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.sasl_ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.sasl_ssl.ssl.keystore.password", TestCertificates.PASSWORD)
                // Kafka's documented example: lower-case one-component principals of the realm, then DEFAULT.
                .set("sasl.kerberos.principal.to.local.rules",
                        "RULE:[1:$1@$0](.*@" + TestKdc.REALM + ")s/@.*//L,DEFAULT")
                // The TLS listener's own rules: one-component principals only, so a service principal has no name.
                .set("listener.name.sasl_ssl.sasl.kerberos.principal.to.local.rules",
                        "RULE:[1:$1@$0](.*@" + TestKdc.REALM + ")s/@.*//L")
                .set("listener.name.sasl_plaintext.gssapi.connections.max.reauth.ms", Long.toString(REAUTH_MS))
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:ANONYMOUS")
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            admin.createTopics(List.of(new NewTopic("krb", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            List<AclBinding> acls = new ArrayList<>();
            for (AclOperation op : List.of(AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE)) {
                acls.add(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "krb", PatternType.LITERAL),
                        new AccessControlEntry("User:alice", "*", op, AclPermissionType.ALLOW)));
            }
            acls.add(new AclBinding(new ResourcePattern(ResourceType.GROUP, "krb-group", PatternType.LITERAL),
                    new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW)));
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static Properties client(String principal, String serviceName) {
        return client("SASL_PLAINTEXT", principal, serviceName);
    }

    private static Properties client(String listener, String principal, String serviceName) {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, TestKdc.HOST + ":" + tandem.kafkaPort(listener));
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, listener);
        if (listener.equals("SASL_SSL")) {
            props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
            props.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificates.trustStore.toString());
            props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestCertificates.PASSWORD);
        }
        props.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        props.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, serviceName);
        props.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(clientKeytab, principal));
        return props;
    }

    private static KafkaProducer<String, String> producer(String principal, String serviceName) {
        return producer("SASL_PLAINTEXT", principal, serviceName);
    }

    private static KafkaProducer<String, String> producer(String listener, String principal, String serviceName) {
        Properties props = client(listener, principal, serviceName);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    @Test
    void shouldProduceAndConsumeAsTheMappedShortName() throws Exception {
        try (KafkaProducer<String, String> alice = producer(TestKdc.principal("Alice"), "kafka")) {
            alice.send(new ProducerRecord<>("krb", "k", "kerberos")).get(30, TimeUnit.SECONDS);
        }
        Properties props = client(TestKdc.principal("Alice"), "kafka");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "krb-group");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("krb"));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.isEmpty() && System.nanoTime() - deadline < 0) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) values.add(r.value());
            }
            assertTrue(values.contains("kerberos"), String.valueOf(values));
        }
    }

    @Test
    void shouldAuthenticateWithKerberosOverTls() throws Exception {
        try (KafkaProducer<String, String> alice = producer("SASL_SSL", TestKdc.principal("Alice"), "kafka")) {
            assertEquals(0, alice.send(new ProducerRecord<>("krb", "k", "over tls")).get(30, TimeUnit.SECONDS)
                    .partition());
        }
        try (KafkaProducer<String, String> bob = producer("SASL_SSL", TestKdc.principal("kbob"), "kafka")) {
            ExecutionException denied = assertThrows(ExecutionException.class,
                    () -> bob.send(new ProducerRecord<>("krb", "k", "from bob")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }
    }

    @Test
    void shouldApplyTheAclsOfTheShortNameOnly() {
        // kbob@EXAMPLE.COM authenticates (DEFAULT would also name it kbob) but has no ACL: Kafka's authorization error.
        try (KafkaProducer<String, String> bob = producer(TestKdc.principal("kbob"), "kafka")) {
            ExecutionException denied = assertThrows(ExecutionException.class,
                    () -> bob.send(new ProducerRecord<>("krb", "k", "from bob")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, denied.getCause());
        }
    }

    @Test
    void shouldRefuseATicketForAnotherServiceWithKafkasWords() {
        // The KDC knows notkafka/localhost, so the client gets a ticket for it; the broker has no key to read it.
        try (KafkaProducer<String, String> wrong = producer(TestKdc.principal("Alice"), "notkafka")) {
            Exception refused = assertThrows(Exception.class,
                    () -> wrong.send(new ProducerRecord<>("krb", "k", "v")).get(30, TimeUnit.SECONDS));
            Throwable cause = refused instanceof ExecutionException ? refused.getCause() : refused;
            assertInstanceOf(SaslAuthenticationException.class, cause, String.valueOf(cause));
            assertEquals("Authentication failed during authentication due to invalid credentials with SASL "
                    + "mechanism GSSAPI", cause.getMessage());
        }
    }

    @Test
    void shouldCompleteTheExchangeOfAnUnmappedPrincipalAndThenCloseItsConnectionAsKafka() {
        // Kafka's SaslServerCallbackHandler authorizes every authenticated client, so SaslAuthenticate succeeds;
        // DefaultKafkaPrincipalBuilder then finds no rule for notkafka/localhost@EXAMPLE.COM when the broker reads
        // the first request, and the broker closes the connection without an answer. The client sees no
        // authentication error, only a broker that never answers its metadata request.
        Properties props = client("SASL_SSL", TestKdc.servicePrincipal("notkafka"), "kafka");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 4_000);
        try (KafkaProducer<String, String> unmapped = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            Exception refused = assertThrows(Exception.class,
                    () -> unmapped.send(new ProducerRecord<>("krb", "k", "v")).get(30, TimeUnit.SECONDS));
            Throwable cause = refused instanceof ExecutionException ? refused.getCause() : refused;
            assertInstanceOf(org.apache.kafka.common.errors.TimeoutException.class, cause, String.valueOf(cause));
            assertTrue(metric(unmapped, "successful-authentication-total") >= 1, "the exchange completed");
            assertEquals(0.0, metric(unmapped, "failed-authentication-total"));
        }
    }

    @Test
    void shouldReauthenticateWithKerberosAndKeepProducing() throws Exception {
        try (KafkaProducer<String, String> alice = producer(TestKdc.principal("Alice"), "kafka")) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REAUTH_MS * 3);
            while (System.nanoTime() - until < 0 || metric(alice, "successful-reauthentication-total") < 2) {
                alice.send(new ProducerRecord<>("krb", "k", "again")).get(30, TimeUnit.SECONDS);
                Thread.sleep(200);
                assertTrue(System.nanoTime() - until < TimeUnit.SECONDS.toNanos(30), "no re-authentication");
            }
            assertEquals(0.0, metric(alice, "failed-reauthentication-total"));
            assertEquals(0.0, metric(alice, "failed-authentication-total"));
        }
    }

    @Test
    void shouldRefuseToStartWithoutAServiceNameOrALoginAsKafka() throws Exception {
        Path keytab = TestKdc.shared().keytab(TestKdc.servicePrincipal("kafka2"));
        String module = TestKdc.krb5LoginModule(keytab, TestKdc.servicePrincipal("kafka2"));
        // Kafka's KerberosLogin: a service name from sasl.kerberos.service.name or the module, and they must agree.
        Exception e = assertThrows(Exception.class, () -> Tandem.start(gssapiBroker("no-service", module)).close());
        assertTrue(e.getMessage().contains("No serviceName defined in either JAAS or Kafka config"), e.getMessage());
        String withServiceName = module.replace(" required ", " required serviceName=\"kafka2\" ");
        e = assertThrows(Exception.class, () -> Tandem.start(gssapiBroker("conflict", withServiceName)
                .set("sasl.kerberos.service.name", "other")).close());
        assertTrue(e.getMessage().contains("Conflicting serviceName values found in JAAS and Kafka configs"),
                e.getMessage());
        // A keytab without the principal's keys: the broker's login fails at start-up, not at the first client.
        Path otherKeytab = TestKdc.shared().keytab(TestKdc.servicePrincipal("kafka3"));
        String wrongKeytab = TestKdc.krb5LoginModule(otherKeytab, TestKdc.servicePrincipal("kafka2"));
        e = assertThrows(Exception.class, () -> Tandem.start(gssapiBroker("no-keys", wrongKeytab)
                .set("sasl.kerberos.service.name", "kafka2")).close());
        assertTrue(e.getMessage().contains("Kerberos login"), e.getMessage());
    }

    private static TandemConfig gssapiBroker(String name, String module) {
        return TandemConfig.forTests(dir.resolve(name))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://" + TestKdc.HOST + ":0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("listener.name.sasl_plaintext.gssapi.sasl.jaas.config", module);
    }

    /** The sum of a client metric over its tags. */
    private static double metric(KafkaProducer<?, ?> producer, String name) {
        double sum = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().name().equals(name)) sum += ((Number) e.getValue().metricValue()).doubleValue();
        }
        return sum;
    }
}
