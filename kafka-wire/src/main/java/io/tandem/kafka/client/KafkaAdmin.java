package io.tandem.kafka.client;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Topic, config and offset operations over a {@link KafkaClient}, each sent to the broker Kafka's own admin client
 * would pick: topic creation, deletion and new partitions to the controller (which forwards in KRaft mode), a broker's
 * configs to that broker, offsets to each partition's leader.
 */
public final class KafkaAdmin {
    /** IncrementalAlterConfigs operation codes (Kafka's AlterConfigOp.OpType). */
    private static final byte OP_SET = 0;
    private static final byte OP_DELETE = 1;
    /** The first ListOffsets version with isolation_level. */
    private static final short LIST_OFFSETS_ISOLATION_MIN_VERSION = 2;

    private final KafkaClient client;

    public KafkaAdmin(KafkaClient client) {
        this.client = client;
    }

    public KafkaClient client() {
        return client;
    }

    /**
     * The named topic's metadata.
     *
     * @throws KafkaClientException with UNKNOWN_TOPIC_OR_PARTITION if it does not exist
     */
    public TopicInfo describeTopic(String topic) {
        ClusterMetadata metadata = client.metadata(List.of(topic));
        TopicInfo info = metadata.topics().get(topic);
        if (info == null) {
            throw topicError(topic, metadata);
        }
        return info;
    }

    /**
     * Creates a topic. {@code partitions} and {@code replicationFactor} of -1 take the broker's defaults (CreateTopics
     * v4 and later). Returns the created topic's id, or null when the broker does not report one.
     */
    public java.util.UUID createTopic(String name, int partitions, short replicationFactor,
                                      Map<String, String> configs, boolean validateOnly) {
        return createTopic(name, partitions, replicationFactor, Map.of(), configs, validateOnly);
    }

    /**
     * As {@link #createTopic(String, int, short, Map, boolean)}, with the replicas of each partition chosen
     * ({@code assignment}: partition to broker ids, the first the preferred leader); with an assignment the partition
     * count and replication factor are sent as -1, as Kafka's Admin sends them.
     */
    public java.util.UUID createTopic(String name, int partitions, short replicationFactor,
                                      Map<Integer, List<Integer>> assignment, Map<String, String> configs,
                                      boolean validateOnly) {
        return client.retrying(() -> {
            int controller = controller();
            KafkaConnection connection = client.connection(controller);
            short version = connection.version(ApiKey.CREATE_TOPICS);
            if (version < 4 && assignment.isEmpty() && (partitions < 0 || replicationFactor < 0)) {
                throw new KafkaClientException(Errors.INVALID_REQUEST, "this broker has no default partition count or"
                        + " replication factor for new topics (CreateTopics v" + version
                        + "): give both explicitly");
            }
            if (validateOnly && version < 1) {
                throw new KafkaClientException(Errors.UNSUPPORTED_VERSION, "this broker cannot validate a creation"
                        + " without doing it (CreateTopics v0)");
            }
            boolean assigned = !assignment.isEmpty();
            CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic().setName(name)
                    .setNumPartitions(assigned ? -1 : partitions)
                    .setReplicationFactor(assigned ? (short) -1 : replicationFactor);
            for (Map.Entry<Integer, List<Integer>> replicas : new TreeMap<>(assignment).entrySet()) {
                topic.assignments.add(new CreateTopicsRequest.CreatableReplicaAssignment()
                        .setPartitionIndex(replicas.getKey()).setBrokerIds(new ArrayList<>(replicas.getValue())));
            }
            for (Map.Entry<String, String> config : configs.entrySet()) {
                topic.configs.add(new CreateTopicsRequest.CreatableTopicConfig().setName(config.getKey())
                        .setValue(config.getValue()));
            }
            CreateTopicsRequest request = new CreateTopicsRequest().setTopics(new ArrayList<>(List.of(topic)))
                    .setTimeoutMs(timeoutMs()).setValidateOnly(validateOnly);
            CreateTopicsResponse response = connection.send(request, version, client.requestTimeout());
            for (CreateTopicsResponse.CreatableTopicResult result : response.topics) {
                KafkaClientException.check(result.errorCode, "creating topic '" + result.name + "'",
                        result.errorMessage);
                return version >= 7 ? result.topicId : null;
            }
            throw new KafkaClientException(Errors.UNKNOWN_SERVER_ERROR, "CreateTopics answer names no topic");
        });
    }

    /** Deletes a topic. */
    public void deleteTopic(String name) {
        client.retrying(() -> {
            KafkaConnection connection = client.connection(controller());
            short version = connection.version(ApiKey.DELETE_TOPICS);
            DeleteTopicsRequest request = new DeleteTopicsRequest().setTopicNames(new ArrayList<>(List.of(name)))
                    .setTimeoutMs(timeoutMs());
            DeleteTopicsResponse response = connection.send(request, version, client.requestTimeout());
            for (DeleteTopicsResponse.DeletableTopicResult result : response.responses) {
                KafkaClientException.check(result.errorCode, "deleting topic '" + name + "'", result.errorMessage);
            }
            return null;
        });
    }

