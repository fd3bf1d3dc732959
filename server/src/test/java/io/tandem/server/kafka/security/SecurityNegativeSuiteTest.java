package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.handlers.ApiAuthorization;
import io.tandem.server.tls.TestCertificates;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.SaslAuthenticateResponse;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * or id of a resource it did not name; fuzzed SASL exchanges and fuzzed TLS ClientHellos close only their own
 * connection while an authenticated client keeps being served.
 */
class SecurityNegativeSuiteTest {
    private static final String TOPIC = "secret-topic";
    private static final String GROUP = "secret-group";
    private static final String TRANSACTIONAL_ID = "secret-transaction";
    private static final Set<ApiKeys> HANDSHAKE_APIS = EnumSet.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE);
    /**
     * Apache's answer, per API, to the request {@link SecretRequests} builds (every name field set to the secret
     * topic, group or transactional id, the topic's id in every id field) from a principal without any ACL: the error
     * codes of the whole answer, NONE left out. Each row names where Apache decides it: {@code KafkaApis} (3.9,
     * ZooKeeper mode, and 4.x for the APIs it added) and its {@code AuthHelper}; a check "X on R" refused is R's
     * authorization error (CLUSTER_, GROUP_, TOPIC_, TRANSACTIONAL_ID_AUTHORIZATION_FAILED). An API the broker serves
     * without a row fails the test: a new API needs its row.
     */
    private static final Map<ApiKeys, Set<Errors>> APACHE_ANSWERS = new EnumMap<>(ApiKeys.class);

    private static void answer(ApiKeys key, String where, Errors... errors) {
        assertFalse(where.isBlank(), "every row cites where Apache decides it");
        APACHE_ANSWERS.put(key, errors.length == 0 ? EnumSet.noneOf(Errors.class) : EnumSet.of(errors[0], errors));
    }

    static {
        final Errors topic = Errors.TOPIC_AUTHORIZATION_FAILED;
        final Errors group = Errors.GROUP_AUTHORIZATION_FAILED;
        final Errors cluster = Errors.CLUSTER_AUTHORIZATION_FAILED;
        final Errors transactionalId = Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        answer(ApiKeys.PRODUCE, "handleProduceRequest: WRITE on each TOPIC (v13 by id); the transactional id is "
                + "checked only for transactional records (RequestUtils.hasTransactionalRecords), and there are none",
                topic);
        answer(ApiKeys.FETCH, "handleFetchRequest: a consumer needs READ on each TOPIC (v13+ by id, resolved first)",
                topic);
        answer(ApiKeys.LIST_OFFSETS, "handleListOffsetRequest: DESCRIBE on each TOPIC", topic);
        answer(ApiKeys.METADATA, "handleTopicMetadataRequest: a topic asked for without DESCRIBE is "
                + "TOPIC_AUTHORIZATION_FAILED (only listing all hides it)", topic);
        answer(ApiKeys.OFFSET_COMMIT, "handleOffsetCommitRequest: READ on GROUP first, every partition refused", group);
        answer(ApiKeys.OFFSET_FETCH, "handleOffsetFetchRequest (v8+ groups): DESCRIBE on each GROUP", group);
        answer(ApiKeys.FIND_COORDINATOR, "handleFindCoordinatorRequest: DESCRIBE on the GROUP key", group);
        answer(ApiKeys.JOIN_GROUP, "handleJoinGroupRequest: READ on GROUP", group);
        answer(ApiKeys.HEARTBEAT, "handleHeartbeatRequest: READ on GROUP", group);
        answer(ApiKeys.LEAVE_GROUP, "handleLeaveGroupRequest: READ on GROUP, top-level error", group);
        answer(ApiKeys.SYNC_GROUP, "handleSyncGroupRequest: READ on GROUP", group);
        answer(ApiKeys.DESCRIBE_GROUPS, "handleDescribeGroupsRequest: DESCRIBE on each GROUP", group);
        answer(ApiKeys.LIST_GROUPS, "handleListGroupsRequest: without DESCRIBE on CLUSTER only the groups with "
                + "DESCRIBE are listed (none): NONE");
        answer(ApiKeys.API_VERSIONS, "handleApiVersionsRequest: open; the default client software name \"\" is "
                + "not valid (ApiVersionsRequest.isValid)", Errors.INVALID_REQUEST);
        answer(ApiKeys.CREATE_TOPICS, "handleCreateTopicsRequest: CREATE on CLUSTER, else on each TOPIC, before "
                + "existence", topic);
        answer(ApiKeys.DELETE_TOPICS, "handleDeleteTopicsRequest: an entry with both name and id throws "
                + "InvalidRequestException before any authorization (every entry INVALID_REQUEST)",
                Errors.INVALID_REQUEST);
        answer(ApiKeys.DELETE_RECORDS, "handleDeleteRecordsRequest: DELETE on each TOPIC", topic);
        answer(ApiKeys.INIT_PRODUCER_ID, "handleInitProducerIdRequest: WRITE on TRANSACTIONAL_ID", transactionalId);
        answer(ApiKeys.OFFSET_FOR_LEADER_EPOCH, "handleOffsetForLeaderEpochRequest: a consumer needs DESCRIBE on "
                + "each TOPIC", topic);
        answer(ApiKeys.ADD_PARTITIONS_TO_TXN, "handleAddPartitionsToTxnRequest: v4+ (the verification batch) needs "
                + "CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.ADD_OFFSETS_TO_TXN, "handleAddOffsetsToTxnRequest: WRITE on TRANSACTIONAL_ID first",
                transactionalId);
        answer(ApiKeys.END_TXN, "handleEndTxnRequest: WRITE on TRANSACTIONAL_ID", transactionalId);
        answer(ApiKeys.WRITE_TXN_MARKERS, "handleWriteTxnMarkersRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.TXN_OFFSET_COMMIT, "handleTxnOffsetCommitRequest: WRITE on TRANSACTIONAL_ID before READ on "
                + "GROUP", transactionalId);
        answer(ApiKeys.DESCRIBE_ACLS, "AclApis.handleDescribeAcls: DESCRIBE on CLUSTER", cluster);
        answer(ApiKeys.CREATE_ACLS, "AclApis.handleCreateAcls: ALTER on CLUSTER", cluster);
        answer(ApiKeys.DELETE_ACLS, "AclApis.handleDeleteAcls: ALTER on CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_CONFIGS, "handleDescribeConfigsRequest: DESCRIBE_CONFIGS on the TOPIC resource", topic);
        answer(ApiKeys.ALTER_CONFIGS, "handleAlterConfigsRequest: ALTER_CONFIGS on the TOPIC resource", topic);
        answer(ApiKeys.DESCRIBE_LOG_DIRS, "handleDescribeLogDirsRequest: DESCRIBE on CLUSTER, top-level error",
                cluster);
        answer(ApiKeys.CREATE_PARTITIONS, "handleCreatePartitionsRequest: ALTER on each TOPIC", topic);
        answer(ApiKeys.CREATE_DELEGATION_TOKEN, "handleCreateTokenRequest: the renewers are checked before any "
                + "ACL; the filled renewer has no principal type", Errors.INVALID_PRINCIPAL_TYPE);
        answer(ApiKeys.RENEW_DELEGATION_TOKEN, "handleRenewTokenRequest: no ACL for one's own tokens; without "
                + "delegation.token.secret.key", Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.EXPIRE_DELEGATION_TOKEN, "handleExpireTokenRequest: as renew",
                Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.DESCRIBE_DELEGATION_TOKEN, "handleDescribeTokensRequest: as renew",
                Errors.DELEGATION_TOKEN_AUTH_DISABLED);
        answer(ApiKeys.DELETE_GROUPS, "handleDeleteGroupsRequest: DELETE on each GROUP", group);
        answer(ApiKeys.ELECT_LEADERS, "handleElectLeaders: ALTER on CLUSTER", cluster);
        answer(ApiKeys.INCREMENTAL_ALTER_CONFIGS, "handleIncrementalAlterConfigsRequest: ALTER_CONFIGS on the TOPIC "
                + "resource", topic);
        answer(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, "handleAlterPartitionReassignmentsRequest: ALTER on CLUSTER",
                cluster);
        answer(ApiKeys.LIST_PARTITION_REASSIGNMENTS, "handleListPartitionReassignmentsRequest: DESCRIBE on CLUSTER",
                cluster);
        answer(ApiKeys.OFFSET_DELETE, "handleOffsetDeleteRequest: DELETE on GROUP, top-level error", group);
        answer(ApiKeys.DESCRIBE_CLIENT_QUOTAS, "handleDescribeClientQuotasRequest: DESCRIBE_CONFIGS on CLUSTER",
                cluster);
        answer(ApiKeys.ALTER_CLIENT_QUOTAS, "handleAlterClientQuotasRequest: ALTER_CONFIGS on CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, "handleDescribeUserScramCredentialsRequest: DESCRIBE on "
                + "CLUSTER", cluster);
        answer(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, "handleAlterUserScramCredentialsRequest: ALTER on CLUSTER",
                cluster);
        answer(ApiKeys.ALTER_PARTITION, "handleAlterPartitionRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.UPDATE_FEATURES, "handleUpdateFeatures: ALTER on CLUSTER, top-level error", cluster);
        answer(ApiKeys.DESCRIBE_CLUSTER, "handleDescribeCluster: open (DESCRIBE on CLUSTER only decides the "
                + "authorized operations)");
        answer(ApiKeys.DESCRIBE_PRODUCERS, "handleDescribeProducersRequest: READ on each TOPIC", topic);
        answer(ApiKeys.DESCRIBE_TRANSACTIONS, "handleDescribeTransactionsRequest: DESCRIBE on each TRANSACTIONAL_ID",
                transactionalId);
        answer(ApiKeys.LIST_TRANSACTIONS, "handleListTransactionsRequest: only the transactional ids with DESCRIBE "
                + "are listed (none): NONE");
        answer(ApiKeys.ALLOCATE_PRODUCER_IDS, "handleAllocateProducerIdsRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.CONSUMER_GROUP_HEARTBEAT, "handleConsumerGroupHeartbeat: READ on GROUP before the subscribed "
                + "topics", group);
        answer(ApiKeys.CONSUMER_GROUP_DESCRIBE, "handleConsumerGroupDescribe: DESCRIBE on each GROUP", group);
        answer(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, "DescribeTopicPartitionsRequestHandler: a topic asked for without "
                + "DESCRIBE is TOPIC_AUTHORIZATION_FAILED", topic);
        answer(ApiKeys.SHARE_GROUP_HEARTBEAT, "handleShareGroupHeartbeat: READ on GROUP before the subscribed topics",
                group);
        answer(ApiKeys.SHARE_GROUP_DESCRIBE, "handleShareGroupDescribe: DESCRIBE on each GROUP", group);
        answer(ApiKeys.SHARE_FETCH, "handleShareFetchRequest: READ on GROUP first", group);
        answer(ApiKeys.SHARE_ACKNOWLEDGE, "handleShareAcknowledgeRequest: READ on GROUP first", group);
        answer(ApiKeys.INITIALIZE_SHARE_GROUP_STATE, "handleInitializeShareGroupStateRequest: CLUSTER_ACTION on "
                + "CLUSTER", cluster);
        answer(ApiKeys.READ_SHARE_GROUP_STATE, "handleReadShareGroupStateRequest: CLUSTER_ACTION on CLUSTER", cluster);
        answer(ApiKeys.WRITE_SHARE_GROUP_STATE, "handleWriteShareGroupStateRequest: CLUSTER_ACTION on CLUSTER",
                cluster);
        answer(ApiKeys.DELETE_SHARE_GROUP_STATE, "handleDeleteShareGroupStateRequest: CLUSTER_ACTION on CLUSTER",
                cluster);
        answer(ApiKeys.READ_SHARE_GROUP_STATE_SUMMARY, "handleReadShareGroupStateSummaryRequest: CLUSTER_ACTION on "
                + "CLUSTER", cluster);
        answer(ApiKeys.DESCRIBE_SHARE_GROUP_OFFSETS, "handleDescribeShareGroupOffsetsRequest: DESCRIBE on each GROUP",
                group);
        answer(ApiKeys.ALTER_SHARE_GROUP_OFFSETS, "handleAlterShareGroupOffsetsRequest: READ on GROUP", group);
        answer(ApiKeys.DELETE_SHARE_GROUP_OFFSETS, "handleDeleteShareGroupOffsetsRequest: DELETE on GROUP", group);
    }

    @TempDir
    static Path dir;
    static Tandem tandem;
    static Uuid topicId;
    static SecretRequests requests;
    static Path clientTrust;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        clientTrust = certificates.trustStore;
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required "
                                + "user_alice=\"alice-secret\";")
                .set("listener.name.ssl.ssl.keystore.type", "PKCS12")
                .set("listener.name.ssl.ssl.keystore.location", certificates.serverKeyStore.toString())
                .set("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD)
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

    /** A blocking connection speaking Kafka's own request and response classes. */
    private static final class Connection implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;
        int correlationId;

        Connection(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(15_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        RequestHeader send(ApiKeys key, short version, ApiMessage body) throws IOException {
            RequestHeader header = new RequestHeader(new RequestHeaderData().setRequestApiKey(key.id)
                    .setRequestApiVersion(version).setClientId("negative-suite").setCorrelationId(++correlationId),
                    key.requestHeaderVersion(version));
            ByteBuffer frame = RequestUtils.serialize(header.data(), header.headerVersion(), body, version);
            byte[] bytes = new byte[frame.remaining()];
            frame.get(bytes);
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
            return header;
        }

        byte[] receive() throws IOException {
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            return response;
        }

        @SuppressWarnings("unchecked")
        <R extends AbstractResponse> R call(ApiKeys key, short version, ApiMessage body) throws IOException {
            RequestHeader header = send(key, version, body);
            return (R) AbstractResponse.parseResponse(ByteBuffer.wrap(receive()), header);
        }

        /** True when the broker closed the connection within the time without sending a byte. */
        boolean closedSilently(int timeoutMs) throws IOException {
            socket.setSoTimeout(timeoutMs);
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException open) {
                return false;
            } catch (EOFException | SocketException reset) {
                return true;
            }
        }

        void authenticate(String user, String password) throws IOException {
            SaslHandshakeResponse handshake = call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"));
            assertEquals(Errors.NONE, handshake.error());
            SaslAuthenticateResponse done = call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(plain(user, password)));
            assertEquals(Errors.NONE, done.error(), done.errorMessage());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    private static Connection sasl() throws IOException {
        return new Connection(tandem.kafkaPort("SASL_PLAINTEXT"));
    }

    /** The APIs the broker serves, with the newest version both it and kafka-clients speak; from its ApiVersions. */
    private static Map<ApiKeys, Short> servedApis() throws IOException {
        try (Connection c = sasl()) {
            ApiVersionsResponse versions = c.call(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("negative-suite").setClientSoftwareVersion("1"));
            Map<ApiKeys, Short> served = new LinkedHashMap<>();
            for (ApiVersionsResponseData.ApiVersion v : versions.data().apiKeys()) {
                if (!ApiKeys.hasId(v.apiKey())) continue; // an API kafka-clients does not know: nothing to build it
                ApiKeys key = ApiKeys.forId(v.apiKey());
                short version = (short) Math.min(v.maxVersion(), key.latestVersion(true));
                if (version < Math.max(v.minVersion(), key.oldestVersion())) continue;
                served.put(key, version);
            }
            assertTrue(served.size() > 50, "the broker serves Kafka's APIs: " + served.keySet());
            return served;
        }
    }

    @Test
    void shouldCloseEveryApiSentBeforeAuthenticationWithoutAnAnswer() throws Exception {
        Map<ApiKeys, Short> served = servedApis();
        List<String> answered = new ArrayList<>();
        for (Map.Entry<ApiKeys, Short> api : served.entrySet()) {
            if (HANDSHAKE_APIS.contains(api.getKey())) continue;
            try (Connection c = sasl()) {
                c.send(api.getKey(), api.getValue(), requests.request(api.getKey(), api.getValue()));
                if (!c.closedSilently(10_000)) answered.add(api.getKey().name);
            }
            // After a successful handshake Kafka answers them with ILLEGAL_SASL_STATE: IllegalSaslStateTest.
        }
        assertEquals(List.of(), answered, "unauthenticated requests answered instead of closed");
    }

    @Test
    void shouldRefuseAWrongPasswordAndAnUnknownMechanismAndClose() throws Exception {
        try (Connection c = sasl()) {
            assertEquals(Errors.NONE, c.<SaslHandshakeResponse>call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN")).error());
            SaslAuthenticateResponse failed = c.call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(plain("alice", "wrong")));
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED, failed.error());
            assertEquals("Authentication failed: Invalid username or password", failed.errorMessage());
            assertTrue(c.closedSilently(10_000), "closed after the failure");
        }
        try (Connection c = sasl()) {
            SaslAuthenticateResponse failed;
            c.call(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
            failed = c.call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequestData().setAuthBytes(plain("mallory", "alice-secret")));
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED, failed.error(), "an unknown user as a wrong password");
            assertEquals("Authentication failed: Invalid username or password", failed.errorMessage());
            assertTrue(c.closedSilently(10_000));
        }
        for (String mechanism : List.of("GSSAPI", "SCRAM-SHA-256", "NO-SUCH-MECHANISM", "")) {
            try (Connection c = sasl()) {
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
        Map<ApiKeys, Short> served = servedApis();
        Map<String, String> unexpected = new TreeMap<>();
        Map<String, String> leaks = new TreeMap<>();
        try (Connection c = sasl()) {
            c.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            c.authenticate("alice", "alice-secret");
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
                Set<Errors> expected = APACHE_ANSWERS.get(key);
                if (expected == null) {
                    unexpected.put(key.name + " v" + version + " (no row in APACHE_ANSWERS)", errors.toString());
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
        try (Connection c = sasl()) {
            c.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            c.authenticate("alice", "alice-secret");
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

    @Test
    void shouldCloseOnlyAFuzzedSaslExchangeWhileAnotherClientKeepsWorking() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("fuzz seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        try (Connection bystander = sasl()) {
            bystander.call(ApiKeys.API_VERSIONS, (short) 0, new ApiVersionsRequestData());
            bystander.authenticate("alice", "alice-secret");
            for (int round = 0; round < 40; round++) {
                try (Connection c = sasl()) {
                    byte[] noise = new byte[random.nextInt(300)];
                    random.nextBytes(noise);
                    switch (round % 4) {
                        case 0 -> { // a frame of noise where the first request should be
                            c.out.writeInt(noise.length);
                            c.out.write(noise);
                        }
                        case 1 -> { // a handshake naming noise as its mechanism
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData()
                                    .setMechanism(new String(noise, StandardCharsets.ISO_8859_1)));
                        }
                        case 2 -> { // noise as the PLAIN token
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                            c.receive();
                            c.send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData()
                                    .setAuthBytes(noise));
                        }
                        default -> { // noise as a raw v0 token, with a length prefix that may lie
                            c.send(ApiKeys.SASL_HANDSHAKE, (short) 0, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                            c.receive();
                            // A lie is negative or over a GiB: a length the broker may take would rightly leave it
                            // waiting for the rest.
                            c.out.writeInt(random.nextBoolean() ? noise.length : random.nextBoolean()
                                    ? -1 - random.nextInt(1 << 30) : (1 << 30) + random.nextInt(1 << 30));
                            c.out.write(noise);
                        }
                    }
                    c.out.flush();
                    assertTrue(closesAfterAnyAnswers(c), "seed " + seed + " round " + round + ": connection left open");
                } catch (SocketException reset) {
                    // the broker closed while the noise was still being written: closed, as it should be
                }
                assertNotNull(bystander.call(ApiKeys.METADATA, (short) 12,
                        new org.apache.kafka.common.message.MetadataRequestData().setTopics(null)),
                        "seed " + seed + " round " + round + ": the other client is still served");
            }
        }
    }

    /** Reads whatever the broker answers (at most a few frames) until it closes; false if it stays open. */
    private static boolean closesAfterAnyAnswers(Connection c) throws IOException {
        c.socket.setSoTimeout(10_000);
        try {
            byte[] buffer = new byte[4096];
            for (int read = 0; read < 64 * 1024; ) {
                int n = c.in.read(buffer);
                if (n < 0) return true;
                read += n;
            }
            return false;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    @Test
    void shouldCloseOnlyAFuzzedTlsClientHelloWhileAnotherClientKeepsWorking() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("fuzz seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        SSLContext context = trustingContext();
        byte[] hello = clientHello(context);
        try (SSLSocket bystander = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1",
                tandem.kafkaPort("SSL"))) {
            bystander.setSoTimeout(15_000);
            bystander.startHandshake();
            DataOutputStream bystanderOut = new DataOutputStream(bystander.getOutputStream());
            DataInputStream bystanderIn = new DataInputStream(bystander.getInputStream());
            for (int round = 0; round < 30; round++) {
                byte[] fuzzed = Arrays.copyOf(hello, hello.length);
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    // The record's type and version (bytes 0-2) sometimes, mostly the ClientHello itself; never the
                    // record length (3-4) nor the handshake message's length (6-8): a longer one would rightly leave
                    // the broker waiting for the rest (seed 50301863522133 round 12 grew byte 8).
                    int at = random.nextInt(10) == 0 ? random.nextInt(3) : random.nextInt(20) == 0 ? 5
                            : 9 + random.nextInt(fuzzed.length - 9);
                    fuzzed[at] = (byte) random.nextInt(256);
                }
                boolean cut = round % 5 == 4;
                if (cut) fuzzed = Arrays.copyOf(fuzzed, random.nextInt(fuzzed.length));
                String why = "seed " + seed + " round " + round;
                try (Socket raw = new Socket("127.0.0.1", tandem.kafkaPort("SSL"))) {
                    raw.getOutputStream().write(fuzzed);
                    raw.getOutputStream().flush();
                    if (cut) raw.shutdownOutput(); // a hello cut short: the client is gone
                    assertTrue(closesOrGoesOnWithTheHandshake(raw), why + ": left open on a broken hello");
                } catch (SocketException reset) {
                    // closed while writing: closed, as it should be
                }
                assertServes(bystanderOut, bystanderIn, round + 1, why + ": the other client is still served");
            }
        }
    }

    /**
     * True when the broker closes the connection, or answers with a TLS handshake record (a mutation TLS lets a server
     * go on with, e.g. in the client's random); false when it stays open and silent, or answers anything else.
     */
    private static boolean closesOrGoesOnWithTheHandshake(Socket raw) throws IOException {
        raw.setSoTimeout(5_000);
        InputStream in = raw.getInputStream();
        try {
            int first = in.read();
            if (first < 0) return true;
            if (first == 21) return in.readAllBytes().length >= 0; // an alert: the connection then ends
            return first == 22;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    /** An ApiVersions v0 round trip over the bystander's TLS connection. */
    private static void assertServes(DataOutputStream out, DataInputStream in, int correlationId, String why)
            throws IOException {
        RequestHeader header = new RequestHeader(new RequestHeaderData().setRequestApiKey(ApiKeys.API_VERSIONS.id)
                .setRequestApiVersion((short) 0).setClientId("bystander").setCorrelationId(correlationId), (short) 1);
        ByteBuffer frame = RequestUtils.serialize(header.data(), header.headerVersion(), new ApiVersionsRequestData(),
                (short) 0);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        assertEquals(correlationId, ByteBuffer.wrap(response).getInt(), why);
    }

    private static SSLContext trustingContext() throws Exception {
        SSLContext context = TestCertificates.trustingContext(clientTrust);
        return context;
    }

    /** A real ClientHello record, as the JDK's client writes it first. */
    private static byte[] clientHello(SSLContext context) throws Exception {
        SSLEngine engine = context.createSSLEngine("127.0.0.1", tandem.kafkaPort("SSL"));
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
        assertEquals(SSLEngineResult.Status.OK, result.getStatus());
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        assertEquals(22, hello[0], "a handshake record");
        assertFalse(hello.length < 50, "a whole ClientHello");
        return hello;
    }
}
