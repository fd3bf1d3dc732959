package io.tandem.server.cli;

import io.tandem.kafka.client.ConsumedRecord;
import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.RecordFetcher;
import io.tandem.kafka.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem perf consume}: kafka-consumer-perf-test.sh's load: read --messages records of a topic from the
 * start (or from --group's committed offsets, committing where it stopped), timing each fetch round trip.
 */
@Command(name = "consume", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "Read records of a topic and print records/s, MB/s and fetch latency percentiles.")
final class PerfConsumeCommand extends CliCommand {
    /** How long one fetch may wait for data on a broker before it answers empty. */
    private static final Duration FETCH_WAIT = Duration.ofMillis(500);

    @Mixin KafkaOptions kafka;
    @Mixin OutputOption output;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to read.")
    String topic;

    @Option(names = "--messages", required = true, paramLabel = "N", description = "How many records to read.")
    long messages;

    @Option(names = "--group", paramLabel = "GROUP",
            description = "Start from this group's committed offsets and commit where the run stopped.")
    String group;

    @Option(names = "--timeout", paramLabel = "MS", defaultValue = "60000",
            description = "Give up when no record arrived for this long (default 60000).")
    long timeoutMs;

    @Override
    protected int execute() {
        if (messages <= 0) throw new IllegalArgumentException("--messages must be at least 1");
        PerfLatency latency = new PerfLatency();
        try (KafkaClient client = kafka.connect()) {
            KafkaAdmin admin = new KafkaAdmin(client);
            List<TopicPartition> partitions = new ArrayList<>();
            int count = admin.describeTopic(topic).partitions().size();
            for (int p = 0; p < count; p++) partitions.add(new TopicPartition(topic, p));
            Map<TopicPartition, Long> start = new HashMap<>(admin.listOffsets(partitions, OffsetSpec.EARLIEST));
            GroupAdmin groups = group == null ? null : new GroupAdmin(client);
            if (groups != null) {
                groups.committedOffsets(group).forEach((tp, offset) -> {
                    if (start.containsKey(tp) && offset >= 0) start.put(tp, offset);
                });
            }
            RecordFetcher fetcher = new RecordFetcher(client);
            start.forEach(fetcher::seek);
            long read = 0;
            long bytes = 0;
            long begin = System.nanoTime();
            long lastRecord = begin;
            // Where the records counted end, per partition: what --group commits (a fetch may read past --messages).
            Map<TopicPartition, Long> next = new HashMap<>(start);
            while (read < messages) {
                long before = System.nanoTime();
                List<ConsumedRecord> records = fetcher.poll(FETCH_WAIT);
                long after = System.nanoTime();
                latency.record(after - before);
                if (records.isEmpty()) {
                    if (after - lastRecord > timeoutMs * 1_000_000) break;
                    continue;
                }
                lastRecord = after;
                for (ConsumedRecord record : records) {
                    if (read == messages) break;
                    read++;
                    next.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
                    bytes += (record.key() == null ? 0 : record.key().length)
                            + (record.value() == null ? 0 : record.value().length);
                }
            }
            long elapsed = System.nanoTime() - begin;
            if (groups != null) groups.commitOffsets(group, next);
            print(read, bytes, elapsed, latency);
            if (read < messages) {
                throw new CliException(ExitCodes.ERROR, "read " + read + " of " + messages + " records: none came"
                        + " for " + timeoutMs + " ms");
            }
            return ExitCodes.OK;
        }
    }

    private void print(long read, long bytes, long elapsedNanos, PerfLatency latency) {
        double recordsPerSecond = PerfLatency.perSecond(read, elapsedNanos);
        double mbPerSecond = Math.round(PerfLatency.perSecond(bytes, elapsedNanos) / (1024.0 * 1024.0) * 100) / 100.0;
        if (output.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("records", read);
            result.put("bytes", bytes);
            result.put("elapsedMs", elapsedNanos / 1_000_000);
            result.put("recordsPerSecond", recordsPerSecond);
            result.put("mbPerSecond", mbPerSecond);
            result.put("fetches", latency.count());
            result.put("fetchLatencyMs", latency.percentilesMs());
            Json.print(out(), result);
        } else {
            out().println(read + " records read (" + bytes + " bytes), " + recordsPerSecond + " records/sec ("
                    + mbPerSecond + " MB/sec), " + latency.count() + " fetches, fetch latency " + latency.summary());
        }
    }
}
