package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The client side of SASL/OAUTHBEARER (RFC 7628) with Kafka's unsecured login: the token is an unsecured JWS
 * ({@code alg} "none", no signature) made from the OAuthBearerLoginModule's {@code unsecuredLogin*} options as Kafka's
 * OAuthBearerUnsecuredLoginCallbackHandler makes it: the principal claim ({@code unsecuredLoginPrincipalClaimName},
 * default {@code sub}) from {@code unsecuredLoginStringClaim_<name>} options, {@code iat} now and {@code exp} after
 * {@code unsecuredLoginLifetimeSeconds} (default 3600), the scope from {@code unsecuredLoginListClaim_scope}. It is
 * what a broker's validator checks (OAuthBearerServer); tokens anyone can forge, for tests and development.
 *
 * <p>The exchange, as Kafka's OAuthBearerSaslClient: the client's first message {@code n,,^Aauth=Bearer <token>^A^A};
 * an empty answer completes it; an error challenge (a JSON status) is acknowledged with a single 0x01, after which
 * the broker fails the authentication with that JSON.
 */
final class OAuthBearerClient implements SaslClient {
    private static final String SEPARATOR = "\u0001";
    private static final String STRING_CLAIM = "unsecuredLoginStringClaim_";
    private static final String LIST_CLAIM = "unsecuredLoginListClaim_";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String token;
    private boolean sent;
    private boolean complete;

    OAuthBearerClient(Map<String, String> options, LongSupplier clock) {
        this.token = unsecuredToken(options, clock.getAsLong());
    }

    /** Kafka's unsecured JWS for the login module's options at {@code nowMs}. */
    static String unsecuredToken(Map<String, String> options, long nowMs) {
        String principalClaim = options.getOrDefault("unsecuredLoginPrincipalClaimName", "sub");
        ObjectNode claims = JSON.createObjectNode();
        double iat = nowMs / 1000.0;
        long lifetimeSeconds = Long.parseLong(options.getOrDefault("unsecuredLoginLifetimeSeconds", "3600").trim());
        claims.put("iat", iat);
        claims.put("exp", iat + lifetimeSeconds);
        for (Map.Entry<String, String> option : options.entrySet()) {
            String key = option.getKey();
            if (key.startsWith(STRING_CLAIM)) {
                claims.put(key.substring(STRING_CLAIM.length()), option.getValue());
            } else if (key.startsWith(LIST_CLAIM)) {
                // Kafka's list option: the first character is the separator of the values that follow.
                String value = option.getValue();
                var list = claims.putArray(key.substring(LIST_CLAIM.length()));
                if (!value.isEmpty()) {
                    for (String item : value.substring(1).split(java.util.regex.Pattern.quote(value.substring(0, 1)))) {
                        if (!item.isEmpty()) list.add(item);
                    }
                }
            }
        }
        if (!claims.hasNonNull(principalClaim)) {
            throw new IllegalArgumentException("the OAUTHBEARER login module has no " + STRING_CLAIM + principalClaim
                    + " option: the token would name no principal");
        }
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String header = base64.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
        String payload = base64.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }

    @Override
    public String getMechanismName() {
        return "OAUTHBEARER";
    }

    @Override
    public boolean hasInitialResponse() {
        return true;
    }

    @Override
    public byte[] evaluateChallenge(byte[] challenge) throws SaslException {
        if (!sent) {
            sent = true;
            return ("n,," + SEPARATOR + "auth=Bearer " + token + SEPARATOR + SEPARATOR)
                    .getBytes(StandardCharsets.UTF_8);
        }
        complete = true;
        // An error challenge is acknowledged so the broker can end the exchange with it; success answers nothing.
        return challenge.length == 0 ? null : SEPARATOR.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean isComplete() {
        return complete;
    }

    @Override
    public byte[] unwrap(byte[] incoming, int offset, int len) {
        throw new IllegalStateException("OAUTHBEARER has no security layer");
    }

    @Override
    public byte[] wrap(byte[] outgoing, int offset, int len) {
        throw new IllegalStateException("OAUTHBEARER has no security layer");
    }

    @Override
    public Object getNegotiatedProperty(String propName) {
        return null;
    }

    @Override
    public void dispose() {
    }
}
