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
    private static final Set<Errors> AUTHORIZATION_ERRORS = EnumSet.of(Errors.TOPIC_AUTHORIZATION_FAILED,
            Errors.GROUP_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED,
            Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, Errors.DELEGATION_TOKEN_AUTHORIZATION_FAILED);
    private static final Set<ApiKeys> HANDSHAKE_APIS = EnumSet.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE);
    /**
     * APIs whose Apache answer to a principal without ACLs is not an authorization error: the listing APIs filter
     * what the principal may describe (and answer NONE: the leak check covers them), and the delegation token APIs
     * need no ACL for the principal's own tokens, so without delegation.token.secret.key they answer
     * DELEGATION_TOKEN_AUTH_DISABLED (CreateDelegationToken first checks its renewers: the filled one has no type).
     */
    private static final Map<ApiKeys, Set<Errors>> NOT_ACL_ANSWERS = Map.of(
            ApiKeys.LIST_GROUPS, EnumSet.of(Errors.NONE),
            ApiKeys.LIST_TRANSACTIONS, EnumSet.of(Errors.NONE),
            ApiKeys.CREATE_DELEGATION_TOKEN, EnumSet.of(Errors.INVALID_PRINCIPAL_TYPE),
            ApiKeys.RENEW_DELEGATION_TOKEN, EnumSet.of(Errors.DELEGATION_TOKEN_AUTH_DISABLED),
            ApiKeys.EXPIRE_DELEGATION_TOKEN, EnumSet.of(Errors.DELEGATION_TOKEN_AUTH_DISABLED),
            ApiKeys.DESCRIBE_DELEGATION_TOKEN, EnumSet.of(Errors.DELEGATION_TOKEN_AUTH_DISABLED));

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
            // The same after a successful handshake but before SaslAuthenticate completes.
            try (Connection c = sasl()) {
                assertEquals(Errors.NONE, c.<SaslHandshakeResponse>call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                        new SaslHandshakeRequestData().setMechanism("PLAIN")).error());
                if (api.getKey() == ApiKeys.SASL_AUTHENTICATE) continue; // that is the exchange itself
                c.send(api.getKey(), api.getValue(), requests.request(api.getKey(), api.getValue()));
                if (!c.closedSilently(10_000)) answered.add(api.getKey().name + " after the handshake");
            }
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
                boolean open = ApiAuthorization.rule(io.tandem.kafka.wire.ApiKey.forId(key.id)).checks().isEmpty()
                        && "none".equals(ApiAuthorization.rule(io.tandem.kafka.wire.ApiKey.forId(key.id)).handlerChecks());
                boolean refused = errors.stream().anyMatch(AUTHORIZATION_ERRORS::contains);
                Set<Errors> special = NOT_ACL_ANSWERS.get(key);
                if (special != null) {
                    errors.remove(Errors.NONE);
                    if (!errors.equals(special) && !(special.contains(Errors.NONE) && errors.isEmpty())) {
                        unexpected.put(key.name + " v" + version + " (expected " + special + ")", errors.toString());
                    }
                } else if (!open && !refused) {
                    unexpected.put(key.name + " v" + version, errors.toString());
                }
                if (open && refused) unexpected.put(key.name + " v" + version + " (open)", errors.toString());
            }
            assertNotNull(c.call(ApiKeys.METADATA, (short) 12, new org.apache.kafka.common.message.MetadataRequestData()
                    .setTopics(null)), "the connection still serves");
        }
        assertEquals(Map.of(), leaks, "answers naming a resource the principal may not see");
        assertEquals(Map.of(), unexpected, "APIs that did not refuse the principal without ACLs");
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
