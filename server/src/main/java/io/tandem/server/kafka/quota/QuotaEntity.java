package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.security.ScramCredentialStore;

/**
 * A quota entity as Kafka 3.9 keeps it in ZooKeeper: a user, a client id, or both; or an IP address (KIP-612), which
 * is never combined with the others. A name is the entity's real (unsanitized) name, {@link #DEFAULT} for the
 * {@code <default>} entity, or null when the entity has no such part.
 */
public record QuotaEntity(String user, String clientId, String ip) {
    /** Kafka's ConfigEntityName.DEFAULT: the znode name of a default entity. */
    public static final String DEFAULT = "<default>";
    /** Kafka's ClientQuotaEntity.USER and CLIENT_ID entity types, as the requests name them. */
    public static final String USER = "user";
    public static final String CLIENT_ID = "client-id";
    /** Kafka's ClientQuotaEntity.IP. */
    public static final String IP = "ip";

    public QuotaEntity {
        if (user == null && clientId == null && ip == null) throw new IllegalArgumentException("an empty quota entity");
        if (ip != null && (user != null || clientId != null)) {
            throw new IllegalArgumentException("an IP quota entity with a user or client id");
        }
    }

    /** A user, client id or user+client id entity. */
    public QuotaEntity(String user, String clientId) {
        this(user, clientId, null);
    }

    /** The IP entity of an address (its textual form, as Kafka's znode names it) or {@link #DEFAULT}. */
    public static QuotaEntity ofIp(String ip) {
        return new QuotaEntity(null, null, ip);
    }

    /** The config znode: {@code /config/users/<u>}, {@code /config/clients/<c>} or {@code /config/users/<u>/clients/<c>}, {@code /config/ips/<ip>}. */
    public String path() {
        return "/config/" + entityPath();
    }

    /** The {@code entity_path} of the change notification, as Kafka's AdminZkClient writes it. */
    public String entityPath() {
        if (ip != null) return "ips/" + sanitize(ip);
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
