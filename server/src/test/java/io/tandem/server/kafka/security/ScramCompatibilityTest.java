package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import org.apache.kafka.common.security.scram.internals.ScramCredentialUtils;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;
import org.apache.kafka.common.utils.internals.Sanitizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tandem's SCRAM against Kafka's own classes (test scope): the same salted password and keys as ScramFormatter, the
 * same credential text as ScramCredentialUtils, the same sanitized user names, the user's config znode and change
 * notification as Kafka 3.9 writes them, and a full exchange with Kafka's ScramSaslClient.
 */
class ScramCompatibilityTest {
    @TempDir
    Path dir;

    private static org.apache.kafka.common.security.scram.internals.ScramMechanism kafka(ScramMechanism m) {
        return org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(m.mechanismName());
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void shouldDeriveTheSameCredentialAsKafkasScramFormatter(ScramMechanism mechanism) throws Exception {
        ScramFormatter formatter = new ScramFormatter(kafka(mechanism));
        byte[] salt = formatter.secureRandomBytes();
        byte[] salted = formatter.saltedPassword("pässword", salt, 4096);
        assertArrayEquals(salted, mechanism.saltedPassword("pässword".getBytes(StandardCharsets.UTF_8), salt, 4096));
        var theirs = formatter.generateCredential(salt, salted, 4096);
        ScramCredential ours = mechanism.credential(salt, salted, 4096);
        assertArrayEquals(theirs.storedKey(), ours.storedKey());
        assertArrayEquals(theirs.serverKey(), ours.serverKey());
        assertEquals(ScramCredentialUtils.credentialToString(theirs), ours.toConfigValue());
        ScramCredential parsed = ScramCredential.fromConfigValue(ScramCredentialUtils.credentialToString(theirs));
        assertArrayEquals(theirs.salt(), parsed.salt());
        assertEquals(4096, parsed.iterations());
    }

    @Test
    void shouldSanitizeUserNamesAsKafka() {
        for (String name : List.of("alice", "user name", "a*b", "ünï", "x=y,z", "CN=client,O=Org")) {
            assertEquals(Sanitizer.sanitize(name), ScramCredentialStore.sanitize(name), name);
            assertEquals(name, ScramCredentialStore.desanitize(Sanitizer.sanitize(name)));
        }
    }

    @Test
    void shouldKeepCredentialsInTheUsersConfigZnodeBesideOtherKeys() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            store.setData("/config/users/" + Sanitizer.sanitize("user name"),
                    "{\"version\":1,\"config\":{\"producer_byte_rate\":\"1024\"}}".getBytes(StandardCharsets.UTF_8));
            ScramCredentialStore credentials = new ScramCredentialStore(() -> store);
            ScramCredential credential = ScramMechanism.SCRAM_SHA_512.credential(new byte[] {1, 2, 3}, new byte[64], 4096);
            credentials.alter("user name", Map.of(ScramMechanism.SCRAM_SHA_512, credential));
            JsonNode node = new ObjectMapper().readTree(store.getData("/config/users/user%20name"));
            assertEquals(1, node.path("version").asInt());
            assertEquals("1024", node.path("config").path("producer_byte_rate").asText());
            var kafkaView = ScramCredentialUtils.credentialFromString(node.path("config").path("SCRAM-SHA-512").asText());
            assertArrayEquals(credential.storedKey(), kafkaView.storedKey());
            List<String> changes = store.getChildren("/config/changes");
            assertEquals(1, changes.size());
            JsonNode change = new ObjectMapper().readTree(store.getData("/config/changes/" + changes.get(0)));
            assertEquals(2, change.path("version").asInt());
            assertEquals("users/user%20name", change.path("entity_path").asText());
            assertEquals(Map.of("user name", Map.of(ScramMechanism.SCRAM_SHA_512, credential)).keySet(), credentials.all().keySet());
            Map<ScramMechanism, ScramCredential> delete = new LinkedHashMap<>();
            delete.put(ScramMechanism.SCRAM_SHA_512, null);
            credentials.alter("user name", delete);
            assertTrue(credentials.all().isEmpty());
        }
    }

    @ParameterizedTest
    @EnumSource(ScramMechanism.class)
    void shouldCompleteAnExchangeWithKafkasScramSaslClient(ScramMechanism mechanism) throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            ScramCredentialStore credentials = new ScramCredentialStore(() -> store);
            ScramFormatter formatter = new ScramFormatter(kafka(mechanism));
            credentials.alter("bob", Map.of(mechanism, ScramCredential.fromConfigValue(
                    ScramCredentialUtils.credentialToString(formatter.generateCredential("bob-secret", 4096)))));
            for (String password : List.of("bob-secret", "wrong")) {
                ScramSaslClient client = new ScramSaslClient(kafka(mechanism), callbacks -> {
                    for (var c : callbacks) {
                        if (c instanceof NameCallback n) n.setName("bob");
                        else if (c instanceof PasswordCallback p) p.setPassword(password.toCharArray());
                        else if (c instanceof org.apache.kafka.common.security.scram.ScramExtensionsCallback) continue;
                        else throw new javax.security.auth.callback.UnsupportedCallbackException(c);
                    }
                });
                ScramServer server = new ScramServer(mechanism, credentials);
                byte[] serverFirst = server.evaluate(client.evaluateChallenge(new byte[0]));
                byte[] clientFinal = client.evaluateChallenge(serverFirst);
                if (password.equals("wrong")) {
                    SaslFailure failure = assertThrows(SaslFailure.class, () -> server.evaluate(clientFinal));
                    assertNull(failure.clientMessage(), "the client only learns that its credentials are invalid");
                    assertFalse(server.isComplete());
                } else {
                    byte[] serverFinal = server.evaluate(clientFinal);
                    assertTrue(server.isComplete());
                    assertEquals("bob", server.authorizationId());
                    client.evaluateChallenge(serverFinal); // verifies the server signature, throws if wrong
                    assertTrue(client.isComplete());
                }
            }
        }
    }

    @Test
    void shouldAuthenticateKafkasTokenClientAsTheOwnerForTheTokensLifetime() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            long createdAt = 1_000_000;
            DelegationTokens tokens = new DelegationTokens(() -> store, "secret", 3_600_000, 60_000, () -> createdAt);
            DelegationTokens.Token token = tokens.create("User:alice", "User:alice", List.of(), -1);
            String password = java.util.Base64.getEncoder().encodeToString(tokens.hmac(token.tokenId()));
            for (String attempt : List.of(password, "wrong")) {
                ScramSaslClient client = new ScramSaslClient(kafka(ScramMechanism.SCRAM_SHA_256), callbacks -> {
                    for (var c : callbacks) {
                        if (c instanceof NameCallback n) n.setName(token.tokenId());
                        else if (c instanceof PasswordCallback p) p.setPassword(attempt.toCharArray());
                        else if (c instanceof org.apache.kafka.common.security.scram.ScramExtensionsCallback e) {
                            e.extensions(Map.of("tokenauth", "true"));
                        } else throw new javax.security.auth.callback.UnsupportedCallbackException(c);
                    }
                });
                SaslSettings settings = new SaslSettings(List.of("SCRAM-SHA-256"), Map.of(),
                        new ScramCredentialStore(() -> store), Map.of(), SaslSettings.RECEIVE_BYTES_MAX_DEFAULT, Map.of(), tokens);
                // Ten seconds after the token was made: its session has fifty seconds left.
                SaslAuthenticator authenticator = new SaslAuthenticator(settings, () -> createdAt + 10_000, System::nanoTime);
                authenticator.handshake("SCRAM-SHA-256", (short) 1);
                var first = authenticator.authenticate(client.evaluateChallenge(new byte[0]));
                var last = authenticator.authenticate(client.evaluateChallenge(first.response().authBytes));
                if (attempt.equals("wrong")) {
                    assertTrue(last.closeAfter());
                    assertFalse(authenticator.isComplete());
                    continue;
                }
                assertFalse(last.closeAfter(), last.response().errorMessage);
                assertTrue(authenticator.isComplete());
                assertEquals("alice", authenticator.user(), "the token's owner, not its id");
                assertTrue(authenticator.tokenAuthenticated());
                assertEquals(50_000, last.response().sessionLifetimeMs, "the session ends with the token");
                client.evaluateChallenge(last.response().authBytes);
                assertTrue(client.isComplete(), "the client checked the server's signature");
            }
        }
    }
}
