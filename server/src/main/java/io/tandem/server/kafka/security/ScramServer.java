package io.tandem.server.kafka.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server side of SCRAM (RFC 5802, RFC 7677) as Kafka's ScramSaslServer runs it: client-first, server-first,
 * client-final, server-final, against the credential kept in ZooKeeper ({@link ScramCredentialStore}); no channel
 * binding (Kafka's clients send the "n" GS2 flag). With the "tokenauth=true" extension the user name is a delegation
 * token's id and the password the Base64 of its HMAC ({@link DelegationTokens}); the client is then authenticated as
 * the token's owner, and its session ends when the token expires, as Kafka's ScramSaslServer does.
 * The JDK has no SCRAM server and no well-kept library on Maven Central offers one without a framework around it,
 * so it is written here, message formats taken from Kafka's ScramMessages.
 */
final class ScramServer implements SaslMechanismServer {
    private static final String SASLNAME = "(?:[\\x01-\\x7F&&[^=,]]|=2C|=3D)+";
    private static final String PRINTABLE = "[\\x21-\\x7E&&[^,]]+";
    private static final String BASE64 = "[a-zA-Z0-9/+]*={0,2}";
    private static final String EXTENSIONS = "(?:,[a-zA-Z]+=[\\x01-\\x7F&&[^=,]]+)*";
    /** Kafka's ClientFirstMessage pattern (the reserved "m=" attribute allowed and ignored). */
    private static final Pattern CLIENT_FIRST = Pattern.compile("(?<gs2>n,(?:a=(?<authzid>" + SASLNAME + "))?,)"
            + "(?<bare>(?:m=[^,]*,)?n=(?<saslname>" + SASLNAME + "),r=(?<nonce>" + PRINTABLE + ")"
            + "(?<extensions>" + EXTENSIONS + "))");
    private static final Pattern CLIENT_FINAL = Pattern.compile("(?<withoutProof>c=(?<channel>" + BASE64 + "),r=(?<nonce>"
            + PRINTABLE + ")" + EXTENSIONS + "),p=(?<proof>" + BASE64 + ")");
    private static final SecureRandom RANDOM = new SecureRandom();

    private enum State { CLIENT_FIRST, CLIENT_FINAL, COMPLETE, FAILED }

    private final ScramMechanism mechanism;
    private final ScramCredentialStore credentials;
    /** The broker's delegation tokens; null only where none are served (tests of the exchange alone). */
    private final DelegationTokens tokens;
    private State state = State.CLIENT_FIRST;
    /** With tokenauth: the token's expiry, and the exchange authenticates its owner. */
    private Long tokenExpiryMs;
    private boolean tokenAuthenticated;
    private String user;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;
    private ScramCredential credential;

    ScramServer(ScramMechanism mechanism, ScramCredentialStore credentials) {
        this(mechanism, credentials, null);
    }

    ScramServer(ScramMechanism mechanism, ScramCredentialStore credentials, DelegationTokens tokens) {
        this.mechanism = mechanism;
        this.credentials = credentials;
        this.tokens = tokens;
    }

    @Override
    public byte[] evaluate(byte[] response) throws SaslFailure {
        try {
            return switch (state) {
                case CLIENT_FIRST -> clientFirst(new String(response, StandardCharsets.UTF_8));
                case CLIENT_FINAL -> clientFinal(new String(response, StandardCharsets.UTF_8));
                default -> throw SaslFailure.hidden("Unexpected challenge in SCRAM state " + state);
            };
        } catch (SaslFailure e) {
            state = State.FAILED;
            throw e;
        }
    }

    private byte[] clientFirst(String message) throws SaslFailure {
        Matcher m = CLIENT_FIRST.matcher(message);
        if (!m.matches()) throw SaslFailure.hidden("Invalid SCRAM client first message format");
        boolean tokenAuth = false;
        for (String extension : m.group("extensions").split(",")) {
            if (extension.startsWith("tokenauth=") && extension.substring(10).equalsIgnoreCase("true")) tokenAuth = true;
        }
        String username = m.group("saslname").replace("=2C", ",").replace("=3D", "=");
        String authzid = m.group("authzid");
        if (authzid != null && !authzid.replace("=2C", ",").replace("=3D", "=").equals(username)) {
            throw SaslFailure.told("Authentication failed: Client requested an authorization id that is different "
                    + "from username");
        }
        ScramCredential found;
        String authenticated = username;
        try {
            if (tokenAuth) {
                DelegationTokens.Token token = tokens == null || !tokens.enabled() ? null : tokens.token(username);
                if (token == null) throw SaslFailure.hidden("Token Authentication failed: Invalid tokenId : " + username);
                found = tokens.scramCredential(username, mechanism);
                // Kafka's principal for a token is its owner's name as a User, whatever the owner's type.
                String owner = token.owner();
                authenticated = owner.substring(owner.indexOf(':') + 1);
                tokenExpiryMs = token.expiryTimestamp();
                tokenAuthenticated = true;
            } else {
                found = credentials.credential(username, mechanism);
            }
        } catch (SaslFailure e) {
            throw e;
        } catch (Exception e) {
            throw SaslFailure.hidden("Authentication failed: Credentials could not be obtained: " + e);
        }
        if (found == null) throw SaslFailure.hidden("Authentication failed: Invalid user credentials");
        if (found.iterations() < ScramMechanism.ITERATIONS_MIN) {
            throw SaslFailure.hidden("Iterations " + found.iterations() + " is less than the minimum "
                    + ScramMechanism.ITERATIONS_MIN + " for " + mechanism.mechanismName());
        }
        byte[] serverNonce = new byte[24];
        RANDOM.nextBytes(serverNonce);
        user = authenticated;
        credential = found;
        gs2Header = m.group("gs2");
        clientFirstBare = m.group("bare");
        nonce = m.group("nonce") + Base64.getUrlEncoder().withoutPadding().encodeToString(serverNonce);
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(found.salt()) + ",i="
                + found.iterations();
        state = State.CLIENT_FINAL;
        return serverFirst.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] clientFinal(String message) throws SaslFailure {
        Matcher m = CLIENT_FINAL.matcher(message);
        if (!m.matches()) throw SaslFailure.hidden("Invalid SCRAM client final message format");
        // Kafka's ScramSaslServer checks endsWith, not equals: librdkafka (kcat) echoes its own nonce before the
        // combined one the server sent. The proof still binds the exchange, since the whole message is signed.
        if (!m.group("nonce").endsWith(nonce)) {
            throw SaslFailure.hidden("Invalid client nonce in the final client message.");
        }
        String expectedChannel = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
        if (!m.group("channel").equals(expectedChannel)) throw SaslFailure.hidden("Invalid channel binding");
        byte[] proof = Base64.getDecoder().decode(m.group("proof"));
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + m.group("withoutProof"))
                .getBytes(StandardCharsets.UTF_8);
        byte[] clientSignature = mechanism.hmac(credential.storedKey(), authMessage);
        if (proof.length != clientSignature.length) throw SaslFailure.hidden("Invalid client credentials");
        byte[] clientKey = new byte[proof.length];
        for (int i = 0; i < proof.length; i++) clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
        if (!MessageDigest.isEqual(mechanism.hash(clientKey), credential.storedKey())) {
            throw SaslFailure.hidden("Invalid client credentials");
        }
        byte[] serverSignature = mechanism.hmac(credential.serverKey(), authMessage);
        credential = null;
        state = State.COMPLETE;
        return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    @Override
    public String authorizationId() {
        return isComplete() ? user : null;
    }

    @Override
    public Long credentialExpiryMs() {
        return isComplete() ? tokenExpiryMs : null;
    }

    @Override
    public boolean tokenAuthenticated() {
        return isComplete() && tokenAuthenticated;
    }
}
