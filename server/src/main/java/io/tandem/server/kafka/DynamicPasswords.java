package io.tandem.server.kafka;

import io.tandem.server.kafka.BrokerConfigKeys.UpdateMode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.security.PasswordEncoder;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;

/**
 * The password keys among dynamic broker configs ({@code listener.name.<l>.ssl.keystore.password},
 * {@code listener.name.<l>.<mechanism>.sasl.jaas.config}, ...), stored encrypted as Kafka 3.9 stores them
 * ({@link PasswordEncoder}, with {@code password.encoder.secret}) and decrypted when read: without the secret they are
 * refused with Kafka's error, and a stored value that does not decrypt is left out with Kafka's error line. At the
 * first read, values encrypted with {@code password.encoder.old.secret} are encrypted again with the current secret
 * and written back, as Kafka does when the secret is rotated.
 */
final class DynamicPasswords {
    private static final System.Logger LOG = System.getLogger(DynamicBrokerConfig.class.getName());

    /** password.encoder.secret's encoder, null without it (dynamic passwords are then refused). */
    private final PasswordEncoder passwords;
    /** password.encoder.old.secret's, to re-encrypt values written before the secret changed; null without it. */
    private final PasswordEncoder oldPasswords;

    DynamicPasswords(PasswordEncoder passwords, PasswordEncoder oldPasswords) {
        this.passwords = passwords;
        this.oldPasswords = oldPasswords;
    }

    /**
     * Kafka's DynamicBrokerConfig.isPasswordConfig: a key that ends with one of Kafka's dynamic PASSWORD keys
     * ({@code listener.name.l.ssl.keystore.password}, {@code listener.name.l.plain.sasl.jaas.config}, ...).
     */
    static boolean isPasswordConfig(String name) {
        for (BrokerConfigKeys.Key key : BrokerConfigKeys.KAFKA.values()) {
            if (key.type().equals("PASSWORD") && key.mode() != UpdateMode.READ_ONLY && name.endsWith(key.name())) {
                return true;
            }
        }
        return false;
    }

    /** Kafka's toPersistentProps: the settings as stored, passwords encrypted (Kafka's errors without a secret). */
    Map<String, String> encrypted(Map<String, String> settings, boolean perBroker) {
        Map<String, String> persisted = new LinkedHashMap<>(settings);
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (!isPasswordConfig(e.getKey()) || e.getValue() == null) continue;
            if (!perBroker) throw new ApiException(INVALID_REQUEST, "Password config can be defined only at broker level");
            if (passwords == null) throw new ApiException(INVALID_REQUEST, "Password encoder secret not configured");
            persisted.put(e.getKey(), passwords.encode(e.getValue()));
        }
        return persisted;
    }

    /**
     * Kafka's fromPersistentProps: stored passwords decrypted; one that does not decrypt (another secret, or no
     * secret here) is left out with Kafka's error line, and the rest still applies.
     */
    Map<String, String> decrypted(String entity, Map<String, String> stored) {
        Map<String, String> plain = new LinkedHashMap<>(stored);
        for (Map.Entry<String, String> e : stored.entrySet()) {
            if (!isPasswordConfig(e.getKey()) || e.getValue() == null) continue;
            try {
                if (passwords == null) throw new IllegalArgumentException("Password encoder secret not configured");
                plain.put(e.getKey(), passwords.decode(e.getValue()));
            } catch (IllegalArgumentException error) {
                LOG.log(System.Logger.Level.ERROR, "Dynamic password config {0} of {1} could not be decoded, "
                        + "ignoring: {2}", e.getKey(), entity, error.getMessage());
                plain.remove(e.getKey());
            }
        }
        return plain;
    }

    /**
     * Kafka's maybeReEncodePasswords: with password.encoder.old.secret, the broker's stored passwords (at
     * {@code path}) that the old secret decrypts are encrypted again with the current one and written back, with a
     * change notification for {@code entity} (others are left as they are: the old secret may simply not have been
     * removed since the last rotation).
     */
    void reEncryptWithCurrentSecret(ZnodeStore store, String path, String entity) throws Exception {
        if (oldPasswords == null || passwords == null) return;
        Map<String, String> stored = KafkaZkLayout.decodeEntityConfig(store.getData(path));
        Map<String, String> next = new LinkedHashMap<>(stored);
        boolean changed = false;
        for (Map.Entry<String, String> e : stored.entrySet()) {
            if (!isPasswordConfig(e.getKey()) || e.getValue() == null) continue;
            try {
                next.put(e.getKey(), passwords.encode(oldPasswords.decode(e.getValue())));
                changed = true;
            } catch (IllegalArgumentException notOld) {
                LOG.log(System.Logger.Level.DEBUG, "Dynamic password config {0} could not be decoded using old "
                        + "secret, new secret will be used.", e.getKey());
            }
        }
        if (!changed) return;
        store.setData(path, KafkaZkLayout.encodeEntityConfig(next));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("brokers/" + entity));
        LOG.log(System.Logger.Level.INFO, "Dynamic passwords of broker {0} encrypted again with the current "
                + "password.encoder.secret", entity);
    }

    /** The settings for a log line: password values never appear. */
    static Map<String, String> redacted(Map<String, String> settings) {
        Map<String, String> shown = new LinkedHashMap<>();
        settings.forEach((k, v) -> shown.put(k, isPasswordConfig(k) ? "[hidden]" : v));
        return shown;
    }
}
