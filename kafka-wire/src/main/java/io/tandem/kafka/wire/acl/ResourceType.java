package io.tandem.kafka.wire.acl;

/**
 * Kafka's ACL resource types with their wire codes; the znode path segment is the Pascal-case name ("Topic",
 * "TransactionalId"), and the literal change notification writes the enum name ("TOPIC:name"), as Kafka 3.9.
 */
public enum ResourceType {
    UNKNOWN(0), ANY(1), TOPIC(2), GROUP(3), CLUSTER(4), TRANSACTIONAL_ID(5), DELEGATION_TOKEN(6), USER(7);

    /** The one name a CLUSTER resource may have. */
    public static final String CLUSTER_NAME = "kafka-cluster";

    private final byte code;

    ResourceType(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public static ResourceType fromCode(byte code) {
        for (ResourceType t : values()) {
            if (t.code == code) return t;
        }
        return UNKNOWN;
    }

    public String zkName() {
        return AclNames.camel(name());
    }

    /** Accepts both "TransactionalId" and "TRANSACTIONAL_ID"; UNKNOWN otherwise. */
    public static ResourceType fromName(String name) {
        for (ResourceType t : values()) {
            if (AclNames.plain(t.name()).equals(AclNames.plain(name))) return t;
        }
        return UNKNOWN;
    }
}
