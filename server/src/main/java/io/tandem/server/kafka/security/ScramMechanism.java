package io.tandem.server.kafka.security;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The SCRAM mechanisms Kafka defines (RFC 5802 with SHA-256 and SHA-512, RFC 7677), with Kafka's numbers on the
 * wire (AlterUserScramCredentials, DescribeUserScramCredentials) and its iteration bounds.
 */
public enum ScramMechanism {
    SCRAM_SHA_256("SCRAM-SHA-256", (byte) 1, "SHA-256", "HmacSHA256"),
    SCRAM_SHA_512("SCRAM-SHA-512", (byte) 2, "SHA-512", "HmacSHA512");

    /** Kafka's ScramMechanism.minIterations: fewer is refused (and never accepted in a stored credential). */
    public static final int ITERATIONS_MIN = 4096;
    /** Kafka's limit on iterations an AlterUserScramCredentials upsertion may ask for (ZkAdminManager). */
    public static final int ITERATIONS_MAX = 16384;

    private final String mechanismName;
    private final byte type;
    private final String digest;
    private final String hmac;

    ScramMechanism(String mechanismName, byte type, String digest, String hmac) {
        this.mechanismName = mechanismName;
        this.type = type;
        this.digest = digest;
        this.hmac = hmac;
    }

    /** The SASL mechanism name, also the key of the credential in the user's config znode. */
    public String mechanismName() {
        return mechanismName;
    }

    /** Kafka's wire number of the mechanism (org.apache.kafka.clients.admin.ScramMechanism). */
    public byte type() {
        return type;
    }

    public static ScramMechanism forName(String name) {
        for (ScramMechanism m : values()) {
            if (m.mechanismName.equals(name)) return m;
        }
        return null;
    }

    public static ScramMechanism forType(byte type) {
        for (ScramMechanism m : values()) {
            if (m.type == type) return m;
        }
        return null;
    }

    byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(hmac);
            mac.init(new SecretKeySpec(key, hmac));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hmac + " is missing from the JDK", e);
        }
    }

    byte[] hash(byte[] data) {
        try {
            return MessageDigest.getInstance(digest).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(digest + " is missing from the JDK", e);
        }
    }

    /** RFC 5802 Hi(): PBKDF2 with this HMAC, one block; what a client derives from its password. */
    public byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
        byte[] block = new byte[salt.length + 4];
        System.arraycopy(salt, 0, block, 0, salt.length);
        block[block.length - 1] = 1;
        byte[] u = hmac(password, block);
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = hmac(password, u);
            for (int j = 0; j < result.length; j++) result[j] ^= u[j];
        }
        return result;
    }

    /** The stored credential for a salted password: StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey. */
    public ScramCredential credential(byte[] salt, byte[] saltedPassword, int iterations) {
        byte[] clientKey = hmac(saltedPassword, "Client Key".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] serverKey = hmac(saltedPassword, "Server Key".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return new ScramCredential(salt, hash(clientKey), serverKey, iterations);
    }
}
