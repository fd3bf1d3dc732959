package io.tandem.server.kafka.security;

import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The SASL exchange on the wire, as Kafka's SaslServerAuthenticator runs it: a v0 handshake followed by raw tokens
 * (Kafka's oldest clients), ApiVersions allowed once before the handshake, any other request before authentication
 * closes the connection, an unknown mechanism is answered with the enabled ones and closes, a token over
 * sasl.server.max.receive.size closes, and the SASL requests where there is nothing to authenticate get
 * ILLEGAL_SASL_STATE.
 */
class SaslProtocolTest {
    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "SCRAM-SHA-256,PLAIN")
                .set("sasl.server.max.receive.size", "1024")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
    }

    private static RawKafkaConnection sasl() throws Exception {
        return new RawKafkaConnection(tandem.kafkaPort("SASL_PLAINTEXT"));
    }

    private static SaslHandshakeResponse handshake(RawKafkaConnection c, short version, String mechanism) throws Exception {
        return c.roundTrip(ApiKey.SASL_HANDSHAKE, version, (short) 0, new SaslHandshakeRequest().setMechanism(mechanism),
                SaslHandshakeResponse::read);
    }

    private static MetadataResponse metadata(RawKafkaConnection c) throws Exception {
        return c.roundTrip(ApiKey.METADATA, (short) 1, (short) 0, new MetadataRequest().setTopics(null),
                MetadataResponse::read);
    }

    private static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldAuthenticateWithRawTokensAfterAVersionZeroHandshake() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            assertEquals(Errors.NONE.code(), c.apiVersions().errorCode);
            SaslHandshakeResponse response = handshake(c, (short) 0, "PLAIN");
            assertEquals(Errors.NONE.code(), response.errorCode);
            assertEquals(List.of("SCRAM-SHA-256", "PLAIN"), response.mechanisms);
            byte[] token = plain("alice", "alice-secret");
            c.writeAndRelease(Unpooled.buffer().writeInt(token.length).writeBytes(token));
            assertEquals(0, c.readInt(), "PLAIN's empty server token, sent raw");
            assertEquals(1, metadata(c).brokers.size());
        }
    }

    @Test
    void shouldCloseWhenARawTokenFails() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 0, "PLAIN");
            byte[] token = plain("alice", "wrong");
            c.writeAndRelease(Unpooled.buffer().writeInt(token.length).writeBytes(token));
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldAnswerAFailedAuthenticateThenClose() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 1, "PLAIN");
            SaslAuthenticateResponse response = c.roundTrip(ApiKey.SASL_AUTHENTICATE, (short) 2, (short) 1,
                    new SaslAuthenticateRequest().setAuthBytes(plain("alice", "wrong")), SaslAuthenticateResponse::read);
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), response.errorCode);
            assertEquals("Authentication failed: Invalid username or password", response.errorMessage);
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldAnswerSaslAuthenticateAfterSuccessWithIllegalSaslState() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 1, "PLAIN");
            SaslAuthenticateResponse ok = c.roundTrip(ApiKey.SASL_AUTHENTICATE, (short) 1, (short) 0,
                    new SaslAuthenticateRequest().setAuthBytes(plain("alice", "alice-secret")), SaslAuthenticateResponse::read);
            assertEquals(Errors.NONE.code(), ok.errorCode);
            assertEquals(0, ok.sessionLifetimeMs, "no re-authentication: connections.max.reauth.ms is 0");
            SaslAuthenticateResponse again = c.roundTrip(ApiKey.SASL_AUTHENTICATE, (short) 1, (short) 0,
                    new SaslAuthenticateRequest().setAuthBytes(plain("alice", "alice-secret")), SaslAuthenticateResponse::read);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), again.errorCode);
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), handshake(c, (short) 1, "PLAIN").errorCode);
            assertEquals(1, metadata(c).brokers.size());
        }
    }

    @Test
    void shouldCloseARequestSentBeforeAuthentication() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            c.send(ApiKey.METADATA, (short) 1, new MetadataRequest().setTopics(null));
            assertTrue(c.closedWithin(5_000));
        }
        // Once the exchange began, Kafka answers the request's own error response (ILLEGAL_SASL_STATE; all topics
        // asked for, so no topic carries it and there are no brokers), then closes: IllegalSaslStateTest.
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 1, "PLAIN");
            int id = c.send(ApiKey.METADATA, (short) 1, new MetadataRequest().setTopics(null));
            MetadataResponse refused = c.receive(id, (short) 0, (short) 1, MetadataResponse::read);
            assertEquals(List.of(), refused.brokers);
            assertEquals(List.of(), refused.topics);
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldCloseASecondApiVersionsBeforeTheHandshake() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            c.apiVersions();
            c.send(ApiKey.API_VERSIONS, (short) 0, new io.tandem.kafka.wire.message.ApiVersionsRequest());
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldAnswerAnUnknownMechanismWithTheEnabledOnesThenClose() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            SaslHandshakeResponse response = handshake(c, (short) 1, "GSSAPI");
            assertEquals(Errors.UNSUPPORTED_SASL_MECHANISM.code(), response.errorCode);
            assertEquals(List.of("SCRAM-SHA-256", "PLAIN"), response.mechanisms);
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldCloseATokenOverTheReceiveLimit() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 0, "PLAIN");
            c.writeAndRelease(Unpooled.buffer().writeInt(2048).writeZero(2048));
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldCloseAMalformedScramExchange() throws Exception {
        try (RawKafkaConnection c = sasl()) {
            handshake(c, (short) 1, "SCRAM-SHA-256");
            SaslAuthenticateResponse response = c.roundTrip(ApiKey.SASL_AUTHENTICATE, (short) 2, (short) 1,
                    new SaslAuthenticateRequest().setAuthBytes("not scram".getBytes(StandardCharsets.UTF_8)),
                    SaslAuthenticateResponse::read);
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), response.errorCode);
            assertEquals("Authentication failed during authentication due to invalid credentials with SASL mechanism "
                    + "SCRAM-SHA-256", response.errorMessage);
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldAnswerSaslHandshakeOnAPlaintextListenerWithIllegalSaslState() throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort("PLAINTEXT"))) {
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), handshake(c, (short) 1, "PLAIN").errorCode);
            assertEquals(1, metadata(c).brokers.size());
        }
    }
}
