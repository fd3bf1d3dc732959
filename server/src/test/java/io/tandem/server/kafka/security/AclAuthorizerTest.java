package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.AclPermissionType;
import io.tandem.kafka.wire.acl.PatternType;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.kafka.wire.acl.AclOperation.*;
import static io.tandem.kafka.wire.acl.ResourceType.*;
import static org.junit.jupiter.api.Assertions.*;

/** The authorizer's decisions and its znodes, against a local store: Kafka 3.9 AclAuthorizer's rules and formats. */
class AclAuthorizerTest {
    @TempDir
    Path dir;
    private LocalZnodeStore store;
    private AclAuthorizer authorizer;

    @BeforeEach
    void start() throws Exception {
        store = new LocalZnodeStore(dir);
        authorizer = new AclAuthorizer(Set.of("User:admin"), false);
        authorizer.start(store);
    }

    @AfterEach
    void stop() {
        authorizer.close();
        store.close();
    }

    private static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, String host,
                                  AclOperation operation, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, host, operation, permission));
    }

    private static AclBinding allow(ResourceType type, String name, String principal, AclOperation operation) {
        return acl(type, name, PatternType.LITERAL, principal, "*", operation, AclPermissionType.ALLOW);
    }

    @Test
    void shouldDenyWithoutAclsUnlessAllowEveryoneIfNoAclFound() throws Exception {
        assertFalse(authorizer.authorize("User:alice", "10.0.0.1", READ, TOPIC, "t"));
        assertTrue(authorizer.authorize("User:admin", "10.0.0.1", ALTER, CLUSTER, ResourceType.CLUSTER_NAME));
        AclAuthorizer open = new AclAuthorizer(Set.of(), true);
        open.start(store);
        try {
            assertTrue(open.authorize("User:alice", "10.0.0.1", READ, TOPIC, "t"));
            authorizer.create(List.of(allow(TOPIC, "t", "User:bob", READ)));
            open.start(store);
            assertFalse(open.authorize("User:alice", "10.0.0.1", READ, TOPIC, "t"), "an ACL exists for the topic");
            assertTrue(open.authorize("User:alice", "10.0.0.1", READ, TOPIC, "other"));
        } finally {
            open.close();
        }
    }

    @Test
    void shouldImplyDescribeFromReadWriteDeleteAlterAndDescribeConfigsFromAlterConfigs() throws Exception {
        authorizer.create(List.of(allow(TOPIC, "r", "User:alice", READ), allow(TOPIC, "w", "User:alice", WRITE),
                allow(TOPIC, "d", "User:alice", DELETE), allow(TOPIC, "a", "User:alice", ALTER),
                allow(TOPIC, "c", "User:alice", ALTER_CONFIGS), allow(TOPIC, "x", "User:alice", CREATE)));
        for (String t : List.of("r", "w", "d", "a")) {
            assertTrue(authorizer.authorize("User:alice", "h", DESCRIBE, TOPIC, t), t);
        }
        assertFalse(authorizer.authorize("User:alice", "h", DESCRIBE, TOPIC, "x"), "CREATE does not imply DESCRIBE");
        assertFalse(authorizer.authorize("User:alice", "h", WRITE, TOPIC, "r"), "READ does not imply WRITE");
        assertTrue(authorizer.authorize("User:alice", "h", DESCRIBE_CONFIGS, TOPIC, "c"));
        assertFalse(authorizer.authorize("User:alice", "h", DESCRIBE, TOPIC, "c"));
    }

    @Test
    void shouldLetDenyBeatAllowAndMatchWildcardsAndHosts() throws Exception {
        authorizer.create(List.of(
                acl(TOPIC, "*", PatternType.LITERAL, "User:*", "*", ALL, AclPermissionType.ALLOW),
                acl(TOPIC, "secret", PatternType.LITERAL, "User:bob", "*", READ, AclPermissionType.DENY),
                acl(GROUP, "g", PatternType.LITERAL, "User:alice", "10.0.0.1", READ, AclPermissionType.ALLOW)));
        assertTrue(authorizer.authorize("User:alice", "h", READ, TOPIC, "secret"));
        assertFalse(authorizer.authorize("User:bob", "h", READ, TOPIC, "secret"));
        assertTrue(authorizer.authorize("User:bob", "h", WRITE, TOPIC, "secret"), "the deny is for READ only");
        assertTrue(authorizer.authorize("User:alice", "10.0.0.1", READ, GROUP, "g"));
        assertFalse(authorizer.authorize("User:alice", "10.0.0.2", READ, GROUP, "g"));
    }

    @Test
    void shouldApplyPrefixedAclsToNamesStartingWithThePrefix() throws Exception {
        authorizer.create(List.of(acl(TOPIC, "alice-", PatternType.PREFIXED, "User:alice", "*", WRITE,
                AclPermissionType.ALLOW)));
        assertTrue(authorizer.authorize("User:alice", "h", WRITE, TOPIC, "alice-1"));
        assertFalse(authorizer.authorize("User:alice", "h", WRITE, TOPIC, "bob-1"));
        assertTrue(authorizer.authorizeAnyResource("User:alice", "h", WRITE, TOPIC));
        assertFalse(authorizer.authorizeAnyResource("User:bob", "h", WRITE, TOPIC));
    }

    @Test
    void shouldStoreAclsAndChangesInKafkasZnodeFormat() throws Exception {
        authorizer.create(List.of(allow(TOPIC, "t", "User:alice", CLUSTER_ACTION),
                acl(GROUP, "g-", PatternType.PREFIXED, "User:bob", "*", DESCRIBE_CONFIGS, AclPermissionType.DENY)));
        assertEquals("{\"version\":1,\"acls\":[{\"principal\":\"User:alice\",\"permissionType\":\"Allow\","
                        + "\"operation\":\"ClusterAction\",\"host\":\"*\"}]}",
                new String(store.getData("/kafka-acl/Topic/t"), StandardCharsets.UTF_8));
        assertEquals("{\"version\":1,\"acls\":[{\"principal\":\"User:bob\",\"permissionType\":\"Deny\","
                        + "\"operation\":\"DescribeConfigs\",\"host\":\"*\"}]}",
                new String(store.getData("/kafka-acl-extended/prefixed/Group/g-"), StandardCharsets.UTF_8));
        List<String> literal = store.getChildren("/kafka-acl-changes");
        assertEquals(1, literal.size());
        assertTrue(literal.get(0).startsWith("acl_changes_"), literal.toString());
        assertEquals("TOPIC:t", new String(store.getData("/kafka-acl-changes/" + literal.get(0)),
                StandardCharsets.UTF_8));
        List<String> extended = store.getChildren("/kafka-acl-extended-changes");
        assertEquals("{\"version\":1,\"resourceType\":\"GROUP\",\"name\":\"g-\",\"patternType\":\"PREFIXED\"}",
                new String(store.getData("/kafka-acl-extended-changes/" + extended.get(0)), StandardCharsets.UTF_8));
    }

    @Test
    void shouldDeleteByFilterAndRemoveTheEmptyResourceNode() throws Exception {
        authorizer.create(List.of(allow(TOPIC, "t", "User:alice", READ), allow(TOPIC, "t", "User:bob", READ),
                acl(TOPIC, "t", PatternType.PREFIXED, "User:bob", "*", READ, AclPermissionType.ALLOW)));
        AclBindingFilter bobLiteral = new AclBindingFilter(ResourceType.ANY, null, PatternType.LITERAL, "User:bob",
                null, AclOperation.ANY, AclPermissionType.ANY);
        assertEquals(1, authorizer.delete(List.of(bobLiteral)).get(0).size());
        assertEquals(1, authorizer.describe(new AclBindingFilter(TOPIC, "t", PatternType.LITERAL, null, null,
                AclOperation.ANY, AclPermissionType.ANY)).size());
        AclBindingFilter match = new AclBindingFilter(TOPIC, "tx", PatternType.MATCH, null, null, AclOperation.ANY,
                AclPermissionType.ANY);
        assertEquals(1, authorizer.describe(match).size(), "MATCH finds the prefix t of tx, not the literal t");
        AclBindingFilter all = new AclBindingFilter(ResourceType.ANY, null, PatternType.ANY, null, null,
                AclOperation.ANY, AclPermissionType.ANY);
        assertEquals(2, authorizer.delete(List.of(all)).get(0).size());
        assertNull(store.getData("/kafka-acl/Topic/t"));
        assertTrue(authorizer.describe(all).isEmpty());
    }

    @Test
    void shouldRefuseAclsKafkaWouldNotStore() {
        assertNotNull(AclAuthorizer.invalidReason(allow(CLUSTER, "other", "User:a", ALTER)));
        assertNotNull(AclAuthorizer.invalidReason(allow(TOPIC, "", "User:a", READ)));
        assertNotNull(AclAuthorizer.invalidReason(allow(TOPIC, "t", "alice", READ)));
        assertNotNull(AclAuthorizer.invalidReason(allow(TOPIC, "t", "User:a", AclOperation.ANY)));
        assertNotNull(AclAuthorizer.invalidReason(acl(TOPIC, "t", PatternType.MATCH, "User:a", "*", READ,
                AclPermissionType.ALLOW)));
        assertNull(AclAuthorizer.invalidReason(allow(CLUSTER, ResourceType.CLUSTER_NAME, "User:a", ALTER)));
    }

    @Test
    void shouldReadTheConfigurationAndRefuseOtherAuthorizers() {
        assertNull(AclAuthorizer.configure(Map.of()));
        AclAuthorizer configured = AclAuthorizer.configure(Map.of("authorizer.class.name", AclAuthorizer.CLASS_NAME,
                "super.users", "User:admin; User:ANONYMOUS"));
        assertTrue(configured.isSuperUser("User:ANONYMOUS"));
        assertTrue(configured.isSuperUser("User:admin"));
        assertThrows(IllegalArgumentException.class, () -> AclAuthorizer.configure(Map.of("authorizer.class.name",
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer")));
    }
}
