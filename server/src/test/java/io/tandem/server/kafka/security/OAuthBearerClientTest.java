package io.tandem.server.kafka.security;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Tandem's OAUTHBEARER client (Kafka's unsecured login) against the broker side's unsecured validator. */
class OAuthBearerClientTest {
    private static final long NOW = 1_764_000_000_000L;

    @Test
    void shouldAuthenticateAsTheTokensSubjectWithTheRequiredScope() throws Exception {
        OAuthBearerClient client = new OAuthBearerClient(Map.of("unsecuredLoginStringClaim_sub", "broker-1",
                "unsecuredLoginListClaim_scope", ",kafka,other"), () -> NOW);
        OAuthBearerServer server = new OAuthBearerServer(Map.of("unsecuredValidatorRequiredScope", "kafka"),
                () -> NOW + 1_000);
        assertTrue(client.hasInitialResponse());
        byte[] answer = server.evaluate(client.evaluateChallenge(new byte[0]));
        assertTrue(server.isComplete());
        assertEquals("broker-1", server.authorizationId());
        assertEquals(0, answer.length);
        assertNull(client.evaluateChallenge(answer), "nothing more to send after the broker's empty answer");
        assertTrue(client.isComplete());
    }

    @Test
    void shouldAcknowledgeTheErrorChallengeSoTheBrokerFailsWithIt() throws Exception {
        OAuthBearerClient client = new OAuthBearerClient(Map.of("unsecuredLoginStringClaim_sub", "no-scope"),
                () -> NOW);
        OAuthBearerServer server = new OAuthBearerServer(Map.of("unsecuredValidatorRequiredScope", "kafka"),
                () -> NOW);
        byte[] challenge = server.evaluate(client.evaluateChallenge(new byte[0]));
        assertTrue(new String(challenge, java.nio.charset.StandardCharsets.UTF_8).contains("insufficient_scope"));
        byte[] ack = client.evaluateChallenge(challenge);
        assertArrayEquals(new byte[] {1}, ack);
        SaslFailure failure = assertThrows(SaslFailure.class, () -> server.evaluate(ack));
        assertTrue(failure.clientMessage().contains("insufficient_scope"), failure.clientMessage());
    }

    @Test
    void shouldExpireAfterTheConfiguredLifetime() throws Exception {
        OAuthBearerClient client = new OAuthBearerClient(Map.of("unsecuredLoginStringClaim_sub", "short",
                "unsecuredLoginLifetimeSeconds", "60"), () -> NOW);
        OAuthBearerServer server = new OAuthBearerServer(Map.of(), () -> NOW + 61_000);
        byte[] challenge = server.evaluate(client.evaluateChallenge(new byte[0]));
        assertFalse(server.isComplete());
        assertTrue(new String(challenge, java.nio.charset.StandardCharsets.UTF_8).contains("invalid_token"));
    }

    @Test
    void shouldRefuseLoginOptionsThatNameNoPrincipal() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> OAuthBearerClient.unsecuredToken(Map.of("unsecuredLoginStringClaim_name", "x"), NOW));
        assertTrue(refused.getMessage().contains("unsecuredLoginStringClaim_sub"), refused.getMessage());
    }
}
