package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Delegation tokens (KIP-48) as a Kafka 3.9 broker in ZooKeeper mode keeps them (DelegationTokenManagerZk): each token
 * is {@code /delegation_token/tokens/<tokenId>} with Kafka's JSON (version 3: sanitized owner, token requester and
 * renewers, issue, max and expiry timestamps, the id), and every change leaves a
 * {@code /delegation_token/token_changes/token_change_NNNNNNNNNN} notification holding the id, so Kafka brokers sharing
 * the ensemble see it. The token's password (its HMAC) is never stored: it is HMAC-SHA512 of the id under
 * {@code delegation.token.secret.key}, recomputed when needed, as Kafka does; all brokers must share the key.
 *
 * <p>Tandem keeps no cache: every lookup reads ZooKeeper, so a token created, renewed or expired through any broker
 * (Tandem's or Apache's) is seen at once. Finding a token by its HMAC computes the HMAC of each stored id.
 */
public final class DelegationTokens {
    private static final System.Logger LOG = System.getLogger(DelegationTokens.class.getName());
    /** Kafka's DelegationTokenManager.DefaultHmacAlgorithm. */
    private static final String HMAC_ALGORITHM = "HmacSHA512";
    private static final String TOKENS = KafkaZkLayout.DELEGATION_TOKENS;
    private static final String CHANGES = KafkaZkLayout.DELEGATION_TOKEN_CHANGES;
    private static final String CHANGE_PREFIX = KafkaZkLayout.DELEGATION_TOKEN_CHANGE_PREFIX;
    /** Kafka's DelegationTokenManagerZk.CurrentVersion. */
    private static final int VERSION = 3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One token as stored; principals as Kafka prints them ({@code User:alice}). */
    public record Token(String tokenId, String owner, String requester, List<String> renewers, long issueTimestamp,
                        long maxTimestamp, long expiryTimestamp) {
        public Token {
            renewers = List.copyOf(renewers);
        }

        /** Kafka's TokenInformation.ownerOrRenewer: the owner, the requester or a renewer. */
        public boolean ownerOrRenewer(String principal) {
            return owner.equals(principal) || requester.equals(principal) || renewers.contains(principal);
        }

        Token withExpiry(long expiry) {
            return new Token(tokenId, owner, requester, renewers, issueTimestamp, maxTimestamp, expiry);
        }
    }

    /** What an operation on a token answers: Kafka's error name ("NONE" on success) and the expiry timestamp. */
    public record Outcome(String error, long expiryTimestamp) {
    }

    private final Supplier<ZnodeStore> store;
    private final String secretKey;
    private final long maxLifetimeMs;
    private final long renewTimeMs;
    private final LongSupplier clock;

    /**
     * @param secretKey     delegation.token.secret.key (or the older delegation.token.master.key); null or empty
     *                      turns delegation tokens off, as in Kafka
     * @param maxLifetimeMs delegation.token.max.lifetime.ms
     * @param renewTimeMs   delegation.token.expiry.time.ms: how long a new or renewed token lives by default
     */
    public DelegationTokens(Supplier<ZnodeStore> store, String secretKey, long maxLifetimeMs, long renewTimeMs,
                            LongSupplier clock) {
        this.store = store;
        this.secretKey = secretKey == null || secretKey.isEmpty() ? null : secretKey;
        this.maxLifetimeMs = maxLifetimeMs;
        this.renewTimeMs = renewTimeMs;
        this.clock = clock;
    }

    /** Kafka's KafkaConfig.tokenAuthEnabled: a secret key is configured. */
    public boolean enabled() {
        return secretKey != null;
    }

    /** The token's password: HMAC-SHA512 of its id under the secret key (Kafka's DelegationTokenManager.createHmac). */
    public byte[] hmac(String tokenId) {
        try {
            Mac mac = Mac.getInstance(HMAC_ALGORITHM);
            mac.init(new SecretKeySpec(secretKey.getBytes(StandardCharsets.UTF_8), HMAC_ALGORITHM));
            return mac.doFinal(tokenId.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC_ALGORITHM + " is missing from the JDK", e);
        }
    }

