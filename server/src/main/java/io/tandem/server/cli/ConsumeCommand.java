package io.tandem.server.cli;

import io.tandem.kafka.client.ClassicGroupMember;
import io.tandem.kafka.client.ConsumedRecord;
import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.RecordFetcher;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem consume}: prints a topic's records like kafka-console-consumer (same {@code print.*} properties), or
 * one JSON object per line, following new records until Ctrl-C, {@code --max-messages} or {@code --timeout-ms}.
 */
@Command(name = "consume", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Print records of a Kafka topic, following new ones until Ctrl-C.",
                "Starts at the end unless --from-beginning, --offset or --timestamp says otherwise, or --group has"
                        + " committed offsets.",
                "--group joins that consumer group as kafka-console-consumer.sh does (classic protocol, range"
                        + " assignment, heartbeats, auto-commit every 5 s and on exit, LeaveGroup on exit): several"
                        + " processes with one group share the topic's partitions."})
public final class ConsumeCommand extends CliCommand {
    /** The longest a single fetch waits, so Ctrl-C and --timeout-ms are noticed promptly. */
    static final Duration POLL_WAIT_MAX = Duration.ofMillis(500);
    /** Kafka's DefaultMessageFormatter, under its Kafka 4 and earlier class names: the only formatter offered. */
    static final Set<String> DEFAULT_FORMATTERS = Set.of("org.apache.kafka.tools.consumer.DefaultMessageFormatter",
            "kafka.tools.DefaultMessageFormatter");

    @Mixin KafkaOptions kafka;
    @Mixin TopicName topicName;
    @Mixin OutputOption output;

    @Option(names = "--include", paramLabel = "REGEX",
            description = "Read every topic whose whole name matches this Java regular expression (internal topics"
                    + " left out), instead of one topic. The topics are those that exist at start.")
    String include;

    @Option(names = "--partition", paramLabel = "N", description = "Read only this partition.")
    Integer partition;

    @Option(names = "--from-beginning", description = "Start at the earliest offset.")
    boolean fromBeginning;

    @Option(names = "--offset", paramLabel = "OFFSET",
            description = "earliest, latest, or an offset (with --partition).")
    String offset;

    @Option(names = "--timestamp", paramLabel = "TIME",
            description = "Start at the first record at or after TIME (epoch ms or ISO-8601, e.g."
                    + " 2024-05-01T10:00:00Z).")
    String timestamp;

    @Option(names = "--group", paramLabel = "GROUP",
            description = "Join this consumer group: read the partitions it assigns, from its committed offsets.")
    String group;

    @Option(names = {"--consumer-property", "--command-property"}, paramLabel = "KEY=VALUE",
            description = "Kafka consumer property (over --consumer.config's): group.id, group.instance.id,"
                    + " auto.offset.reset, enable.auto.commit, auto.commit.interval.ms, session.timeout.ms,"
                    + " heartbeat.interval.ms, max.poll.interval.ms, isolation.level, fetch.min.bytes,"
                    + " fetch.max.bytes, max.partition.fetch.bytes, fetch.max.wait.ms, max.poll.records, client.id,"
                    + " request.timeout.ms, security ones. Any other key is refused.")
    Map<String, String> consumerProperties = new LinkedHashMap<>();

    @Option(names = "--formatter", paramLabel = "CLASS",
            description = "Kafka's DefaultMessageFormatter (the only one offered; configured with --property).")
    String formatterClass;

    @Option(names = "--max-messages", paramLabel = "N", description = "Exit after N records.")
    Long maxMessages;

    @Option(names = "--timeout-ms", paramLabel = "MS", description = "Exit when no record arrived for MS.")
    Long timeoutMs;

    @Option(names = {"-e", "--exit-at-end"},
            description = "Exit once the end of every partition (as of start) is read.")
    boolean exitAtEnd;

    @Option(names = {"--property", "--formatter-property"}, paramLabel = "KEY=VALUE",
            description = "kafka-console-consumer formatter property: print.key, print.value, print.timestamp,"
                    + " print.partition, print.offset, print.headers, key.separator, line.separator,"
                    + " headers.separator, null.literal.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--isolation-level", paramLabel = "LEVEL",
            description = "read_committed leaves out records of aborted and open transactions (reading up to the last"
                    + " stable offset), read_uncommitted reads all (default: read_uncommitted).")
    String isolationLevel;

    private volatile boolean stopRequested;
    private ConsumerSettings settings;

