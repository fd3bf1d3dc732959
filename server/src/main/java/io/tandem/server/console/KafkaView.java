package io.tandem.server.console;

import io.tandem.kafka.client.Broker;
import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.client.ClusterMetadata;
import io.tandem.kafka.client.ConfigEntry;
import io.tandem.kafka.client.ConfigResource;
import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupDescription;
import io.tandem.kafka.client.GroupListing;
import io.tandem.kafka.client.GroupMember;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.kafka.client.KafkaUuids;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.PartitionInfo;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.client.TopicPartition;
import io.tandem.kafka.wire.Errors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The Kafka pages' answers, read over the Kafka protocol with kafka-wire's client exactly as {@code tandem topics} and
 * {@code tandem groups} read them: Metadata for brokers, partitions, leaders and ISR; ListOffsets for log start and high
 * watermark; DescribeGroups and OffsetFetch for groups and their lag. The client is not thread-safe, so requests take
 * turns on one lock; a client whose broker went away is closed and the next request connects afresh.
 */
final class KafkaView implements AutoCloseable {
    private final String bootstrapServers;
    private final ClientSecurity security;
    private final ReentrantLock lock = new ReentrantLock();
    private KafkaClient client;

    KafkaView(String bootstrapServers, ClientSecurity security) {
        this.bootstrapServers = bootstrapServers;
        this.security = security;
    }

