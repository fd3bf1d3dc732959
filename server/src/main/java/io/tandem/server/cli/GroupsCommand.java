package io.tandem.server.cli;

import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupDescription;
import io.tandem.kafka.client.GroupListing;
import io.tandem.kafka.client.GroupMember;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tandem groups}: consumer groups over the wire, with kafka-consumer-groups.sh's flags and columns. */
@Command(name = "groups", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "List, describe (with lag), reset offsets of, and delete Kafka consumer groups.",
        subcommands = {GroupsCommand.ListGroups.class, GroupsCommand.Describe.class, GroupsCommand.ResetOffsets.class,
                GroupsCommand.Delete.class})
public final class GroupsCommand extends ParentCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "List every group with its state.")
    static final class ListGroups extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;

        @Override
        protected int execute() {
            try (KafkaClient client = kafka.connect()) {
                List<GroupListing> groups = new GroupAdmin(client).listGroups();
                if (output.json()) {
                    Json.print(out(), groups);
                } else {
                    Table table = new Table("GROUP", "STATE", "PROTOCOL-TYPE");
                    for (GroupListing group : groups) {
                        table.row(group.groupId(), group.state(), group.protocolType().isEmpty() ? "-"
                                : group.protocolType());
                    }
                    table.print(out());
                }
                return ExitCodes.OK;
            }
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Committed offset, log end offset and lag per partition, with the member reading it"
                    + " (or --members, --state).")
    static final class Describe extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;

        @Option(names = "--group", paramLabel = "GROUP", description = "The group; may be repeated.")
        List<String> groupIds = new ArrayList<>();

        @Option(names = "--all-groups", description = "Every consumer group (as kafka-consumer-groups.sh's).")
        boolean allGroups;

        @Option(names = "--members", description = "One row per member with its assigned partitions.")
        boolean members;

        @Option(names = "--state", description = "The group's coordinator, state and member count.")
        boolean state;

        @Override
        protected int execute() {
            if (members && state) {
                throw new IllegalArgumentException("give --members or --state, not both");
            }
            if (groupIds.isEmpty() == !allGroups) {
                throw new IllegalArgumentException("give --group or --all-groups (one of them)");
            }
            try (KafkaClient client = kafka.connect()) {
                GroupAdmin groups = new GroupAdmin(client);
                List<String> names = allGroups ? consumerGroups(groups) : groupIds;
                // One group asked for by name answers one JSON object, as before; several, or all, a list.
                boolean oneObject = !allGroups && names.size() == 1;
                List<Object> json = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    if (i > 0 && !output.json()) {
                        out().println();
                    }
                    GroupDescription description = groups.describeGroup(names.get(i));
                    if (state) {
                        printState(client, description, json);
                    } else if (members) {
                        printMembers(description, json);
                    } else {
                        printOffsets(client, groups, description, json);
                    }
                }
                if (output.json()) {
                    Json.print(out(), oneObject ? json.get(0) : json);
                }
                return ExitCodes.OK;
            }
        }

        /** The consumer groups (classic or KIP-848; those with only committed offsets too), by name. */
        private static List<String> consumerGroups(GroupAdmin groups) {
            return groups.listGroups().stream()
                    .filter(g -> g.protocolType().isEmpty() || g.protocolType().equals("consumer"))
                    .map(GroupListing::groupId).sorted().toList();
        }

        private void printState(KafkaClient client, GroupDescription description, List<Object> jsonOut) {
            var coordinator = client.brokers().get(description.coordinator());
            String where = (coordinator == null ? "?" : coordinator.hostPort()) + " (" + description.coordinator()
                    + ")";
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("group", description.groupId());
                json.put("coordinator", description.coordinator());
                json.put("coordinatorAddress", coordinator == null ? null : coordinator.hostPort());
                json.put("state", description.state());
                json.put("protocolType", description.protocolType());
                json.put("assignmentStrategy", description.protocol());
                json.put("members", description.members().size());
                jsonOut.add(json);
                return;
            }
            new Table("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
                    .row(description.groupId(), where, description.protocol().isEmpty() ? "-"
                            : description.protocol(), description.state(), description.members().size())
                    .print(out());
        }

        private void printMembers(GroupDescription description, List<Object> jsonOut) {
            if (output.json()) {
                jsonOut.add(description.members());
                return;
            }
            Table table = new Table("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT");
            for (GroupMember member : description.members()) {
                table.row(description.groupId(), member.memberId(), member.clientHost(), member.clientId(),
                        member.assignment().size(), member.assignment().stream().map(TopicPartition::toString)
                                .reduce((a, b) -> a + "," + b).orElse("-"));
            }
            table.print(out());
            noActiveMembers(description);
        }

        private void printOffsets(KafkaClient client, GroupAdmin groups, GroupDescription description,
                                  List<Object> jsonOut) {
            String group = description.groupId();
            Map<TopicPartition, Long> committed = groups.committedOffsets(group);
            Map<TopicPartition, GroupMember> owners = new HashMap<>();
            for (GroupMember member : description.members()) {
                for (TopicPartition tp : member.assignment()) {
                    owners.put(tp, member);
                }
            }
            TreeSet<TopicPartition> partitions = new TreeSet<>(committed.keySet());
            partitions.addAll(owners.keySet());
            Map<TopicPartition, Long> ends = partitions.isEmpty() ? Map.of()
                    : new KafkaAdmin(client).listOffsets(partitions, OffsetSpec.LATEST);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                Long current = committed.get(tp);
                Long end = ends.get(tp);
                GroupMember owner = owners.get(tp);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("group", group);
                row.put("topic", tp.topic());
                row.put("partition", tp.partition());
                row.put("currentOffset", current);
                row.put("logEndOffset", end);
                row.put("lag", current == null || end == null ? null : Math.max(0, end - current));
                row.put("consumerId", owner == null ? null : owner.memberId());
                row.put("host", owner == null ? null : owner.clientHost());
                row.put("clientId", owner == null ? null : owner.clientId());
                rows.add(row);
            }
            if (output.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("group", group);
                json.put("state", description.state());
                json.put("partitions", rows);
                jsonOut.add(json);
                return;
            }
            Table table = new Table("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                    "CONSUMER-ID", "HOST", "CLIENT-ID");
            for (Map<String, Object> row : rows) {
                table.row(row.values().toArray());
            }
            table.print(out());
            noActiveMembers(description);
        }

        private void noActiveMembers(GroupDescription description) {
            if (description.members().isEmpty()) {
                err().println("Consumer group '" + description.groupId() + "' has no active members.");
            }
        }
    }

    @Command(name = "reset-offsets", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = {"Move a group's committed offsets; prints the plan, and applies it only with --execute.",
                    "The group must have no active members (as with kafka-consumer-groups.sh)."})
    static final class ResetOffsets extends CliCommand {
        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;

        @Option(names = "--group", paramLabel = "GROUP", required = true, description = "The group.")
        String group;

        @Option(names = "--topic", paramLabel = "TOPIC[:P,P...]",
                description = "A topic (all its partitions, or the listed ones); may be repeated.")
        List<String> topics = new ArrayList<>();

        @Option(names = "--all-topics", description = "Every topic the group has committed offsets for.")
        boolean allTopics;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Option(names = "--to-earliest", required = true, description = "To the log start offset.")
            boolean earliest;

            @Option(names = "--to-latest", required = true, description = "To the log end offset.")
            boolean latest;

            @Option(names = "--to-offset", required = true, paramLabel = "OFFSET",
                    description = "To this offset (kept within the log's bounds).")
            Long offset;

            @Option(names = "--shift-by", required = true, paramLabel = "N",
                    description = "By N (negative: back) from the committed offset, within the log's bounds.")
            Long shiftBy;

            @Option(names = "--to-datetime", required = true, paramLabel = "TIME",
                    description = {"To the first record at or after TIME: ISO-8601 as Kafka's tool takes it",
                            "(2024-05-01T10:00:00.000, local time without a zone; or with Z or +02:00), or epoch ms."})
            String datetime;

            @Option(names = "--by-duration", required = true, paramLabel = "DURATION",
                    description = "To the first record at or after now minus DURATION (ISO-8601: PT30M, P1DT2H).")
            String duration;

            @Option(names = "--to-current", required = true,
                    description = "To the committed offset; the log end offset where none is committed.")
            boolean current;
        }

        @Option(names = "--execute", description = "Apply the new offsets (without it, only show them).")
        boolean execute;

        @Option(names = "--dry-run", description = "Only show the new offsets (the default).")
        boolean dryRun;

        @Override
        protected int execute() {
            if (execute && dryRun) {
                throw new IllegalArgumentException("give --execute or --dry-run, not both");
            }
            if (topics.isEmpty() == !allTopics) {
                throw new IllegalArgumentException("give --topic or --all-topics (one of them)");
            }
            try (KafkaClient client = kafka.connect()) {
                KafkaAdmin admin = new KafkaAdmin(client);
                GroupAdmin groups = new GroupAdmin(client);
                requireInactive(groups);
                Map<TopicPartition, Long> committed = groups.committedOffsets(group);
                List<TopicPartition> partitions = partitions(admin, committed);
                Map<TopicPartition, Long> plan = plan(admin, partitions, committed);
                if (execute) {
                    groups.commitOffsets(group, plan);
                }
                print(plan);
                return ExitCodes.OK;
            }
        }

        private void requireInactive(GroupAdmin groups) {
            try {
                GroupDescription description = groups.describeGroup(group);
                if (!description.members().isEmpty()) {
                    throw new CliException(ExitCodes.ERROR, "offsets can only be reset while group '" + group
                            + "' is inactive, but its state is " + description.state() + " with "
                            + description.members().size() + " member(s)");
                }
            } catch (io.tandem.kafka.client.KafkaClientException e) {
                if (e.error() != io.tandem.kafka.wire.Errors.GROUP_ID_NOT_FOUND) {
                    throw e;
                }
            }
        }

        private List<TopicPartition> partitions(KafkaAdmin admin, Map<TopicPartition, Long> committed) {
            if (allTopics) {
                if (committed.isEmpty()) {
                    throw new CliException(ExitCodes.ERROR, "group '" + group + "' has no committed offsets; name"
                            + " the topics with --topic");
                }
                return new ArrayList<>(committed.keySet());
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (String spec : topics) {
                int colon = spec.indexOf(':');
                String topic = colon < 0 ? spec : spec.substring(0, colon);
                var info = admin.describeTopic(topic);
                if (colon < 0) {
                    info.partitions().forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
                    continue;
                }
                for (String number : spec.substring(colon + 1).split(",")) {
                    int partition;
                    try {
                        partition = Integer.parseInt(number.trim());
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("'" + spec + "' is not TOPIC or TOPIC:P,P,...");
                    }
                    if (info.partition(partition) == null) {
                        throw new CliException(ExitCodes.ERROR, "topic " + topic + " has no partition " + partition);
                    }
                    partitions.add(new TopicPartition(topic, partition));
                }
            }
            return partitions;
        }

        private Map<TopicPartition, Long> plan(KafkaAdmin admin, List<TopicPartition> partitions,
                                               Map<TopicPartition, Long> committed) {
            Map<TopicPartition, Long> earliest = admin.listOffsets(partitions, OffsetSpec.EARLIEST);
            Map<TopicPartition, Long> latest = admin.listOffsets(partitions, OffsetSpec.LATEST);
            Long time = null;
            if (target.datetime != null) {
                time = ConsumeCommand.parseTime(target.datetime);
            } else if (target.duration != null) {
                time = System.currentTimeMillis() - parseDuration(target.duration);
            }
            Map<TopicPartition, Long> byTime = time == null ? Map.of() : admin.listOffsets(partitions, time);
            Map<TopicPartition, Long> plan = new TreeMap<>();
            for (TopicPartition tp : partitions) {
                long low = earliest.get(tp);
                long high = latest.get(tp);
                long wanted;
                if (target.earliest) {
                    wanted = low;
                } else if (target.latest) {
                    wanted = high;
                } else if (target.offset != null) {
                    wanted = target.offset;
                } else if (target.shiftBy != null) {
                    Long current = committed.get(tp);
                    if (current == null) {
                        throw new CliException(ExitCodes.ERROR, "group '" + group + "' has no committed offset for "
                                + tp + " to shift from");
                    }
                    wanted = current + target.shiftBy;
                } else if (target.current) {
                    // Kafka's resetToCurrent: kept as committed, unchecked against the log's bounds.
                    Long current = committed.get(tp);
                    plan.put(tp, current != null ? current : high);
                    continue;
                } else {
                    long found = byTime.getOrDefault(tp, -1L);
                    if (found < 0) {
                        err().println("warning: " + tp + " has no record at or after the time; using its log end"
                                + " offset " + high);
                    }
                    wanted = found >= 0 ? found : high;
                }
                long bounded = Math.max(low, Math.min(high, wanted));
                if (bounded != wanted) {
                    err().println("warning: offset " + wanted + " of " + tp + " is outside " + low + ".." + high
                            + "; using " + bounded);
                }
                plan.put(tp, bounded);
            }
            return plan;
        }

        /** An ISO-8601 duration in milliseconds, as Kafka's tool reads --by-duration (java.time.Duration.parse). */
        private static long parseDuration(String text) {
            try {
                java.time.Duration duration = java.time.Duration.parse(text);
                if (duration.isNegative()) {
                    throw new IllegalArgumentException("--by-duration must not be negative: " + text);
                }
                return duration.toMillis();
            } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
                throw new IllegalArgumentException("--by-duration takes an ISO-8601 duration such as PT30M or P1DT2H,"
                        + " not '" + text + "'");
            }
        }

        private void print(Map<TopicPartition, Long> plan) {
            if (output.json()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                plan.forEach((tp, offset) -> {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("group", group);
                    row.put("topic", tp.topic());
                    row.put("partition", tp.partition());
                    row.put("newOffset", offset);
                    rows.add(row);
                });
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("executed", execute);
                json.put("offsets", rows);
                Json.print(out(), json);
                return;
            }
            Table table = new Table("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
            plan.forEach((tp, offset) -> table.row(group, tp.topic(), tp.partition(), offset));
            table.print(out());
            if (!execute) {
                err().println("(dry run: nothing changed; add --execute to apply)");
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Delete a group and its committed offsets (it must have no active members).")
    static final class Delete extends CliCommand {
        @Mixin KafkaOptions kafka;

        @Option(names = "--group", paramLabel = "GROUP", required = true, description = "The group; may be repeated.")
        List<String> groups = new ArrayList<>();

        @Override
        protected int execute() {
            try (KafkaClient client = kafka.connect()) {
                GroupAdmin admin = new GroupAdmin(client);
                for (String group : groups) {
                    admin.deleteGroup(group);
                    out().println("Deleted group " + group + ".");
                }
                return ExitCodes.OK;
            }
        }
    }
}
