package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.IllegalSaslStateException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.SaslHandshakeResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request other than SaslAuthenticate once a v1 SaslHandshake began the token exchange, as Kafka's
 * SaslServerAuthenticator.handleSaslToken takes it: parsed, answered with the request's own error response
 * (AbstractRequest.getErrorResponse of an IllegalSaslStateException, error 34), then closed. Every API the broker
 * serves is sent with Kafka's own message classes, and the answer compared field by field with the one Kafka's
 * classes build for that very request; a second SaslHandshake is one of them. An acks=0 Produce has no error response
 * in Kafka, and an unparseable request is an invalid request: both close without an answer.
 */
class IllegalSaslStateTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static SecretRequests requests;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir.resolve("node"))
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        JaasLoginModule.PLAIN_LOGIN_MODULE + " required user_alice=\"alice-secret\";")
                .set("connection.failed.authentication.delay.ms", "0"));
        requests = new SecretRequests("some-topic", "some-group", "some-transaction", Uuid.randomUuid());
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    @Test
    void shouldAnswerEveryOtherApiDuringTheExchangeWithItsOwnIllegalSaslStateErrorThenClose() throws Exception {
        Map<String, String> differences = new TreeMap<>();
        for (Map.Entry<ApiKeys, Short> api : servedApis().entrySet()) {
            ApiKeys key = api.getKey();
            short version = api.getValue();
            if (key == ApiKeys.SASL_AUTHENTICATE) continue; // that is the exchange itself
            ApiMessage body = requests.request(key, version);
            // ACLs and filters Kafka accepts (its parsers refuse UNKNOWN, the default, and close at once).
            if (body instanceof DescribeAclsRequestData acls) {
                acls.setResourceTypeFilter(ResourceType.ANY.code()).setPatternTypeFilter(PatternType.ANY.code())
                        .setOperation(AclOperation.ANY.code()).setPermissionType(AclPermissionType.ANY.code());
            }
            if (body instanceof CreateAclsRequestData acls) {
                acls.creations().forEach(acl -> acl.setResourceType(ResourceType.TOPIC.code())
                        .setResourcePatternType(PatternType.LITERAL.code()).setPrincipal("User:bob").setHost("*")
                        .setOperation(AclOperation.READ.code()).setPermissionType(AclPermissionType.ALLOW.code()));
            }
            if (body instanceof DeleteAclsRequestData acls) {
                acls.filters().forEach(filter -> filter.setResourceTypeFilter(ResourceType.TOPIC.code())
                        .setPatternTypeFilter(PatternType.LITERAL.code()).setOperation(AclOperation.ANY.code())
                        .setPermissionType(AclPermissionType.ANY.code()));
            }
            if (body instanceof ProduceRequestData produce) {
                // A produce carries records (Kafka's own getErrorResponse needs them).
                produce.topicData().forEach(t -> t.partitionData().forEach(p -> p.setRecords(MemoryRecords.EMPTY)));
            }
            try (Connection c = exchanging()) {
                RequestHeader header = c.send(key, version, body);
                byte[] frame = c.receiveOrNull();
                if (frame == null) {
                    differences.put(key.name, "closed without an answer");
                    continue;
                }
                AbstractResponse answered = AbstractResponse.parseResponse(ByteBuffer.wrap(frame), header);
                Object expected;
                try {
                    expected = kafkasAnswer(key, version, body).data();
                } catch (RuntimeException e) {
                    differences.put(key.name, "answered, but Kafka cannot parse the request: " + e);
                    continue;
                }
                if (!expected.equals(answered.data())) {
                    differences.put(key.name, "answered " + answered.data() + ", Kafka answers " + expected);
                }
                assertTrue(c.closedSilently(10_000), key.name + ": closed after the answer");
            }
        }
        assertEquals(Map.of(), differences, "answers that differ from Kafka's");
    }

    @Test
    void shouldAnswerASecondHandshakeWithIllegalSaslStateAndNoMechanisms() throws Exception {
        try (Connection c = exchanging()) {
            SaslHandshakeResponse again = (SaslHandshakeResponse) c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"));
            assertEquals(Errors.ILLEGAL_SASL_STATE, again.error());
            assertEquals(java.util.List.of(), again.data().mechanisms());
            assertTrue(c.closedSilently(10_000));
        }
        try (Connection c = exchanging()) {
            ApiVersionsResponse versions = (ApiVersionsResponse) c.call(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("x").setClientSoftwareVersion("1"));
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), versions.data().errorCode());
            assertEquals(new ApiVersionsResponseData.ApiVersionCollection(), versions.data().apiKeys());
            assertTrue(c.closedSilently(10_000));
        }
    }

    @Test
    void shouldCloseWithoutAnAnswerForAnAcksZeroProduceAndAnUnparseableRequest() throws Exception {
        try (Connection c = exchanging()) {
            c.send(ApiKeys.PRODUCE, (short) 9, new ProduceRequestData().setAcks((short) 0).setTimeoutMs(1000));
            assertTrue(c.closedSilently(10_000), "Kafka's ProduceRequest has no error response for acks=0");
        }
        try (Connection c = exchanging()) {
            // A Metadata v12 header with a body cut short: Kafka's parseRequest fails, an InvalidRequestException.
            RequestHeader header = new RequestHeader(new RequestHeaderData().setRequestApiKey(ApiKeys.METADATA.id)
                    .setRequestApiVersion((short) 12).setClientId("x").setCorrelationId(7),
                    ApiKeys.METADATA.requestHeaderVersion((short) 12));
            ByteBuffer bytes = RequestUtils.serialize(header.data(), header.headerVersion(),
                    new org.apache.kafka.common.message.MetadataRequestData(), (short) 12);
            c.sendRaw(java.util.Arrays.copyOf(bytes.array(), bytes.remaining() - 2));
            assertTrue(c.closedSilently(10_000), "an unparseable request closes without an answer");
        }
    }

    /** What Kafka's own classes answer to this request during the exchange. */
    private static AbstractResponse kafkasAnswer(ApiKeys key, short version, ApiMessage body) {
        ByteBuffer bytes = MessageUtil.toByteBufferAccessor(body, version).buffer();
        if (bytes.position() != 0) bytes.flip();
        AbstractRequest request = AbstractRequest.parseRequest(key, version, new org.apache.kafka.common.protocol.ByteBufferAccessor(bytes)).request;
        return request.getErrorResponse(0, new IllegalSaslStateException("Unexpected Kafka request of type " + key
                + " during SASL authentication."));
    }

    /** The served APIs with the newest version both the broker and kafka-clients speak. */
    private static Map<ApiKeys, Short> servedApis() throws IOException {
        try (Connection c = new Connection(tandem.kafkaPort("SASL_PLAINTEXT"))) {
            ApiVersionsResponse versions = (ApiVersionsResponse) c.call(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("x").setClientSoftwareVersion("1"));
            Map<ApiKeys, Short> served = new LinkedHashMap<>();
            for (ApiVersionsResponseData.ApiVersion v : versions.data().apiKeys()) {
                if (!ApiKeys.hasId(v.apiKey())) continue;
                ApiKeys key = ApiKeys.forId(v.apiKey());
                short version = (short) Math.min(v.maxVersion(), key.latestVersion(true));
                if (version < Math.max(v.minVersion(), key.oldestVersion())) continue;
                served.put(key, version);
            }
            assertTrue(served.size() > 50, "the broker serves Kafka's APIs: " + served.keySet());
            return served;
        }
    }

    /** A connection whose v1 PLAIN handshake succeeded: the token exchange has begun. */
    private static Connection exchanging() throws IOException {
        Connection c = new Connection(tandem.kafkaPort("SASL_PLAINTEXT"));
        SaslHandshakeResponse handshake = (SaslHandshakeResponse) c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("PLAIN"));
        assertEquals(Errors.NONE, handshake.error());
        return c;
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
                    .setRequestApiVersion(version).setClientId("illegal-sasl-state").setCorrelationId(++correlationId),
                    key.requestHeaderVersion(version));
            ByteBuffer frame = RequestUtils.serialize(header.data(), header.headerVersion(), body, version);
            byte[] bytes = new byte[frame.remaining()];
            frame.get(bytes);
            sendRaw(bytes);
            return header;
        }

        void sendRaw(byte[] bytes) throws IOException {
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
        }

        AbstractResponse call(ApiKeys key, short version, ApiMessage body) throws IOException {
            RequestHeader header = send(key, version, body);
            byte[] frame = receiveOrNull();
            if (frame == null) throw new EOFException(key.name + " closed without an answer");
            return AbstractResponse.parseResponse(ByteBuffer.wrap(frame), header);
        }

        /** The next response frame, or null when the broker closed the connection first. */
        byte[] receiveOrNull() throws IOException {
            int size;
            try {
                size = in.readInt();
            } catch (EOFException | SocketException closed) {
                return null;
            }
            byte[] response = new byte[size];
            in.readFully(response);
            return response;
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

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
