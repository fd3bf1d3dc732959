package io.tandem.server.cli;

import io.tandem.kafka.client.ClusterMetadata;
import io.tandem.kafka.client.ConfigEntry;
import io.tandem.kafka.client.ConfigResource;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaUuids;
import io.tandem.kafka.client.PartitionInfo;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.wire.Errors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tandem topics}: Kafka topics over the wire, with kafka-topics.sh's flag names. */
@Command(name = "topics", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "List, describe, create, delete and alter Kafka topics (any Kafka broker).",
        subcommands = {TopicsCommand.ListTopics.class, TopicsCommand.Describe.class, TopicsCommand.Create.class,
                TopicsCommand.Delete.class, TopicsCommand.Alter.class, TopicsCommand.AddPartitions.class})
public final class TopicsCommand extends ParentCommand {

    /**
     * The topics whose whole name matches {@code include} read as kafka-topics.sh reads --topic (Kafka's IncludeList:
     * commas become alternatives, surrounding quotes and spaces are dropped), in name order.
     */
    static List<TopicInfo> matching(ClusterMetadata metadata, String include) {
        String regex = include.trim().replace(',', '|').replace(" ", "").replaceAll("^[\"']+", "")
                .replaceAll("[\"']+$", "");
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("--topic '" + include + "' is neither a topic nor a regular"
                    + " expression: " + e.getDescription());
        }
        return metadata.topics().values().stream().filter(t -> pattern.matcher(t.name()).matches())
                .sorted(Comparator.comparing(TopicInfo::name)).toList();
    }

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "List topics with their partition count and replication factor.")
    static final class ListTopics extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;

        @Option(names = "--exclude-internal", description = "Leave out internal topics such as __consumer_offsets.")
        boolean excludeInternal;

        @Option(names = "--topic", paramLabel = "REGEX",
                description = "Only the topics whose whole name matches (kafka-topics.sh's include list).")
        String include;

        @Override
        protected int execute() {
            try (KafkaClient client = kafka.connect()) {
                ClusterMetadata metadata = client.metadata(null);
                List<TopicInfo> topics = (include == null ? metadata.topics().values().stream().toList()
                        : matching(metadata, include)).stream()
                        .filter(t -> !(excludeInternal && t.internal())).toList();
                if (output.json()) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (TopicInfo topic : topics) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("name", topic.name());
                        row.put("topicId", KafkaUuids.format(topic.topicId()));
                        row.put("internal", topic.internal());
                        row.put("partitions", topic.partitions().size());
                        row.put("replicationFactor", replicationFactor(topic));
                        rows.add(row);
                    }
                    Json.print(out(), rows);
                } else {
                    Table table = new Table("TOPIC", "PARTITIONS", "REPLICATION-FACTOR");
                    for (TopicInfo topic : topics) {
                        table.row(topic.name(), topic.partitions().size(), replicationFactor(topic));
                    }
                    table.print(out());
                }
                return ExitCodes.OK;
            }
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Partitions (leader, replicas, ISR) and config overrides of one topic, or of all.")
    static final class Describe extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;
        @Mixin TopicName topicName;

        @Option(names = "--all-configs", description = "Show every config, not only the topic's overrides.")
        boolean allConfigs;

        @Option(names = "--exclude-internal", description = "Without a topic: leave out internal topics.")
        boolean excludeInternal;

        @Mixin PartitionReport report;

        @Option(names = "--topics-with-overrides",
                description = "Only topics with config overrides, without their partitions.")
        boolean withOverrides;

        @Override
        protected int execute() {
            if (withOverrides && report.any()) {
                // Kafka's TopicCommand refuses the same pair: one shows topics, the others partitions.
                throw new IllegalArgumentException("--topics-with-overrides cannot be combined with a partition"
                        + " report (--under-replicated-partitions, --unavailable-partitions,"
                        + " --under-min-isr-partitions, --at-min-isr-partitions)");
            }
            try (KafkaClient client = kafka.connect()) {
                KafkaAdmin admin = new KafkaAdmin(client);
                String topic = topicName.orNull();
                ClusterMetadata metadata = client.metadata(null);
                // A topic of that name is described alone; otherwise the name is kafka-topics.sh's regular
                // expression over every topic, and a list is described; matching nothing, the name's own error.
                List<TopicInfo> matched = topic == null || metadata.topics().containsKey(topic) ? List.of()
                        : matching(metadata, topic).stream().filter(t -> !(excludeInternal && t.internal())).toList();
                boolean one = topic != null && matched.isEmpty();
                List<TopicInfo> topics = one ? List.of(describeNamed(admin, topic))
                        : topic != null ? matched
                        : metadata.topics().values().stream()
                        .filter(t -> !(excludeInternal && t.internal())).toList();
                if (report.any()) {
                    // The live brokers are those a Metadata answer lists, as the Admin's describeCluster reads them.
                    Set<Integer> live = metadata.brokers().keySet();
                    return printReport(admin, topics, live);
                }
                List<TopicInfo> shown = new ArrayList<>();
                List<Map<String, Object>> described = new ArrayList<>();
                for (TopicInfo info : topics) {
                    Map<String, String> configs = configs(admin, info.name());
                    if (withOverrides && (allConfigs ? overrides(admin, info.name()) : configs).isEmpty()) {
                        continue;
                    }
                    Map<String, Object> topicJson = describe(info, configs);
                    if (withOverrides) {
                        topicJson.remove("partitions");
                    }
                    shown.add(info);
                    described.add(topicJson);
                }
                if (output.json()) {
                    Json.print(out(), one && !withOverrides ? described.get(0) : described);
                } else {
                    for (int i = 0; i < shown.size(); i++) {
                        if (i > 0 && !withOverrides) {
                            out().println();
                        }
                        print(shown.get(i), described.get(i), !withOverrides);
                    }
                }
                return ExitCodes.OK;
            }
        }

        /**
         * The one topic of that name; a name the broker finds invalid (INVALID_TOPIC_EXCEPTION) was a pattern that
         * matched nothing, and is reported so.
         */
        private static TopicInfo describeNamed(KafkaAdmin admin, String topic) {
            try {
                return admin.describeTopic(topic);
            } catch (KafkaClientException e) {
                if (e.error() == Errors.INVALID_TOPIC_EXCEPTION) {
                    throw new CliException(ExitCodes.ERROR, "no topic matches --topic '" + topic + "'");
                }
                throw e;
            }
        }

        /** The partitions the asked reports select, in one table (or JSON list) across topics; nothing if none. */
        private int printReport(KafkaAdmin admin, List<TopicInfo> topics, Set<Integer> liveBrokers) {
            List<Map<String, Object>> rows = new ArrayList<>();
            Table table = new Table("TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "OFFLINE");
            for (TopicInfo info : topics) {
                int minIsr = report.needsMinIsr() ? minInSyncReplicas(admin, info.name()) : 0;
                List<PartitionInfo> partitions = new ArrayList<>(info.partitions());
                partitions.sort(Comparator.comparingInt(PartitionInfo::partition));
                for (PartitionInfo p : partitions) {
                    if (!report.shows(p, liveBrokers, minIsr)) {
                        continue;
                    }
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("topic", info.name());
                    row.putAll(partitionJson(p));
                    rows.add(row);
                    table.row(info.name(), p.partition(), p.leader() < 0 ? "none" : p.leader(), ids(p.replicas()),
                            ids(p.isr()), p.offlineReplicas().isEmpty() ? "" : ids(p.offlineReplicas()));
                }
            }
            if (output.json()) {
                Json.print(out(), rows);
            } else if (!rows.isEmpty()) {
                // Like kafka-topics.sh, nothing at all when no partition matches, so scripts can count lines.
                table.print(out());
            }
            return ExitCodes.OK;
        }

        private static int minInSyncReplicas(KafkaAdmin admin, String topic) {
            for (ConfigEntry entry : admin.describeConfigs(ConfigResource.TOPIC, topic)) {
                if (entry.name().equals(PartitionReport.MIN_IN_SYNC_REPLICAS)) {
                    try {
                        return Integer.parseInt(entry.value());
                    } catch (NumberFormatException e) {
                        break;
                    }
                }
            }
            throw new CliException(ExitCodes.ERROR, "the broker gave no numeric " + PartitionReport.MIN_IN_SYNC_REPLICAS
                    + " for topic " + topic);
        }

        private static Map<String, String> overrides(KafkaAdmin admin, String topic) {
            Map<String, String> overrides = new LinkedHashMap<>();
            for (ConfigEntry entry : admin.describeConfigs(ConfigResource.TOPIC, topic)) {
                if (entry.isOverride(ConfigResource.TOPIC)) {
                    overrides.put(entry.name(), entry.value());
                }
            }
            return overrides;
        }

        private Map<String, String> configs(KafkaAdmin admin, String topic) {
            Map<String, String> configs = new LinkedHashMap<>();
            for (ConfigEntry entry : admin.describeConfigs(ConfigResource.TOPIC, topic)) {
                if (allConfigs || entry.isOverride(ConfigResource.TOPIC)) {
                    configs.put(entry.name(), entry.sensitive() ? "(sensitive)" : entry.value());
                }
            }
            return configs;
        }

        private static Map<String, Object> describe(TopicInfo info, Map<String, String> configs) {
            Map<String, Object> topic = new LinkedHashMap<>();
            topic.put("name", info.name());
            topic.put("topicId", KafkaUuids.format(info.topicId()));
            topic.put("internal", info.internal());
            topic.put("partitionCount", info.partitions().size());
            topic.put("replicationFactor", replicationFactor(info));
            topic.put("configs", configs);
            List<Map<String, Object>> partitions = new ArrayList<>();
            for (PartitionInfo p : info.partitions()) {
                partitions.add(partitionJson(p));
            }
            topic.put("partitions", partitions);
            return topic;
        }

        private static Map<String, Object> partitionJson(PartitionInfo p) {
            Map<String, Object> partition = new LinkedHashMap<>();
            partition.put("partition", p.partition());
            partition.put("leader", p.leader());
            partition.put("leaderEpoch", p.leaderEpoch());
            partition.put("replicas", p.replicas());
            partition.put("isr", p.isr());
            partition.put("offlineReplicas", p.offlineReplicas());
            if (p.error() != null) {
                partition.put("error", p.error());
            }
            return partition;
        }

        private void print(TopicInfo info, Map<String, Object> described, boolean withPartitions) {
            @SuppressWarnings("unchecked")
            Map<String, String> configs = (Map<String, String>) described.get("configs");
            UUID id = info.topicId();
            out().println("Topic: " + info.name() + "\tTopicId: " + (id == null ? "-" : KafkaUuids.format(id))
                    + "\tPartitionCount: "
                    + info.partitions().size() + "\tReplicationFactor: " + replicationFactor(info) + "\tConfigs: "
                    + configs.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(",")));
            if (!withPartitions) {
                return;
            }
            Table table = new Table("PARTITION", "LEADER", "REPLICAS", "ISR", "OFFLINE");
            for (PartitionInfo p : info.partitions()) {
                table.row(p.partition(), p.leader() < 0 ? "none" : p.leader(), ids(p.replicas()), ids(p.isr()),
                        p.offlineReplicas().isEmpty() ? "" : ids(p.offlineReplicas()));
            }
            table.print(out());
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Create a topic; partitions and replication factor default to the broker's settings.")
    static final class Create extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin TopicName topicName;

        @Option(names = "--partitions", paramLabel = "N", description = "Partition count (default: the broker's).")
        Integer partitions;

        @Option(names = "--replication-factor", paramLabel = "N",
                description = "Replicas per partition (default: the broker's).")
        Short replicationFactor;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A topic config; may be repeated.")
        Map<String, String> configs = new LinkedHashMap<>();

        @Option(names = "--if-not-exists", description = "Succeed without change if the topic already exists.")
        boolean ifNotExists;

        @Option(names = "--validate-only", description = "Ask the broker to check the request without creating.")
        boolean validateOnly;

        @Option(names = "--replica-assignment", paramLabel = "B1:B2,B1:B2,...",
                description = "The broker ids of each partition's replicas, partitions separated by commas, the"
                        + " preferred leader first (instead of --partitions and --replication-factor).")
        String replicaAssignment;

        @Override
        protected int execute() {
            String topic = topicName.required();
            Map<Integer, List<Integer>> assignment = replicaAssignment == null ? Map.of()
                    : parseReplicaAssignment(replicaAssignment);
            // kafka-topics.sh's refusals (jopt-simple's words).
            if (replicaAssignment != null && partitions != null) {
                throw new IllegalArgumentException("Option \"[replica-assignment]\" can't be used with option"
                        + " \"[partitions]\"");
            }
            if (replicaAssignment != null && replicationFactor != null) {
                throw new IllegalArgumentException("Option \"[replica-assignment]\" can't be used with option"
                        + " \"[replication-factor]\"");
            }
            if (partitions != null && partitions <= 0) {
                throw new IllegalArgumentException("--partitions must be at least 1");
            }
            if (replicationFactor != null && replicationFactor <= 0) {
                throw new IllegalArgumentException("--replication-factor must be at least 1");
            }
            try (KafkaClient client = kafka.connect()) {
                try {
                    new KafkaAdmin(client).createTopic(topic, partitions == null ? -1 : partitions,
                            replicationFactor == null ? -1 : replicationFactor, assignment, configs, validateOnly);
                } catch (KafkaClientException e) {
                    if (ifNotExists && e.error() == Errors.TOPIC_ALREADY_EXISTS) {
                        return ExitCodes.OK;
                    }
                    throw e;
                }
                out().println(validateOnly ? "Topic " + topic + " can be created." : "Created topic " + topic + ".");
                return ExitCodes.OK;
            }
        }

        /**
         * kafka-topics.sh's --replica-assignment: partition i's broker ids are the i-th comma-separated entry, split
         * on ':'; Kafka's refusals for a duplicate broker and for partitions of different replica counts.
         */
        static Map<Integer, List<Integer>> parseReplicaAssignment(String text) {
            Map<Integer, List<Integer>> assignment = new LinkedHashMap<>();
            String[] partitionList = text.split(",");
            for (int i = 0; i < partitionList.length; i++) {
                List<Integer> brokers = new ArrayList<>();
                for (String id : partitionList[i].split(":")) {
                    try {
                        brokers.add(Integer.parseInt(id.trim()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--replica-assignment: '" + id.trim()
                                + "' is not a broker id");
                    }
                }
                List<Integer> duplicates = brokers.stream().filter(b -> brokers.indexOf(b) != brokers.lastIndexOf(b))
                        .distinct().toList();
                if (!duplicates.isEmpty()) {
                    throw new IllegalArgumentException("Partition replica lists may not contain duplicate entries: "
                            + duplicates.stream().map(String::valueOf).collect(Collectors.joining(",")));
                }
                if (i > 0 && brokers.size() != assignment.get(0).size()) {
                    throw new IllegalArgumentException("Partition " + i + " has different replication factor: "
                            + brokers);
                }
                assignment.put(i, brokers);
            }
            return assignment;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Delete a topic.")
    static final class Delete extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin TopicName topicName;

        @Option(names = "--if-exists", description = "Succeed without change if the topic does not exist.")
        boolean ifExists;

        @Override
        protected int execute() {
            String topic = topicName.required();
            try (KafkaClient client = kafka.connect()) {
                KafkaAdmin admin = new KafkaAdmin(client);
                try {
                    // Asked first so that a missing topic gets the same clear answer from every broker version.
                    admin.describeTopic(topic);
                    admin.deleteTopic(topic);
                } catch (KafkaClientException e) {
                    if (ifExists && e.error() == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                        return ExitCodes.OK;
                    }
                    throw e;
                }
                out().println("Deleted topic " + topic + ".");
                return ExitCodes.OK;
            }
        }
    }

    @Command(name = "alter", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Set or remove topic configs, and/or raise the partition count.")
    static final class Alter extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin TopicName topicName;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A config to set; may be repeated.")
        Map<String, String> set = new LinkedHashMap<>();

        @Option(names = "--delete-config", paramLabel = "KEY", description = "A config to remove; may be repeated.")
        List<String> delete = new ArrayList<>();

        @Option(names = "--partitions", paramLabel = "N", description = "The new (higher) partition count.")
        Integer partitions;

        @Override
        protected int execute() {
            String topic = topicName.required();
            if (set.isEmpty() && delete.isEmpty() && partitions == null) {
                throw new IllegalArgumentException("nothing to change: give --config, --delete-config or --partitions");
            }
            try (KafkaClient client = kafka.connect()) {
                KafkaAdmin admin = new KafkaAdmin(client);
                admin.describeTopic(topic);
                if (!set.isEmpty() || !delete.isEmpty()) {
                    admin.alterConfigs(ConfigResource.TOPIC, topic, set, delete);
                    out().println("Updated configs of topic " + topic + ".");
                }
                if (partitions != null) {
                    AddPartitions.add(admin, topic, partitions);
                    out().println("Topic " + topic + " now has " + partitions + " partitions.");
                }
                return ExitCodes.OK;
            }
        }
    }

    @Command(name = "add-partitions", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Raise a topic's partition count to --partitions N.")
    static final class AddPartitions extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin TopicName topicName;

        @Option(names = "--partitions", paramLabel = "N", required = true, description = "The new partition count.")
        int partitions;

        @Override
        protected int execute() {
            String topic = topicName.required();
            try (KafkaClient client = kafka.connect()) {
                add(new KafkaAdmin(client), topic, partitions);
                out().println("Topic " + topic + " now has " + partitions + " partitions.");
                return ExitCodes.OK;
            }
        }

        static void add(KafkaAdmin admin, String topic, int partitions) {
            int current = admin.describeTopic(topic).partitions().size();
            if (partitions <= current) {
                throw new CliException(ExitCodes.ERROR, "topic " + topic + " has " + current
                        + " partitions; the count can only grow (asked for " + partitions + ")");
            }
            admin.createPartitions(topic, partitions);
        }
    }

    static int replicationFactor(TopicInfo topic) {
        return topic.partitions().isEmpty() ? 0 : topic.partitions().get(0).replicas().size();
    }

    static String ids(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
