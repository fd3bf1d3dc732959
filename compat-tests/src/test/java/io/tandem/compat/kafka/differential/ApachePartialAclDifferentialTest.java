package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The negative suite's other half, checked against Apache Kafka 3.9.1 in ZooKeeper mode side by side with Tandem:
 * {@code alice} holds ACLs on her own topic, group and transactional id only, and every request mixes her resources
 * with the secret ones (another topic, another group with committed offsets, another transactional id, a topic that
 * does not exist). Per API, which items each server answers, with which error code, and which authorized operations
 * it reports must be the same: a secret item hidden by one server and shown (or answered with another error) by the
 * other is a difference. Other fields (offsets, configs, leaders) are left out: the ACL checks are what is compared.
 */
class ApachePartialAclDifferentialTest {
    private static final String ALICE_TOPIC = "alice-topic";
    private static final String SECRET_TOPIC = "secret-topic";
    private static final String MISSING_TOPIC = "missing-topic";
    private static final String ALICE_GROUP = "alice-group";
    private static final String SECRET_GROUP = "secret-group";
    private static final String ALICE_TXN = "alice-txn";
    private static final String SECRET_TXN = "secret-txn";
    /** The fields an ACL decision shows in: which items are answered, their errors, the operations reported. */
    private static final Set<String> DECISION_FIELDS = Set.of("errorCode", "name", "topic", "groupId",
            "transactionalId", "partitionIndex", "index", "partition", "resourceName", "resourceType",
            "topicAuthorizedOperations", "authorizedOperations", "clusterAuthorizedOperations");

    /**
     * Containers left out whole: a consumer group member's assignment comes from the assignor on its own timing,
     * not from an ACL decision.
     */
    private static final Set<String> NOT_DECISIONS = Set.of("assignment", "targetAssignment");

    @TempDir
    Path dir;

    /**
     * One request, capped at a version (topic ids, which differ between the sides, begin above it), built from the
     * version and the side's producer of alice's transaction (its id and epoch).
     */
    private record Probe(String name, ApiKeys key, int maxVersion, BiFunction<Short, long[], ApiMessage> request) {
        Probe(String name, ApiKeys key, int maxVersion, Function<Short, ApiMessage> request) {
            this(name, key, maxVersion, (version, producer) -> request.apply(version));
        }
    }

    @Test
    void shouldAnswerAPrincipalWithSomeAclsItemByItemAsApacheKafka39Does() throws Exception {
        try (SaslAclBrokers brokers = SaslAclBrokers.zookeeperMode(dir,
                Map.of("transaction.state.log.num.partitions", "1"))) {
            prepare(brokers.apachePort());
            prepare(brokers.tandemPort());
            try (WireClient onApache = SaslAclBrokers.alice(brokers.apachePort());
                 WireClient onTandem = SaslAclBrokers.alice(brokers.tandemPort())) {
                awaitAliceAllowed(onApache);
                awaitAliceAllowed(onTandem);
                // Alice's transaction is open on each side, with her group's offsets in it, so that what follows the
                // ACL checks of the transactional requests is the same on both.
                long[] apacheProducer = beginTransaction(onApache);
                long[] tandemProducer = beginTransaction(onTandem);
                Map<ApiKeys, Short> apacheVersions = versions(onApache);
                Map<ApiKeys, Short> tandemVersions = versions(onTandem);
                Map<String, List<String>> differences = new TreeMap<>();
                int compared = 0;
                for (Probe probe : probes()) {
                    Short a = apacheVersions.get(probe.key());
                    Short t = tandemVersions.get(probe.key());
                    if (a == null || t == null) continue;
                    short version = (short) Math.min(Math.min(Math.min(a, t), probe.key().latestVersion(true)),
                            probe.maxVersion());
                    JsonNode fromApache = decisions(onApache.call(probe.key(), version,
                            probe.request().apply(version, apacheProducer)), version);
                    JsonNode fromTandem = decisions(onTandem.call(probe.key(), version,
                            probe.request().apply(version, tandemProducer)), version);
                    System.out.printf("partial ACL differential: %s v%d%n  Apache %s%n  Tandem %s%n", probe.name(),
                            version, fromApache, fromTandem);
                    compared++;
                    List<String> found = ResponseComparison.differences(fromApache, fromTandem);
                    if (!found.isEmpty()) differences.put(probe.name() + " v" + version, found);
                }
                assertTrue(compared >= 15, "a sample of the APIs was compared: " + compared);
                assertEquals(Map.of(), differences, "answers to a principal with some ACLs that differ from Apache's");
            }
        }
    }

