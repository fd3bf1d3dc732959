package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kerberos.TestKdc;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import javax.security.auth.Subject;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SASL_PLAINTEXT listener with GSSAPI on Apache Kafka 3.9.1 in ZooKeeper mode and on Tandem, side by side, both
 * logging in from one KDC (Kerby's, in this JVM) with a service principal and keytab of their own
 * ({@code kafka/localhost} for Apache, {@code tandem/localhost} for Tandem), and the Java client logging in from a
 * keytab:
 * <ul>
 *   <li>a principal the rules map produces and consumes on both;</li>
 *   <li>a principal no rule maps ({@code svc/localhost}, two components, and no DEFAULT rule) completes the token
 *       exchange on both and then is never answered: the client sees the same exception and the same
 *       authentication metrics from both;</li>
 *   <li>a client asking for a service the broker holds no key for fails with the same exception and message;</li>
 *   <li>a re-authentication (KIP-368) as a principal no rule maps, on the wire: Kafka's SaslServerAuthenticator
 *       builds the new principal to compare it with the old one, the principal builder's KafkaException is no SASL
 *       failure, and the connection closes without an answer to the last SaslAuthenticate; so does Tandem's.</li>
 * </ul>
 * The brokers listen on 127.0.0.1 and the client reaches them as {@code localhost}; the client asks for
 * {@code service/<host>}, with the host it connected to, which is {@code localhost} here too.
 */
class ApacheGssapiListenerDifferentialTest {
    /**
     * Kafka's documented example for one-component principals of the realm (lower-cased), and the brokers' own
     * service principals; no DEFAULT, so a two-component client principal has no name.
     */
    private static final String RULES = "RULE:[1:$1@$0](.*@" + TestKdc.REALM + ")s/@.*//L,"
            + "RULE:[2:$1@$0](kafka@" + TestKdc.REALM + ")s/@.*//,"
            + "RULE:[2:$1@$0](tandem@" + TestKdc.REALM + ")s/@.*//";

    @TempDir
    static Path dir;
    static Tandem zookeeper;
    static ApacheBroker apache;
    static Tandem tandem;
    static Path clientKeytab;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        String apachePrincipal = TestKdc.servicePrincipal("kafka");
        String tandemPrincipal = TestKdc.servicePrincipal("tandem");
        Path apacheKeytab = kdc.keytab(apachePrincipal);
        Path tandemKeytab = kdc.keytab(tandemPrincipal);
        clientKeytab = kdc.keytab(TestKdc.principal("Alice"), TestKdc.servicePrincipal("svc"),
                TestKdc.servicePrincipal("notkafka"));
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.putAll(Map.of(
                "listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT",
                "inter.broker.listener.name", "PLAINTEXT",
                "sasl.enabled.mechanisms", "GSSAPI",
                "sasl.mechanism.inter.broker.protocol", "GSSAPI",
                "sasl.kerberos.principal.to.local.rules", RULES,
                // Sessions expire, so a SaslHandshake on an authenticated connection starts a re-authentication.
                "listener.name.plaintext.gssapi.connections.max.reauth.ms", "600000"));
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        Map<String, String> apacheSettings = new HashMap<>(settings);
        apacheSettings.put("sasl.kerberos.service.name", "kafka");
        apacheSettings.put("listener.name.plaintext.gssapi.sasl.jaas.config",
                TestKdc.krb5LoginModule(apacheKeytab, apachePrincipal));
        apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(), apacheSettings,
                List.of("-Djava.security.krb5.conf=" + kdc.krb5Conf()));
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        settings.forEach(kafkaConfig::set);
        kafkaConfig.set("broker.id", "0"); // Apache's server.properties says so too (ApacheBroker)
        kafkaConfig.set("sasl.kerberos.service.name", "tandem");
        kafkaConfig.set("listener.name.plaintext.gssapi.sasl.jaas.config",
                TestKdc.krb5LoginModule(tandemKeytab, tandemPrincipal));
        tandem = Tandem.start(kafkaConfig);
        awaitReady(apache);
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
        if (apache != null) apache.close();
        if (zookeeper != null) zookeeper.close();
    }

    /** Apache's side first. */
    private static List<Integer> ports() {
        return List.of(apache.port(), tandem.kafkaPort());
    }

    private static String side(int port) {
        return port == apache.port() ? "Apache Kafka " + apache.version() : "Tandem";
    }

    private static String serviceName(int port) {
        return port == apache.port() ? "kafka" : "tandem";
    }

    @Test
    void shouldProduceAndConsumeWithAKeytabLoginOnBoth() throws Exception {
        for (int port : ports()) {
            String principal = TestKdc.principal("Alice");
            try (Admin admin = Admin.create(client(port, principal, serviceName(port)))) {
                admin.createTopics(List.of(new NewTopic("krb", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = producer(port, principal, serviceName(port), 30_000)) {
                producer.send(new ProducerRecord<>("krb", "k", "kerberos")).get(60, TimeUnit.SECONDS);
            }
            Properties props = client(port, principal, serviceName(port));
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "krb-group");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of("krb"));
                List<String> values = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (values.isEmpty() && System.nanoTime() - deadline < 0) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                        values.add(r.value());
                    }
                }
                assertEquals(List.of("kerberos"), values, side(port));
            }
        }
    }

    @Test
    void shouldTreatAPrincipalNoRuleMapsAsApacheDoes() {
        List<String> seen = new ArrayList<>();
        for (int port : ports()) {
            try (KafkaProducer<String, String> unmapped = producer(port, TestKdc.servicePrincipal("svc"),
                    serviceName(port), 4_000)) {
                Exception refused = assertThrows(Exception.class,
                        () -> unmapped.send(new ProducerRecord<>("krb", "k", "v")).get(60, TimeUnit.SECONDS));
                Throwable cause = refused instanceof ExecutionException ? refused.getCause() : refused;
                seen.add(cause.getClass().getName() + "; authentications succeeded "
                        + (metric(unmapped, "successful-authentication-total") >= 1) + ", failed "
                        + metric(unmapped, "failed-authentication-total"));
            }
        }
        System.out.println("an unmapped principal: " + seen);
        assertEquals(seen.get(0), seen.get(1), "what the client sees, Apache's first");
    }

    @Test
    void shouldRefuseATicketForAnotherServiceAsApacheDoes() {
        List<String> seen = new ArrayList<>();
        for (int port : ports()) {
            // The KDC knows notkafka/localhost, so the client gets a ticket for it; neither broker can read it.
            try (KafkaProducer<String, String> wrong = producer(port, TestKdc.principal("Alice"), "notkafka",
                    30_000)) {
                Exception refused = assertThrows(Exception.class,
                        () -> wrong.send(new ProducerRecord<>("krb", "k", "v")).get(60, TimeUnit.SECONDS));
                Throwable cause = refused instanceof ExecutionException ? refused.getCause() : refused;
                seen.add(cause.getClass().getName() + ": " + cause.getMessage());
            }
        }
        System.out.println("a ticket for another service: " + seen);
        assertEquals(seen.get(0), seen.get(1), "the client's error, Apache's first");
    }

    @Test
    void shouldCloseAReauthenticationAsAPrincipalNoRuleMapsWithoutAnAnswerAsApacheDoes() throws Exception {
        List<String> seen = new ArrayList<>();
        for (int port : ports()) {
            try (WireClient c = new WireClient(port)) {
                assertEquals("complete", handshakeAndExchange(c, TestKdc.principal("Alice"),
                        serviceName(port)), side(port));
                long start = System.nanoTime();
                String reauthentication = handshakeAndExchange(c, TestKdc.servicePrincipal("svc"),
                        serviceName(port));
                System.out.println(side(port) + ": the re-authentication as svc/localhost ended with '"
                        + reauthentication + "' after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
                        + " ms");
                seen.add(reauthentication);
            }
        }
        assertNotEquals("complete", seen.get(0), "Apache refuses the re-authentication");
        assertEquals(seen.get(0), seen.get(1), "how the re-authentication ends, Apache's first");
    }

    /**
     * A v1 SaslHandshake for GSSAPI and the token exchange with SaslAuthenticate v2 (which supports re-authentication)
     * as {@code principal}, logged in from the client keytab: "complete", the error of a failed SaslAuthenticate,
     * or that the connection closed without answering a token.
     */
    private static String handshakeAndExchange(WireClient c, String principal, String serviceName) throws Exception {
        SaslHandshakeResponseData handshake = (SaslHandshakeResponseData) c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("GSSAPI"));
        if (handshake.errorCode() != 0) return "handshake error " + handshake.errorCode();
        Subject subject = login(principal);
        SaslClient client = Subject.doAs(subject, (PrivilegedExceptionAction<SaslClient>) () ->
                Sasl.createSaslClient(new String[] {"GSSAPI"}, null, serviceName, TestKdc.HOST,
                        Map.of(Sasl.QOP, "auth"), callbacks -> {
                            throw new UnsupportedCallbackException(callbacks[0]);
                        }));
        byte[] token = client.hasInitialResponse() ? evaluate(subject, client, new byte[0]) : new byte[0];
        while (true) {
            RequestHeader header = c.send(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(token));
            SaslAuthenticateResponseData answer;
            try {
                answer = (SaslAuthenticateResponseData) c.receive(header);
            } catch (IOException closed) {
                return "closed without an answer (" + closed.getClass().getSimpleName() + ")";
            }
            if (answer.errorCode() != 0) return "error " + answer.errorCode() + ": " + answer.errorMessage();
            if (client.isComplete()) return "complete";
            token = evaluate(subject, client, answer.authBytes());
        }
    }

    private static byte[] evaluate(Subject subject, SaslClient client, byte[] challenge) throws Exception {
        return Subject.doAs(subject, (PrivilegedExceptionAction<byte[]>) () -> client.evaluateChallenge(challenge));
    }

    /** A Kerberos login from the client keytab, for a SASL client of our own. */
    private static Subject login(String principal) throws Exception {
        Map<String, String> options = Map.of("useKeyTab", "true", "storeKey", "false", "doNotPrompt", "true",
                "keyTab", clientKeytab.toString(), "principal", principal);
        LoginContext login = new LoginContext("differential-client", new Subject(), null,
                TestKdc.loginModule(options));
        login.login();
        return login.getSubject();
    }

    private static Properties client(int port, String principal, String serviceName) {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, TestKdc.HOST + ":" + port);
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        props.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, serviceName);
        props.put(SaslConfigs.SASL_JAAS_CONFIG, TestKdc.krb5LoginModule(clientKeytab, principal));
        props.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
        return props;
    }

    private static KafkaProducer<String, String> producer(int port, String principal, String serviceName,
                                                          int maxBlockMs) {
        Properties props = client(port, principal, serviceName);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlockMs);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 40_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** The sum of a client metric over its tags. */
    private static double metric(KafkaProducer<?, ?> producer, String name) {
        double sum = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().name().equals(name)) sum += ((Number) e.getValue().metricValue()).doubleValue();
        }
        return sum;
    }

    private static void awaitReady(ApacheBroker apache) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!apache.alive()) fail("Apache Kafka exited:\n" + apache.logTail());
            Properties props = client(apache.port(), TestKdc.principal("Alice"), "kafka");
            try (Admin admin = Admin.create(props)) {
                if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("Apache Kafka did not get ready:\n" + apache.logTail());
    }
}
