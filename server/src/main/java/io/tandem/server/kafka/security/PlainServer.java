package io.tandem.server.kafka.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * SASL/PLAIN (RFC 4616) against the users of the listener's JAAS configuration ({@code user_<name>="<password>"}),
 * as Kafka's PlainSaslServer and PlainServerCallbackHandler do, with their messages. The JDK has no PLAIN server.
 */
final class PlainServer implements SaslMechanismServer {
    private final Map<String, String> passwords;
    private String user;

    PlainServer(Map<String, String> passwords) {
        this.passwords = passwords;
    }

    @Override
    public byte[] evaluate(byte[] response) throws SaslFailure {
        if (user != null) throw SaslFailure.hidden("PLAIN exchange is already complete");
        List<String> tokens = tokens(new String(response, StandardCharsets.UTF_8));
        if (tokens.size() != 3) {
            throw SaslFailure.hidden("Invalid SASL/PLAIN response: expected 3 tokens, got " + tokens.size());
        }
        String authorizationId = tokens.get(0);
        String username = tokens.get(1);
        String password = tokens.get(2);
        if (username.isEmpty()) throw SaslFailure.told("Authentication failed: username not specified");
        if (password.isEmpty()) throw SaslFailure.told("Authentication failed: password not specified");
        String expected = passwords.get(username);
        // Compared in constant time, as Kafka's Utils.isEqualConstantTime, so timing does not leak the password.
        if (expected == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                password.getBytes(StandardCharsets.UTF_8))) {
            throw SaslFailure.told("Authentication failed: Invalid username or password");
        }
        if (!authorizationId.isEmpty() && !authorizationId.equals(username)) {
            throw SaslFailure.told("Authentication failed: Client requested an authorization id that is different "
                    + "from username");
        }
        user = username;
        return new byte[0];
    }

    /** Splits on NUL keeping empty tokens, as Kafka's PlainSaslServer.extractTokens. */
    private static List<String> tokens(String message) {
        List<String> tokens = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= message.length(); i++) {
            if (i == message.length() || message.charAt(i) == '\u0000') {
                tokens.add(message.substring(start, i));
                start = i + 1;
            }
        }
        return tokens;
    }

    @Override
    public boolean isComplete() {
        return user != null;
    }

    @Override
    public String authorizationId() {
        return user;
    }
}
