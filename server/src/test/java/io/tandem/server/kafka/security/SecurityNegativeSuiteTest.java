package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.kafka.handlers.ApiAuthorization;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The negative security suite (issue 11), over every Kafka API the broker serves, as its own ApiVersions answer (built
 * from the handler registry) lists them: on a SASL_PLAINTEXT listener an unauthenticated request of any API but
 * ApiVersions and SaslHandshake is closed without an answer (Apache's SaslServerAuthenticator), a wrong password gets
 * SASL_AUTHENTICATION_FAILED and is closed, an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM with the enabled ones
 * and is closed; an authenticated principal without ACLs gets, for every API whose rule is not open, an authorization
 * error naming the resource it asked for (requests are built by Kafka's own message classes with their defaults and
 * the secret topic, group and transactional id filled into every name field), and no answer to it carries the name
 * or id of a resource it did not name ({@link ApacheNoAclAnswers} holds Apache's answers). Fuzzed handshakes:
 * {@link HandshakeFuzzTest}.
 */
class SecurityNegativeSuiteTest {
    private static final String TOPIC = "secret-topic";
    private static final String GROUP = "secret-group";
    private static final String TRANSACTIONAL_ID = "secret-transaction";
    private static final Set<ApiKeys> HANDSHAKE_APIS = EnumSet.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE);

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Uuid topicId;
    static SecretRequests requests;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(SecurityTestBrokers.plain(dir.resolve("node"),
                "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                // The PLAINTEXT listener is the set-up's (and the broker's own) door; alice has no ACL at all.
                .set("super.users", "User:ANONYMOUS")
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT"), CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            topicId = admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).topicId(TOPIC)
                    .get(30, TimeUnit.SECONDS);
            admin.alterConsumerGroupOffsets(GROUP, Map.of(new TopicPartition(TOPIC, 0),
                    new OffsetAndMetadata(0, "secret-metadata"))).all().get(30, TimeUnit.SECONDS);
        }
        requests = new SecretRequests(TOPIC, GROUP, TRANSACTIONAL_ID, topicId);
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static KafkaTestConnection sasl() throws IOException {
        return new KafkaTestConnection(tandem.kafkaPort("SASL_PLAINTEXT"), "negative-suite");
    }

    @Test
    void shouldCloseEveryApiSentBeforeAuthenticationWithoutAnAnswer() throws Exception {
        Map<ApiKeys, Short> served = KafkaTestConnection.servedApis(tandem.kafkaPort("SASL_PLAINTEXT"));
        List<String> answered = new ArrayList<>();
        for (Map.Entry<ApiKeys, Short> api : served.entrySet()) {
            if (HANDSHAKE_APIS.contains(api.getKey())) continue;
            try (KafkaTestConnection c = sasl()) {
                c.send(api.getKey(), api.getValue(), requests.request(api.getKey(), api.getValue()));
                if (!c.closedSilently(10_000)) answered.add(api.getKey().name);
            }
            // After a successful handshake Kafka answers them with ILLEGAL_SASL_STATE: IllegalSaslStateTest.
        }
        assertEquals(List.of(), answered, "unauthenticated requests answered instead of closed");
    }

    @Test
    void shouldRefuseAWrongPasswordAndAnUnknownMechanismAndClose() throws Exception {
        try (KafkaTestConnection c = sasl()) {
            assertEquals(Errors.NONE, c.<SaslHandshakeResponse>call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN")).error());
            SaslAuthenticateResponse failed = c.call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(KafkaTestConnection.plain("alice", "wrong")));
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED, failed.error());
            assertEquals("Authentication failed: Invalid username or password", failed.errorMessage());
            assertTrue(c.closedSilently(10_000), "closed after the failure");
        }
        try (KafkaTestConnection c = sasl()) {
            SaslAuthenticateResponse failed;
            c.call(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
            failed = c.call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(KafkaTestConnection.plain("mallory",
                            SecurityTestBrokers.PASSWORD)));
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED, failed.error(), "an unknown user as a wrong password");
            assertEquals("Authentication failed: Invalid username or password", failed.errorMessage());
            assertTrue(c.closedSilently(10_000));
        }
        for (String mechanism : List.of("GSSAPI", "SCRAM-SHA-256", "NO-SUCH-MECHANISM", "")) {
            try (KafkaTestConnection c = sasl()) {
                SaslHandshakeResponse refused = c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                        new SaslHandshakeRequestData().setMechanism(mechanism));
                assertEquals(Errors.UNSUPPORTED_SASL_MECHANISM, refused.error(), mechanism);
                assertEquals(List.of("PLAIN"), refused.data().mechanisms(), "the enabled mechanisms");
                assertTrue(c.closedSilently(10_000), "closed after " + mechanism);
            }
        }
    }

    @Test
    void shouldRefuseAPrincipalWithoutAclsOnEveryApiAndLeakNothing() throws Exception {
        Map<ApiKeys, Short> served = KafkaTestConnection.servedApis(tandem.kafkaPort("SASL_PLAINTEXT"));
        Map<String, String> unexpected = new TreeMap<>();
        Map<String, String> leaks = new TreeMap<>();
        try (KafkaTestConnection c = sasl()) {
            c.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            c.authenticate(SecurityTestBrokers.USER, SecurityTestBrokers.PASSWORD);
            for (Map.Entry<ApiKeys, Short> api : served.entrySet()) {
                ApiKeys key = api.getKey();
                short version = api.getValue();
                if (key == ApiKeys.SASL_HANDSHAKE || key == ApiKeys.SASL_AUTHENTICATE) continue;
                System.out.println("negative suite: " + key.name + " v" + version);
                // Defaults only: the principal names nothing, so no answer may name a resource it cannot see.
                ApiMessage defaults = ApiMessageType.fromApiKey(key.id).newRequest();
                if (defaults instanceof org.apache.kafka.common.message.ProduceRequestData produce) {
                    produce.setAcks((short) -1); // acks=0 is never answered
                }
                if (defaults instanceof org.apache.kafka.common.message.DescribeAclsRequestData describe) {
                    // Its schema defaults are UNKNOWN, which Kafka's request parsing refuses by closing the
                    // connection (AclRequestValidationTest): the ANY filter every client sends instead.
                    describe.setResourceTypeFilter((byte) 1).setOperation((byte) 1).setPermissionType((byte) 1);
                }
                RequestHeader header = c.send(key, version, defaults);
                byte[] answer = c.receive();
                String leaked = leak(answer);
                if (leaked != null) leaks.put(key.name, leaked);
                AbstractResponse.parseResponse(ByteBuffer.wrap(answer), header);

                // Every name field filled with the secret resources: an API that is not open refuses it.
                ApiMessage named = requests.request(key, version);
                header = c.send(key, version, named);
                AbstractResponse response = AbstractResponse.parseResponse(ByteBuffer.wrap(c.receive()), header);
                Set<Errors> errors = EnumSet.noneOf(Errors.class);
                errors.addAll(response.errorCounts().keySet());
                // Some responses count only their per-resource errors: add the top-level one.
                try {
                    Object code = response.data().getClass().getMethod("errorCode").invoke(response.data());
                    errors.add(Errors.forCode((Short) code));
                } catch (NoSuchMethodException none) {
                    // no top-level error in this response
                }
                errors.remove(Errors.NONE);
                Set<Errors> expected = ApacheNoAclAnswers.of(key);
                if (expected == null) {
                    unexpected.put(key.name + " v" + version + " (no row in ApacheNoAclAnswers)", errors.toString());
                } else if (!errors.equals(expected)) {
                    unexpected.put(key.name + " v" + version + " (Apache: " + expected + ")", errors.toString());
                }
                // The broker's own table agrees: an open API is answered without an authorization error.
                boolean open = ApiAuthorization.rule(io.tandem.kafka.wire.ApiKey.forId(key.id)).checks().isEmpty()
                        && "none".equals(ApiAuthorization.rule(io.tandem.kafka.wire.ApiKey.forId(key.id)).handlerChecks());
                if (open && errors.stream().anyMatch(e -> e.name().endsWith("_AUTHORIZATION_FAILED"))) {
                    unexpected.put(key.name + " v" + version + " (open)", errors.toString());
                }
            }
            assertNotNull(c.call(ApiKeys.METADATA, (short) 12, new org.apache.kafka.common.message.MetadataRequestData()
                    .setTopics(null)), "the connection still serves");
        }
        assertEquals(Map.of(), leaks, "answers naming a resource the principal may not see");
        assertEquals(Map.of(), unexpected, "APIs whose answer to the principal without ACLs is not Apache's");
    }

    @Test
    void shouldAnswerDeleteTopicsAsApacheByNameByIdAndBothWithoutAcls() throws Exception {
        try (KafkaTestConnection c = sasl()) {
            c.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            c.authenticate(SecurityTestBrokers.USER, SecurityTestBrokers.PASSWORD);
            org.apache.kafka.common.message.DeleteTopicsRequestData request =
                    new org.apache.kafka.common.message.DeleteTopicsRequestData().setTimeoutMs(10_000);
            request.topics().add(new org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState()
                    .setName(TOPIC));
            request.topics().add(new org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState()
                    .setTopicId(topicId));
            Uuid unknown = Uuid.randomUuid();
            request.topics().add(new org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState()
                    .setTopicId(unknown));
            org.apache.kafka.common.requests.DeleteTopicsResponse answer = c.call(ApiKeys.DELETE_TOPICS, (short) 6,
                    request);
            List<org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult> results =
                    new ArrayList<>(answer.data().responses());
            assertEquals(3, results.size());
            // By name: DELETE refused. By id: without DESCRIBE the name is not returned, the id is (Apache does not
            // hold ids secret). An unknown id: UNKNOWN_TOPIC_ID.
            assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), results.get(0).errorCode());
            assertEquals(TOPIC, results.get(0).name());
            assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), results.get(1).errorCode());
            assertEquals(null, results.get(1).name(), "the name of a topic named only by id is hidden");
            assertEquals(topicId, results.get(1).topicId());
            assertEquals(Errors.UNKNOWN_TOPIC_ID.code(), results.get(2).errorCode());
            assertEquals(unknown, results.get(2).topicId());

            // Name and id in one entry: the whole request is INVALID_REQUEST before any authorization.
            org.apache.kafka.common.message.DeleteTopicsRequestData both =
                    new org.apache.kafka.common.message.DeleteTopicsRequestData().setTimeoutMs(10_000);
            both.topics().add(new org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState()
                    .setName("other-topic"));
            both.topics().add(new org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState()
                    .setName(TOPIC).setTopicId(topicId));
            org.apache.kafka.common.requests.DeleteTopicsResponse refused = c.call(ApiKeys.DELETE_TOPICS, (short) 6,
                    both);
            for (var result : refused.data().responses()) {
                assertEquals(Errors.INVALID_REQUEST.code(), result.errorCode(), result.toString());
                assertEquals(null, result.errorMessage());
            }
            assertEquals(2, refused.data().responses().size());
        }
    }

    /** What of the secret resources an answer holds (their names, the topic's id, the group's offset metadata). */
    private static String leak(byte[] answer) {
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        for (String secret : List.of(TOPIC, GROUP, TRANSACTIONAL_ID, "secret-metadata")) {
            if (text.contains(secret)) return secret;
        }
        ByteBuffer id = ByteBuffer.allocate(16).putLong(topicId.getMostSignificantBits())
                .putLong(topicId.getLeastSignificantBits());
        if (text.contains(new String(id.array(), StandardCharsets.ISO_8859_1))) return "the topic id";
        return null;
    }
}
