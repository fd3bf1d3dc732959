package io.tandem.server.cli;

import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.ProducerRecord;
import io.tandem.kafka.client.RecordSender;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem perf produce}: kafka-producer-perf-test.sh's load (--num-records of --record-size random bytes at
 * --throughput records/s) sent in batches of --batch-records, one request in flight, round-robin over the
 * partitions. A record's latency is its batch's, from send to the broker's acknowledgement, as in Kafka's tool.
 */
@Command(name = "produce", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "Produce a load to a topic and print records/s, MB/s and latency percentiles.")
final class PerfProduceCommand extends CliCommand {
    /** The largest record this tool builds (Kafka's default max.message.bytes is about 1 MiB). */
    static final int RECORD_BYTES_MAX = 1024 * 1024;

    @Mixin KafkaOptions kafka;
    @Mixin OutputOption output;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "The topic to produce to.")
    String topic;

    @Option(names = "--num-records", paramLabel = "N", required = true, description = "How many records to send.")
    long records;

    @Option(names = "--record-size", paramLabel = "BYTES", defaultValue = "100",
            description = "Value size of each record (default 100).")
    int recordSize;

    @Option(names = "--throughput", paramLabel = "RECORDS/S", defaultValue = "-1",
            description = "Records per second at most; -1 (the default) for as fast as possible.")
    double throughput;

    @Option(names = "--acks", paramLabel = "ACKS", defaultValue = "1", description = "1 (leader) or all/-1.")
    String acks;

    @Option(names = "--batch-records", paramLabel = "N", defaultValue = "100",
            description = "Records per produce request (default 100).")
    int batchRecords;

    @Override
    protected int execute() throws Exception {
        if (records <= 0) throw new IllegalArgumentException("--num-records must be at least 1");
        if (recordSize < 0 || recordSize > RECORD_BYTES_MAX) {
            throw new IllegalArgumentException("--record-size must be between 0 and " + RECORD_BYTES_MAX);
        }
        if (batchRecords <= 0) throw new IllegalArgumentException("--batch-records must be at least 1");
        short ackMode = switch (acks.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "1" -> 1;
            case "all", "-1" -> -1;
            default -> throw new IllegalArgumentException("--acks must be 1 or all (-1); acks=0 gets no answer to"
                    + " time");
        };
        byte[] payload = new byte[recordSize];
        new Random(42).nextBytes(payload);
        PerfLatency latency = new PerfLatency();
        try (KafkaClient client = kafka.connect()) {
            RecordSender sender = new RecordSender(client, ackMode,
                    io.tandem.kafka.wire.compress.CompressionType.NONE);
            int partitions = sender.partitionCount(topic);
            long start = System.nanoTime();
            long sent = 0;
            int partition = 0;
            while (sent < records) {
                PerfLatency.throttle(start, sent, throughput);
                int size = (int) Math.min(batchRecords, records - sent);
                List<ProducerRecord> batch = new ArrayList<>(size);
                long now = System.currentTimeMillis();
                for (int i = 0; i < size; i++) batch.add(new ProducerRecord(null, payload, List.of(), now));
                long before = System.nanoTime();
                sender.send(topic, partition, batch);
                latency.record(System.nanoTime() - before, size);
                sent += size;
                partition = (partition + 1) % partitions;
            }
            long elapsed = System.nanoTime() - start;
            print(sent, elapsed, latency);
            return ExitCodes.OK;
        }
    }

    private void print(long sent, long elapsedNanos, PerfLatency latency) {
        double recordsPerSecond = PerfLatency.perSecond(sent, elapsedNanos);
        double mbPerSecond = Math.round(recordsPerSecond * recordSize / (1024.0 * 1024.0) * 100) / 100.0;
        if (output.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("records", sent);
            result.put("recordSize", recordSize);
            result.put("elapsedMs", elapsedNanos / 1_000_000);
            result.put("recordsPerSecond", recordsPerSecond);
            result.put("mbPerSecond", mbPerSecond);
            result.put("latencyMs", latency.percentilesMs());
            Json.print(out(), result);
        } else {
            out().println(sent + " records sent, " + recordsPerSecond + " records/sec (" + mbPerSecond
                    + " MB/sec), latency " + latency.summary());
        }
    }
}