    private ZnodeStore store() {
        ZnodeStore s = store.get();
        if (s == null) throw new IllegalStateException("the metadata store is not connected yet");
        return s;
    }

    /**
     * Creates a token (Kafka's createToken): its lifetime is the requested max lifetime capped by
     * delegation.token.max.lifetime.ms (the configured one when the request asks for 0 or less), and it expires after
     * delegation.token.expiry.time.ms unless renewed.
     */
    public synchronized Token create(String owner, String requester, List<String> renewers, long requestedMaxLifetimeMs)
            throws Exception {
        UUID uuid = UUID.randomUUID();
        ByteBuffer bytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits());
        String tokenId = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
        long issue = clock.getAsLong();
        long maxLifetime = requestedMaxLifetimeMs <= 0 ? maxLifetimeMs : Math.min(requestedMaxLifetimeMs, maxLifetimeMs);
        long max = issue + maxLifetime;
        Token token = new Token(tokenId, owner, requester, renewers, issue, max, Math.min(max, issue + renewTimeMs));
        write(token);
        LOG.log(System.Logger.Level.INFO, "Created a delegation token: {0} for owner: {1}", tokenId, owner);
        return token;
    }

    /** Kafka's renewToken: by the owner or a renewer, not after expiry; -1 as the expiry with an error. */
    public synchronized Outcome renew(String principal, byte[] hmac, long renewPeriodMs) throws Exception {
        Token token = byHmac(hmac);
        if (token == null) return new Outcome("DELEGATION_TOKEN_NOT_FOUND", -1);
        long now = clock.getAsLong();
        if (!allowedToRenew(principal, token)) return new Outcome("DELEGATION_TOKEN_OWNER_MISMATCH", -1);
        if (token.maxTimestamp() < now || token.expiryTimestamp() < now) {
            return new Outcome("DELEGATION_TOKEN_EXPIRED", -1);
        }
        long expiry = Math.min(token.maxTimestamp(), now + (renewPeriodMs < 0 ? renewTimeMs : renewPeriodMs));
        write(token.withExpiry(expiry));
        LOG.log(System.Logger.Level.INFO, "Delegation token renewed for token: {0} for owner: {1}", token.tokenId(),
                token.owner());
        return new Outcome("NONE", expiry);
    }

    /**
     * Kafka's expireToken: a negative period removes the token now (answering now as its expiry); otherwise its
     * expiry moves to now plus the period, capped by its max timestamp.
     */
    public synchronized Outcome expire(String principal, byte[] hmac, long expiryPeriodMs) throws Exception {
        Token token = byHmac(hmac);
        if (token == null) return new Outcome("DELEGATION_TOKEN_NOT_FOUND", -1);
        long now = clock.getAsLong();
        if (!allowedToRenew(principal, token)) return new Outcome("DELEGATION_TOKEN_OWNER_MISMATCH", -1);
        if (expiryPeriodMs < 0) {
            remove(token.tokenId());
            LOG.log(System.Logger.Level.INFO, "Token expired for token: {0} for owner: {1}", token.tokenId(),
                    token.owner());
            return new Outcome("NONE", now);
        }
        if (token.maxTimestamp() < now || token.expiryTimestamp() < now) {
            return new Outcome("DELEGATION_TOKEN_EXPIRED", -1);
        }
        long expiry = Math.min(token.maxTimestamp(), now + expiryPeriodMs);
        write(token.withExpiry(expiry));
        return new Outcome("NONE", expiry);
    }

    /** Removes every token past its expiry or max timestamp (Kafka's scheduled expireTokens). */
    public synchronized void removeExpired() throws Exception {
        long now = clock.getAsLong();
        for (Token token : all()) {
            if (token.maxTimestamp() < now || token.expiryTimestamp() < now) {
                LOG.log(System.Logger.Level.INFO, "Delegation token expired for token: {0} for owner: {1}",
                        token.tokenId(), token.owner());
                remove(token.tokenId());
            }
        }
    }

    private static boolean allowedToRenew(String principal, Token token) {
        return principal.equals(token.owner()) || token.renewers().contains(principal);
    }

    /** Every stored token (unreadable ones are logged and left out). */
    public List<Token> all() throws Exception {
        List<Token> tokens = new ArrayList<>();
        for (String tokenId : store().getChildren(TOKENS)) {
            Token token = token(tokenId);
            if (token != null) tokens.add(token);
        }
        return tokens;
    }

    /** The token of this id, null when there is none. */
    public Token token(String tokenId) throws Exception {
        byte[] data = store().getData(TOKENS + "/" + tokenId);
        if (data == null || data.length == 0) return null;
        try {
            return decode(data);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Error while getting Token for tokenId: {0}: {1}", tokenId, e.toString());
            return null;
        }
    }

    /** The token whose HMAC this is, null when none: the HMAC of each stored id is computed and compared. */
    public Token byHmac(byte[] hmac) throws Exception {
        for (String tokenId : store().getChildren(TOKENS)) {
            if (MessageDigest.isEqual(hmac(tokenId), hmac)) return token(tokenId);
        }
        return null;
    }

    /**
     * The SCRAM credential a token-authenticated client proves knowledge of: its password is the Base64 of the
     * token's HMAC (Kafka derives it the same way, with the mechanism's minimum iterations and a fresh salt).
     */
    ScramCredential scramCredential(String tokenId, ScramMechanism mechanism) {
        byte[] salt = new byte[32];
        RANDOM.nextBytes(salt);
        byte[] password = Base64.getEncoder().encodeToString(hmac(tokenId)).getBytes(StandardCharsets.UTF_8);
        return mechanism.credential(salt, mechanism.saltedPassword(password, salt, ScramMechanism.ITERATIONS_MIN),
                ScramMechanism.ITERATIONS_MIN);
    }

    private void write(Token token) throws Exception {
        ZnodeStore s = store();
        s.setData(TOKENS + "/" + token.tokenId(), encode(token));
        s.createSequential(CHANGES + "/" + CHANGE_PREFIX, token.tokenId().getBytes(StandardCharsets.UTF_8));
    }

    private void remove(String tokenId) throws Exception {
        ZnodeStore s = store();
        s.deleteRecursive(TOKENS + "/" + tokenId);
        s.createSequential(CHANGES + "/" + CHANGE_PREFIX, tokenId.getBytes(StandardCharsets.UTF_8));
    }

    /** Kafka's DelegationTokenManagerZk.toJsonCompatibleMap. */
    static byte[] encode(Token token) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        root.put("owner", ScramCredentialStore.sanitize(token.owner()));
        root.put("tokenRequester", ScramCredentialStore.sanitize(token.requester()));
        var renewers = root.putArray("renewers");
        for (String renewer : token.renewers()) renewers.add(ScramCredentialStore.sanitize(renewer));
        root.put("issueTimestamp", token.issueTimestamp());
        root.put("maxTimestamp", token.maxTimestamp());
        root.put("expiryTimestamp", token.expiryTimestamp());
        root.put("tokenId", token.tokenId());
        return JSON.writeValueAsBytes(root);
    }

    /** Kafka's DelegationTokenManagerZk.fromBytes (versions 1 to 3; before 3 the requester is the owner). */
    static Token decode(byte[] data) throws IOException {
        JsonNode root = JSON.readTree(data);
        int version = root.path("version").asInt(-1);
        if (version <= 0 || version > VERSION) throw new IOException("unknown delegation token version " + version);
        String owner = ScramCredentialStore.desanitize(root.path("owner").asText());
        String requester = version >= 3 ? ScramCredentialStore.desanitize(root.path("tokenRequester").asText()) : owner;
        List<String> renewers = new ArrayList<>();
        for (JsonNode renewer : root.path("renewers")) renewers.add(ScramCredentialStore.desanitize(renewer.asText()));
        return new Token(root.path("tokenId").asText(), owner, requester, renewers,
                root.path("issueTimestamp").asLong(), root.path("maxTimestamp").asLong(),
                root.path("expiryTimestamp").asLong());
    }
}
