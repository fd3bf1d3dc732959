package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;

/**
 * DescribeAcls' and DeleteAcls' filter, matching as Kafka's AclBindingFilter: ANY matches every value, a null name,
 * principal or host matches all, and the MATCH pattern type selects every stored pattern that applies to the named
 * resource (the literal name, the literal {@code *} and each prefix of it). An UNKNOWN value (a code Kafka does not
 * define) matches nothing, as in Kafka.
 */
public record AclBindingFilter(ResourceType resourceType, String name, PatternType patternType, String principal,
                               String host, AclOperation operation, AclPermissionType permission) {

    public boolean matches(AclBinding binding) {
        return matchesPattern(binding.pattern()) && matchesEntry(binding.entry());
    }

    private boolean matchesPattern(ResourcePattern pattern) {
        if (resourceType != ResourceType.ANY && resourceType != pattern.type()) return false;
        if (patternType != PatternType.ANY && patternType != PatternType.MATCH && patternType != pattern.patternType()) {
            return false;
        }
        if (name == null) return true;
        if (patternType == PatternType.ANY || patternType == pattern.patternType()) return name.equals(pattern.name());
        return switch (pattern.patternType()) {
            case LITERAL -> name.equals(pattern.name()) || pattern.name().equals(ResourcePattern.WILDCARD);
            case PREFIXED -> name.startsWith(pattern.name());
            default -> false;
        };
    }

    private boolean matchesEntry(AccessControlEntry entry) {
        return (principal == null || principal.equals(entry.principal()))
                && (host == null || host.equals(entry.host()))
                && (operation == AclOperation.ANY || operation == entry.operation())
                && (permission == AclPermissionType.ANY || permission == entry.permission());
    }
}
