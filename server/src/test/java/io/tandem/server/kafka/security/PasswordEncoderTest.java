package io.tandem.server.kafka.security;

import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.security.EncryptingPasswordEncoder;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tandem's encryption of dynamic passwords against Kafka 3.9's own EncryptingPasswordEncoder (test scope): what one
 * writes the other reads, with Kafka's default settings and with AES/GCM and another key factory, and a value
 * encrypted with another secret is refused with Kafka's words.
 */
class PasswordEncoderTest {
    private static final String SECRET = "encoder-secret";
    private static final String PASSWORD = "keystore pässword, with: separators";

    private static EncryptingPasswordEncoder kafka(String secret, String keyFactory, String cipher, int keyLength,
                                                   int iterations) {
        return new EncryptingPasswordEncoder(new Password(secret), keyFactory, cipher, keyLength,
                iterations);
    }

    @Test
    void shouldWriteWhatKafkasEncoderDecodesWithKafkasDefaults() throws Exception {
        PasswordEncoder tandem = new PasswordEncoder(SECRET, null, "AES/CBC/PKCS5Padding", 128, 4096);
        String stored = tandem.encode(PASSWORD);
        assertFalse(stored.contains(PASSWORD), "the password is not stored in clear");
        assertTrue(stored.contains("keyFactoryAlgorithm:PBKDF2WithHmacSHA512"), stored);
        assertTrue(stored.contains("cipherAlgorithm:AES/CBC/PKCS5Padding"), stored);
        assertTrue(stored.contains("passwordLength:" + PASSWORD.length()), stored);
        assertEquals(PASSWORD, kafka(SECRET, null, "AES/CBC/PKCS5Padding", 128, 4096).decode(stored).value());
        assertNotEquals(stored, tandem.encode(PASSWORD), "a fresh salt and initialization vector each time");
    }

    @Test
    void shouldReadWhatKafkasEncoderWrites() throws Exception {
        String stored = kafka(SECRET, null, "AES/CBC/PKCS5Padding", 128, 4096).encode(new Password(PASSWORD));
        assertEquals(PASSWORD, new PasswordEncoder(SECRET, null, "AES/CBC/PKCS5Padding", 128, 4096).decode(stored));
        // The algorithms come from the stored value, not from the reader's settings, as in Kafka.
        assertEquals(PASSWORD, new PasswordEncoder(SECRET, null, "AES/GCM/NoPadding", 256, 2048).decode(stored));
    }

    @Test
    void shouldInteroperateWithGcmAndAnotherKeyFactory() throws Exception {
        PasswordEncoder tandem = new PasswordEncoder(SECRET, "PBKDF2WithHmacSHA1", "AES/GCM/NoPadding", 256, 2048);
        EncryptingPasswordEncoder kafka = kafka(SECRET, "PBKDF2WithHmacSHA1", "AES/GCM/NoPadding", 256, 2048);
        String ours = tandem.encode(PASSWORD);
        assertTrue(ours.contains("authenticationTagLength:"), ours);
        assertEquals(PASSWORD, kafka.decode(ours).value());
        assertEquals(PASSWORD, tandem.decode(kafka.encode(new Password(PASSWORD))));
    }

    @Test
    void shouldRefuseAValueEncryptedWithAnotherSecretInKafkasWords() throws Exception {
        String stored = kafka("another-secret", null, "AES/CBC/PKCS5Padding", 128, 4096).encode(new Password(PASSWORD));
        PasswordEncoder tandem = new PasswordEncoder(SECRET, null, "AES/CBC/PKCS5Padding", 128, 4096);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tandem.decode(stored));
        assertTrue(e.getMessage().startsWith("Password could not be decoded"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tandem.decode("not an encrypted password"));
    }

    @Test
    void shouldRefuseAnAlgorithmTheJdkLacksWhenBuilt() {
        assertThrows(IllegalArgumentException.class,
                () -> new PasswordEncoder(SECRET, null, "NoSuchCipher/CBC/PKCS5Padding", 128, 4096));
        assertThrows(IllegalArgumentException.class,
                () -> new PasswordEncoder(SECRET, "NoSuchKeyFactory", "AES/CBC/PKCS5Padding", 128, 4096));
    }
}
