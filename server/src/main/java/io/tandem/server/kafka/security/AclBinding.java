package io.tandem.server.kafka.security;

/** One ACL: an entry on a resource pattern. */
public record AclBinding(ResourcePattern pattern, AccessControlEntry entry) {
}