    /** The answer reduced to its ACL decisions, lists ordered by their keys as ResponseComparison orders them. */
    static JsonNode decisions(ApiMessage response, short version) throws Exception {
        JsonNode normalized = ResponseComparison.normalized(response, version, new ResponseComparison.Placeholders());
        JsonNode kept = keep(normalized);
        return kept == null ? JsonNodeFactory.instance.objectNode() : kept;
    }

    private static JsonNode keep(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                JsonNode value = field.getValue();
                if (NOT_DECISIONS.contains(field.getKey())) continue;
                if (value.isContainerNode()) {
                    JsonNode inner = keep(value);
                    if (inner != null) out.set(field.getKey(), inner);
                } else if (DECISION_FIELDS.contains(field.getKey())) {
                    out.set(field.getKey(), value);
                }
            }
            return out.isEmpty() ? null : out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (JsonNode element : node) {
                JsonNode inner = element.isContainerNode() ? keep(element) : element;
                out.add(inner == null ? JsonNodeFactory.instance.objectNode() : inner);
            }
            return out;
        }
        return node;
    }

    /**
     * The side's topics and the two groups' committed offsets (both topics in each group), made by the super user,
     * and alice's ACLs: everything on her topic, READ on her group, WRITE on her transactional id.
     */
    static void prepare(int port) throws Exception {
        try (Admin admin = SaslAclBrokers.admin(port)) {
            admin.createTopics(List.of(new NewTopic(ALICE_TOPIC, 1, (short) 1),
                    new NewTopic(SECRET_TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            admin.createAcls(List.of(
                    allow(ResourceType.TOPIC, ALICE_TOPIC, AclOperation.ALL),
                    allow(ResourceType.GROUP, ALICE_GROUP, AclOperation.READ),
                    allow(ResourceType.TRANSACTIONAL_ID, ALICE_TXN, AclOperation.WRITE))).all()
                    .get(60, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> offsets = Map.of(
                    new TopicPartition(ALICE_TOPIC, 0), new OffsetAndMetadata(0, "alice-metadata"),
                    new TopicPartition(SECRET_TOPIC, 0), new OffsetAndMetadata(0, "secret-metadata"));
            admin.alterConsumerGroupOffsets(ALICE_GROUP, offsets).all().get(60, TimeUnit.SECONDS);
            admin.alterConsumerGroupOffsets(SECRET_GROUP, offsets).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static AclBinding allow(ResourceType type, String name, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry("User:alice", "*", operation, AclPermissionType.ALLOW));
    }

    /** Waits until the broker's authorizer has alice's topic ACL (each broker follows the ACL notifications). */
    static void awaitAliceAllowed(WireClient alice) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            MetadataResponseData metadata = (MetadataResponseData) alice.call(ApiKeys.METADATA, (short) 12,
                    new MetadataRequestData().setAllowAutoTopicCreation(false).setTopics(List.of(
                            new MetadataRequestData.MetadataRequestTopic().setName(ALICE_TOPIC))));
            if (metadata.topics().iterator().next().errorCode() == 0) return;
            Thread.sleep(250);
        }
        fail("alice's ACL did not reach the broker");
    }

    /** InitProducerId and AddOffsetsToTxn for alice's transactional id, retried while the coordinator loads. */
    private static long[] beginTransaction(WireClient alice) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // As the producer does: FindCoordinator first, which makes Kafka create its transaction state topic.
        while (true) {
            FindCoordinatorResponseData found = (FindCoordinatorResponseData) alice.call(ApiKeys.FIND_COORDINATOR,
                    (short) 3, new FindCoordinatorRequestData().setKey(ALICE_TXN).setKeyType((byte) 1));
            if (found.errorCode() == 0) break;
            if (System.nanoTime() > deadline) fail("FindCoordinator: " + found);
            Thread.sleep(250);
        }
        InitProducerIdResponseData producer;
        while (true) {
            producer = (InitProducerIdResponseData) alice.call(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(ALICE_TXN).setTransactionTimeoutMs(60_000)
                            .setProducerId(-1).setProducerEpoch((short) -1));
            if (producer.errorCode() == 0) break;
            if (System.nanoTime() > deadline) fail("InitProducerId: " + producer);
            Thread.sleep(250);
        }
        while (true) {
            AddOffsetsToTxnResponseData added = (AddOffsetsToTxnResponseData) alice.call(ApiKeys.ADD_OFFSETS_TO_TXN,
                    (short) 3, new AddOffsetsToTxnRequestData().setTransactionalId(ALICE_TXN)
                            .setProducerId(producer.producerId()).setProducerEpoch(producer.producerEpoch())
                            .setGroupId(ALICE_GROUP));
            if (added.errorCode() == 0) break;
            if (System.nanoTime() > deadline) fail("AddOffsetsToTxn: " + added);
            Thread.sleep(250);
        }
        return new long[] {producer.producerId(), producer.producerEpoch()};
    }

    static Map<ApiKeys, Short> versions(WireClient client) throws IOException {
        ApiVersionsResponseData answer = (ApiVersionsResponseData) client.call(ApiKeys.API_VERSIONS, (short) 3,
                new ApiVersionsRequestData().setClientSoftwareName("differential").setClientSoftwareVersion("1"));
        Map<ApiKeys, Short> versions = new LinkedHashMap<>();
        for (ApiVersionsResponseData.ApiVersion v : answer.apiKeys()) {
            if (ApiKeys.hasId(v.apiKey())) versions.put(ApiKeys.forId(v.apiKey()), v.maxVersion());
        }
        return versions;
    }

    private static final List<String> TOPICS = List.of(ALICE_TOPIC, SECRET_TOPIC, MISSING_TOPIC);

    /** Requests naming alice's and the secret resources together, read-only ones first and writes last. */
    private static List<Probe> probes() {
        List<Probe> probes = new ArrayList<>();
        probes.add(new Probe("Metadata of every topic", ApiKeys.METADATA, 12, v -> new MetadataRequestData()
                .setTopics(null).setAllowAutoTopicCreation(false).setIncludeTopicAuthorizedOperations(true)
                .setIncludeClusterAuthorizedOperations(v <= 10)));
        probes.add(new Probe("Metadata of named topics", ApiKeys.METADATA, 12, v -> {
            List<MetadataRequestData.MetadataRequestTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) topics.add(new MetadataRequestData.MetadataRequestTopic().setName(topic));
            return new MetadataRequestData().setTopics(topics).setAllowAutoTopicCreation(false)
                    .setIncludeTopicAuthorizedOperations(true);
        }));
        probes.add(new Probe("DescribeCluster", ApiKeys.DESCRIBE_CLUSTER, 1, v -> new DescribeClusterRequestData()
                .setIncludeClusterAuthorizedOperations(true)));
        probes.add(new Probe("ListGroups", ApiKeys.LIST_GROUPS, 4, v -> new ListGroupsRequestData()));
        probes.add(new Probe("DescribeGroups", ApiKeys.DESCRIBE_GROUPS, 5, v -> new DescribeGroupsRequestData()
                .setGroups(List.of(ALICE_GROUP, SECRET_GROUP)).setIncludeAuthorizedOperations(true)));
        probes.add(new Probe("OffsetFetch of every topic", ApiKeys.OFFSET_FETCH, 9, v -> v >= 8
                ? new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                        .setGroupId(ALICE_GROUP).setTopics(null)))
                : new OffsetFetchRequestData().setGroupId(ALICE_GROUP).setTopics(null)));
        probes.add(new Probe("OffsetFetch of named topics", ApiKeys.OFFSET_FETCH, 9, v -> {
            if (v >= 8) {
                List<OffsetFetchRequestData.OffsetFetchRequestTopics> topics = new ArrayList<>();
                for (String topic : TOPICS) {
                    topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(topic)
                            .setPartitionIndexes(List.of(0)));
                }
                return new OffsetFetchRequestData().setGroups(List.of(
                        new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(ALICE_GROUP).setTopics(topics)));
            }
            List<OffsetFetchRequestData.OffsetFetchRequestTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(topic)
                        .setPartitionIndexes(List.of(0)));
            }
            return new OffsetFetchRequestData().setGroupId(ALICE_GROUP).setTopics(topics);
        }));
        probes.add(new Probe("ListOffsets", ApiKeys.LIST_OFFSETS, 9, v -> {
            List<ListOffsetsRequestData.ListOffsetsTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new ListOffsetsRequestData.ListOffsetsTopic().setName(topic).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1))));
            }
            return new ListOffsetsRequestData().setReplicaId(-1).setTopics(topics);
        }));
        probes.add(new Probe("Fetch", ApiKeys.FETCH, 12, v -> {
            List<FetchRequestData.FetchTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1 << 20))));
            }
            return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                    .setTopics(topics);
        }));
        probes.add(new Probe("Fetch, the secret topic named first", ApiKeys.FETCH, 12, v -> {
            List<FetchRequestData.FetchTopic> topics = new ArrayList<>();
            for (String topic : List.of(SECRET_TOPIC, MISSING_TOPIC, ALICE_TOPIC)) {
                topics.add(new FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1 << 20))));
            }
            return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                    .setTopics(topics);
        }));
        probes.add(new Probe("OffsetForLeaderEpoch", ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4, v -> {
            OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                    new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
            for (String topic : TOPICS) {
                topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(topic).setPartitions(
                        List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                                .setLeaderEpoch(0))));
            }
            return new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(topics);
        }));
        probes.add(new Probe("DescribeConfigs", ApiKeys.DESCRIBE_CONFIGS, 4, v -> {
            List<DescribeConfigsRequestData.DescribeConfigsResource> resources = new ArrayList<>();
            for (String topic : TOPICS) {
                resources.add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                        .setResourceName(topic).setConfigurationKeys(List.of("cleanup.policy")));
            }
            return new DescribeConfigsRequestData().setResources(resources);
        }));
        probes.add(new Probe("DescribeProducers", ApiKeys.DESCRIBE_PRODUCERS, 0, v -> {
            DescribeProducersRequestData.TopicRequestCollection topics =
                    new DescribeProducersRequestData.TopicRequestCollection();
            for (String topic : TOPICS) {
                topics.add(new DescribeProducersRequestData.TopicRequest().setName(topic)
                        .setPartitionIndexes(List.of(0)));
            }
            return new DescribeProducersRequestData().setTopics(topics);
        }));
        probes.add(new Probe("DescribeTransactions", ApiKeys.DESCRIBE_TRANSACTIONS, 0, v ->
                new DescribeTransactionsRequestData().setTransactionalIds(List.of(ALICE_TXN, SECRET_TXN))));
        probes.add(new Probe("ListTransactions", ApiKeys.LIST_TRANSACTIONS, 1, v -> new ListTransactionsRequestData()));
        probes.add(new Probe("CreatePartitions, validate only", ApiKeys.CREATE_PARTITIONS, 3, v -> {
            CreatePartitionsRequestData.CreatePartitionsTopicCollection topics =
                    new CreatePartitionsRequestData.CreatePartitionsTopicCollection();
            for (String topic : TOPICS) {
                topics.add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(topic).setCount(2)
                        .setAssignments(null));
            }
            return new CreatePartitionsRequestData().setTimeoutMs(10_000).setValidateOnly(true).setTopics(topics);
        }));
        probes.add(new Probe("IncrementalAlterConfigs, validate only", ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, v -> {
            IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources =
                    new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
            for (String topic : TOPICS) {
                IncrementalAlterConfigsRequestData.AlterableConfigCollection configs =
                        new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
                configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                        .setValue("86400000").setConfigOperation((byte) 0));
                resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                        .setResourceName(topic).setConfigs(configs));
            }
            return new IncrementalAlterConfigsRequestData().setValidateOnly(true).setResources(resources);
        }));
        probes.add(new Probe("AddPartitionsToTxn", ApiKeys.ADD_PARTITIONS_TO_TXN, 3, (v, producer) -> {
            AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics =
                    new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
            for (String topic : TOPICS) {
                topics.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(topic)
                        .setPartitions(List.of(0)));
            }
            return new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(ALICE_TXN)
                    .setV3AndBelowProducerId(producer[0]).setV3AndBelowProducerEpoch((short) producer[1])
                    .setV3AndBelowTopics(topics);
        }));
        probes.add(new Probe("TxnOffsetCommit", ApiKeys.TXN_OFFSET_COMMIT, 3, (v, producer) -> {
            List<TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(topic)
                        .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(0))));
            }
            return new TxnOffsetCommitRequestData().setTransactionalId(ALICE_TXN).setGroupId(ALICE_GROUP)
                    .setProducerId(producer[0]).setProducerEpoch((short) producer[1]).setTopics(topics);
        }));
        probes.add(new Probe("DeleteRecords", ApiKeys.DELETE_RECORDS, 2, v -> {
            List<DeleteRecordsRequestData.DeleteRecordsTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(topic).setPartitions(List.of(
                        new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(0))));
            }
            return new DeleteRecordsRequestData().setTimeoutMs(10_000).setTopics(topics);
        }));
        probes.add(new Probe("OffsetCommit", ApiKeys.OFFSET_COMMIT, 9, v -> {
            List<OffsetCommitRequestData.OffsetCommitRequestTopic> topics = new ArrayList<>();
            for (String topic : TOPICS) {
                topics.add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(topic).setPartitions(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                .setCommittedOffset(0))));
            }
            return new OffsetCommitRequestData().setGroupId(ALICE_GROUP).setGenerationIdOrMemberEpoch(-1)
                    .setMemberId("").setTopics(topics);
        }));
        probes.add(new Probe("Produce", ApiKeys.PRODUCE, 12, v -> {
            ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
            for (String topic : TOPICS) {
                topics.add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                        new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                                Compression.NONE, new SimpleRecord("v".getBytes(StandardCharsets.UTF_8)))))));
            }
            return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000).setTopicData(topics);
        }));
        return probes;
    }
}
