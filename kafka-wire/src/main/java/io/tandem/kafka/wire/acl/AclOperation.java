package io.tandem.kafka.wire.acl;

import java.util.Locale;

/**
 * Kafka's ACL operations with their wire codes (org.apache.kafka.common.acl.AclOperation) and the names Kafka writes
 * in its ACL znodes (SecurityUtils.operationName: "Read", "ClusterAction", ...). ANY is only for filters, UNKNOWN
 * stands for a code this version does not know.
 */
public enum AclOperation {
    UNKNOWN(0), ANY(1), ALL(2), READ(3), WRITE(4), CREATE(5), DELETE(6), ALTER(7), DESCRIBE(8), CLUSTER_ACTION(9),
    DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12), CREATE_TOKENS(13), DESCRIBE_TOKENS(14);

    private final byte code;

    AclOperation(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public static AclOperation fromCode(byte code) {
        for (AclOperation o : values()) {
            if (o.code == code) return o;
        }
        return UNKNOWN;
    }

    /** The znode name: upper snake case to camel case with a capital first letter, as Kafka's SecurityUtils. */
    public String zkName() {
        return AclNames.camel(name());
    }

    /** Parses a znode or command-line name case-insensitively, with or without underscores; UNKNOWN otherwise. */
    public static AclOperation fromName(String name) {
        String wanted = name.replace("_", "").toUpperCase(Locale.ROOT);
        for (AclOperation o : values()) {
            if (o.name().replace("_", "").equals(wanted)) return o;
        }
        return UNKNOWN;
    }
}
