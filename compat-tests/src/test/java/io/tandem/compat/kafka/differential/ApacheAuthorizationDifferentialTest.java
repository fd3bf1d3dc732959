package io.tandem.compat.kafka.differential;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The negative suite's claim checked against the real thing: Apache Kafka 3.9.1 in ZooKeeper mode (on a Tandem
 * ZooKeeper) and Tandem, both with the same settings (one SASL_PLAINTEXT listener with PLAIN, AclAuthorizer,
 * {@code super.users=User:admin}), the same secret topic, group offsets and requests, sent by {@code alice}, who has
 * no ACL. For a sample of the APIs both serve, at the newest version both and kafka-clients speak, the error codes of
 * the two answers must be the same set: the authorization error per API (TOPIC_ vs GROUP_ vs CLUSTER_ vs
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and the non-authorization answers around it (DeleteTopics naming a topic by
 * name and id at once, a transactional id beside non-transactional records, a topic named only by id).
 */
class ApacheAuthorizationDifferentialTest {
    private static final String TOPIC = "secret-topic";
    private static final String GROUP = "secret-group";
    private static final String TRANSACTIONAL_ID = "secret-transaction";
    @TempDir
    Path dir;

    /** One probe: a request built for a topic id (the side's own) at a version (names or ids as it has them). */
    private record Probe(String name, ApiKeys key, BiFunction<Uuid, Short, ApiMessage> request) {
        Probe(String name, ApiKeys key, Function<Uuid, ApiMessage> request) {
            this(name, key, (id, version) -> request.apply(id));
        }
    }

    @Test
    void shouldRefuseAPrincipalWithoutAclsWithApacheKafka39sErrorPerApi() throws Exception {
        try (SaslAclBrokers brokers = SaslAclBrokers.zookeeperMode(dir, Map.of())) {
            Uuid apacheTopicId = prepare(brokers.apachePort());
            Uuid tandemTopicId = prepare(brokers.tandemPort());
            try (Connection onApache = Connection.alice(brokers.apachePort());
                 Connection onTandem = Connection.alice(brokers.tandemPort())) {
                Map<ApiKeys, Short> apacheVersions = onApache.versions();
                Map<ApiKeys, Short> tandemVersions = onTandem.versions();
                Map<String, String> differences = new TreeMap<>();
                int compared = 0;
                for (Probe probe : probes()) {
                    Short a = apacheVersions.get(probe.key());
                    Short t = tandemVersions.get(probe.key());
                    if (a == null || t == null) continue;
                    short version = (short) Math.min(Math.min(a, t), probe.key().latestVersion(true));
                    Set<Errors> fromApache = onApache.errors(probe.key(), version, probe.request().apply(apacheTopicId, version));
                    Set<Errors> fromTandem = onTandem.errors(probe.key(), version, probe.request().apply(tandemTopicId, version));
                    System.out.printf("authorization differential: %s v%d Apache %s Tandem %s%n", probe.name(),
                            version, fromApache, fromTandem);
                    compared++;
                    if (!fromApache.equals(fromTandem)) {
                        differences.put(probe.name() + " v" + version, "Apache " + fromApache + ", Tandem " + fromTandem);
                    }
                }
                assertTrue(compared >= 30, "a sample of the APIs was compared: " + compared);
                assertEquals(Map.of(), differences, "answers to a principal without ACLs that differ from Apache's");
            }
        }
    }

    /** The secret topic (its id returned) and the secret group's committed offset, made by the super user. */
    private static Uuid prepare(int port) throws Exception {
        try (Admin admin = SaslAclBrokers.admin(port)) {
            Uuid id = admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).topicId(TOPIC)
                    .get(60, TimeUnit.SECONDS);
            admin.alterConsumerGroupOffsets(GROUP, Map.of(new TopicPartition(TOPIC, 0),
                    new OffsetAndMetadata(0, "secret-metadata"))).all().get(60, TimeUnit.SECONDS);
            return id;
        }
    }

    /** The sample: requests naming the secret topic (by name, or by the side's id), group and transactional id. */
    private static List<Probe> probes() {
        List<Probe> probes = new ArrayList<>();
        probes.add(new Probe("Produce with a transactional id and plain records", ApiKeys.PRODUCE, (id, version) -> {
            ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
            topics.add(named(new ProduceRequestData.TopicProduceData(), version, 13, id).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                            Compression.NONE, new SimpleRecord("v".getBytes(StandardCharsets.UTF_8)))))));
            return new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000)
                    .setTransactionalId(TRANSACTIONAL_ID).setTopicData(topics);
        }));
        probes.add(new Probe("Fetch", ApiKeys.FETCH, (id, version) -> new FetchRequestData().setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(1 << 20).setTopics(List.of((version >= 13 ? new FetchRequestData.FetchTopic().setTopicId(id)
                        : new FetchRequestData.FetchTopic().setTopic(TOPIC))
                        .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                .setPartitionMaxBytes(1 << 20)))))));
        probes.add(new Probe("ListOffsets", ApiKeys.LIST_OFFSETS, id -> new ListOffsetsRequestData().setReplicaId(-1)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-1)))))));
        probes.add(new Probe("Metadata by name", ApiKeys.METADATA, id -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC))).setAllowAutoTopicCreation(false)));
        probes.add(new Probe("Metadata by id", ApiKeys.METADATA, id -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setTopicId(id))).setAllowAutoTopicCreation(false)));
        probes.add(new Probe("OffsetCommit", ApiKeys.OFFSET_COMMIT, (id, version) -> new OffsetCommitRequestData()
                .setGroupId(GROUP).setGenerationIdOrMemberEpoch(-1).setMemberId("").setTopics(List.of(
                        (version >= 10 ? new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(id)
                                : new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC))
                                .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                        .setPartitionIndex(0).setCommittedOffset(1)))))));
        probes.add(new Probe("OffsetFetch", ApiKeys.OFFSET_FETCH, (id, version) -> new OffsetFetchRequestData()
                .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP).setTopics(List.of(
                        (version >= 10 ? new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(id)
                                : new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(TOPIC))
                                .setPartitionIndexes(List.of(0))))))));
        probes.add(new Probe("FindCoordinator group", ApiKeys.FIND_COORDINATOR, (id, version) -> coordinator(version,
                (byte) 0, GROUP)));
        probes.add(new Probe("FindCoordinator transaction", ApiKeys.FIND_COORDINATOR, (id, version) -> coordinator(
                version, (byte) 1, TRANSACTIONAL_ID)));
        probes.add(new Probe("JoinGroup", ApiKeys.JOIN_GROUP, id -> {
            JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols =
                    new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
            protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[0]));
            return new JoinGroupRequestData().setGroupId(GROUP).setSessionTimeoutMs(10_000)
                    .setRebalanceTimeoutMs(10_000).setMemberId("").setProtocolType("consumer").setProtocols(protocols);
        }));
        probes.add(new Probe("Heartbeat", ApiKeys.HEARTBEAT, id -> new HeartbeatRequestData().setGroupId(GROUP)
                .setGenerationId(1).setMemberId("member")));
        probes.add(new Probe("SyncGroup", ApiKeys.SYNC_GROUP, id -> new SyncGroupRequestData().setGroupId(GROUP)
                .setGenerationId(1).setMemberId("member").setProtocolType("consumer").setProtocolName("range")));
        probes.add(new Probe("LeaveGroup", ApiKeys.LEAVE_GROUP, id -> new LeaveGroupRequestData().setGroupId(GROUP)
                .setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("member")))));
        probes.add(new Probe("DescribeGroups", ApiKeys.DESCRIBE_GROUPS, id -> new DescribeGroupsRequestData()
                .setGroups(List.of(GROUP))));
        probes.add(new Probe("ListGroups", ApiKeys.LIST_GROUPS, id -> new ListGroupsRequestData()));
        probes.add(new Probe("CreateTopics", ApiKeys.CREATE_TOPICS, id -> {
            CreateTopicsRequestData.CreatableTopicCollection topics = new CreateTopicsRequestData.CreatableTopicCollection();
            topics.add(new CreateTopicsRequestData.CreatableTopic().setName(TOPIC).setNumPartitions(1)
                    .setReplicationFactor((short) 1));
            topics.add(new CreateTopicsRequestData.CreatableTopic().setName("new-topic").setNumPartitions(1)
                    .setReplicationFactor((short) 1));
            return new CreateTopicsRequestData().setTopics(topics).setTimeoutMs(10_000);
        }));
        probes.add(new Probe("DeleteTopics by name and id at once", ApiKeys.DELETE_TOPICS, id -> new DeleteTopicsRequestData()
                .setTimeoutMs(10_000).setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName(TOPIC)
                        .setTopicId(id)))));
        probes.add(new Probe("DeleteTopics by name, by id, by an unknown id", ApiKeys.DELETE_TOPICS,
                id -> new DeleteTopicsRequestData().setTimeoutMs(10_000).setTopics(List.of(
                        new DeleteTopicsRequestData.DeleteTopicState().setName(TOPIC),
                        new DeleteTopicsRequestData.DeleteTopicState().setTopicId(id),
                        new DeleteTopicsRequestData.DeleteTopicState().setTopicId(new Uuid(42, 42))))));
        probes.add(new Probe("DeleteRecords", ApiKeys.DELETE_RECORDS, id -> new DeleteRecordsRequestData()
                .setTimeoutMs(10_000).setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC)
                        .setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition()
                                .setPartitionIndex(0).setOffset(0)))))));
        probes.add(new Probe("InitProducerId transactional", ApiKeys.INIT_PRODUCER_ID, id -> new InitProducerIdRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setTransactionTimeoutMs(60_000)));
        probes.add(new Probe("InitProducerId idempotent", ApiKeys.INIT_PRODUCER_ID, id -> new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000)));
        probes.add(new Probe("AddOffsetsToTxn", ApiKeys.ADD_OFFSETS_TO_TXN, id -> new AddOffsetsToTxnRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setProducerId(1).setProducerEpoch((short) 0).setGroupId(GROUP)));
        probes.add(new Probe("EndTxn", ApiKeys.END_TXN, id -> new EndTxnRequestData().setTransactionalId(TRANSACTIONAL_ID)
                .setProducerId(1).setProducerEpoch((short) 0).setCommitted(true)));
        probes.add(new Probe("TxnOffsetCommit", ApiKeys.TXN_OFFSET_COMMIT, id -> new TxnOffsetCommitRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setGroupId(GROUP).setProducerId(1).setProducerEpoch((short) 0)
                .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC)
                        .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(1)))))));
        probes.add(new Probe("WriteTxnMarkers", ApiKeys.WRITE_TXN_MARKERS, id -> new WriteTxnMarkersRequestData()
                .setMarkers(List.of(new WriteTxnMarkersRequestData.WritableTxnMarker().setProducerId(1)
                        .setProducerEpoch((short) 0).setTransactionResult(true).setCoordinatorEpoch(0)
                        .setTopics(List.of(new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(TOPIC)
                                .setPartitionIndexes(List.of(0))))))));
        probes.add(new Probe("DescribeAcls", ApiKeys.DESCRIBE_ACLS, id -> new DescribeAclsRequestData()
                .setResourceTypeFilter((byte) 1).setPatternTypeFilter((byte) 1).setOperation((byte) 1)
                .setPermissionType((byte) 1)));
        probes.add(new Probe("CreateAcls", ApiKeys.CREATE_ACLS, id -> new CreateAclsRequestData().setCreations(List.of(
                new CreateAclsRequestData.AclCreation().setResourceType((byte) 2).setResourceName(TOPIC)
                        .setResourcePatternType((byte) 3).setPrincipal("User:alice").setHost("*")
                        .setOperation((byte) 3).setPermissionType((byte) 3)))));
        probes.add(new Probe("DescribeConfigs topic", ApiKeys.DESCRIBE_CONFIGS, id -> new DescribeConfigsRequestData()
                .setResources(List.of(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                        .setResourceName(TOPIC)))));
        probes.add(new Probe("DescribeConfigs broker", ApiKeys.DESCRIBE_CONFIGS, id -> new DescribeConfigsRequestData()
                .setResources(List.of(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                        .setResourceName("0")))));
        probes.add(new Probe("AlterConfigs topic", ApiKeys.ALTER_CONFIGS, id -> {
            AlterConfigsRequestData.AlterConfigsResourceCollection resources =
                    new AlterConfigsRequestData.AlterConfigsResourceCollection();
            AlterConfigsRequestData.AlterableConfigCollection configs = new AlterConfigsRequestData.AlterableConfigCollection();
            configs.add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("1000"));
            resources.add(new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                    .setResourceName(TOPIC).setConfigs(configs));
            return new AlterConfigsRequestData().setResources(resources);
        }));
        probes.add(new Probe("IncrementalAlterConfigs broker", ApiKeys.INCREMENTAL_ALTER_CONFIGS, id -> {
            IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources =
                    new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
            IncrementalAlterConfigsRequestData.AlterableConfigCollection configs =
                    new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
            configs.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("log.retention.ms")
                    .setValue("1000").setConfigOperation((byte) 0));
            resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 4)
                    .setResourceName("0").setConfigs(configs));
            return new IncrementalAlterConfigsRequestData().setResources(resources);
        }));
        probes.add(new Probe("DescribeLogDirs", ApiKeys.DESCRIBE_LOG_DIRS, id -> new DescribeLogDirsRequestData()
                .setTopics(null)));
        probes.add(new Probe("CreatePartitions", ApiKeys.CREATE_PARTITIONS, id -> new CreatePartitionsRequestData()
                .setTimeoutMs(10_000).setTopics(new CreatePartitionsRequestData.CreatePartitionsTopicCollection(List.of(
                        new CreatePartitionsRequestData.CreatePartitionsTopic().setName(TOPIC).setCount(2)
                                .setAssignments(null)).iterator()))));
        probes.add(new Probe("DeleteGroups", ApiKeys.DELETE_GROUPS, id -> new DeleteGroupsRequestData()
                .setGroupsNames(List.of(GROUP))));
        probes.add(new Probe("ElectLeaders", ApiKeys.ELECT_LEADERS, id -> new ElectLeadersRequestData().setTimeoutMs(10_000)
                .setTopicPartitions(new ElectLeadersRequestData.TopicPartitionsCollection(List.of(
                        new ElectLeadersRequestData.TopicPartitions().setTopic(TOPIC).setPartitions(List.of(0)))
                        .iterator()))));
        probes.add(new Probe("OffsetDelete", ApiKeys.OFFSET_DELETE, id -> new OffsetDeleteRequestData().setGroupId(GROUP)
                .setTopics(new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(List.of(
                        new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))))
                        .iterator()))));
        probes.add(new Probe("DescribeClientQuotas", ApiKeys.DESCRIBE_CLIENT_QUOTAS, id -> new DescribeClientQuotasRequestData()
                .setComponents(List.of())));
        probes.add(new Probe("DescribeUserScramCredentials", ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS,
                // Users named: Kafka 3.9's error response iterates them and never answers a null list.
                id -> new DescribeUserScramCredentialsRequestData().setUsers(List.of(
                        new DescribeUserScramCredentialsRequestData.UserName().setName("alice")))));
        probes.add(new Probe("AlterPartitionReassignments", ApiKeys.ALTER_PARTITION_REASSIGNMENTS,
                id -> new AlterPartitionReassignmentsRequestData().setTopics(List.of(
                        new AlterPartitionReassignmentsRequestData.ReassignableTopic().setName(TOPIC).setPartitions(
                                List.of(new AlterPartitionReassignmentsRequestData.ReassignablePartition()
                                        .setPartitionIndex(0).setReplicas(null)))))));
        probes.add(new Probe("ListPartitionReassignments", ApiKeys.LIST_PARTITION_REASSIGNMENTS,
                id -> new ListPartitionReassignmentsRequestData().setTopics(List.of(
                        new ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics().setName(TOPIC)
                                .setPartitionIndexes(List.of(0))))));
        probes.add(new Probe("DescribeProducers", ApiKeys.DESCRIBE_PRODUCERS, id -> new DescribeProducersRequestData()
                .setTopics(new DescribeProducersRequestData.TopicRequestCollection(List.of(
                        new DescribeProducersRequestData.TopicRequest().setName(TOPIC).setPartitionIndexes(List.of(0)))
                        .iterator()))));
        probes.add(new Probe("DescribeTransactions", ApiKeys.DESCRIBE_TRANSACTIONS, id -> new DescribeTransactionsRequestData()
                .setTransactionalIds(List.of(TRANSACTIONAL_ID))));
        probes.add(new Probe("ListTransactions", ApiKeys.LIST_TRANSACTIONS, id -> new ListTransactionsRequestData()));
        probes.add(new Probe("OffsetForLeaderEpoch", ApiKeys.OFFSET_FOR_LEADER_EPOCH, id -> {
            OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                    new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
            topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(List.of(
                    new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0).setLeaderEpoch(0))));
            return new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(topics);
        }));
        probes.add(new Probe("DescribeCluster", ApiKeys.DESCRIBE_CLUSTER, id -> new DescribeClusterRequestData()));
        return probes;
    }

    /** FindCoordinator for one key: the single key before v4, the list of keys from v4 on. */
    private static FindCoordinatorRequestData coordinator(short version, byte keyType, String key) {
        FindCoordinatorRequestData request = new FindCoordinatorRequestData().setKeyType(keyType);
        return version < 4 ? request.setKey(key) : request.setCoordinatorKeys(List.of(key));
    }

    /** A produce topic named as its version names topics: by name, or from {@code idFrom} on by id. */
    private static ProduceRequestData.TopicProduceData named(ProduceRequestData.TopicProduceData topic, short version,
                                                             int idFrom, Uuid id) {
        return version >= idFrom ? topic.setTopicId(id) : topic.setName(TOPIC);
    }

    /** A blocking connection, authenticated with SASL/PLAIN, that reads answers with kafka-clients' classes. */
    private static final class Connection implements AutoCloseable {
        private final WireClient wire;

        private Connection(WireClient wire) {
            this.wire = wire;
        }

        /** A connection logged in as alice. */
        static Connection alice(int port) throws IOException {
            return new Connection(SaslAclBrokers.alice(port));
        }

        AbstractResponse call(ApiKeys key, short version, ApiMessage request) throws IOException {
            return wire.response(key, version, request);
        }

        /** The newest version of each API the server and kafka-clients both speak. */
        Map<ApiKeys, Short> versions() throws IOException {
            ApiVersionsResponseData answer = (ApiVersionsResponseData) call(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("differential")
                            .setClientSoftwareVersion("1")).data();
            Map<ApiKeys, Short> versions = new LinkedHashMap<>();
            for (ApiVersionsResponseData.ApiVersion v : answer.apiKeys()) {
                if (ApiKeys.hasId(v.apiKey())) versions.put(ApiKeys.forId(v.apiKey()), v.maxVersion());
            }
            return versions;
        }

        /** Every error code of the answer (per item and top level), NONE left out. */
        Set<Errors> errors(ApiKeys key, short version, ApiMessage request) throws IOException {
            AbstractResponse response = call(key, version, request);
            Set<Errors> errors = EnumSet.noneOf(Errors.class);
            errors.addAll(response.errorCounts().keySet());
            try {
                Object code = response.data().getClass().getMethod("errorCode").invoke(response.data());
                errors.add(Errors.forCode((Short) code));
            } catch (ReflectiveOperationException none) {
                // no top-level error in this response
            }
            errors.remove(Errors.NONE);
            return errors;
        }

        @Override
        public void close() throws IOException {
            wire.close();
        }
    }
}
