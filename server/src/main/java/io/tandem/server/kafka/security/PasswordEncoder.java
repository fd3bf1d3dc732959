package io.tandem.server.kafka.security;

import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kafka's encryption of dynamic password configs ({@code password.encoder.*}, KIP-226): a password set through
 * AlterConfigs goes to {@code /config/brokers/<id>} encrypted with a key derived from {@code password.encoder.secret},
 * so brokers sharing the secret (Apache's and Tandem's alike) read each other's values. The stored form is Kafka's:
 * {@code name:value} pairs joined by commas ({@code keyFactoryAlgorithm}, {@code cipherAlgorithm}, {@code keyLength},
 * {@code salt} (256 random bytes), {@code iterations}, {@code encryptedPassword}, {@code passwordLength} and the
 * cipher's {@code initializationVector}, plus {@code authenticationTagLength} for AES/GCM), the bytes in Base64; the
 * key is PBKDF2 (PBKDF2WithHmacSHA512 unless set) of the secret over the salt. Decoding reads the algorithms from the
 * stored value, not from this broker's settings, as Kafka does, so a value written with other settings still decodes.
 */
public final class PasswordEncoder {
    /** The keys of a broker's server.properties that configure the encoder. */
    public static final String SECRET = "password.encoder.secret";
    public static final String OLD_SECRET = "password.encoder.old.secret";
    public static final String KEY_FACTORY_ALGORITHM = "password.encoder.keyfactory.algorithm";
    public static final String CIPHER_ALGORITHM = "password.encoder.cipher.algorithm";
    public static final String KEY_LENGTH = "password.encoder.key.length";
    public static final String ITERATIONS = "password.encoder.iterations";
    /** Kafka's defaults (PasswordEncoderConfigs). */
    static final String CIPHER_ALGORITHM_DEFAULT = "AES/CBC/PKCS5Padding";
    static final int KEY_LENGTH_DEFAULT = 128;
    static final int ITERATIONS_DEFAULT = 4096;
    /** Kafka's key factory when none is set, and its fallback on a JDK without it. */
    private static final String KEY_FACTORY_DEFAULT = "PBKDF2WithHmacSHA512";
    private static final String KEY_FACTORY_FALLBACK = "PBKDF2WithHmacSHA1";
    /** Kafka's salt size, in bytes. */
    private static final int SALT_BYTES = 256;

    /** The names in the stored form (Kafka's PasswordEncoder constants). */
    private static final String F_KEY_FACTORY = "keyFactoryAlgorithm";
    private static final String F_CIPHER = "cipherAlgorithm";
    private static final String F_IV = "initializationVector";
    private static final String F_KEY_LENGTH = "keyLength";
    private static final String F_SALT = "salt";
    private static final String F_ITERATIONS = "iterations";
    private static final String F_ENCRYPTED = "encryptedPassword";
    private static final String F_PASSWORD_LENGTH = "passwordLength";
    private static final String F_TAG_LENGTH = "authenticationTagLength";

    private final SecureRandom random = new SecureRandom();
    private final char[] secret;
    private final String keyFactoryAlgorithm;
    private final String cipherAlgorithm;
    private final int keyLength;
    private final int iterations;

    /**
     * @param keyFactoryAlgorithm null for Kafka's default (PBKDF2WithHmacSHA512, else PBKDF2WithHmacSHA1)
     * @throws IllegalArgumentException when the JDK has no such cipher or key factory, or a number is out of Kafka's range
     */
    public PasswordEncoder(String secret, String keyFactoryAlgorithm, String cipherAlgorithm, int keyLength,
                           int iterations) {
        this.secret = secret.toCharArray();
        this.keyFactoryAlgorithm = keyFactoryAlgorithm;
        this.cipherAlgorithm = cipherAlgorithm;
        this.keyLength = keyLength;
        this.iterations = iterations;
        try {
            Cipher.getInstance(cipherAlgorithm);
            keyFactory(keyFactoryAlgorithm);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("password encoder: " + e.getMessage(), e);
        }
    }

    /**
     * The encoder a broker's settings configure with {@code secretKey} ({@link #SECRET}, or {@link #OLD_SECRET} for
     * the decoder of values written before the secret changed); null when that secret is not set.
     */
    public static PasswordEncoder fromSettings(Map<String, String> settings, String secretKey) {
        String secret = settings.get(secretKey);
        if (secret == null) return null;
        String keyFactory = settings.get(KEY_FACTORY_ALGORITHM);
        String cipher = settings.get(CIPHER_ALGORITHM);
        String keyLength = settings.get(KEY_LENGTH);
        String iterations = settings.get(ITERATIONS);
        return new PasswordEncoder(secret, keyFactory == null || keyFactory.isBlank() ? null : keyFactory.trim(),
                cipher == null ? CIPHER_ALGORITHM_DEFAULT : cipher.trim(),
                keyLength == null ? KEY_LENGTH_DEFAULT : Integer.parseInt(keyLength.trim()),
                iterations == null ? ITERATIONS_DEFAULT : Integer.parseInt(iterations.trim()));
    }

    /** The stored form of {@code password}, with a fresh salt and initialization vector. */
    public String encode(String password) {
        try {
            byte[] salt = new byte[SALT_BYTES];
            random.nextBytes(salt);
            Cipher cipher = Cipher.getInstance(cipherAlgorithm);
            SecretKeyFactory factory = keyFactory(keyFactoryAlgorithm);
            cipher.init(Cipher.ENCRYPT_MODE, key(factory, cipherAlgorithm, keyLength, salt, iterations));
            byte[] encrypted = cipher.doFinal(password.getBytes(StandardCharsets.UTF_8));
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put(F_KEY_FACTORY, factory.getAlgorithm());
            fields.put(F_CIPHER, cipherAlgorithm);
            fields.put(F_KEY_LENGTH, Integer.toString(keyLength));
            fields.put(F_SALT, base64(salt));
            fields.put(F_ITERATIONS, Integer.toString(iterations));
            fields.put(F_ENCRYPTED, base64(encrypted));
            fields.put(F_PASSWORD_LENGTH, Integer.toString(password.length()));
            fields.putAll(parameters(cipher.getParameters()));
            StringBuilder out = new StringBuilder();
            for (Map.Entry<String, String> e : fields.entrySet()) {
                if (out.length() > 0) out.append(',');
                out.append(e.getKey()).append(':').append(e.getValue());
            }
            return out.toString();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encrypt a password with " + cipherAlgorithm + ": " + e, e);
        }
    }

    /**
     * The password in a stored value; IllegalArgumentException ("Password could not be decoded", Kafka's words) for a
     * value this secret did not encrypt, or one that is not in Kafka's form. The message never holds the value.
     */
    public String decode(String stored) {
        try {
            Map<String, String> fields = parse(stored);
            String cipherName = required(fields, F_CIPHER);
            byte[] salt = Base64.getDecoder().decode(required(fields, F_SALT));
            Cipher cipher = Cipher.getInstance(cipherName);
            SecretKeyFactory factory = keyFactory(fields.get(F_KEY_FACTORY));
            AlgorithmParameterSpec spec = cipherName.startsWith("AES/GCM/")
                    ? new GCMParameterSpec(Integer.parseInt(required(fields, F_TAG_LENGTH)),
                    Base64.getDecoder().decode(required(fields, F_IV)))
                    : new IvParameterSpec(Base64.getDecoder().decode(required(fields, F_IV)));
            cipher.init(Cipher.DECRYPT_MODE, key(factory, cipherName, Integer.parseInt(required(fields, F_KEY_LENGTH)),
                    salt, Integer.parseInt(required(fields, F_ITERATIONS))), spec);
            String password = new String(cipher.doFinal(Base64.getDecoder().decode(required(fields, F_ENCRYPTED))),
                    StandardCharsets.UTF_8);
            if (password.length() != Integer.parseInt(required(fields, F_PASSWORD_LENGTH))) {
                throw new IllegalArgumentException("Password could not be decoded, sanity check of length failed");
            }
            return password;
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof IllegalArgumentException && e.getMessage() != null
                    && e.getMessage().startsWith("Password could not be decoded")) {
                throw (IllegalArgumentException) e;
            }
            throw new IllegalArgumentException("Password could not be decoded", e);
        }
    }

    /** Kafka's Csv.parseCsvMap: pairs split at commas, each at its last colon, blanks around them dropped. */
    private static Map<String, String> parse(String stored) {
        Map<String, String> fields = new HashMap<>();
        if (stored == null || stored.isEmpty()) return fields;
        for (String pair : stored.split("\\s*,\\s*")) {
            int colon = pair.lastIndexOf(':');
            if (colon < 0) throw new IllegalArgumentException("not name:value");
            fields.put(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
        }
        return fields;
    }

    private static String required(Map<String, String> fields, String name) {
        String value = fields.get(name);
        if (value == null) throw new IllegalArgumentException("no " + name);
        return value;
    }

    private static Map<String, String> parameters(AlgorithmParameters parameters) throws GeneralSecurityException {
        if (parameters == null) throw new IllegalStateException("Could not determine initialization vector for cipher");
        Map<String, String> fields = new LinkedHashMap<>();
        if (parameters.getAlgorithm().equalsIgnoreCase("GCM")) {
            GCMParameterSpec gcm = parameters.getParameterSpec(GCMParameterSpec.class);
            fields.put(F_IV, base64(gcm.getIV()));
            fields.put(F_TAG_LENGTH, Integer.toString(gcm.getTLen()));
        } else {
            fields.put(F_IV, base64(parameters.getParameterSpec(IvParameterSpec.class).getIV()));
        }
        return fields;
    }

    private static SecretKeyFactory keyFactory(String algorithm) throws NoSuchAlgorithmException {
        if (algorithm != null) return SecretKeyFactory.getInstance(algorithm);
        try {
            return SecretKeyFactory.getInstance(KEY_FACTORY_DEFAULT);
        } catch (NoSuchAlgorithmException e) {
            return SecretKeyFactory.getInstance(KEY_FACTORY_FALLBACK);
        }
    }

    private SecretKeySpec key(SecretKeyFactory factory, String cipher, int length, byte[] salt, int rounds)
            throws GeneralSecurityException {
        byte[] derived = factory.generateSecret(new PBEKeySpec(secret, salt, rounds, length)).getEncoded();
        // The key is for the cipher's algorithm: "AES" of "AES/CBC/PKCS5Padding".
        int slash = cipher.indexOf('/');
        return new SecretKeySpec(derived, slash > 0 ? cipher.substring(0, slash) : cipher);
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