    @Override
    protected int execute() throws Exception {
        Pattern included = checkFlags();
        Map<String, String> clientProperties = ClientProperties.merge(ClientProperties.load(kafka.commandConfig),
                consumerProperties, ConsumerSettings.KEYS, "consumer");
        settings = ConsumerSettings.of(clientProperties, group, isolationLevel, fromBeginning);
        isolation();
        if (settings.groupId() != null && partition != null) {
            throw new IllegalArgumentException("Options group and partition cannot be specified together.");
        }
        RecordFormatter formatter = new RecordFormatter(properties);
        try (KafkaClient client = kafka.connect(clientProperties)) {
            KafkaAdmin admin = new KafkaAdmin(client);
            List<TopicPartition> partitions = included == null ? partitionsOf(admin, topicName.required())
                    : partitionsMatching(client, included);
            RecordFetcher fetcher = new RecordFetcher(client, isolation());
            settings.apply(fetcher);
            if (settings.groupId() == null) {
                startPositions(admin, null, partitions).forEach(fetcher::seek);
                Map<TopicPartition, Long> ends = exitAtEnd ? latest(admin, partitions) : null;
                return follow(new Reading(admin, fetcher, null, ends, partitions), formatter);
            }
            GroupAdmin groups = new GroupAdmin(client);
            ClassicGroupMember member = new ClassicGroupMember(client, settings.groupId(), settings.membership());
            return follow(new Reading(admin, fetcher, new Membership(groups, member), null, partitions), formatter);
        }
    }

    /** What one run reads: the fetcher, and with a group, the membership that decides its partitions. */
    private final class Reading {
        final KafkaAdmin admin;
        final RecordFetcher fetcher;
        final Membership membership;
        final List<TopicPartition> partitions;
        /** The end of each partition read, with --exit-at-end; null without it. */
        Map<TopicPartition, Long> ends;

        Reading(KafkaAdmin admin, RecordFetcher fetcher, Membership membership, Map<TopicPartition, Long> ends,
                List<TopicPartition> partitions) {
            this.admin = admin;
            this.fetcher = fetcher;
            this.membership = membership;
            this.ends = ends;
            this.partitions = partitions;
        }

        /** Joins again when the group rebalanced; returns whether it did (a new assignment). */
        boolean rejoinIfNeeded() {
            if (membership == null || !membership.member.needsRejoin()) {
                return false;
            }
            // An eager rebalance: commit what was read before giving the partitions up, as Kafka's consumer does
            // with auto-commit, so the next owner starts after it.
            if (membership.member.generation() >= 0) {
                commit();
            }
            fetcher.unassign();
            List<String> topics = partitions.stream().map(TopicPartition::topic).distinct().toList();
            List<TopicPartition> assigned = membership.member.join(topics);
            membership.committed.clear();
            startPositions(admin, membership, assigned).forEach(fetcher::seek);
            if (exitAtEnd) {
                ends = assigned.isEmpty() ? Map.of() : latest(admin, assigned);
            }
            return true;
        }

        /**
         * Leaves the group (LeaveGroup) so the others take the partitions over at once. A failure is reported, not
         * thrown: the records were printed and committed already.
         */
        void leave() {
            if (membership == null) {
                return;
            }
            try {
                membership.member.leave();
            } catch (RuntimeException e) {
                err().println("warning: leaving group " + settings.groupId() + " failed (" + e.getMessage()
                        + "); the coordinator drops this member after session.timeout.ms");
            }
        }

        void heartbeat() {
            if (membership != null) {
                membership.member.heartbeatIfDue();
            }
        }

        void commit() {
            if (membership == null || !settings.autoCommit() || membership.member.needsRejoin()
                    && membership.member.generation() < 0) {
                return;
            }
            Map<TopicPartition, Long> changed = new TreeMap<>();
            for (Map.Entry<TopicPartition, Long> position : fetcher.positions().entrySet()) {
                if (!position.getValue().equals(membership.committed.get(position.getKey()))) {
                    changed.put(position.getKey(), position.getValue());
                }
            }
            if (!changed.isEmpty() && membership.member.commit(changed)) {
                membership.committed.putAll(changed);
            }
        }
    }

    /** A group member and the offsets committed for its partitions (only changed positions are committed). */
    private record Membership(GroupAdmin groups, ClassicGroupMember member, Map<TopicPartition, Long> committed) {
        Membership(GroupAdmin groups, ClassicGroupMember member) {
            this(groups, member, new HashMap<>());
        }
    }

