package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;

/** Who ({@code User:name}, or {@code User:*}) may or may not do what from where (an IP address, or {@code *}). */
public record AccessControlEntry(String principal, String host, AclOperation operation,
                                 AclPermissionType permission) {
    public static final String WILDCARD_PRINCIPAL = "User:*";
    public static final String WILDCARD_HOST = "*";

    boolean matches(String requestPrincipal, String requestHost) {
        return (principal.equals(requestPrincipal) || principal.equals(WILDCARD_PRINCIPAL))
                && (host.equals(WILDCARD_HOST) || host.equals(requestHost));
    }
}
