package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ShareGroupDescribeRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ApachePartialAclDifferentialTest} for the APIs Kafka 4 added (KIP-848's consumer groups, KIP-966's
 * DescribeTopicPartitions), against Apache Kafka 4.4 in KRaft mode with its StandardAuthorizer, side by side with
 * Tandem (AclAuthorizer): alice holds ACLs on her topic and groups only, and each request mixes them with the secret
 * topic, a missing topic and the secret group. Which items are answered, with which error, and the authorized
 * operations reported must be the same.
 */
class ApacheKraftPartialAclDifferentialTest {
    private static final String CONSUMER_GROUP = "alice-consumers";
    private static final String SHARE_GROUP = "alice-share";
    private static final List<String> TOPICS = List.of("alice-topic", "secret-topic", "missing-topic");

    @TempDir
    Path dir;

    private record Probe(String name, ApiKeys key, Function<Short, ApiMessage> request) {
    }

    @Test
    void shouldAnswerAPrincipalWithSomeAclsOnKafka4sApisAsApacheKafka44Does() throws Exception {
        try (SaslAclBrokers brokers = SaslAclBrokers.kraftMode(dir, Map.of())) {
            for (int port : new int[] {brokers.apachePort(), brokers.tandemPort()}) {
                ApachePartialAclDifferentialTest.prepare(port);
                allowConsumerGroup(port);
            }
            try (WireClient onApache = SaslAclBrokers.alice(brokers.apachePort());
                 WireClient onTandem = SaslAclBrokers.alice(brokers.tandemPort())) {
                ApachePartialAclDifferentialTest.awaitAliceAllowed(onApache);
                ApachePartialAclDifferentialTest.awaitAliceAllowed(onTandem);
                Map<ApiKeys, Short> apacheVersions = ApachePartialAclDifferentialTest.versions(onApache);
                Map<ApiKeys, Short> tandemVersions = ApachePartialAclDifferentialTest.versions(onTandem);
                Map<String, List<String>> differences = new TreeMap<>();
                int compared = 0;
                for (Probe probe : probes()) {
                    Short a = apacheVersions.get(probe.key());
                    Short t = tandemVersions.get(probe.key());
                    if (a == null || t == null) continue;
                    short version = (short) Math.min(Math.min(a, t), probe.key().latestVersion(true));
                    JsonNode fromApache = ApachePartialAclDifferentialTest.decisions(
                            onApache.call(probe.key(), version, probe.request().apply(version)), version);
                    JsonNode fromTandem = ApachePartialAclDifferentialTest.decisions(
                            onTandem.call(probe.key(), version, probe.request().apply(version)), version);
                    System.out.printf("KRaft partial ACL differential: %s v%d%n  Apache %s%n  Tandem %s%n",
                            probe.name(), version, fromApache, fromTandem);
                    compared++;
                    List<String> found = ResponseComparison.differences(fromApache, fromTandem);
                    if (!found.isEmpty()) differences.put(probe.name() + " v" + version, found);
                }
                assertTrue(compared >= 5, "a sample of the APIs was compared: " + compared);
                assertEquals(Map.of(), differences, "answers to a principal with some ACLs that differ from Apache's");
            }
        }
    }

    /** READ on the consumer and share groups alice's heartbeats join (READ implies DESCRIBE). */
    private static void allowConsumerGroup(int port) throws Exception {
        try (Admin admin = SaslAclBrokers.admin(port)) {
            List<AclBinding> acls = new ArrayList<>();
            for (String group : List.of(CONSUMER_GROUP, SHARE_GROUP)) {
                acls.add(new AclBinding(new ResourcePattern(ResourceType.GROUP, group, PatternType.LITERAL),
                        new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW)));
            }
            admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static ConsumerGroupHeartbeatRequestData join(String group, List<String> topics) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(Uuid.randomUuid().toString())
                .setMemberEpoch(0).setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(topics)
                .setTopicPartitions(List.of());
    }

    private static List<Probe> probes() {
        List<Probe> probes = new ArrayList<>();
        probes.add(new Probe("Metadata of every topic", ApiKeys.METADATA, v -> new MetadataRequestData()
                .setTopics(null).setAllowAutoTopicCreation(false).setIncludeTopicAuthorizedOperations(true)));
        probes.add(new Probe("DescribeTopicPartitions", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, v -> {
            List<DescribeTopicPartitionsRequestData.TopicRequest> topics = new ArrayList<>();
            for (String topic : TOPICS) topics.add(new DescribeTopicPartitionsRequestData.TopicRequest().setName(topic));
            return new DescribeTopicPartitionsRequestData().setTopics(topics).setResponsePartitionLimit(2000);
        }));
        probes.add(new Probe("ConsumerGroupHeartbeat subscribing to the secret topic", ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                v -> join(CONSUMER_GROUP, List.of("alice-topic", "secret-topic"))));
        probes.add(new Probe("ConsumerGroupHeartbeat subscribing to a missing topic", ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                v -> join(CONSUMER_GROUP, List.of("alice-topic", "missing-topic"))));
        probes.add(new Probe("ConsumerGroupHeartbeat in the secret group", ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                v -> join("secret-group", List.of("alice-topic"))));
        probes.add(new Probe("ConsumerGroupHeartbeat joining", ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                v -> join(CONSUMER_GROUP, List.of("alice-topic"))));
        probes.add(new Probe("ConsumerGroupDescribe", ApiKeys.CONSUMER_GROUP_DESCRIBE,
                v -> new ConsumerGroupDescribeRequestData().setGroupIds(List.of(CONSUMER_GROUP, "secret-group",
                        "alice-group")).setIncludeAuthorizedOperations(true)));
        // KIP-932's share groups, compared only where both servers advertise the APIs.
        probes.add(new Probe("ShareGroupHeartbeat subscribing to the secret topic", ApiKeys.SHARE_GROUP_HEARTBEAT,
                v -> shareJoin(SHARE_GROUP, List.of("alice-topic", "secret-topic"))));
        probes.add(new Probe("ShareGroupHeartbeat in the secret group", ApiKeys.SHARE_GROUP_HEARTBEAT,
                v -> shareJoin("secret-share", List.of("alice-topic"))));
        probes.add(new Probe("ShareGroupHeartbeat joining", ApiKeys.SHARE_GROUP_HEARTBEAT,
                v -> shareJoin(SHARE_GROUP, List.of("alice-topic"))));
        probes.add(new Probe("ShareGroupDescribe", ApiKeys.SHARE_GROUP_DESCRIBE,
                v -> new ShareGroupDescribeRequestData().setGroupIds(List.of(SHARE_GROUP, "secret-share"))
                        .setIncludeAuthorizedOperations(true)));
        return probes;
    }

    private static ShareGroupHeartbeatRequestData shareJoin(String group, List<String> topics) {
        return new ShareGroupHeartbeatRequestData().setGroupId(group).setMemberId(Uuid.randomUuid().toString())
                .setMemberEpoch(0).setSubscribedTopicNames(topics);
    }
}
