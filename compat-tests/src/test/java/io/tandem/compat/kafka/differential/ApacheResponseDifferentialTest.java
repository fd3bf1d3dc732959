package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The same scripted requests, many API keys and versions, sent to Apache Kafka 3.9.1 (ZooKeeper mode, on a Tandem
 * ZooKeeper) and to Tandem; the answers are decoded by kafka-clients and compared field by field after replacing
 * what may differ between two servers (ids, hosts, ports, paths, disk sizes, member ids). Every remaining difference
 * must be listed, with its reason, in {@code apache-3.9-differences.txt} next to this class; anything else fails.
 */
class ApacheResponseDifferentialTest {
    private static final String TOPIC = "diff-t";
    private static final String GROUP = "diff-g";
    private static final long TIMESTAMP = 1_700_000_000_000L;
    /** The same settings for both brokers: one broker, small internal topics, no rebalance delay. */
    private static final Map<String, String> SETTINGS = Map.of(
            "offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1",
            "group.initial.rebalance.delay.ms", "0",
            "num.partitions", "1",
            "default.replication.factor", "1");

    @TempDir
    Path dir;

    /** One request of the script: built from a side's variables, its answer may set variables for later steps. */
    private record Step(String name, ApiKeys key, short version, Function<Map<String, Object>, ApiMessage> request,
                        BiConsumer<Map<String, Object>, ApiMessage> capture) {
    }

    /** A side: one server, its connection, its variables and its member-id placeholders. */
    private static final class Side {
        final WireClient client;
        final Map<String, Object> vars = new LinkedHashMap<>();
        final ResponseComparison.Placeholders placeholders = new ResponseComparison.Placeholders();

        Side(WireClient client) {
            this.client = client;
        }

        ApiMessage run(Step step) throws IOException {
            ApiMessage response = client.call(step.key(), step.version(), step.request().apply(vars));
            if (step.capture() != null) step.capture().accept(vars, response);
            return response;
        }
    }

    private static Step step(String name, ApiKeys key, int version, Function<Map<String, Object>, ApiMessage> request) {
        return new Step(name, key, (short) version, request, null);
    }

    private static Step step(String name, ApiKeys key, int version, Function<Map<String, Object>, ApiMessage> request,
                             BiConsumer<Map<String, Object>, ApiMessage> capture) {
        return new Step(name, key, (short) version, request, capture);
    }

    @Test
    void shouldAnswerScriptedRequestsAsApacheKafka39DoesUpToTheListedDifferences() throws Exception {
        TandemConfig zookeeperConfig = TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        SETTINGS.forEach(kafkaConfig::set);
        try (Tandem zookeeper = Tandem.start(zookeeperConfig);
             ApacheKafka39Broker apacheBroker = ApacheKafka39Broker.start(dir.resolve("apache"),
                     zookeeper.zookeeperConnect(), SETTINGS);
             Tandem tandem = Tandem.start(kafkaConfig);
             WireClient tandemClient = new WireClient(tandem.kafkaPort())) {
            try (WireClient apacheClient = awaitReady(apacheBroker)) {
                compare(new Side(apacheClient), new Side(tandemClient));
            }
        }
    }

    private void compare(Side apache, Side tandem) throws Exception {
        List<String> differences = new ArrayList<>();
        int fields = 0;
        for (Object item : script()) {
            if (item instanceof Runnable) continue;
            if (item instanceof Warmup warmup) {
                warmup.await(apache);
                warmup.await(tandem);
                continue;
            }
            Step step = (Step) item;
            JsonNode a = ResponseComparison.normalized(apache.run(step), step.version(), apache.placeholders);
            JsonNode t = ResponseComparison.normalized(tandem.run(step), step.version(), tandem.placeholders);
            fields += count(a);
            for (String d : ResponseComparison.differences(a, t)) differences.add(step.name() + " | " + d);
        }
        List<KnownDifference> known = knownDifferences();
        List<String> unexplained = new ArrayList<>();
        boolean[] used = new boolean[known.size()];
        for (String d : differences) {
            boolean explained = false;
            for (int i = 0; i < known.size(); i++) {
                if (known.get(i).matches(d)) {
                    used[i] = true;
                    explained = true;
                }
            }
            if (!explained) unexplained.add(d);
        }
        System.out.printf("apache-3.9 differential: %d steps, %d values compared, %d differences (%d listed)%n",
                script().stream().filter(s -> s instanceof Step).count(), fields, differences.size(),
                differences.size() - unexplained.size());
        for (int i = 0; i < known.size(); i++) {
            if (!used[i]) System.out.println("apache-3.9 differential: listed difference not seen: " + known.get(i).text());
        }
        assertEquals(List.of(), unexplained, "differences from Apache Kafka 3.9.1 that are neither fixed nor listed");
    }

    private static int count(JsonNode node) {
        if (node.isValueNode() || node.isNull()) return 1;
        int n = 0;
        for (JsonNode child : node) n += count(child);
        return n;
    }

