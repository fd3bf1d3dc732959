package io.tandem.server.cli;

import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupDescription;
import io.tandem.kafka.client.GroupListing;
import io.tandem.kafka.client.GroupMember;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tandem groups}: consumer groups over the wire, with kafka-consumer-groups.sh's flags and columns. */
@Command(name = "groups", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "List, describe (with lag), reset offsets of, and delete Kafka consumer groups.",
        subcommands = {GroupsCommand.ListGroups.class, GroupsCommand.Describe.class, GroupsResetOffsets.class,
                GroupsCommand.Delete.class, GroupsDeleteOffsets.class})
public final class GroupsCommand extends ParentCommand {

    /** The consumer groups (classic or KIP-848; those with only committed offsets too), by name. */
    static List<String> consumerGroups(GroupAdmin groups) {
        return groups.listGroups().stream()
                .filter(g -> g.protocolType().isEmpty() || g.protocolType().equals("consumer"))
                .map(GroupListing::groupId).sorted().toList();
    }

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "List every group with its state.")
    static final class ListGroups extends CliCommand {
        /** The states ListGroups reports (Kafka's GroupState, classic and KIP-848), in Kafka's spelling. */
        static final List<String> STATES = List.of("PreparingRebalance", "CompletingRebalance", "Stable", "Dead",
                "Empty", "Assigning", "Reconciling");

        @Mixin KafkaOptions kafka;
        @Mixin OutputOption output;

        @Option(names = "--state", arity = "0..1", paramLabel = "STATES", fallbackValue = "",
                description = "Only groups in these states (comma-separated, any case), as kafka-consumer-groups.sh"
                        + " --list --state; without a value every group, as without the flag.")
        String states;

        /** The group types kafka-consumer-groups.sh --list --type takes (Kafka 4's ConsumerGroupCommand). */
        static final List<String> TYPES = List.of("classic", "consumer");

        @Option(names = "--type", arity = "0..1", paramLabel = "TYPES", fallbackValue = "",
                description = "Show each group's type (Classic or Consumer, from ListGroups v5); with a value, only"
                        + " groups of these types (comma-separated: classic, consumer), as kafka-consumer-groups.sh"
                        + " --list --type.")
        String types;

        @Override
        protected int execute() {
            java.util.Set<String> wanted = wantedStates();
            java.util.Set<String> wantedTypes = wantedTypes();
            try (KafkaClient client = kafka.connect()) {
                List<GroupListing> groups = new GroupAdmin(client).listGroups();
                if (!wanted.isEmpty()) {
                    for (GroupListing group : groups) {
                        if (group.state() == null) {
                            throw new CliException(ExitCodes.ERROR, "the broker does not report group states"
                                    + " (ListGroups before version 4), so --state cannot filter");
                        }
                    }
                    groups = groups.stream().filter(g -> wanted.contains(g.state().toLowerCase(Locale.ROOT)))
                            .toList();
                }
                if (types != null) {
                    for (GroupListing group : groups) {
                        if (group.type() == null) {
                            throw new CliException(ExitCodes.ERROR, "the broker does not report group types"
                                    + " (ListGroups before version 5), so --type cannot show them");
                        }
                    }
                    groups = groups.stream().filter(g -> wantedTypes.isEmpty()
                            || wantedTypes.contains(g.type().toLowerCase(Locale.ROOT))).toList();
                }
                if (output.json()) {
                    Json.print(out(), groups);
                } else if (types != null) {
                    Table table = new Table("GROUP", "TYPE", "STATE", "PROTOCOL-TYPE");
                    for (GroupListing group : groups) {
                        String type = group.type();
                        table.row(group.groupId(), type.substring(0, 1).toUpperCase(Locale.ROOT) + type.substring(1),
                                group.state(), group.protocolType().isEmpty() ? "-" : group.protocolType());
                    }
                    table.print(out());
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

        /** The lower-cased types --type names; empty for every type. Unknown names are refused as Kafka's tool. */
        private java.util.Set<String> wantedTypes() {
            return wanted(types, TYPES, "types", ", ");
        }

        /** The lower-cased states --state names; empty for every group. Unknown names are refused as Kafka's tool. */
        private java.util.Set<String> wantedStates() {
            return wanted(states, STATES, "state", ",");
        }

        /** A comma-separated list of {@code valid} names in any case, lower-cased; Kafka's words when one is not. */
        private static java.util.Set<String> wanted(String list, List<String> valid, String noun, String joiner) {
            java.util.Set<String> wanted = new java.util.HashSet<>();
            if (list == null || list.isBlank()) {
                return wanted;
            }
            for (String name : list.split(",")) {
                String value = name.trim().toLowerCase(Locale.ROOT);
                if (valid.stream().noneMatch(known -> known.toLowerCase(Locale.ROOT).equals(value))) {
                    throw new IllegalArgumentException("Invalid " + noun + " list '" + list + "'. Valid "
                            + (noun.endsWith("s") ? noun : noun + "s") + " are: " + String.join(joiner, valid));
                }
                wanted.add(value);
            }
            return wanted;
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

    @Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
            exitCodeOnInvalidInput = ExitCodes.USAGE,
            description = "Delete groups and their committed offsets (each must have no active members).")
    static final class Delete extends CliCommand {
        @Mixin KafkaOptions kafka;

        @Option(names = "--group", paramLabel = "GROUP", description = "A group; may be repeated.")
        List<String> groups = new ArrayList<>();

        @Option(names = "--all-groups", description = "Every consumer group (as kafka-consumer-groups.sh's).")
        boolean allGroups;

        @Override
        protected int execute() {
            if (groups.isEmpty() == !allGroups) {
                throw new IllegalArgumentException("give --group or --all-groups (one of them)");
            }
            try (KafkaClient client = kafka.connect()) {
                GroupAdmin admin = new GroupAdmin(client);
                List<String> names = allGroups ? consumerGroups(admin) : groups;
                List<String> deleted = new ArrayList<>();
                Map<String, String> failed = new LinkedHashMap<>();
                for (String group : names) {
                    try {
                        admin.deleteGroup(group);
                        deleted.add(group);
                    } catch (KafkaNetworkException e) {
                        throw e;
                    } catch (KafkaClientException e) {
                        failed.put(group, e.error() == null ? e.getMessage()
                                : e.error().name() + ": " + e.error().message());
                    }
                }
                // Kafka's lines (ConsumerGroupCommand.deleteGroups), the failures on stderr as our errors are.
                if (failed.isEmpty()) {
                    out().println("Deletion of requested consumer groups (" + quoted(deleted) + ") was successful.");
                    return ExitCodes.OK;
                }
                err().println("error: Deletion of some consumer groups failed:");
                failed.forEach((group, why) -> err().println("* Group '" + group + "' could not be deleted due to: "
                        + why));
                if (!deleted.isEmpty()) {
                    out().println("These consumer groups were deleted successfully: " + quoted(deleted));
                }
                return ExitCodes.ERROR;
            }
        }

        private static String quoted(List<String> groups) {
            return String.join(", ", groups.stream().map(g -> "'" + g + "'").toList());
        }
    }
}
