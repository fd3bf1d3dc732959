package io.tandem.server.kafka.security;

import io.tandem.server.Tandem;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
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
        tandem = Tandem.start(SecurityTestBrokers.plain(dir.resolve("node"),
                "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
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
        for (Map.Entry<ApiKeys, Short> api : KafkaTestConnection.servedApis(tandem.kafkaPort("SASL_PLAINTEXT"))
                .entrySet()) {
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
            try (KafkaTestConnection c = exchanging()) {
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
        try (KafkaTestConnection c = exchanging()) {
            SaslHandshakeResponse again = (SaslHandshakeResponse) c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequestData().setMechanism("PLAIN"));
            assertEquals(Errors.ILLEGAL_SASL_STATE, again.error());
            assertEquals(java.util.List.of(), again.data().mechanisms());
            assertTrue(c.closedSilently(10_000));
        }
        try (KafkaTestConnection c = exchanging()) {
            ApiVersionsResponse versions = (ApiVersionsResponse) c.call(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("x").setClientSoftwareVersion("1"));
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), versions.data().errorCode());
            assertEquals(new ApiVersionsResponseData.ApiVersionCollection(), versions.data().apiKeys());
            assertTrue(c.closedSilently(10_000));
        }
    }

    @Test
    void shouldCloseWithoutAnAnswerForAnAcksZeroProduceAndAnUnparseableRequest() throws Exception {
        try (KafkaTestConnection c = exchanging()) {
            c.send(ApiKeys.PRODUCE, (short) 9, new ProduceRequestData().setAcks((short) 0).setTimeoutMs(1000));
            assertTrue(c.closedSilently(10_000), "Kafka's ProduceRequest has no error response for acks=0");
        }
        try (KafkaTestConnection c = exchanging()) {
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
        AbstractRequest request = AbstractRequest.parseRequest(key, version,
                new org.apache.kafka.common.protocol.ByteBufferAccessor(bytes)).request;
        return request.getErrorResponse(0, new IllegalSaslStateException("Unexpected Kafka request of type " + key
                + " during SASL authentication."));
    }

    /** A connection whose v1 PLAIN handshake succeeded: the token exchange has begun. */
    private static KafkaTestConnection exchanging() throws IOException {
        KafkaTestConnection c = new KafkaTestConnection(tandem.kafkaPort("SASL_PLAINTEXT"), "illegal-sasl-state");
        c.beginPlain();
        return c;
    }
}
