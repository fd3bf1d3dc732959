package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DescribeShareGroupOffsetsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeShareGroupOffsetsRequest;
import org.apache.kafka.common.requests.DescribeShareGroupOffsetsResponse;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DescribeShareGroupOffsets on a broker with an authorizer, for a principal that may describe the group and one topic
 * but not the other, answered as Kafka 4.4's KafkaApis (describeShareGroupOffsetsForGroup and
 * describeShareGroupAllOffsetsForGroup) answers: a named topic it may not describe comes after the others, with topic
 * id zero, and each of its partitions start offset -1, leader epoch 0, lag -1 and TOPIC_AUTHORIZATION_FAILED with
 * Errors' message; asked for all offsets, such a topic is left out.
 */
class ShareGroupOffsetsAuthorizationTest {
    @TempDir
    Path dir;

    @Test
    void aTopicThePrincipalMayNotDescribeShouldBeAnsweredAsKafka44() throws Exception {
        // User:ANONYMOUS (the PLAINTEXT listener) may do anything on resources without ACLs: the group and "queue".
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer")
                .set("allow.everyone.if.no.acl.found", "true");
        try (Tandem tandem = Tandem.start(config);
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("queue", 1, (short) 1), new NewTopic("secret", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
            admin.alterShareGroupOffsets("g", Map.of(new TopicPartition("queue", 0), 0L,
                    new TopicPartition("secret", 0), 0L)).all().get(30, TimeUnit.SECONDS);
            // From now on only alice may read "secret" (so describe it): not the principal asking below.
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "secret",
                    PatternType.LITERAL), new AccessControlEntry("User:alice", "*", AclOperation.READ,
                    AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);

            DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseGroup named = describe(c,
                    List.of(new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestTopic()
                                    .setTopicName("secret").setPartitions(List.of(0, 3)),
                            new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestTopic()
                                    .setTopicName("queue").setPartitions(List.of(0))));
            assertEquals(Errors.NONE.code(), named.errorCode());
            assertEquals(List.of("queue", "secret"), named.topics().stream()
                    .map(DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseTopic::topicName)
                    .toList(), "the refused topic after the others, as Kafka appends it");
            var queue = named.topics().get(0);
            assertNotEquals(Uuid.ZERO_UUID, queue.topicId());
            assertEquals(Errors.NONE.code(), queue.partitions().get(0).errorCode());
            assertEquals(0L, queue.partitions().get(0).startOffset());
            var secret = named.topics().get(1);
            assertEquals(Uuid.ZERO_UUID, secret.topicId(), "the refused topic's id is not told");
            assertEquals(List.of(0, 3), secret.partitions().stream().map(p -> p.partitionIndex()).toList());
            for (var p : secret.partitions()) {
                assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.code(), p.errorCode(), p.toString());
                assertEquals(Errors.TOPIC_AUTHORIZATION_FAILED.message(), p.errorMessage(), p.toString());
                assertEquals(-1L, p.startOffset(), p.toString());
                assertEquals(0, p.leaderEpoch(), p.toString());
                assertEquals(-1L, p.lag(), p.toString());
            }

            DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseGroup all = describe(c, null);
            assertEquals(Errors.NONE.code(), all.errorCode());
            assertEquals(List.of("queue"), all.topics().stream()
                    .map(DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseTopic::topicName)
                    .toList(), "all offsets: the topics the principal may not describe are left out");
        }
    }

    private static DescribeShareGroupOffsetsResponseData.DescribeShareGroupOffsetsResponseGroup describe(
            OfficialClientConnection c,
            List<DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestTopic> topics) throws Exception {
        DescribeShareGroupOffsetsResponse response = c.call(new DescribeShareGroupOffsetsRequest.Builder(
                new DescribeShareGroupOffsetsRequestData().setGroups(List.of(
                        new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestGroup()
                                .setGroupId("g").setTopics(topics)))).build((short) 1));
        return response.data().groups().get(0);
    }
}