    /** Raises a topic's partition count to {@code totalCount}, letting the controller place the new replicas. */
    public void createPartitions(String topic, int totalCount) {
        client.retrying(() -> {
            KafkaConnection connection = client.connection(controller());
            CreatePartitionsRequest request = new CreatePartitionsRequest().setTopics(new ArrayList<>(List.of(
                    new CreatePartitionsRequest.CreatePartitionsTopic().setName(topic).setCount(totalCount)
                            .setAssignments(null)))).setTimeoutMs(timeoutMs());
            CreatePartitionsResponse response = connection.send(request, client.requestTimeout());
            for (CreatePartitionsResponse.CreatePartitionsTopicResult result : response.results) {
                KafkaClientException.check(result.errorCode, "adding partitions to '" + topic + "'",
                        result.errorMessage);
            }
            return null;
        });
    }

    /** Every config of a topic or broker (defaults included), in name order. */
    public List<ConfigEntry> describeConfigs(ConfigResource type, String name) {
        return client.retrying(() -> {
            KafkaConnection connection = type == ConfigResource.TOPIC ? client.anyConnection()
                    : client.connection(brokerId(name));
            short version = connection.version(ApiKey.DESCRIBE_CONFIGS);
            DescribeConfigsRequest request = new DescribeConfigsRequest().setResources(new ArrayList<>(List.of(
                    new DescribeConfigsRequest.DescribeConfigsResource().setResourceType(type.code())
                            .setResourceName(name).setConfigurationKeys(null))));
            DescribeConfigsResponse response = connection.send(request, version, client.requestTimeout());
            List<ConfigEntry> entries = new ArrayList<>();
            for (DescribeConfigsResponse.DescribeConfigsResult result : response.results) {
                KafkaClientException.check(result.errorCode, "describing configs of " + type.name().toLowerCase()
                        + " '" + name + "'", result.errorMessage);
                for (DescribeConfigsResponse.DescribeConfigsResourceResult config : result.configs) {
                    ConfigSource source = version == 0
                            ? (config.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.UNKNOWN)
                            : ConfigSource.forCode(config.configSource);
                    entries.add(new ConfigEntry(config.name, config.value, source, config.readOnly,
                            config.isSensitive));
                }
            }
            entries.sort((a, b) -> a.name().compareTo(b.name()));
            return entries;
        });
    }

    /** Sets and removes configs of a topic or broker, leaving the others as they are (IncrementalAlterConfigs). */
    public void alterConfigs(ConfigResource type, String name, Map<String, String> set, Collection<String> delete) {
        client.retrying(() -> {
            KafkaConnection connection = type == ConfigResource.TOPIC ? client.anyConnection()
                    : client.connection(brokerId(name));
            IncrementalAlterConfigsRequest.AlterConfigsResource resource =
                    new IncrementalAlterConfigsRequest.AlterConfigsResource().setResourceType(type.code())
                            .setResourceName(name);
            for (Map.Entry<String, String> entry : set.entrySet()) {
                resource.configs.add(new IncrementalAlterConfigsRequest.AlterableConfig().setName(entry.getKey())
                        .setConfigOperation(OP_SET).setValue(entry.getValue()));
            }
            for (String key : delete) {
                resource.configs.add(new IncrementalAlterConfigsRequest.AlterableConfig().setName(key)
                        .setConfigOperation(OP_DELETE).setValue(null));
            }
            IncrementalAlterConfigsRequest request = new IncrementalAlterConfigsRequest()
                    .setResources(new ArrayList<>(List.of(resource)));
            IncrementalAlterConfigsResponse response = connection.send(request, client.requestTimeout());
            for (IncrementalAlterConfigsResponse.AlterConfigsResourceResponse result : response.responses) {
                KafkaClientException.check(result.errorCode, "altering configs of " + type.name().toLowerCase()
                        + " '" + name + "'", result.errorMessage);
            }
            return null;
        });
    }

    /**
     * The offset per partition for {@code timestamp} ({@link OffsetSpec#LATEST}, {@link OffsetSpec#EARLIEST}, or a time
     * in ms: the first offset whose timestamp is at or after it, -1 when there is none), asking each partition's
     * leader.
     */
    public Map<TopicPartition, Long> listOffsets(Collection<TopicPartition> partitions, long timestamp) {
        return listOffsets(partitions, timestamp, RecordFetcher.READ_UNCOMMITTED);
    }

