package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import io.tandem.server.Tandem;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kerberos.GssapiTestBroker;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.TestKdc;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-authentication (KIP-368) with GSSAPI on a Tandem broker, on a real socket with the JDK's GSSAPI client and a
 * short connections.max.reauth.ms, as {@code ApacheGssapiListenerDifferentialTest} (compat-tests) checks it beside
 * Apache Kafka 3.9: a re-authentication as a principal the listener's rules do not map is closed without an answer,
 * as Kafka's DefaultKafkaPrincipalBuilder fails to build its principal; one as another mapped principal gets Kafka's
 * "Cannot change principals during re-authentication" (SaslServerAuthenticator.ReauthInfo); one as the same principal
 * completes and the connection keeps serving.
 */
class GssapiReauthenticationTest {
    private static final long REAUTH_MS = 1500;
    private static final String SERVICE = "kreauth";
    @TempDir
    static Path dir;
    private static Tandem tandem;
    private static Path clientKeytab;

    @BeforeAll
    static void start() throws Exception {
        TestKdc kdc = TestKdc.shared();
        Path brokerKeytab = kdc.keytab(TestKdc.servicePrincipal(SERVICE));
        clientKeytab = kdc.keytab(TestKdc.principal("reauthalice"), TestKdc.principal("reauthbob"),
                TestKdc.servicePrincipal("reauthsvc"));
        tandem = Tandem.start(GssapiTestBroker.config(dir.resolve("node"), SERVICE, brokerKeytab)
                // One-component principals of the realm only: reauthsvc/localhost has no short name.
                .set("sasl.kerberos.principal.to.local.rules", "RULE:[1:$1@$0](.*@" + TestKdc.REALM + ")s/@.*//L")
                .set("listener.name.sasl_plaintext.gssapi.connections.max.reauth.ms", Long.toString(REAUTH_MS)));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static RawKafkaConnection connect() throws IOException {
        return new RawKafkaConnection(tandem.kafkaPort("SASL_PLAINTEXT"));
    }

    @Test
    void shouldCloseAReauthenticationAsAPrincipalNoRuleMapsWithoutAnAnswer() throws Exception {
        try (RawKafkaConnection c = connect()) {
            assertEquals("complete", exchange(c, TestKdc.principal("reauthalice")));
            assertEquals(1, metadata(c).brokers.size());
            String reauthentication = exchange(c, TestKdc.servicePrincipal("reauthsvc"));
            assertTrue(reauthentication.startsWith("closed without an answer"), reauthentication);
        }
    }

    @Test
    void shouldRefuseAReauthenticationAsAnotherMappedPrincipalWithKafkasWords() throws Exception {
        try (RawKafkaConnection c = connect()) {
            assertEquals("complete", exchange(c, TestKdc.principal("reauthalice")));
            assertEquals("error " + Errors.SASL_AUTHENTICATION_FAILED.code() + ": Cannot change principals during "
                    + "re-authentication from User.reauthalice: User.reauthbob",
                    exchange(c, TestKdc.principal("reauthbob")));
            assertTrue(c.closedWithin(5_000), "the connection is closed after the failed re-authentication");
        }
    }

    @Test
    void shouldReauthenticateAsTheSamePrincipalAndKeepServing() throws Exception {
        try (RawKafkaConnection c = connect()) {
            assertEquals("complete", exchange(c, TestKdc.principal("reauthalice")));
            assertEquals("complete", exchange(c, TestKdc.principal("reauthalice")));
            assertEquals(1, metadata(c).brokers.size());
        }
    }

    private static MetadataResponse metadata(RawKafkaConnection c) throws IOException {
        return c.roundTrip(ApiKey.METADATA, (short) 1, (short) 0, new MetadataRequest().setTopics(null),
                MetadataResponse::read);
    }

    /**
     * A v1 SaslHandshake for GSSAPI and the token exchange with SaslAuthenticate v2 (which carries the session
     * lifetime, so the broker treats a later exchange as a re-authentication) as {@code principal}, logged in from
     * the client keytab: "complete", the error of a failed SaslAuthenticate, or that the connection closed without
     * answering a token.
     */
    @SuppressWarnings("removal")
    private static String exchange(RawKafkaConnection c, String principal) throws Exception {
        SaslHandshakeResponse handshake = c.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0,
                new SaslHandshakeRequest().setMechanism("GSSAPI"), SaslHandshakeResponse::read);
        if (handshake.errorCode != 0) return "handshake error " + handshake.errorCode;
        Subject subject = KerberosLogin.login(principal, Map.of("useKeyTab", "true", "storeKey", "true",
                "doNotPrompt", "true", "keyTab", clientKeytab.toString(), "principal", principal));
        SaslClient client = Subject.doAs(subject, (PrivilegedExceptionAction<SaslClient>) () ->
                Sasl.createSaslClient(new String[] {"GSSAPI"}, null, SERVICE, TestKdc.HOST, Map.of(Sasl.QOP, "auth"),
                        callbacks -> {
                            throw new UnsupportedCallbackException(callbacks[0]);
                        }));
        byte[] token = client.hasInitialResponse() ? evaluate(subject, client, new byte[0]) : new byte[0];
        while (true) {
            int id = c.send(ApiKey.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequest().setAuthBytes(token));
            SaslAuthenticateResponse answer;
            try {
                answer = c.receive(id, (short) 1, (short) 2, SaslAuthenticateResponse::read);
            } catch (IOException closed) {
                return "closed without an answer (" + closed.getClass().getSimpleName() + ")";
            }
            if (answer.errorCode != 0) return "error " + answer.errorCode + ": " + answer.errorMessage;
            if (client.isComplete()) {
                assertEquals(REAUTH_MS, answer.sessionLifetimeMs, "the listener's connections.max.reauth.ms");
                return "complete";
            }
            token = evaluate(subject, client, answer.authBytes);
        }
    }

    @SuppressWarnings("removal")
    private static byte[] evaluate(Subject subject, SaslClient client, byte[] challenge) throws Exception {
        return Subject.doAs(subject, (PrivilegedExceptionAction<byte[]>) () -> client.evaluateChallenge(challenge));
    }
}
