package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SASL/OAUTHBEARER (RFC 7628) with Kafka's default token validation, its unsecured validator: the token is an unsecured
 * JWS ({@code alg} "none", no signature) whose claims must name a principal ({@code sub}, or the claim
 * {@code unsecuredValidatorPrincipalClaimName} names), carry an expiration ({@code exp}, seconds) not passed, an
 * issued-at ({@code iat}) not in the future and before {@code exp}, and every scope of
 * {@code unsecuredValidatorRequiredScope}; {@code unsecuredValidatorAllowableClockSkewMs} widens the time checks. These
 * options come from the listener's OAuthBearerLoginModule entry, as Kafka reads them. This is what Kafka offers for
 * tests and development (tokens anyone can forge); a signed-token (OIDC) validator is not implemented, and its settings
 * are refused at start-up.
 *
 * <p>A token that fails validation is answered, as in Kafka, with a JSON error challenge ({@code {"status":
 * "invalid_token"}}); the client then sends a single 0x01 and the exchange fails with that JSON as the message.
 */
final class OAuthBearerServer implements SaslMechanismServer {
    private static final String SEPARATOR = "\u0001";
    private static final String SASLNAME = "(?:[\\x01-\\x7F&&[^=,]]|=2C|=3D)+";
    private static final String KVPAIRS = "(?:[A-Za-z]+=[\\x21-\\x7E \t\r\n]+" + SEPARATOR + ")*";
    private static final Pattern INITIAL_RESPONSE = Pattern.compile(
            "n,(a=(?<authzid>" + SASLNAME + "))?," + SEPARATOR + "(?<kvpairs>" + KVPAIRS + ")" + SEPARATOR);
    private static final Pattern AUTH = Pattern.compile("(?<scheme>\\w+) +(?<token>[-_.a-zA-Z0-9]+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> options;
    private final LongSupplier clock;
    private String errorChallenge;
    private String principal;
    /** The token's expiry (its exp claim, in milliseconds), once validated. */
    private Long expiryMs;

    OAuthBearerServer(Map<String, String> options) {
        this(options, System::currentTimeMillis);
    }

    OAuthBearerServer(Map<String, String> options, LongSupplier clock) {
        this.options = Map.copyOf(options);
        this.clock = clock;
    }

    @Override
    public byte[] evaluate(byte[] response) throws SaslFailure {
        if (response.length == 1 && response[0] == 1 && errorChallenge != null) {
            throw SaslFailure.told(errorChallenge); // the client acknowledged our error: Kafka fails with it
        }
        errorChallenge = null;
        Matcher message = INITIAL_RESPONSE.matcher(new String(response, StandardCharsets.UTF_8));
        if (!message.matches()) throw SaslFailure.hidden("Invalid OAUTHBEARER client first message");
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String pair : message.group("kvpairs").split(SEPARATOR)) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            pairs.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        String auth = pairs.get("auth");
        if (auth == null) throw SaslFailure.hidden("Invalid OAUTHBEARER client first message: 'auth' not specified");
        Matcher bearer = AUTH.matcher(auth);
        if (!bearer.matches()) throw SaslFailure.hidden("Invalid OAUTHBEARER client first message: invalid 'auth' format");
        if (!bearer.group("scheme").equalsIgnoreCase("bearer")) {
            throw SaslFailure.hidden("Invalid scheme in OAUTHBEARER client first message: " + bearer.group("scheme"));
        }
        Validated token;
        try {
            token = validate(bearer.group("token"));
        } catch (InvalidToken e) {
            errorChallenge = e.scope == null ? "{\"status\":\"invalid_token\"}"
                    : "{\"status\":\"insufficient_scope\", \"scope\":\"" + e.scope + "\"}";
            return errorChallenge.getBytes(StandardCharsets.UTF_8);
        }
        String authorizationId = message.group("authzid");
        if (authorizationId != null && !authorizationId.equals(token.principal())) {
            throw SaslFailure.told("Authentication failed: Client requested an authorization id (" + authorizationId
                    + ") that is different from the token's principal name (" + token.principal() + ")");
        }
        principal = token.principal();
        expiryMs = token.expiryMs();
        return new byte[0];
    }

