package io.tandem.server.kafka.security;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.net.URLEncoder;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * SCRAM credentials where Kafka 3.9 keeps them in ZooKeeper: the user's config znode {@code /config/users/<user>}
 * (the name sanitized as Kafka's Sanitizer does) maps each mechanism name to its {@link ScramCredential}, beside any
 * quota keys of the same user, which are left as they are. Every change leaves the {@code users/<user>} notification
 * Kafka's brokers watch for. Read on every authentication rather than cached, so a credential altered on any broker
 * is in force at once; it runs on a request-handler thread, never on an event loop.
 */
public final class ScramCredentialStore {
    private final Supplier<ZnodeStore> store;

    /** {@code store} may answer null until the broker's metadata store is connected. */
    public ScramCredentialStore(Supplier<ZnodeStore> store) {
        this.store = store;
    }

    /** Kafka's Sanitizer.sanitize: URL encoding with {@code *} and spaces percent-encoded. */
    public static String sanitize(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("*", "%2A").replace("+", "%20");
    }

    public static String desanitize(String name) {
        return URLDecoder.decode(name, StandardCharsets.UTF_8);
    }

    private static String path(String user) {
        return "/config/users/" + sanitize(user);
    }

    private ZnodeStore store() {
        ZnodeStore s = store.get();
        if (s == null) throw new IllegalStateException("the metadata store is not connected yet");
        return s;
    }

    /** The user's credential for the mechanism, or null when there is none (or it cannot be read). */
    public ScramCredential credential(String user, ScramMechanism mechanism) throws Exception {
        String value = KafkaZkLayout.decodeEntityConfig(store().getData(path(user))).get(mechanism.mechanismName());
        return value == null ? null : ScramCredential.fromConfigValue(value);
    }

    /** Every user with at least one SCRAM credential: user -> mechanism -> credential, by user name. */
    public Map<String, Map<ScramMechanism, ScramCredential>> all() throws Exception {
        Map<String, Map<ScramMechanism, ScramCredential>> users = new TreeMap<>();
        for (String child : store().getChildren("/config/users")) {
            String user = desanitize(child);
            Map<ScramMechanism, ScramCredential> credentials = credentials(user);
            if (!credentials.isEmpty()) users.put(user, credentials);
        }
        return users;
    }

    /** The user's SCRAM credentials, empty when none. */
    public Map<ScramMechanism, ScramCredential> credentials(String user) throws Exception {
        Map<String, String> config = KafkaZkLayout.decodeEntityConfig(store().getData(path(user)));
        Map<ScramMechanism, ScramCredential> credentials = new LinkedHashMap<>();
        for (ScramMechanism m : ScramMechanism.values()) {
            String value = config.get(m.mechanismName());
            if (value != null) credentials.put(m, ScramCredential.fromConfigValue(value));
        }
        return credentials;
    }

    /**
     * Applies the user's changes in one write: each mechanism maps to its new credential, or to null to delete it.
     * The caller serializes changes (see ScramCredentialsAdmin).
     */
    public void alter(String user, Map<ScramMechanism, ScramCredential> changes) throws Exception {
        ZnodeStore s = store();
        Map<String, String> config = new LinkedHashMap<>(KafkaZkLayout.decodeEntityConfig(s.getData(path(user))));
        for (Map.Entry<ScramMechanism, ScramCredential> e : changes.entrySet()) {
            if (e.getValue() == null) {
                config.remove(e.getKey().mechanismName());
            } else {
                config.put(e.getKey().mechanismName(), e.getValue().toConfigValue());
            }
        }
        s.setData(path(user), KafkaZkLayout.encodeEntityConfig(config));
        s.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("users/" + sanitize(user)));
    }
}