    /** Runs {@code work} on the shared client; a network failure drops the client and answers 502. */
    <T> T withClient(Function<KafkaClient, T> work) {
        lock.lock();
        try {
            if (client == null) {
                client = KafkaClient.builder(bootstrapServers).clientId("tandem-console")
                        .requestTimeout(Duration.ofMillis(ConsoleLimits.REQUEST_TIMEOUT_MS)).security(security).build();
            }
            try {
                return work.apply(client);
            } catch (KafkaNetworkException e) {
                client.close();
                client = null;
                throw new ApiError(502, "Kafka at " + bootstrapServers + " cannot be reached: " + e.getMessage());
            } catch (KafkaClientException e) {
                if (e.error() == Errors.UNKNOWN_TOPIC_OR_PARTITION || e.error() == Errors.GROUP_ID_NOT_FOUND) {
                    throw ApiError.notFound(e.getMessage());
                }
                if (e.error() == null) {
                    client.close();
                    client = null;
                }
                throw new ApiError(502, e.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    /** The cluster: id, controller, brokers, and partition health counts. */
    Map<String, Object> cluster() {
        return withClient(c -> {
            ClusterMetadata metadata = c.metadata(null);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("bootstrapServers", bootstrapServers);
            json.put("clusterId", metadata.clusterId());
            json.put("controllerId", metadata.controllerId());
            List<Map<String, Object>> brokers = new ArrayList<>();
            Map<Integer, Integer> leaders = new HashMap<>();
            int partitions = 0;
            int underReplicated = 0;
            int offline = 0;
            for (TopicInfo topic : metadata.topics().values()) {
                for (PartitionInfo p : topic.partitions()) {
                    partitions++;
                    if (p.isr().size() < p.replicas().size()) underReplicated++;
                    if (p.leader() < 0) offline++;
                    else leaders.merge(p.leader(), 1, Integer::sum);
                }
            }
            for (Broker broker : metadata.brokers().values()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", broker.id());
                row.put("host", broker.host());
                row.put("port", broker.port());
                row.put("rack", broker.rack());
                row.put("controller", broker.id() == metadata.controllerId());
                row.put("leaderPartitions", leaders.getOrDefault(broker.id(), 0));
                brokers.add(row);
            }
            json.put("brokers", brokers);
            json.put("topics", metadata.topics().size());
            json.put("partitions", partitions);
            json.put("underReplicatedPartitions", underReplicated);
            json.put("offlinePartitions", offline);
            return json;
        });
    }

    /**
     * Topics in name order (the first {@link ConsoleLimits#LIST_ROWS_MAX}, with the total) with partition count,
     * replication factor, health and message count (high watermark - log start).
     */
    Map<String, Object> topics() {
        return withClient(c -> {
            ClusterMetadata metadata = c.metadata(null);
            List<TopicInfo> shown = metadata.topics().values().stream().limit(ConsoleLimits.LIST_ROWS_MAX).toList();
            List<TopicPartition> all = new ArrayList<>();
            for (TopicInfo topic : shown) {
                for (PartitionInfo p : topic.partitions()) {
                    if (p.leader() >= 0) all.add(new TopicPartition(topic.name(), p.partition()));
                }
            }
            KafkaAdmin admin = new KafkaAdmin(c);
            Map<TopicPartition, Long> starts = all.isEmpty() ? Map.of() : admin.listOffsets(all, OffsetSpec.EARLIEST);
            Map<TopicPartition, Long> ends = all.isEmpty() ? Map.of() : admin.listOffsets(all, OffsetSpec.LATEST);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (TopicInfo topic : shown) {
                long messages = 0;
                int underReplicated = 0;
                for (PartitionInfo p : topic.partitions()) {
                    TopicPartition tp = new TopicPartition(topic.name(), p.partition());
                    if (starts.containsKey(tp) && ends.containsKey(tp)) messages += ends.get(tp) - starts.get(tp);
                    if (p.isr().size() < p.replicas().size() || p.leader() < 0) underReplicated++;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", topic.name());
                row.put("internal", topic.internal());
                row.put("partitions", topic.partitions().size());
                row.put("replicationFactor", topic.partitions().isEmpty() ? 0
                        : topic.partitions().get(0).replicas().size());
                row.put("underReplicatedPartitions", underReplicated);
                row.put("messages", messages);
                rows.add(row);
            }
            return listing("topics", rows, metadata.topics().size());
        });
    }

    /** One topic: id, config overrides, and per partition leader, replicas, ISR, log start and high watermark. */
    Map<String, Object> topic(String name) {
        return withClient(c -> {
            KafkaAdmin admin = new KafkaAdmin(c);
            TopicInfo info = admin.describeTopic(name);
            List<TopicPartition> led = new ArrayList<>();
            for (PartitionInfo p : info.partitions()) {
                if (p.leader() >= 0) led.add(new TopicPartition(name, p.partition()));
            }
            Map<TopicPartition, Long> starts = led.isEmpty() ? Map.of() : admin.listOffsets(led, OffsetSpec.EARLIEST);
            Map<TopicPartition, Long> ends = led.isEmpty() ? Map.of() : admin.listOffsets(led, OffsetSpec.LATEST);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", info.name());
            json.put("topicId", info.topicId() == null ? null : KafkaUuids.format(info.topicId()));
            json.put("internal", info.internal());
            Map<String, String> configs = new LinkedHashMap<>();
            for (ConfigEntry entry : admin.describeConfigs(ConfigResource.TOPIC, name)) {
                if (entry.isOverride(ConfigResource.TOPIC)) {
                    configs.put(entry.name(), entry.sensitive() ? "(sensitive)" : entry.value());
                }
            }
            json.put("configs", configs);
            List<Map<String, Object>> partitions = new ArrayList<>();
            for (PartitionInfo p : info.partitions()) {
                TopicPartition tp = new TopicPartition(name, p.partition());
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("partition", p.partition());
                row.put("leader", p.leader());
                row.put("leaderEpoch", p.leaderEpoch());
                row.put("replicas", p.replicas());
                row.put("isr", p.isr());
                row.put("offlineReplicas", p.offlineReplicas());
                row.put("logStartOffset", starts.get(tp));
                row.put("highWatermark", ends.get(tp));
                row.put("error", p.error());
                partitions.add(row);
            }
            json.put("partitions", partitions);
            return json;
        });
    }

    /** Consumer groups in id order (the first {@link ConsoleLimits#LIST_ROWS_MAX}, with the total) and their state. */
    Map<String, Object> groups() {
        return withClient(c -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (GroupListing group : new GroupAdmin(c).listGroups()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("groupId", group.groupId());
                row.put("state", group.state());
                row.put("protocolType", group.protocolType());
                rows.add(row);
            }
            rows.sort((a, b) -> ((String) a.get("groupId")).compareTo((String) b.get("groupId")));
            int total = rows.size();
            return listing("groups", rows.subList(0, Math.min(total, ConsoleLimits.LIST_ROWS_MAX)), total);
        });
    }

    /**
     * One group: state, members, and per partition the committed offset, log end offset and lag, as
     * {@code kafka-consumer-groups.sh --describe} shows them.
     */
    Map<String, Object> group(String groupId) {
        return withClient(c -> {
            GroupAdmin groups = new GroupAdmin(c);
            GroupDescription description = groups.describeGroup(groupId);
            Map<TopicPartition, Long> committed = groups.committedOffsets(groupId);
            Map<TopicPartition, GroupMember> owners = new HashMap<>();
            List<Map<String, Object>> members = new ArrayList<>();
            for (GroupMember member : description.members()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("memberId", member.memberId());
                row.put("groupInstanceId", member.groupInstanceId());
                row.put("clientId", member.clientId());
                row.put("host", member.clientHost());
                row.put("assignment", member.assignment().stream().map(TopicPartition::toString).toList());
                members.add(row);
                for (TopicPartition tp : member.assignment()) owners.put(tp, member);
            }
            TreeSet<TopicPartition> partitions = new TreeSet<>(committed.keySet());
            partitions.addAll(owners.keySet());
            Map<TopicPartition, Long> ends = partitions.isEmpty() ? Map.of()
                    : new KafkaAdmin(c).listOffsets(partitions, OffsetSpec.LATEST);
            List<Map<String, Object>> rows = new ArrayList<>();
            long totalLag = 0;
            for (TopicPartition tp : partitions) {
                Long current = committed.get(tp);
                Long end = ends.get(tp);
                Long lag = current == null || end == null ? null : Math.max(0, end - current);
                if (lag != null) totalLag += lag;
                GroupMember owner = owners.get(tp);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("topic", tp.topic());
                row.put("partition", tp.partition());
                row.put("currentOffset", current);
                row.put("logEndOffset", end);
                row.put("lag", lag);
                row.put("consumerId", owner == null ? null : owner.memberId());
                row.put("clientId", owner == null ? null : owner.clientId());
                row.put("host", owner == null ? null : owner.clientHost());
                rows.add(row);
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("groupId", description.groupId());
            json.put("state", description.state());
            json.put("protocolType", description.protocolType());
            json.put("protocol", description.protocol());
            json.put("coordinator", description.coordinator());
            json.put("members", members);
            json.put("partitions", rows);
            json.put("totalLag", totalLag);
            return json;
        });
    }

    private static Map<String, Object> listing(String name, List<Map<String, Object>> rows, int total) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(name, rows);
        json.put("total", total);
        return json;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (client != null) {
                client.close();
                client = null;
            }
        } finally {
            lock.unlock();
        }
    }
}
