package io.tandem.kafka.wire.acl;

/**
 * Kafka's resource pattern types with their wire codes. LITERAL and PREFIXED are stored; ANY and MATCH only filter
 * (MATCH: every stored pattern that would apply to the named resource).
 */
public enum PatternType {
    UNKNOWN(0), ANY(1), MATCH(2), LITERAL(3), PREFIXED(4);

    private final byte code;

    PatternType(int code) {
        this.code = (byte) code;
    }

    public byte code() {
        return code;
    }

    public boolean isSpecific() {
        return this == LITERAL || this == PREFIXED;
    }

    public static PatternType fromCode(byte code) {
        for (PatternType p : values()) {
            if (p.code == code) return p;
        }
        return UNKNOWN;
    }

    public static PatternType fromName(String name) {
        for (PatternType p : values()) {
            if (p.name().equals(AclNames.plain(name))) return p;
        }
        return UNKNOWN;
    }
}
