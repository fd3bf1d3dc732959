package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.handlers.ApiAuthorization;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.message.AllocateProducerIdsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AllocateProducerIdsRequest;
import org.apache.kafka.common.requests.AllocateProducerIdsResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a broker answers about authorization on its PLAINTEXT listener (principal User:ANONYMOUS): SECURITY_DISABLED
 * for the ACL APIs without an authorizer, and with one (ANONYMOUS not a super user) Apache's refusals, including for
 * an inter-broker API; every API the broker serves has a rule in the table.
 */
class AuthorizerAnswersTest {
    @TempDir
    Path dir;

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort()));
    }

    @Test
    void shouldAnswerSecurityDisabledToAclRequestsWithoutAnAuthorizer() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             Admin admin = admin(tandem)) {
            ExecutionException describe = assertThrows(ExecutionException.class,
                    () -> admin.describeAcls(AclBindingFilter.ANY).values().get());
            assertInstanceOf(SecurityDisabledException.class, describe.getCause());
            ExecutionException create = assertThrows(ExecutionException.class, () -> admin.createAcls(List.of(
                    new AclBinding(new ResourcePattern(ResourceType.TOPIC, "t", PatternType.LITERAL),
                            new AccessControlEntry("User:a", "*", AclOperation.READ, AclPermissionType.ALLOW))))
                    .all().get());
            assertInstanceOf(SecurityDisabledException.class, create.getCause());
            ExecutionException delete = assertThrows(ExecutionException.class,
                    () -> admin.deleteAcls(List.of(AclBindingFilter.ANY)).all().get());
            assertInstanceOf(SecurityDisabledException.class, delete.getCause());
        }
    }

    @Test
    void shouldAllowEveryoneOnResourcesWithoutAclsWhenConfigured() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("allow.everyone.if.no.acl.found", "true");
        try (Tandem tandem = Tandem.start(config); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic("open", 1, (short) 1), new NewTopic("guarded", 1, (short) 1)))
                    .all().get();
            assertEquals(Set.of("open", "guarded"), admin.listTopics().names().get());
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "guarded",
                    PatternType.LITERAL), new AccessControlEntry("User:alice", "*", AclOperation.READ,
                    AclPermissionType.ALLOW)))).all().get();
            assertEquals(Set.of("open"), admin.listTopics().names().get(),
                    "an ACL on the topic ends the open access for everyone else");
        }
    }

    @Test
    void shouldRefuseAnUnauthorizedPrincipalAsApacheDoes() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("super.users", "User:admin");
        try (Tandem tandem = Tandem.start(config);
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = admin(tandem)) {
            ApiVersionsResponse versions = connection.call(new ApiVersionsRequest.Builder().build((short) 3));
            List<String> unruled = new ArrayList<>();
            for (ApiVersionsResponseData.ApiVersion v : versions.data().apiKeys()) {
                ApiKey key = ApiKey.forId(v.apiKey());
                if (!ApiAuthorization.hasRule(key)) unruled.add(key.apiName());
            }
            assertEquals(List.of(), unruled, "every served API has its rule");

            AllocateProducerIdsResponse ids = connection.call(new AllocateProducerIdsRequest.Builder(
                    new AllocateProducerIdsRequestData().setBrokerId(0).setBrokerEpoch(-1)).build((short) 0));
            assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED.code(), ids.data().errorCode());

            JoinGroupResponse join = connection.call(new JoinGroupRequest.Builder(new JoinGroupRequestData()
                    .setGroupId("g").setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setMemberId("")
                    .setProtocolType("consumer")).build((short) 5));
            assertEquals(Errors.GROUP_AUTHORIZATION_FAILED.code(), join.data().errorCode());

            ExecutionException describe = assertThrows(ExecutionException.class,
                    () -> admin.describeAcls(AclBindingFilter.ANY).values().get());
            assertInstanceOf(ClusterAuthorizationException.class, describe.getCause());
            ExecutionException create = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get());
            assertInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class, create.getCause());
            assertEquals(Set.of(), admin.listTopics().names().get());
        }
    }
}