    /**
     * As {@link #listOffsets(Collection, long)} at an isolation level: under {@link RecordFetcher#READ_COMMITTED} the
     * latest offset is the last stable offset, as Kafka's consumer sees it.
     */
    public Map<TopicPartition, Long> listOffsets(Collection<TopicPartition> partitions, long timestamp,
                                                 byte isolationLevel) {
        return client.retrying(() -> {
            Map<String, TopicInfo> topics = topicsOf(partitions);
            Map<Integer, List<TopicPartition>> byLeader = new TreeMap<>();
            for (TopicPartition tp : partitions) {
                byLeader.computeIfAbsent(leaderOf(topics, tp), k -> new ArrayList<>()).add(tp);
            }
            Map<TopicPartition, Long> offsets = new TreeMap<>();
            for (Map.Entry<Integer, List<TopicPartition>> entry : byLeader.entrySet()) {
                offsets.putAll(listOffsetsAt(entry.getKey(), entry.getValue(), timestamp, isolationLevel));
            }
            return offsets;
        });
    }

    /** The current metadata of the topics these partitions belong to; an unknown topic fails. */
    Map<String, TopicInfo> topicsOf(Collection<TopicPartition> partitions) {
        List<String> names = partitions.stream().map(TopicPartition::topic).distinct().toList();
        ClusterMetadata metadata = client.metadata(names);
        for (String name : names) {
            if (!metadata.topics().containsKey(name)) {
                throw topicError(name, metadata);
            }
        }
        return metadata.topics();
    }

    /** The leader of a partition, failing with a retriable error while it has none. */
    static int leaderOf(Map<String, TopicInfo> topics, TopicPartition tp) {
        PartitionInfo partition = topics.get(tp.topic()).partition(tp.partition());
        if (partition == null) {
            throw new UnknownTopicException(tp.topic(), tp.partition());
        }
        if (partition.leader() < 0) {
            throw new KafkaClientException(Errors.LEADER_NOT_AVAILABLE, "partition " + tp + " has no leader");
        }
        return partition.leader();
    }

    private Map<TopicPartition, Long> listOffsetsAt(int leader, List<TopicPartition> partitions, long timestamp,
                                                    byte isolationLevel) {
        KafkaConnection connection = client.connection(leader);
        short version = connection.version(ApiKey.LIST_OFFSETS);
        if (isolationLevel != RecordFetcher.READ_UNCOMMITTED && version < LIST_OFFSETS_ISOLATION_MIN_VERSION) {
            throw new KafkaClientException(Errors.UNSUPPORTED_VERSION, "broker " + leader + " answers ListOffsets"
                    + " only up to version " + version + ", before read_committed (version "
                    + LIST_OFFSETS_ISOLATION_MIN_VERSION + ")");
        }
        Map<String, ListOffsetsRequest.ListOffsetsTopic> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ListOffsetsRequest.ListOffsetsTopic().setName(t))
                    .partitions.add(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(tp.partition())
                            .setTimestamp(timestamp).setMaxNumOffsets(1));
        }
        ListOffsetsRequest request = new ListOffsetsRequest().setReplicaId(-1).setIsolationLevel(isolationLevel)
                .setTopics(new ArrayList<>(byTopic.values())).setTimeoutMs(timeoutMs());
        ListOffsetsResponse response = connection.send(request, version, client.requestTimeout());
        Map<TopicPartition, Long> offsets = new TreeMap<>();
        for (ListOffsetsResponse.ListOffsetsTopicResponse topic : response.topics) {
            for (ListOffsetsResponse.ListOffsetsPartitionResponse partition : topic.partitions) {
                TopicPartition tp = new TopicPartition(topic.name, partition.partitionIndex);
                KafkaClientException.check(partition.errorCode, "listing offsets of " + tp, null);
                long offset = version == 0
                        ? (partition.oldStyleOffsets.isEmpty() ? -1 : partition.oldStyleOffsets.get(0))
                        : partition.offset;
                offsets.put(tp, offset);
            }
        }
        return offsets;
    }

    private int controller() {
        ClusterMetadata metadata = client.metadata(List.of());
        if (metadata.controllerId() >= 0 && metadata.brokers().containsKey(metadata.controllerId())) {
            return metadata.controllerId();
        }
        if (metadata.brokers().isEmpty()) {
            throw new KafkaClientException(Errors.BROKER_NOT_AVAILABLE, "the cluster reports no brokers");
        }
        return metadata.brokers().keySet().iterator().next();
    }

    private static int brokerId(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("broker '" + name + "' is not a broker id");
        }
    }

    private int timeoutMs() {
        return Math.toIntExact(Math.min(Integer.MAX_VALUE, client.requestTimeout().toMillis()));
    }

    /** Why Metadata did not describe {@code topic}: most often it does not exist. */
    private static KafkaClientException topicError(String topic, ClusterMetadata metadata) {
        String name = metadata.topicErrors().getOrDefault(topic, Errors.UNKNOWN_TOPIC_OR_PARTITION.name());
        Errors error = errorNamed(name);
        if (error == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
            return new UnknownTopicException(topic);
        }
        return new KafkaClientException(error, "topic '" + topic + "': " + name);
    }

    static Errors errorNamed(String name) {
        try {
            return Errors.valueOf(name);
        } catch (IllegalArgumentException e) {
            return Errors.UNKNOWN_SERVER_ERROR;
        }
    }
}
