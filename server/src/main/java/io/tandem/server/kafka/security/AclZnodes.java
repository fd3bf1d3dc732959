package io.tandem.server.kafka.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.server.kafka.metadata.KafkaZkLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Kafka 3.9's ACL znodes (kafka.zk.ZkData): a resource's ACLs as
 * {@code {"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}},
 * literal change notifications as the UTF-8 text {@code TOPIC:name}, and extended ones as
 * {@code {"version":1,"resourceType":"TOPIC","name":"x","patternType":"PREFIXED"}}.
 */
public final class AclZnodes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AclZnodes() {
    }

    public static String storePath(PatternType patternType) {
        return patternType == PatternType.LITERAL ? KafkaZkLayout.ACL_LITERAL : KafkaZkLayout.ACL_PREFIXED;
    }

    public static String changesPath(PatternType patternType) {
        return patternType == PatternType.LITERAL ? KafkaZkLayout.ACL_LITERAL_CHANGES
                : KafkaZkLayout.ACL_EXTENDED_CHANGES;
    }

    public static String path(ResourcePattern pattern) {
        return storePath(pattern.patternType()) + "/" + pattern.type().zkName() + "/" + pattern.name();
    }

    public static byte[] encodeAcls(Collection<AccessControlEntry> entries) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ArrayNode acls = root.putArray("acls");
        for (AccessControlEntry e : entries) {
            ObjectNode acl = acls.addObject();
            acl.put("principal", e.principal());
            acl.put("permissionType", e.permission().zkName());
            acl.put("operation", e.operation().zkName());
            acl.put("host", e.host());
        }
        return bytes(root);
    }

    /** A resource znode's entries; empty for a missing or empty node. An unreadable entry is an IOException. */
    public static Set<AccessControlEntry> decodeAcls(byte[] data) throws IOException {
        Set<AccessControlEntry> entries = new LinkedHashSet<>();
        if (data == null || data.length == 0) return entries;
        for (JsonNode acl : JSON.readTree(data).path("acls")) {
            AclOperation operation = AclOperation.fromName(acl.path("operation").asText());
            AclPermissionType permission = AclPermissionType.fromName(acl.path("permissionType").asText());
            if (operation == AclOperation.UNKNOWN || permission == AclPermissionType.UNKNOWN
                    || !acl.hasNonNull("principal") || !acl.hasNonNull("host")) {
                throw new IOException("unreadable ACL entry " + acl);
            }
            entries.add(new AccessControlEntry(acl.get("principal").asText(), acl.get("host").asText(), operation,
                    permission));
        }
        return entries;
    }

    public static byte[] encodeChange(ResourcePattern pattern) {
        if (pattern.patternType() == PatternType.LITERAL) {
            return (pattern.type().name() + ":" + pattern.name()).getBytes(StandardCharsets.UTF_8);
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        root.put("resourceType", pattern.type().name());
        root.put("name", pattern.name());
        root.put("patternType", pattern.patternType().name());
        return bytes(root);
    }

    /** The resource a change notification names; its pattern type comes from the directory it was found in. */
    public static ResourcePattern decodeChange(PatternType store, byte[] data) throws IOException {
        String text = new String(data, StandardCharsets.UTF_8);
        if (store == PatternType.LITERAL) {
            int colon = text.indexOf(':');
            ResourceType type = colon < 0 ? ResourceType.UNKNOWN : ResourceType.fromName(text.substring(0, colon));
            if (type == ResourceType.UNKNOWN) throw new IOException("unreadable ACL change " + text);
            return new ResourcePattern(type, text.substring(colon + 1), PatternType.LITERAL);
        }
        JsonNode root = JSON.readTree(data);
        ResourceType type = ResourceType.fromName(root.path("resourceType").asText());
        PatternType patternType = PatternType.fromName(root.path("patternType").asText());
        if (type == ResourceType.UNKNOWN || !patternType.isSpecific() || !root.hasNonNull("name")) {
            throw new IOException("unreadable ACL change " + text);
        }
        return new ResourcePattern(type, root.get("name").asText(), patternType);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
