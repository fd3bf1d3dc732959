package io.tandem.server.kafka.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OAUTHBEARER exchange and Kafka's unsecured token checks, token by token, at a fixed time. */
class OAuthBearerServerTest {
    private static final long NOW_MS = 1_800_000_000_000L;

    private static String part(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String token(String claims) {
        return part("{\"alg\":\"none\"}") + "." + part(claims) + ".";
    }

    private static byte[] firstMessage(String authzid, String token) {
        String gs2 = authzid == null ? "n,," : "n,a=" + authzid + ",";
        return (gs2 + "\u0001auth=Bearer " + token + "\u0001\u0001").getBytes(StandardCharsets.UTF_8);
    }

    private static OAuthBearerServer server(Map<String, String> options) {
        return new OAuthBearerServer(options, () -> NOW_MS);
    }

    private static String validClaims(String extra) {
        return "{\"sub\":\"alice\",\"iat\":" + (NOW_MS / 1000 - 10) + ",\"exp\":" + (NOW_MS / 1000 + 3600) + extra + "}";
    }

    @Test
    void shouldAuthenticateTheTokensSubject() throws Exception {
        OAuthBearerServer server = server(Map.of());
        assertArrayEquals(new byte[0], server.evaluate(firstMessage(null, token(validClaims("")))));
        assertTrue(server.isComplete());
        assertEquals("alice", server.authorizationId());
    }

    @Test
    void shouldAnswerAnExpiredTokenWithInvalidTokenThenFailOnTheClientsAcknowledgement() throws Exception {
        OAuthBearerServer server = server(Map.of());
        String expired = "{\"sub\":\"alice\",\"exp\":" + (NOW_MS / 1000 - 1) + "}";
        assertEquals("{\"status\":\"invalid_token\"}",
                new String(server.evaluate(firstMessage(null, token(expired))), StandardCharsets.UTF_8));
        SaslFailure failure = assertThrows(SaslFailure.class, () -> server.evaluate(new byte[] {1}));
        assertEquals("{\"status\":\"invalid_token\"}", failure.clientMessage());
    }

    @Test
    void shouldAllowTheConfiguredClockSkew() throws Exception {
        String justExpired = "{\"sub\":\"alice\",\"exp\":" + (NOW_MS / 1000 - 1) + "}";
        OAuthBearerServer server = server(Map.of("unsecuredValidatorAllowableClockSkewMs", "5000"));
        assertArrayEquals(new byte[0], server.evaluate(firstMessage(null, token(justExpired))));
    }

    @Test
    void shouldRefuseTokensKafkasUnsecuredValidatorRefuses() throws Exception {
        for (String bad : new String[] {
                part("{\"alg\":\"HS256\"}") + "." + part(validClaims("")) + ".",           // signed algorithm
                token(validClaims("")) + "c2lnbmF0dXJl",                                      // a signature
                token("{\"exp\":" + (NOW_MS / 1000 + 60) + "}"),                              // no subject
                token("{\"sub\":\"alice\"}"),                                                 // no expiration
                token("{\"sub\":\"alice\",\"iat\":" + (NOW_MS / 1000 + 60) + ",\"exp\":" + (NOW_MS / 1000 + 120) + "}"),
                part("{\"alg\":\"none\"}") + ".bm90IGpzb24."}) {                                // claims not JSON
            OAuthBearerServer server = server(Map.of());
            assertEquals("{\"status\":\"invalid_token\"}",
                    new String(server.evaluate(firstMessage(null, bad)), StandardCharsets.UTF_8), bad);
        }
    }

    @Test
    void shouldAnswerAMissingRequiredScopeWithInsufficientScope() throws Exception {
        OAuthBearerServer server = server(Map.of("unsecuredValidatorRequiredScope", "kafka admin"));
        String answer = new String(server.evaluate(firstMessage(null, token(validClaims(",\"scope\":[\"kafka\"]")))),
                StandardCharsets.UTF_8);
        assertEquals("{\"status\":\"insufficient_scope\", \"scope\":\"[kafka, admin]\"}", answer);
        OAuthBearerServer granted = server(Map.of("unsecuredValidatorRequiredScope", "kafka admin"));
        granted.evaluate(firstMessage(null, token(validClaims(",\"scope\":[\"kafka\",\"admin\"]"))));
        assertTrue(granted.isComplete());
    }

    @Test
    void shouldRefuseAMalformedFirstMessageAndAForeignAuthorizationId() {
        SaslFailure malformed = assertThrows(SaslFailure.class,
                () -> server(Map.of()).evaluate("n,,auth=Bearer x".getBytes(StandardCharsets.UTF_8)));
        assertNull(malformed.clientMessage(), "the client only learns 'invalid credentials'");
        SaslFailure other = assertThrows(SaslFailure.class,
                () -> server(Map.of()).evaluate(firstMessage("bob", token(validClaims("")))));
        assertTrue(other.clientMessage().contains("different from the token's principal name (alice)"),
                other.clientMessage());
    }
}
