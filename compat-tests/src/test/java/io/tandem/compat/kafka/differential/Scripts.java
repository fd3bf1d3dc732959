package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.differential.Differential.Warmup;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Utils;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.tandem.compat.kafka.differential.Differential.step;

/** The scripted requests of the differential tests. */
final class Scripts {
    static final String TOPIC = "diff-t";
    static final String GROUP = "diff-g";
    private static final long TIMESTAMP = 1_700_000_000_000L;

    private Scripts() {
    }

    static Warmup leaders(String topic, int partitions) {
        return new Warmup(topic + " has leaders", step("metadata", ApiKeys.METADATA, 12, v -> new MetadataRequestData()
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)))
                .setAllowAutoTopicCreation(false)),
                r -> {
                    MetadataResponseData.MetadataResponseTopic t = ((MetadataResponseData) r).topics().find(topic);
                    return t != null && t.partitions().size() == partitions
                            && t.partitions().stream().allMatch(p -> p.leaderId() >= 0 && p.errorCode() == 0);
                });
    }

    private static CreateTopicsRequestData createTopic(String name, int partitions, int replication, boolean validateOnly,
                                                       Map<String, String> configs) {
        CreateTopicsRequestData.CreatableTopic topic = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(partitions).setReplicationFactor((short) replication);
        configs.forEach((k, val) -> topic.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName(k)
                .setValue(val)));
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(30_000).setValidateOnly(validateOnly);
        data.topics().add(topic);
        return data;
    }

    private static CreatePartitionsRequestData createPartitions(String topic, int count) {
        CreatePartitionsRequestData data = new CreatePartitionsRequestData().setTimeoutMs(30_000);
        data.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(topic).setCount(count)
                .setAssignments(null));
        return data;
    }

    private static DescribeConfigsRequestData describeConfigs(String topic, List<String> keys) {
        return new DescribeConfigsRequestData().setIncludeSynonyms(true).setResources(List.of(
                new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                        .setResourceName(topic).setConfigurationKeys(keys)));
    }

    private static JoinGroupRequestData join(Map<String, Object> vars) {
        byte[] subscription = Utils.toArray(ConsumerProtocol.serializeSubscription(
                new ConsumerPartitionAssignor.Subscription(List.of(TOPIC))));
        JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols =
                new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(subscription));
        return new JoinGroupRequestData().setGroupId(GROUP).setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000)
                .setMemberId((String) vars.getOrDefault("memberId", "")).setProtocolType("consumer")
                .setProtocols(protocols);
    }

    private static void captureJoin(Map<String, Object> vars, ApiMessage response) {
        JoinGroupResponseData join = (JoinGroupResponseData) response;
        vars.put("memberId", join.memberId());
        vars.put("generationId", join.generationId());
    }

    private static ConsumerGroupHeartbeatRequestData consumerJoin(String group, String member, int rebalanceTimeoutMs,
                                                                  String regex) {
        return new ConsumerGroupHeartbeatRequestData().setGroupId(group).setMemberId(member).setMemberEpoch(0)
                .setRebalanceTimeoutMs(rebalanceTimeoutMs).setTopicPartitions(List.of())
                .setSubscribedTopicNames(regex == null ? List.of("dtp-a") : null).setSubscribedTopicRegex(regex);
    }

    /** The script both Apache versions answer, in order: steps compared on both sides, and warm-ups that only wait. */
    static List<Object> common() {
        List<Object> s = new ArrayList<>();
        s.add(step("CreateTopics v7 create", ApiKeys.CREATE_TOPICS, 7, v -> createTopic(TOPIC, 2, 1, false, Map.of())));
        s.add(step("CreateTopics v7 manual assignment", ApiKeys.CREATE_TOPICS, 7, v -> {
            CreateTopicsRequestData data = createTopic("diff-manual", -1, -1, true, Map.of());
            data.topics().find("diff-manual").assignments().add(
                    new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(List.of(0)));
            return data;
        }));
        s.add(step("CreateTopics v7 exists", ApiKeys.CREATE_TOPICS, 7, v -> createTopic(TOPIC, 2, 1, false, Map.of())));
        s.add(step("CreateTopics v4 exists", ApiKeys.CREATE_TOPICS, 4, v -> createTopic(TOPIC, 2, 1, false, Map.of())));
        s.add(step("CreateTopics v7 bad config value", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-bad", 1, 1, true, Map.of("retention.ms", "abc"))));
        s.add(step("CreateTopics v7 unknown config", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-bad", 1, 1, true, Map.of("no.such.config", "1"))));
        s.add(step("CreateTopics v7 configs 4.0 removed", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-old", 1, 1, true, Map.of("message.timestamp.difference.max.ms", "1000",
                        "message.format.version", "2.8", "message.downconversion.enable", "false"))));
        s.add(step("CreateTopics v7 invalid name", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("bad name!", 1, 1, true, Map.of())));
        s.add(step("CreateTopics v7 empty name", ApiKeys.CREATE_TOPICS, 7, v -> createTopic("", 1, 1, true, Map.of())));
        s.add(step("CreateTopics v7 name ..", ApiKeys.CREATE_TOPICS, 7, v -> createTopic("..", 1, 1, true, Map.of())));
        s.add(step("CreateTopics v7 name too long", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("x".repeat(250), 1, 1, true, Map.of())));
        s.add(step("CreateTopics v7 validate-only name with a dot", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff.t", 1, 1, true, Map.of())));
        s.add(step("CreateTopics v7 replication above brokers", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-rf", 1, 3, true, Map.of())));
        Map<String, String> nullValues = new java.util.LinkedHashMap<>();
        nullValues.put("segment.ms", null);
        nullValues.put("retention.ms", "abc");
        nullValues.put("cleanup.policy", null);
        s.add(step("CreateTopics v7 configs without a value, 0 partitions", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-nulls", 0, 1, true, nullValues)));
        s.add(step("CreateTopics v7 create a name with '_'", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff_under", 1, 1, false, Map.of())));
        s.add(step("CreateTopics v7 name colliding over '.' and '_', bad config", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff.under", 1, 1, true, Map.of("retention.ms", "abc"))));
        s.add(leaders(TOPIC, 2));
        s.add(step("Metadata v12 topic", ApiKeys.METADATA, 12, v -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC))).setAllowAutoTopicCreation(false)));
        s.add(step("Metadata v12 auto-created topic", ApiKeys.METADATA, 12, v -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName("diff-auto"))).setAllowAutoTopicCreation(true)));
        s.add(step("Metadata v12 missing topic", ApiKeys.METADATA, 12, v -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName("diff-missing"))).setAllowAutoTopicCreation(false)));
        s.add(step("CreatePartitions v3 grow", ApiKeys.CREATE_PARTITIONS, 3, v -> createPartitions(TOPIC, 3)));
        s.add(step("CreatePartitions v3 same count", ApiKeys.CREATE_PARTITIONS, 3, v -> createPartitions(TOPIC, 3)));
        s.add(step("CreatePartitions v3 shrink", ApiKeys.CREATE_PARTITIONS, 3, v -> createPartitions(TOPIC, 1)));
        s.add(step("CreatePartitions v3 missing topic", ApiKeys.CREATE_PARTITIONS, 3,
                v -> createPartitions("diff-missing", 2)));
        s.add(step("CreatePartitions v3 empty assignment list", ApiKeys.CREATE_PARTITIONS, 3, v -> {
            CreatePartitionsRequestData data = createPartitions(TOPIC, 4);
            data.topics().find(TOPIC).setAssignments(List.of());
            return data;
        }));
        s.add(leaders(TOPIC, 3));
        for (int version : new int[] {0, 4}) {
            s.add(step("Metadata v" + version + " topic", ApiKeys.METADATA, version, v -> new MetadataRequestData()
                    .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC)))));
        }
        s.add(step("DescribeConfigs v4 topic", ApiKeys.DESCRIBE_CONFIGS, 4, v -> describeConfigs(TOPIC,
                List.of("retention.ms", "cleanup.policy", "message.format.version", "min.insync.replicas"))));
        s.add(step("AlterConfigs v2 topic", ApiKeys.ALTER_CONFIGS, 2, v -> new AlterConfigsRequestData().setResources(
                new AlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new AlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                .setResourceName(TOPIC).setConfigs(new AlterConfigsRequestData.AlterableConfigCollection(
                                        List.of(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                                                .setValue("100000")).iterator()))).iterator()))));
        s.add(step("IncrementalAlterConfigs v1 topic", ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1,
                v -> new IncrementalAlterConfigsRequestData().setResources(
                        new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                                new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 2)
                                        .setResourceName(TOPIC).setConfigs(
                                                new IncrementalAlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                        new IncrementalAlterConfigsRequestData.AlterableConfig()
                                                                .setName("segment.ms").setValue("600000")
                                                                .setConfigOperation((byte) 0)).iterator()))).iterator()))));
        s.add(step("DescribeConfigs v4 after alter", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> describeConfigs(TOPIC, List.of("retention.ms", "segment.ms"))));
        s.add(step("DescribeConfigs v4 missing topic", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> describeConfigs("diff-missing", List.of("retention.ms"))));
        s.add(step("Produce v9 two records", ApiKeys.PRODUCE, 9, v -> {
            ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000);
            data.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                            Compression.NONE, new SimpleRecord(TIMESTAMP, "k1".getBytes(), "v1".getBytes()),
                            new SimpleRecord(TIMESTAMP + 1, "k2".getBytes(), "v2".getBytes()))))));
            return data;
        }));
        for (long timestamp : new long[] {-1, -2, TIMESTAMP + 1}) {
            s.add(step("ListOffsets v7 timestamp " + timestamp, ApiKeys.LIST_OFFSETS, 7, v -> new ListOffsetsRequestData()
                    .setReplicaId(-1).setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC)
                            .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                                    .setTimestamp(timestamp)))))));
        }
        s.add(step("Produce v3 one record", ApiKeys.PRODUCE, 3, v -> {
            ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
            data.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(1).setRecords(MemoryRecords.withRecords(
                            Compression.NONE, new SimpleRecord(TIMESTAMP, "k".getBytes(), "v".getBytes()))))));
            return data;
        }));
        s.add(step("Produce v9 missing partition", ApiKeys.PRODUCE, 9, v -> {
            ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000);
            data.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(9).setRecords(MemoryRecords.withRecords(
                            Compression.NONE, new SimpleRecord(TIMESTAMP, "k".getBytes(), "v".getBytes()))))));
            return data;
        }));
        s.add(step("ListOffsets v1 latest", ApiKeys.LIST_OFFSETS, 1, v -> new ListOffsetsRequestData().setReplicaId(-1)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC).setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(1).setTimestamp(-1),
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(9).setTimestamp(-1)))))));
        s.add(step("Fetch v4 partition 1", ApiKeys.FETCH, 4, v -> new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0)
                .setMinBytes(1).setMaxBytes(1 << 20).setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(TOPIC)
                        .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(1).setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 20)))))));
        s.add(step("ListOffsets v7 max timestamp", ApiKeys.LIST_OFFSETS, 7, v -> new ListOffsetsRequestData()
                .setReplicaId(-1).setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC)
                        .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                                .setTimestamp(-3)))))));
        s.add(new Warmup("producer ids", step("InitProducerId", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000)
                        .setProducerId(-1).setProducerEpoch((short) -1)),
                r -> ((InitProducerIdResponseData) r).errorCode() == 0));
        s.add(step("InitProducerId v4 idempotent", ApiKeys.INIT_PRODUCER_ID, 4, v -> new InitProducerIdRequestData()
                .setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1),
                (vars, r) -> vars.put("producerId", ((InitProducerIdResponseData) r).producerId())));
        s.add(step("Fetch v12 from 0", ApiKeys.FETCH, 12, v -> new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0)
                .setMinBytes(1).setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(
                        new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                        .setPartitionMaxBytes(1 << 20)))))));
        s.add(step("Fetch v12 unknown topic and offset out of range", ApiKeys.FETCH, 12, v -> new FetchRequestData()
                .setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(
                        new FetchRequestData.FetchTopic().setTopic("diff-missing").setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1024))),
                        new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(99)
                                        .setPartitionMaxBytes(1024)))))));
        s.add(step("ListOffsets v7 unknown topic", ApiKeys.LIST_OFFSETS, 7, v -> new ListOffsetsRequestData()
                .setReplicaId(-1).setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName("diff-missing")
                        .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                                .setTimestamp(-1)))))));
        s.add(step("OffsetForLeaderEpoch v4 future epoch", ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4,
                v -> new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(
                                        List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                                                .setPartition(0).setLeaderEpoch(5).setCurrentLeaderEpoch(-1))))
                                .iterator()))));
        s.add(step("DeleteRecords v2 beyond the high watermark", ApiKeys.DELETE_RECORDS, 2, v -> new DeleteRecordsRequestData()
                .setTimeoutMs(30_000).setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC)
                        .setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0)
                                .setOffset(50)))))));
        s.add(step("OffsetForLeaderEpoch v4", ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4, v -> new OffsetForLeaderEpochRequestData()
                .setReplicaId(-1).setTopics(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(TOPIC).setPartitions(List.of(
                                new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                                        .setLeaderEpoch(0).setCurrentLeaderEpoch(-1)))).iterator()))));
        s.add(step("DeleteRecords v2", ApiKeys.DELETE_RECORDS, 2, v -> new DeleteRecordsRequestData().setTimeoutMs(30_000)
                .setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic().setName(TOPIC).setPartitions(List.of(
                        new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(1)))))));
        s.add(new Warmup("group coordinator", step("FindCoordinator", ApiKeys.FIND_COORDINATOR, 3,
                v -> new FindCoordinatorRequestData().setKey(GROUP).setKeyType((byte) 0)),
                r -> ((FindCoordinatorResponseData) r).errorCode() == 0));
        s.add(step("FindCoordinator v3 group", ApiKeys.FIND_COORDINATOR, 3,
                v -> new FindCoordinatorRequestData().setKey(GROUP).setKeyType((byte) 0)));
        s.add(step("FindCoordinator v4 group", ApiKeys.FIND_COORDINATOR, 4,
                v -> new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(GROUP))));
        s.add(step("JoinGroup v5 without member id", ApiKeys.JOIN_GROUP, 5, Scripts::join,
                Scripts::captureJoin));
        s.add(step("JoinGroup v5 with member id", ApiKeys.JOIN_GROUP, 5, Scripts::join,
                Scripts::captureJoin));
        s.add(step("SyncGroup v3", ApiKeys.SYNC_GROUP, 3, v -> new SyncGroupRequestData().setGroupId(GROUP)
                .setGenerationId((Integer) v.get("generationId")).setMemberId((String) v.get("memberId"))
                .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment()
                        .setMemberId((String) v.get("memberId")).setAssignment(Utils.toArray(
                                ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(
                                        List.of(new TopicPartition(TOPIC, 0))))))))));
        s.add(step("Heartbeat v3", ApiKeys.HEARTBEAT, 3, v -> new HeartbeatRequestData().setGroupId(GROUP)
                .setGenerationId((Integer) v.get("generationId")).setMemberId((String) v.get("memberId"))));
        s.add(step("Heartbeat v3 unknown member", ApiKeys.HEARTBEAT, 3, v -> new HeartbeatRequestData().setGroupId(GROUP)
                .setGenerationId((Integer) v.get("generationId")).setMemberId("nobody")));
        s.add(step("SyncGroup v3 wrong generation", ApiKeys.SYNC_GROUP, 3, v -> new SyncGroupRequestData().setGroupId(GROUP)
                .setGenerationId((Integer) v.get("generationId") + 5).setMemberId((String) v.get("memberId"))));
        // The versions the Java 3.9 and 4.x clients send for the classic group protocol (both brokers serve them).
        s.add(step("Heartbeat v4", ApiKeys.HEARTBEAT, 4, v -> new HeartbeatRequestData().setGroupId(GROUP)
                .setGenerationId((Integer) v.get("generationId")).setMemberId((String) v.get("memberId"))));
        s.add(step("SyncGroup v5 wrong generation", ApiKeys.SYNC_GROUP, 5, v -> new SyncGroupRequestData()
                .setGroupId(GROUP).setGenerationId((Integer) v.get("generationId") + 5)
                .setMemberId((String) v.get("memberId")).setProtocolType("consumer").setProtocolName("range")));
        s.add(step("OffsetCommit v9 illegal generation", ApiKeys.OFFSET_COMMIT, 9, v -> new OffsetCommitRequestData()
                .setGroupId(GROUP).setGenerationIdOrMemberEpoch((Integer) v.get("generationId") + 5)
                .setMemberId((String) v.get("memberId")).setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1)))))));
        s.add(step("JoinGroup v5 unknown member id", ApiKeys.JOIN_GROUP, 5, v -> {
            JoinGroupRequestData data = join(v);
            return data.setMemberId("consumer-unknown");
        }));
        s.add(step("OffsetCommit v8 illegal generation", ApiKeys.OFFSET_COMMIT, 8, v -> new OffsetCommitRequestData()
                .setGroupId(GROUP).setGenerationIdOrMemberEpoch((Integer) v.get("generationId") + 5)
                .setMemberId((String) v.get("memberId")).setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                        .setCommittedOffset(1)))))));
        s.add(step("FindCoordinator v3 empty group id", ApiKeys.FIND_COORDINATOR, 3,
                v -> new FindCoordinatorRequestData().setKey("").setKeyType((byte) 0)));
        s.add(step("OffsetCommit v8", ApiKeys.OFFSET_COMMIT, 8, v -> new OffsetCommitRequestData().setGroupId(GROUP)
                .setGenerationIdOrMemberEpoch((Integer) v.get("generationId")).setMemberId((String) v.get("memberId"))
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(
                        List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                .setCommittedOffset(2).setCommittedMetadata("m")))))));
        s.add(step("OffsetFetch v7", ApiKeys.OFFSET_FETCH, 7, v -> new OffsetFetchRequestData().setGroupId(GROUP)
                .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC)
                        .setPartitionIndexes(List.of(0, 1))))));
        s.add(step("OffsetFetch v7 all topics", ApiKeys.OFFSET_FETCH, 7,
                v -> new OffsetFetchRequestData().setGroupId(GROUP).setTopics(null)));
        s.add(step("OffsetFetch v9 groups", ApiKeys.OFFSET_FETCH, 9, v -> new OffsetFetchRequestData()
                .setRequireStable(true).setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                        .setGroupId(GROUP).setMemberId((String) v.get("memberId")).setMemberEpoch(-1)
                        .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName(TOPIC)
                                .setPartitionIndexes(List.of(0, 1))))))));
        s.add(step("DescribeGroups v5", ApiKeys.DESCRIBE_GROUPS, 5,
                v -> new DescribeGroupsRequestData().setGroups(List.of(GROUP, "diff-none"))));
        s.add(step("ListGroups v4", ApiKeys.LIST_GROUPS, 4, v -> new ListGroupsRequestData()));
        s.add(step("ListGroups v4 stable only", ApiKeys.LIST_GROUPS, 4,
                v -> new ListGroupsRequestData().setStatesFilter(List.of("Stable"))));
        s.add(step("OffsetDelete v0 subscribed", ApiKeys.OFFSET_DELETE, 0, v -> new OffsetDeleteRequestData()
                .setGroupId(GROUP).setTopics(new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(List.of(
                        new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))))
                        .iterator()))));
        s.add(step("LeaveGroup v5 unknown member", ApiKeys.LEAVE_GROUP, 5, v -> new LeaveGroupRequestData()
                .setGroupId(GROUP).setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("nobody")
                        .setReason("differential")))));
        s.add(step("LeaveGroup v4", ApiKeys.LEAVE_GROUP, 4, v -> new LeaveGroupRequestData().setGroupId(GROUP)
                .setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId((String) v.get("memberId"))))));
        s.add(step("DeleteGroups v2", ApiKeys.DELETE_GROUPS, 2,
                v -> new DeleteGroupsRequestData().setGroupsNames(List.of(GROUP, "diff-none"))));
        s.add(step("JoinGroup v0 second group", ApiKeys.JOIN_GROUP, 0, v -> new JoinGroupRequestData().setGroupId("diff-g0")
                .setSessionTimeoutMs(10_000).setMemberId("").setProtocolType("consumer")
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                        new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[0]))
                        .iterator())), (vars, r) -> vars.put("member0", ((JoinGroupResponseData) r).memberId())));
        s.add(step("Heartbeat v0 wrong generation", ApiKeys.HEARTBEAT, 0, v -> new HeartbeatRequestData()
                .setGroupId("diff-g0").setGenerationId(7).setMemberId((String) v.get("member0"))));
        s.add(step("OffsetCommit v2 simple", ApiKeys.OFFSET_COMMIT, 2, v -> new OffsetCommitRequestData()
                .setGroupId("diff-simple").setGenerationIdOrMemberEpoch(-1).setMemberId("").setRetentionTimeMs(-1)
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(
                        List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(1)
                                .setCommittedOffset(1)))))));
        s.add(step("OffsetFetch v1 simple", ApiKeys.OFFSET_FETCH, 1, v -> new OffsetFetchRequestData()
                .setGroupId("diff-simple").setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic()
                        .setName(TOPIC).setPartitionIndexes(List.of(0, 1))))));
        s.add(step("DescribeGroups v0 second group", ApiKeys.DESCRIBE_GROUPS, 0,
                v -> new DescribeGroupsRequestData().setGroups(List.of("diff-g0"))));
        s.add(step("DescribeCluster v1", ApiKeys.DESCRIBE_CLUSTER, 1, v -> new DescribeClusterRequestData()));
        s.add(step("DescribeCluster v1 controller endpoint", ApiKeys.DESCRIBE_CLUSTER, 1,
                v -> new DescribeClusterRequestData().setEndpointType((byte) 2)));
        s.add(step("DescribeLogDirs v4 topic", ApiKeys.DESCRIBE_LOG_DIRS, 4, v -> new DescribeLogDirsRequestData()
                .setTopics(new DescribeLogDirsRequestData.DescribableLogDirTopicCollection(List.of(
                        new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic(TOPIC)
                                .setPartitions(List.of(0, 1, 2))).iterator()))));
        s.add(step("DeleteTopics v6", ApiKeys.DELETE_TOPICS, 6, v -> new DeleteTopicsRequestData().setTimeoutMs(30_000)
                .setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName(TOPIC),
                        new DeleteTopicsRequestData.DeleteTopicState().setName("diff-missing")))));
        return s;
    }

    private static DescribeTopicPartitionsRequestData describeTopicPartitions(List<String> topics, int limit,
                                                                          String cursorTopic, int cursorPartition) {
        DescribeTopicPartitionsRequestData data = new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(limit);
        for (String t : topics) data.topics().add(new DescribeTopicPartitionsRequestData.TopicRequest().setName(t));
        if (cursorTopic != null) {
            data.setCursor(new DescribeTopicPartitionsRequestData.Cursor().setTopicName(cursorTopic)
                    .setPartitionIndex(cursorPartition));
        }
        return data;
    }

    /** Requests only Kafka 4.x answers: the versions and keys 4.x added over 3.9, DescribeTopicPartitions above all. */
    /**
     * Requests Apache Kafka 3.9 in ZooKeeper mode answers unlike 4.x's KRaft controller (which refuses an empty replica
     * list): topics with empty replica lists are written, never led and never known to Metadata.
     */
    static List<Object> kafka39Only() {
        List<Object> s = new ArrayList<>();
        s.add(step("CreateTopics v7 create diff-placed", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-placed", 1, 1, false, Map.of())));
        s.addAll(synonymSteps("diff-placed"));
        s.add(step("CreateTopics v7 empty replica list", ApiKeys.CREATE_TOPICS, 7, v -> {
            CreateTopicsRequestData data = createTopic("diff-hostless", -1, -1, false, Map.of()).setTimeoutMs(0);
            data.topics().find("diff-hostless").assignments().add(
                    new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(List.of()));
            return data;
        }));
        s.add(step("CreateTopics v7 validate-only empty replica list", ApiKeys.CREATE_TOPICS, 7, v -> {
            CreateTopicsRequestData data = createTopic("diff-hostless-check", -1, -1, true, Map.of());
            data.topics().find("diff-hostless-check").assignments().add(
                    new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0).setBrokerIds(List.of()));
            return data;
        }));
        s.add(step("Metadata v12 topic with an empty replica list", ApiKeys.METADATA, 12, v -> new MetadataRequestData()
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName("diff-hostless")))
                .setAllowAutoTopicCreation(false)));
        s.add(step("CreatePartitions v3 empty replica list", ApiKeys.CREATE_PARTITIONS, 3, v -> {
            CreatePartitionsRequestData data = createPartitions("diff-placed", 2);
            data.topics().find("diff-placed").setAssignments(List.of(
                    new CreatePartitionsRequestData.CreatePartitionsAssignment().setBrokerIds(List.of())));
            return data;
        }));
        s.add(step("CreatePartitions v3 topic without replicas", ApiKeys.CREATE_PARTITIONS, 3,
                v -> createPartitions("diff-hostless", 2)));
        return s;
    }

    /** Topic keys whose broker keys have synonyms (retention.ms, segment.ms, ...) or none (remote.storage.enable). */
    private static final List<String> SYNONYM_KEYS = List.of("retention.ms", "segment.ms", "segment.jitter.ms",
            "flush.ms", "retention.bytes", "compression.type", "remote.storage.enable");
    /** Kafka's default retention (log.retention.hours=168) doubled: a cluster default the script's records outlive. */
    private static final String DEFAULT_RETENTION_MS = "1209600000";

    /**
     * {@link Differential#SETTINGS} with log.retention.hours set statically for {@link #synonymSteps}, to Kafka's
     * default so that nothing retains differently.
     */
    static Map<String, String> settingsWithStaticRetentionHours() {
        Map<String, String> settings = new java.util.HashMap<>(Differential.SETTINGS);
        settings.put("log.retention.hours", "168");
        return Map.copyOf(settings);
    }

    /**
     * DescribeConfigs with synonyms of a topic without overrides as the broker's static settings leave it (the
     * differential sets log.retention.hours statically), then under a dynamic cluster default of log.retention.ms
     * and of the cluster-default resource itself, then with that default deleted again.
     */
    static List<Object> synonymSteps(String topic) {
        List<Object> s = new ArrayList<>();
        s.add(leaders(topic, 1)); // a ZooKeeper-mode broker describes only the topics its metadata cache holds
        s.add(step("DescribeConfigs v4 synonyms of a topic without overrides", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> describeConfigs(topic, SYNONYM_KEYS)));
        s.add(step("IncrementalAlterConfigs v1 cluster default log.retention.ms", ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1,
                v -> clusterDefault("log.retention.ms", DEFAULT_RETENTION_MS, (byte) 0)));
        s.add(retentionSource(topic, "the cluster default log.retention.ms is in force", (byte) 3));
        s.add(step("DescribeConfigs v4 synonyms under a dynamic cluster default", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> describeConfigs(topic, SYNONYM_KEYS)));
        s.add(step("DescribeConfigs v4 cluster-default resource synonyms", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> new DescribeConfigsRequestData().setIncludeSynonyms(true).setResources(List.of(
                        new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 4)
                                .setResourceName("").setConfigurationKeys(null)))));
        s.add(step("IncrementalAlterConfigs v1 delete cluster default log.retention.ms",
                ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, v -> clusterDefault("log.retention.ms", null, (byte) 1)));
        s.add(retentionSource(topic, "the cluster default log.retention.ms is gone", (byte) 5));
        return s;
    }

    private static IncrementalAlterConfigsRequestData clusterDefault(String name, String value, byte operation) {
        return new IncrementalAlterConfigsRequestData().setResources(
                new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection(List.of(
                        new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType((byte) 4)
                                .setResourceName("").setConfigs(
                                        new IncrementalAlterConfigsRequestData.AlterableConfigCollection(List.of(
                                                new IncrementalAlterConfigsRequestData.AlterableConfig().setName(name)
                                                        .setValue(value).setConfigOperation(operation)).iterator())))
                        .iterator()));
    }

    /** Waits until the topic's retention.ms has this config source (a dynamic default reaches a broker later). */
    private static Warmup retentionSource(String topic, String what, byte source) {
        return new Warmup(what, step("DescribeConfigs", ApiKeys.DESCRIBE_CONFIGS, 4,
                v -> describeConfigs(topic, List.of("retention.ms"))),
                r -> ((DescribeConfigsResponseData) r).results().stream().flatMap(res -> res.configs().stream())
                        .anyMatch(c -> c.name().equals("retention.ms") && c.configSource() == source));
    }

    static List<Object> kafka4Only() {
        List<Object> s = new ArrayList<>();
        s.add(step("CreateTopics v7 three topics", ApiKeys.CREATE_TOPICS, 7, v -> {
            CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(30_000);
            for (String[] t : new String[][] {{"dtp-a", "3"}, {"dtp-b", "2"}, {"dtp-c", "1"}}) {
                data.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(t[0])
                        .setNumPartitions(Integer.parseInt(t[1])).setReplicationFactor((short) 1));
            }
            return data;
        }));
        s.add(leaders("dtp-a", 3));
        s.add(leaders("dtp-b", 2));
        s.add(leaders("dtp-c", 1));
        List<String> named = List.of("dtp-c", "dtp-a", "dtp-b");
        s.add(step("DescribeTopicPartitions v0 first page", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(named, 2, null, 0)));
        s.add(step("DescribeTopicPartitions v0 page inside a topic", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(named, 3, "dtp-a", 2)));
        s.add(step("DescribeTopicPartitions v0 last page", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(named, 3, "dtp-c", 0)));
        s.add(step("DescribeTopicPartitions v0 all topics after a cursor", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(List.of(), 2000, "dtp-b", 1)));
        s.add(step("DescribeTopicPartitions v0 limit 0", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(named, 0, null, 0)));
        s.add(step("DescribeTopicPartitions v0 missing and invalid", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(List.of("dtp-missing", "bad name!"), 2000, null, 0)));
        s.add(step("DescribeTopicPartitions v0 cursor outside the list", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(List.of("dtp-a"), 2000, "dtp-b", 0)));
        s.add(step("DescribeTopicPartitions v0 negative cursor", ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0,
                v -> describeTopicPartitions(List.of("dtp-a"), 2000, "dtp-a", -1)));
        s.add(step("ApiVersions v5 another cluster", ApiKeys.API_VERSIONS, 5, v -> new ApiVersionsRequestData()
                .setClientSoftwareName("differential").setClientSoftwareVersion("1.0").setClusterId("another")
                .setNodeId(0)));
        s.add(step("ApiVersions v5 cluster without node", ApiKeys.API_VERSIONS, 5, v -> new ApiVersionsRequestData()
                .setClientSoftwareName("differential").setClientSoftwareVersion("1.0").setClusterId("another")));
        s.add(step("ApiVersions v3 bad software name", ApiKeys.API_VERSIONS, 3, v -> new ApiVersionsRequestData()
                .setClientSoftwareName("bad name").setClientSoftwareVersion("1.0")));
        s.add(step("DescribeCluster v2 with fenced brokers", ApiKeys.DESCRIBE_CLUSTER, 2,
                v -> new DescribeClusterRequestData().setIncludeFencedBrokers(true)));
        s.add(step("DeleteGroups v3 missing group", ApiKeys.DELETE_GROUPS, 3,
                v -> new DeleteGroupsRequestData().setGroupsNames(List.of("dtp-none"))));
        s.add(step("DescribeGroups v6 missing group", ApiKeys.DESCRIBE_GROUPS, 6,
                v -> new DescribeGroupsRequestData().setGroups(List.of("dtp-none"))));
        // Consumer groups (KIP-848): the refusals and lookups whose answers do not depend on assignment timing.
        s.add(step("ConsumerGroupHeartbeat v1 empty group id", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("", "dtp-member-1", 30_000, null)));
        s.add(step("ConsumerGroupHeartbeat v1 empty member id", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("dtp-cg", "", 30_000, null)));
        s.add(step("ConsumerGroupHeartbeat v1 no rebalance timeout", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("dtp-cg", "dtp-member-1", -1, null)));
        s.add(step("ConsumerGroupHeartbeat v1 neither names nor regex", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("dtp-cg", "dtp-member-1", 30_000, null).setSubscribedTopicNames(null)));
        s.add(step("ConsumerGroupHeartbeat v1 unknown group", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> new ConsumerGroupHeartbeatRequestData().setGroupId("dtp-none").setMemberId("dtp-member-1")
                        .setMemberEpoch(3)));
        s.add(step("ConsumerGroupHeartbeat v1 bad regex", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("dtp-cg", "dtp-member-1", 30_000, "(?<=a)b")));
        s.add(step("ConsumerGroupDescribe v1 missing group", ApiKeys.CONSUMER_GROUP_DESCRIBE, 1,
                v -> new ConsumerGroupDescribeRequestData().setGroupIds(List.of("dtp-none"))));
        s.add(step("ListGroups v5 consumer groups", ApiKeys.LIST_GROUPS, 5,
                v -> new ListGroupsRequestData().setTypesFilter(List.of("consumer"))));
        s.add(step("ConsumerGroupHeartbeat v1 join", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> consumerJoin("dtp-cg2", "dtp-member-1", 30_000, null)));
        s.add(step("ConsumerGroupHeartbeat v1 heartbeat", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> new ConsumerGroupHeartbeatRequestData().setGroupId("dtp-cg2").setMemberId("dtp-member-1")
                        .setMemberEpoch(2)));
        s.add(step("ConsumerGroupHeartbeat v1 epoch ahead", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> new ConsumerGroupHeartbeatRequestData().setGroupId("dtp-cg2").setMemberId("dtp-member-1")
                        .setMemberEpoch(7)));
        s.add(step("ConsumerGroupHeartbeat v1 unknown member", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> new ConsumerGroupHeartbeatRequestData().setGroupId("dtp-cg2").setMemberId("dtp-member-9")
                        .setMemberEpoch(2)));
        s.add(step("ConsumerGroupDescribe v1 group", ApiKeys.CONSUMER_GROUP_DESCRIBE, 1,
                v -> new ConsumerGroupDescribeRequestData().setGroupIds(List.of("dtp-cg2"))));
        s.add(step("DescribeGroups v6 consumer group", ApiKeys.DESCRIBE_GROUPS, 6,
                v -> new DescribeGroupsRequestData().setGroups(List.of("dtp-cg2"))));
        s.add(step("ListGroups v5 a consumer group", ApiKeys.LIST_GROUPS, 5,
                v -> new ListGroupsRequestData().setTypesFilter(List.of("consumer"))));
        s.add(step("JoinGroup v9 into a consumer group", ApiKeys.JOIN_GROUP, 9, v -> {
            JoinGroupRequestData join = join(v).setGroupId("dtp-cg2");
            return join;
        }));
        s.add(step("ConsumerGroupHeartbeat v1 leave", ApiKeys.CONSUMER_GROUP_HEARTBEAT, 1,
                v -> new ConsumerGroupHeartbeatRequestData().setGroupId("dtp-cg2").setMemberId("dtp-member-1")
                        .setMemberEpoch(-1)));
        s.add(step("DescribeLogDirs v5 topic", ApiKeys.DESCRIBE_LOG_DIRS, 5, v -> new DescribeLogDirsRequestData()
                .setTopics(new DescribeLogDirsRequestData.DescribableLogDirTopicCollection(List.of(
                        new DescribeLogDirsRequestData.DescribableLogDirTopic().setTopic("dtp-b")
                                .setPartitions(List.of(0, 1))).iterator()))));
        return s;
    }
}
