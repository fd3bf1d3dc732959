package io.tandem.server.kafka.quota;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.security.AclTestNodes;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ACL rules of the quota APIs, as Kafka's KafkaApis checks them: AlterClientQuotas needs ALTER_CONFIGS on the
 * cluster and DescribeClientQuotas DESCRIBE_CONFIGS, each refused with CLUSTER_AUTHORIZATION_FAILED. Users over
 * SASL_PLAINTEXT PLAIN: admin (a super user), alice (no ACL), bob (DESCRIBE_CONFIGS only), carol (both).
 */
class ClientQuotasAuthorizationTest {
    private static TandemCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TandemCluster.start(1, c -> AclTestNodes.withPlainUsersAndAcls(c, "alice", "bob", "carol"));
        try (Admin admin = admin("admin")) {
            admin.createAcls(List.of(allow("bob", AclOperation.DESCRIBE_CONFIGS),
                    allow("carol", AclOperation.DESCRIBE_CONFIGS), allow("carol", AclOperation.ALTER_CONFIGS)))
                    .all().get();
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private static AclBinding allow(String user, AclOperation operation) {
        return new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW));
    }

    private static Admin admin(String user) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + cluster.broker(1).kafkaPort("SASL_PLAINTEXT"));
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"" + user + "\" password=\"" + user + "-secret\";");
        return Admin.create(p);
    }

    private static void alter(Admin admin, String clientId, double rate) throws Exception {
        admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, clientId)),
                List.of(new ClientQuotaAlteration.Op("producer_byte_rate", rate))))).all().get();
    }

    private static Map<ClientQuotaEntity, Map<String, Double>> describe(Admin admin) throws Exception {
        return admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get();
    }

    @Test
    void shouldRefuseBothApisWithoutClusterAcls() {
        try (Admin alice = admin("alice")) {
            ExecutionException altered = assertThrows(ExecutionException.class, () -> alter(alice, "acl-app", 100));
            assertInstanceOf(ClusterAuthorizationException.class, altered.getCause());
            ExecutionException described = assertThrows(ExecutionException.class, () -> describe(alice));
            assertInstanceOf(ClusterAuthorizationException.class, described.getCause());
        }
    }

    @Test
    void shouldLetDescribeConfigsDescribeButNotAlter() throws Exception {
        try (Admin carol = admin("carol"); Admin bob = admin("bob")) {
            alter(carol, "acl-carol-app", 2048);
            assertEquals(Map.of("producer_byte_rate", 2048.0), describe(bob).get(
                    new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "acl-carol-app"))));
            ExecutionException altered = assertThrows(ExecutionException.class, () -> alter(bob, "acl-bob-app", 1));
            assertInstanceOf(ClusterAuthorizationException.class, altered.getCause());
            assertFalse(describe(carol).containsKey(
                    new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "acl-bob-app"))));
        }
    }
}
