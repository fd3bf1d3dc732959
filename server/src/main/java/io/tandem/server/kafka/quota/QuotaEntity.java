package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.security.ScramCredentialStore;

/**
 * A quota entity as Kafka 3.9 keeps it in ZooKeeper: a user, a client id, or both. A name is the entity's real
 * (unsanitized) name, {@link #DEFAULT} for the {@code <default>} entity, or null when the entity has no such part.
 */
public record QuotaEntity(String user, String clientId) {
    /** Kafka's ConfigEntityName.DEFAULT: the znode name of a default entity. */
    public static final String DEFAULT = "<default>";
    /** Kafka's ClientQuotaEntity.USER and CLIENT_ID entity types, as the requests name them. */
    public static final String USER = "user";
    public static final String CLIENT_ID = "client-id";

    public QuotaEntity {
        if (user == null && clientId == null) throw new IllegalArgumentException("an empty quota entity");
    }

    /** The config znode: {@code /config/users/<u>}, {@code /config/clients/<c>} or {@code /config/users/<u>/clients/<c>}. */
    public String path() {
        return "/config/" + entityPath();
    }

    /** The {@code entity_path} of the change notification, as Kafka's AdminZkClient writes it. */
    public String entityPath() {
        if (user == null) return "clients/" + sanitize(clientId);
        if (clientId == null) return "users/" + sanitize(user);
        return "users/" + sanitize(user) + "/clients/" + sanitize(clientId);
    }

    /** Kafka's sanitizeEntityName: {@code <default>} stays as it is, other names are URL-encoded (Sanitizer). */
    static String sanitize(String name) {
        return name.equals(DEFAULT) ? DEFAULT : ScramCredentialStore.sanitize(name);
    }

    static String desanitize(String znodeName) {
        return znodeName.equals(DEFAULT) ? DEFAULT : ScramCredentialStore.desanitize(znodeName);
    }
}