    /** Why a token is refused; a missing scope makes the answer insufficient_scope with that scope. */
    private static final class InvalidToken extends Exception {
        private final String scope;

        InvalidToken(String reason, String scope) {
            super(reason);
            this.scope = scope;
        }
    }

    /** A token that passed validation: its principal name and expiry (epoch milliseconds). */
    private record Validated(String principal, long expiryMs) {
    }

    /** The unsecured validator's checks. */
    private Validated validate(String token) throws InvalidToken {
        String[] parts = token.split("\\.", -1);
        if (token.contains("..") || parts.length != 3) {
            throw new InvalidToken("Unsecured JWS compact serializations must have 3 dot-separated values", null);
        }
        JsonNode header = decode(parts[0]);
        JsonNode claims = decode(parts[1]);
        if (!header.path("alg").asText("").equals("none")) {
            throw new InvalidToken("Unsecured JWS must have 'none' for an algorithm", null);
        }
        if (!parts[2].isEmpty()) throw new InvalidToken("Unsecured JWS must not contain a digital signature", null);
        String principalClaim = option("unsecuredValidatorPrincipalClaimName", "sub");
        JsonNode name = claims.get(principalClaim);
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw new InvalidToken("No principal name in JWT claim: " + principalClaim, null);
        }
        long skewMs;
        try {
            skewMs = Long.parseLong(option("unsecuredValidatorAllowableClockSkewMs", "0"));
        } catch (NumberFormatException e) {
            throw new InvalidToken("unsecuredValidatorAllowableClockSkewMs is not a number", null);
        }
        long now = clock.getAsLong();
        JsonNode exp = claims.get("exp");
        if (exp == null || !exp.isNumber()) throw new InvalidToken("No expiration time in JWT", null);
        long expMs = Math.round(exp.asDouble() * 1000);
        if (now > expMs + skewMs) throw new InvalidToken("The indicated time is past the expiration time", null);
        JsonNode iat = claims.get("iat");
        if (iat != null) {
            if (!iat.isNumber()) throw new InvalidToken("The 'iat' claim is not a number", null);
            long iatMs = Math.round(iat.asDouble() * 1000);
            if (now + skewMs < iatMs) throw new InvalidToken("The Issued At value is after the current time", null);
            if (expMs <= iatMs) throw new InvalidToken("The Expiration Time is not after the Issued At time", null);
        }
        List<String> required = words(option("unsecuredValidatorRequiredScope", ""));
        if (!required.isEmpty()) {
            List<String> granted = scope(claims.get(option("unsecuredValidatorScopeClaimName", "scope")));
            for (String scope : required) {
                if (!granted.contains(scope)) throw new InvalidToken("The provided scope is missing " + scope, required.toString());
            }
        }
        return new Validated(name.asText(), expMs);
    }

    private String option(String key, String fallback) {
        String value = options.get(key);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** A scope claim: one string, or a list of strings, as Kafka's unsecured JWS reads it. */
    private static List<String> scope(JsonNode claim) {
        List<String> scope = new ArrayList<>();
        if (claim == null) return scope;
        if (claim.isArray()) {
            for (JsonNode value : claim) if (!value.asText().isBlank()) scope.add(value.asText().trim());
        } else if (!claim.asText().isBlank()) {
            scope.add(claim.asText().trim());
        }
        return scope;
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        for (String word : text.trim().split(" +")) if (!word.isEmpty()) words.add(word);
        return words;
    }

    private static JsonNode decode(String part) throws InvalidToken {
        try {
            JsonNode node = JSON.readTree(Base64.getUrlDecoder().decode(part));
            if (node == null || !node.isObject()) throw new InvalidToken("malformed JSON", null);
            return node;
        } catch (IllegalArgumentException e) {
            throw new InvalidToken("malformed Base64 URL encoded value", null);
        } catch (IOException e) {
            throw new InvalidToken("malformed JSON", null);
        }
    }

    @Override
    public boolean isComplete() {
        return principal != null;
    }

    @Override
    public String authorizationId() {
        return principal;
    }

    @Override
    public Long credentialExpiryMs() {
        return expiryMs;
    }
}