    private int follow(Reading reading, RecordFormatter formatter) throws InterruptedException {
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopRequested = true;
            try {
                finished.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tandem-consume-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        long count = 0;
        RecordFetcher fetcher = reading.fetcher;
        long commitIntervalNanos = TimeUnit.MILLISECONDS.toNanos(settings.autoCommitIntervalMs());
        try {
            long lastRecord = System.nanoTime();
            long nextCommit = System.nanoTime() + commitIntervalNanos;
            while (!stopRequested && !(maxMessages != null && count >= maxMessages)) {
                if (reading.rejoinIfNeeded()) {
                    // --timeout-ms counts from the new assignment too: a rebalance is not a quiet topic.
                    lastRecord = System.nanoTime();
                }
                if (atEnd(fetcher, reading.ends)) {
                    break;
                }
                Duration wait = POLL_WAIT_MAX;
                if (timeoutMs != null) {
                    long left = timeoutMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRecord);
                    if (left <= 0) {
                        break;
                    }
                    wait = Duration.ofMillis(Math.min(left, POLL_WAIT_MAX.toMillis()));
                }
                Duration pollWait = wait;
                List<ConsumedRecord> records;
                if (fetcher.positions().isEmpty()) {
                    // A member with no partitions (more members than partitions) waits for the next rebalance.
                    Thread.sleep(wait.toMillis());
                    records = List.of();
                } else {
                    // A leader moving or a broker restarting is waited out (up to the request timeout), as consumers
                    // do.
                    records = reading.admin.client().retrying(() -> fetcher.poll(pollWait));
                }
                long limit = Math.min(settings.maxPollRecords(), maxMessages == null ? Long.MAX_VALUE
                        : maxMessages - count);
                long handled = 0;
                Set<TopicPartition> rewound = new HashSet<>();
                for (ConsumedRecord record : records) {
                    if (handled >= limit) {
                        // Past max.poll.records or --max-messages: read again from here (so a commit does not skip
                        // the rest).
                        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                        if (rewound.add(tp)) {
                            fetcher.seek(tp, record.offset());
                        }
                        continue;
                    }
                    out().print(output.json() ? Json.line(RecordFormatter.toJson(record)) + "\n"
                            : formatter.format(record));
                    count++;
                    handled++;
                }
                if (!records.isEmpty()) {
                    out().flush();
                    lastRecord = System.nanoTime();
                }
                reading.heartbeat();
                if (System.nanoTime() >= nextCommit) {
                    reading.commit();
                    nextCommit = System.nanoTime() + commitIntervalNanos;
                }
            }
            reading.commit();
        } finally {
            out().flush();
            // Before `finished`: on Ctrl-C the JVM exits once the hook sees it, and the LeaveGroup must be out first.
            reading.leave();
            err().println("Processed a total of " + count + " messages");
            err().flush();
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Already shutting down (Ctrl-C): the hook is running and waits for `finished`.
            }
        }
        return ExitCodes.OK;
    }

    private static boolean atEnd(RecordFetcher fetcher, Map<TopicPartition, Long> ends) {
        if (ends == null) {
            return false;
        }
        Map<TopicPartition, Long> positions = fetcher.positions();
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            Long position = positions.get(end.getKey());
            if (position != null && position < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private List<TopicPartition> partitionsOf(KafkaAdmin admin, String topic) {
        TopicInfo info = admin.describeTopic(topic);
        List<TopicPartition> partitions = new ArrayList<>();
        for (var p : info.partitions()) {
            if (partition == null || partition == p.partition()) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
        }
        if (partitions.isEmpty()) {
            throw new CliException(ExitCodes.ERROR, "topic " + topic + " has no partition " + partition
                    + " (it has " + info.partitions().size() + ")");
        }
        return partitions;
    }

    /** Every partition of the non-internal topics whose whole name matches, as a pattern subscription reads. */
    private List<TopicPartition> partitionsMatching(KafkaClient client, Pattern included) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (TopicInfo info : new TreeMap<>(client.metadata(null).topics()).values()) {
            if (!info.internal() && included.matcher(info.name()).matches()) {
                for (var p : info.partitions()) {
                    partitions.add(new TopicPartition(info.name(), p.partition()));
                }
            }
        }
        if (partitions.isEmpty()) {
            throw new CliException(ExitCodes.ERROR, "no topic matches --include '" + include + "'");
        }
        return partitions;
    }

    /** Fetch's isolation_level for --isolation-level (Kafka's isolation.level values). */
    private byte isolation() {
        String isolationLevel = settings.isolationLevel();
        return switch (isolationLevel) {
            case "read_uncommitted" -> RecordFetcher.READ_UNCOMMITTED;
            case "read_committed" -> RecordFetcher.READ_COMMITTED;
            default -> throw new IllegalArgumentException("--isolation-level must be read_committed or"
                    + " read_uncommitted, not '" + isolationLevel + "'");
        };
    }

    /** The end of each partition as this consumer sees it: under read_committed, the last stable offset. */
    private Map<TopicPartition, Long> latest(KafkaAdmin admin, List<TopicPartition> partitions) {
        return admin.listOffsets(partitions, OffsetSpec.LATEST, isolation());
    }

    /** Checks the flags together; returns the --include pattern, or null when one topic is read. */
    private Pattern checkFlags() {
        if (formatterClass != null && !DEFAULT_FORMATTERS.contains(formatterClass)) {
            throw new IllegalArgumentException("--formatter " + formatterClass + " is not offered: tandem consume"
                    + " prints with Kafka's DefaultMessageFormatter (" + DEFAULT_FORMATTERS + ") or --output json");
        }
        Pattern included = null;
        if (include != null) {
            if (topicName.orNull() != null) {
                throw new IllegalArgumentException("give a topic or --include, not both");
            }
            if (partition != null || offset != null) {
                throw new IllegalArgumentException("--partition and --offset need one topic, not --include");
            }
            try {
                included = Pattern.compile(include);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("--include '" + include + "' is not a regular expression: "
                        + e.getDescription());
            }
        }
        int starts = (fromBeginning ? 1 : 0) + (offset != null ? 1 : 0) + (timestamp != null ? 1 : 0);
        if (starts > 1) {
            throw new IllegalArgumentException("give only one of --from-beginning, --offset and --timestamp");
        }
        if (offset != null && !offset.equals("earliest") && !offset.equals("latest")) {
            try {
                if (Long.parseLong(offset) < 0) {
                    throw new IllegalArgumentException("--offset must not be negative");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--offset must be earliest, latest or a number, not '" + offset
                        + "'");
            }
            if (partition == null) {
                throw new IllegalArgumentException("--offset N needs --partition (offsets are per partition)");
            }
        }
        if (maxMessages != null && maxMessages <= 0) {
            throw new IllegalArgumentException("--max-messages must be positive");
        }
        if (timeoutMs != null && timeoutMs <= 0) {
            throw new IllegalArgumentException("--timeout-ms must be positive");
        }
        if (timestamp != null) {
            parseTime(timestamp);
        }
        return included;
    }

    private Map<TopicPartition, Long> startPositions(KafkaAdmin admin, Membership membership,
                                                     List<TopicPartition> partitions) {
        Map<TopicPartition, Long> positions = new TreeMap<>();
        if (membership != null) {
            for (Map.Entry<TopicPartition, Long> entry : membership.groups().committedOffsets(settings.groupId())
                    .entrySet()) {
                if (partitions.contains(entry.getKey())) {
                    positions.put(entry.getKey(), entry.getValue());
                    membership.committed().put(entry.getKey(), entry.getValue());
                }
            }
        }
        List<TopicPartition> rest = partitions.stream().filter(tp -> !positions.containsKey(tp)).toList();
        if (rest.isEmpty()) {
            return positions;
        }
        if (offset != null && !offset.equals("earliest") && !offset.equals("latest")) {
            long wanted = Long.parseLong(offset);
            TopicPartition tp = rest.get(0);
            long earliest = admin.listOffsets(rest, OffsetSpec.EARLIEST).get(tp);
            long latest = latest(admin, rest).get(tp);
            if (wanted < earliest || wanted > latest) {
                throw new CliException(ExitCodes.ERROR, "offset " + wanted + " is out of range for " + tp
                        + " (earliest " + earliest + ", latest " + latest + ")");
            }
            positions.put(tp, wanted);
            return positions;
        }
        if (timestamp != null) {
            Map<TopicPartition, Long> byTime = admin.listOffsets(rest, parseTime(timestamp));
            Map<TopicPartition, Long> latest = latest(admin, rest);
            for (TopicPartition tp : rest) {
                long found = byTime.getOrDefault(tp, -1L);
                // No record at or after the time: start at the end, as Kafka's tools do.
                positions.put(tp, found >= 0 ? found : latest.get(tp));
            }
            return positions;
        }
        if ("none".equals(settings.autoOffsetReset()) && offset == null) {
            throw new CliException(ExitCodes.ERROR, "no committed offset for " + rest + " and auto.offset.reset=none");
        }
        boolean earliest = "earliest".equals(offset) || offset == null && "earliest".equals(settings.autoOffsetReset());
        positions.putAll(earliest ? admin.listOffsets(rest, OffsetSpec.EARLIEST) : latest(admin, rest));
        return positions;
    }

    static long parseTime(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException notMillis) {
            try {
                return java.time.OffsetDateTime.parse(text).toInstant().toEpochMilli();
            } catch (java.time.format.DateTimeParseException notOffset) {
                try {
                    return java.time.Instant.parse(text.toUpperCase(Locale.ROOT)).toEpochMilli();
                } catch (java.time.format.DateTimeParseException notInstant) {
                    try {
                        // Kafka's tools (Utils.getDateTime) read a time without a zone as the local time zone's.
                        return java.time.LocalDateTime.parse(text).atZone(java.time.ZoneId.systemDefault())
                                .toInstant().toEpochMilli();
                    } catch (java.time.format.DateTimeParseException e) {
                        throw new IllegalArgumentException("'" + text + "' is neither epoch milliseconds nor an"
                                + " ISO-8601 time such as 2024-05-01T10:00:00Z");
                    }
                }
            }
        }
    }
}
