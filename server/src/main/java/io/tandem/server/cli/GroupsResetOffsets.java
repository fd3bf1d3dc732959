package io.tandem.server.cli;

import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupDescription;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.TopicPartition;
import io.tandem.kafka.wire.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem groups reset-offsets}: kafka-consumer-groups.sh's {@code --reset-offsets}, for one group, several
 * ({@code --group} repeated) or {@code --all-groups}, from a scenario or a plan file, printed as a table or exported
 * as Kafka's CSV. As Kafka's tool, a group that cannot be reset (active members, no plan in the file) is reported and
 * the others go on; the exit code is then 1.
 */
@Command(name = "reset-offsets", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Move groups' committed offsets; prints the plan, and applies it only with --execute.",
                "A group must have no active members (as with kafka-consumer-groups.sh)."})
final class GroupsResetOffsets extends CliCommand {
    @Mixin KafkaOptions kafka;
    @Mixin OutputOption output;

    @Option(names = "--group", paramLabel = "GROUP", description = "A group; may be repeated.")
    List<String> groupIds = new ArrayList<>();

    @Option(names = "--all-groups", description = "Every consumer group (as kafka-consumer-groups.sh's).")
    boolean allGroups;

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

        @Option(names = "--from-file", required = true, paramLabel = "FILE",
                description = {"To the offsets of a CSV plan, as --export writes it: topic,partition,offset",
                        "(one --group) or group,topic,partition,offset; kept within the log's bounds."})
        Path fromFile;
    }

    @Option(names = "--execute", description = "Apply the new offsets (without it, only show them).")
    boolean execute;

    @Option(names = "--dry-run", description = "Only show the new offsets (the default).")
    boolean dryRun;

    @Option(names = "--export", description = "Print the plan as Kafka's CSV (for --from-file) instead of a table.")
    boolean export;

    @Override
    protected int execute() throws IOException {
        if (execute && dryRun) {
            throw new IllegalArgumentException("give --execute or --dry-run, not both");
        }
        if (groupIds.isEmpty() == !allGroups) {
            throw new IllegalArgumentException("give --group or --all-groups (one of them)");
        }
        if (target.fromFile == null && topics.isEmpty() == !allTopics) {
            throw new IllegalArgumentException("give --topic or --all-topics (one of them)");
        }
        if (export && output.json()) {
            throw new IllegalArgumentException("give --export or --output json, not both");
        }
        // Kafka's tool names the format by how many groups were named: --all-groups always has the group column.
        boolean singleGroup = !allGroups && groupIds.size() == 1;
        Map<String, Map<TopicPartition, Long>> filePlans = target.fromFile == null ? null
                : OffsetsCsv.read(readPlan(target.fromFile), singleGroup ? groupIds.get(0) : null,
                target.fromFile.toString());
        try (KafkaClient client = kafka.connect()) {
            KafkaAdmin admin = new KafkaAdmin(client);
            GroupAdmin groups = new GroupAdmin(client);
            List<String> names = allGroups ? GroupsCommand.consumerGroups(groups) : groupIds;
            Map<String, Map<TopicPartition, Long>> plans = new LinkedHashMap<>();
            boolean failed = false;
            for (String group : names) {
                try {
                    Map<TopicPartition, Long> plan = planFor(admin, groups, group, filePlans);
                    if (execute && !plan.isEmpty()) {
                        groups.commitOffsets(group, plan);
                    }
                    plans.put(group, plan);
                } catch (KafkaNetworkException e) {
                    throw e;
                } catch (CliException | KafkaClientException e) {
                    // One group's failure does not stop the others, as in Kafka's tool; a single group's is the
                    // command's failure alone, with nothing printed on stdout.
                    if (names.size() == 1) {
                        throw e;
                    }
                    err().println("error: " + e.getMessage());
                    failed = true;
                }
            }
            print(plans, singleGroup);
            return failed ? ExitCodes.ERROR : ExitCodes.OK;
        }
    }

    private static String readPlan(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--from-file " + file + ": no such file");
        }
        return Files.readString(file);
    }

    private Map<TopicPartition, Long> planFor(KafkaAdmin admin, GroupAdmin groups, String group,
                                              Map<String, Map<TopicPartition, Long>> filePlans) {
        requireInactive(groups, group);
        if (filePlans != null) {
            Map<TopicPartition, Long> requested = filePlans.get(group);
            if (requested == null) {
                throw new CliException(ExitCodes.ERROR, "No reset plan for group " + group + " found");
            }
            return bounded(admin, requested);
        }
        Map<TopicPartition, Long> committed = groups.committedOffsets(group);
        List<TopicPartition> partitions = partitions(admin, group, committed);
        return plan(admin, group, partitions, committed);
    }

    private static void requireInactive(GroupAdmin groups, String group) {
        try {
            GroupDescription description = groups.describeGroup(group);
            if (!description.members().isEmpty()) {
                // Kafka's words (ConsumerGroupCommand.resetOffsets).
                throw new CliException(ExitCodes.ERROR, "Assignments can only be reset if the group '" + group
                        + "' is inactive, but the current state is " + description.state() + ".");
            }
        } catch (KafkaClientException e) {
            if (e.error() != Errors.GROUP_ID_NOT_FOUND) {
                throw e;
            }
        }
    }

    private List<TopicPartition> partitions(KafkaAdmin admin, String group, Map<TopicPartition, Long> committed) {
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

    /** The requested offsets kept within each partition's earliest..latest, with a warning, as Kafka's tool. */
    private Map<TopicPartition, Long> bounded(KafkaAdmin admin, Map<TopicPartition, Long> requested) {
        List<TopicPartition> partitions = new ArrayList<>(requested.keySet());
        Map<TopicPartition, Long> earliest = admin.listOffsets(partitions, OffsetSpec.EARLIEST);
        Map<TopicPartition, Long> latest = admin.listOffsets(partitions, OffsetSpec.LATEST);
        Map<TopicPartition, Long> plan = new TreeMap<>();
        requested.forEach((tp, wanted) -> plan.put(tp, bound(tp, wanted, earliest.get(tp), latest.get(tp))));
        return plan;
    }

    private long bound(TopicPartition tp, long wanted, long low, long high) {
        long bounded = Math.max(low, Math.min(high, wanted));
        if (bounded != wanted) {
            err().println("warning: offset " + wanted + " of " + tp + " is outside " + low + ".." + high
                    + "; using " + bounded);
        }
        return bounded;
    }

    private Map<TopicPartition, Long> plan(KafkaAdmin admin, String group, List<TopicPartition> partitions,
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
            plan.put(tp, bound(tp, wanted, low, high));
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

    private void print(Map<String, Map<TopicPartition, Long>> plans, boolean singleGroup) {
        if (export) {
            out().print(OffsetsCsv.write(plans, !singleGroup));
            return;
        }
        if (output.json()) {
            List<Map<String, Object>> rows = new ArrayList<>();
            plans.forEach((group, plan) -> plan.forEach((tp, offset) -> {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("group", group);
                row.put("topic", tp.topic());
                row.put("partition", tp.partition());
                row.put("newOffset", offset);
                rows.add(row);
            }));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("executed", execute);
            json.put("offsets", rows);
            Json.print(out(), json);
            return;
        }
        if (plans.isEmpty()) {
            return;
        }
        Table table = new Table("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
        plans.forEach((group, plan) -> plan.forEach((tp, offset) -> table.row(group, tp.topic(), tp.partition(),
                offset)));
        table.print(out());
        if (!execute) {
            err().println("(dry run: nothing changed; add --execute to apply)");
        }
    }
}
