package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;

/** A stored ACL's resource: a type, a name (or the {@code *} wildcard) and LITERAL or PREFIXED, as Kafka's. */
public record ResourcePattern(ResourceType type, String name, PatternType patternType) {
    public static final String WILDCARD = "*";

    /** Whether the pattern applies to the named resource of its type. */
    public boolean appliesTo(ResourceType resourceType, String resourceName) {
        if (type != resourceType) return false;
        return switch (patternType) {
            case LITERAL -> name.equals(resourceName) || name.equals(WILDCARD);
            case PREFIXED -> resourceName.startsWith(name);
            default -> false;
        };
    }
}
