package io.tandem.kafka.wire.acl;

/** Kafka's ACL permission types with their wire codes; "Allow" and "Deny" in the znodes. */
public enum AclPermissionType {
    UNKNOWN(0), ANY(1), DENY(2), ALLOW(3);

    private final byte code;

    AclPermissionType(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public static AclPermissionType fromCode(byte code) {
        for (AclPermissionType p : values()) {
            if (p.code == code) return p;
        }
        return UNKNOWN;
    }

    public String zkName() {
        return AclNames.camel(name());
    }

    public static AclPermissionType fromName(String name) {
        for (AclPermissionType p : values()) {
            if (p.name().equals(AclNames.plain(name))) return p;
        }
        return UNKNOWN;
    }
}
