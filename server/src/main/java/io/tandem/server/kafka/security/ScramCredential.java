package io.tandem.server.kafka.security;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * A user's SCRAM credential as the server keeps it (RFC 5802: never the password), written as Kafka's
 * ScramCredentialUtils writes it into the user's config znode:
 * {@code salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=<n>}.
 */
public record ScramCredential(byte[] salt, byte[] storedKey, byte[] serverKey, int iterations) {

    public String toConfigValue() {
        Base64.Encoder b64 = Base64.getEncoder();
        return "salt=" + b64.encodeToString(salt) + ",stored_key=" + b64.encodeToString(storedKey)
                + ",server_key=" + b64.encodeToString(serverKey) + ",iterations=" + iterations;
    }

    /** Parses the config value; IllegalArgumentException when a field is missing or malformed. */
    public static ScramCredential fromConfigValue(String value) {
        Map<String, String> fields = new HashMap<>();
        for (String part : value.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("SCRAM credential field without a name: " + part);
            fields.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        for (String name : new String[] {"salt", "stored_key", "server_key", "iterations"}) {
            if (!fields.containsKey(name)) throw new IllegalArgumentException("SCRAM credential without " + name);
        }
        Base64.Decoder b64 = Base64.getDecoder();
        return new ScramCredential(b64.decode(fields.get("salt")), b64.decode(fields.get("stored_key")),
                b64.decode(fields.get("server_key")), Integer.parseInt(fields.get("iterations")));
    }
}