    /** A line of the differences file: "step glob | path glob | reason", '*' matching anything. */
    private record KnownDifference(Pattern step, Pattern path, String text) {
        boolean matches(String difference) {
            int bar = difference.indexOf(" | ");
            String stepName = difference.substring(0, bar);
            String rest = difference.substring(bar + 3);
            String path = rest.substring(0, rest.indexOf(": "));
            return step.matcher(stepName).matches() && this.path.matcher(path).matches();
        }
    }

    private static List<KnownDifference> knownDifferences() throws IOException {
        List<KnownDifference> list = new ArrayList<>();
        try (var in = ApacheResponseDifferentialTest.class.getResourceAsStream("apache-3.9-differences.txt")) {
            assertNotNull(in, "apache-3.9-differences.txt must sit next to this class in the test resources");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] parts = line.split(" \\| ", 3);
                assertEquals(3, parts.length, "expected 'step | path | reason': " + line);
                assertFalse(parts[2].isBlank(), "every listed difference needs its reason: " + line);
                list.add(new KnownDifference(glob(parts[0].trim()), glob(parts[1].trim()), line));
            }
        }
        return list;
    }

    private static Pattern glob(String glob) {
        List<String> parts = new ArrayList<>();
        for (String part : glob.split("\\*", -1)) parts.add(Pattern.quote(part));
        return Pattern.compile(String.join(".*", parts));
    }

    /** Waits (not compared) until a side's state allows the next steps, e.g. a partition has a leader. */
    private record Warmup(String what, Step probe, java.util.function.Predicate<ApiMessage> ready) {
        void await(Side side) throws Exception {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (ready.test(side.client.call(probe.key(), probe.version(), probe.request().apply(side.vars)))) return;
                Thread.sleep(100);
            }
            fail("not ready in 30 s: " + what);
        }
    }

    private static WireClient awaitReady(ApacheKafka39Broker broker) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!broker.alive()) fail("Apache Kafka " + ApacheKafka39Broker.VERSION + " exited:\n" + broker.logTail());
            try {
                WireClient client = new WireClient(broker.port());
                MetadataResponseData metadata = (MetadataResponseData) client.call(ApiKeys.METADATA, (short) 12,
                        new MetadataRequestData().setTopics(List.of()));
                if (!metadata.brokers().isEmpty() && metadata.controllerId() >= 0) return client;
                client.close();
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("Apache Kafka " + ApacheKafka39Broker.VERSION + " did not get ready:\n" + broker.logTail());
        return null;
    }

    private static Warmup leaders(String topic, int partitions) {
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

    /** The script, in order: steps compared on both sides, and warm-ups that only wait. */
    private static List<Object> script() {
        List<Object> s = new ArrayList<>();
        s.add(step("CreateTopics v7 create", ApiKeys.CREATE_TOPICS, 7, v -> createTopic(TOPIC, 2, 1, false, Map.of())));
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
        s.add(step("CreateTopics v7 replication above brokers", ApiKeys.CREATE_TOPICS, 7,
                v -> createTopic("diff-rf", 1, 3, true, Map.of())));
        s.add(leaders(TOPIC, 2));
        s.add(step("Metadata v12 topic", ApiKeys.METADATA, 12, v -> new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName(TOPIC))).setAllowAutoTopicCreation(false)));
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
        s.add(step("Fetch v12 from 0", ApiKeys.FETCH, 12, v -> new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0)
                .setMinBytes(1).setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(
                        new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                        .setPartitionMaxBytes(1 << 20)))))));
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
        s.add(step("JoinGroup v5 without member id", ApiKeys.JOIN_GROUP, 5, ApacheResponseDifferentialTest::join,
                ApacheResponseDifferentialTest::captureJoin));
        s.add(step("JoinGroup v5 with member id", ApiKeys.JOIN_GROUP, 5, ApacheResponseDifferentialTest::join,
                ApacheResponseDifferentialTest::captureJoin));
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
        s.add(step("OffsetCommit v8", ApiKeys.OFFSET_COMMIT, 8, v -> new OffsetCommitRequestData().setGroupId(GROUP)
                .setGenerationIdOrMemberEpoch((Integer) v.get("generationId")).setMemberId((String) v.get("memberId"))
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC).setPartitions(
                        List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                .setCommittedOffset(2).setCommittedMetadata("m")))))));
        s.add(step("OffsetFetch v7", ApiKeys.OFFSET_FETCH, 7, v -> new OffsetFetchRequestData().setGroupId(GROUP)
                .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC)
                        .setPartitionIndexes(List.of(0, 1))))));
        s.add(step("DescribeGroups v5", ApiKeys.DESCRIBE_GROUPS, 5,
                v -> new DescribeGroupsRequestData().setGroups(List.of(GROUP, "diff-none"))));
        s.add(step("ListGroups v4", ApiKeys.LIST_GROUPS, 4, v -> new ListGroupsRequestData()));
        s.add(step("OffsetDelete v0 subscribed", ApiKeys.OFFSET_DELETE, 0, v -> new OffsetDeleteRequestData()
                .setGroupId(GROUP).setTopics(new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection(List.of(
                        new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC).setPartitions(List.of(
                                new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0))))
                        .iterator()))));
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
}
