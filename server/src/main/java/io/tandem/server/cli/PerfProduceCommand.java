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
 * --throughput records/s) sent in batches of at most --batch-records, one request in flight, round-robin over the
 * partitions. As in Kafka's tool, a record's latency runs from the moment it was to be sent to the broker's
 * acknowledgement: under --throughput, record i is due at start + i / rate, and a request carries only records
 * already due (the ones that came due while the previous request was out), so a slow answer shows in the latency
 * of every record it held up instead of silently slowing the load (coordinated omission). Without --throughput a
 * record is due when its request goes out. The first --warmup-records records (Kafka 4's flag) are sent and not
 * counted: the figures are the steady state's, as the second summary Kafka's tool prints.
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
            description = "Records per produce request at most (default 100).")
    int batchRecords;

    @Option(names = "--warmup-records", paramLabel = "N", defaultValue = "0",
            description = "Send this many of the --num-records first without counting them (default 0).")
    long warmupRecords;

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
        if (warmupRecords < 0 || warmupRecords >= records) {
            throw new IllegalArgumentException("--warmup-records must be at least 0 and below --num-records");
        }
        byte[] payload = new byte[recordSize];
        new Random(42).nextBytes(payload);
        PerfLatency latency = new PerfLatency();
        try (KafkaClient client = kafka.connect()) {
            RecordSender sender = new RecordSender(client, ackMode,
                    io.tandem.kafka.wire.compress.CompressionType.NONE);
            int partitions = sender.partitionCount(topic);
            long start = System.nanoTime();
            long steadyStart = start;
            long sent = 0;
            int partition = 0;
            while (sent < records) {
                PerfLatency.throttle(start, sent, throughput);
                long before = System.nanoTime();
                long size = Math.min(batchRecords, records - sent);
                // At least the record the throttle waited for (the two roundings may disagree by one).
                if (throughput > 0) size = Math.min(size, Math.max(1, dueBy(start, before) - sent));
                // A request holds warm-up records or counted ones, never both: the steady state starts cleanly.
                if (sent < warmupRecords) size = Math.min(size, warmupRecords - sent);
                if (sent == warmupRecords && warmupRecords > 0) steadyStart = Math.min(before, due(start, sent));
                List<ProducerRecord> batch = new ArrayList<>((int) size);
                long now = System.currentTimeMillis();
                for (int i = 0; i < size; i++) batch.add(new ProducerRecord(null, payload, List.of(), now));
                sender.send(topic, partition, batch);
                long acknowledged = System.nanoTime();
                if (sent >= warmupRecords) {
                    if (throughput > 0) {
                        for (long i = sent; i < sent + size; i++) latency.record(acknowledged - due(start, i));
                    } else {
                        latency.record(acknowledged - before, size);
                    }
                }
                sent += size;
                partition = (partition + 1) % partitions;
            }
            long elapsed = System.nanoTime() - steadyStart;
            print(sent - warmupRecords, elapsed, latency);
            return ExitCodes.OK;
        }
    }

    /** When record {@code index} (from 0) is due under --throughput. */
    private long due(long startNanos, long index) {
        return throughput > 0 ? startNanos + (long) (index * 1e9 / throughput) : startNanos;
    }

    /** How many records are due at {@code nowNanos} under --throughput: record 0 at the start, then one per 1/rate. */
    private long dueBy(long startNanos, long nowNanos) {
        return (long) Math.floor((nowNanos - startNanos) * throughput / 1e9) + 1;
    }

    private void print(long sent, long elapsedNanos, PerfLatency latency) {
        double recordsPerSecond = PerfLatency.perSecond(sent, elapsedNanos);
        double mbPerSecond = Math.round(recordsPerSecond * recordSize / (1024.0 * 1024.0) * 100) / 100.0;
        if (output.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("records", sent);
            result.put("warmupRecords", warmupRecords);
            result.put("recordSize", recordSize);
            result.put("elapsedMs", elapsedNanos / 1_000_000);
            result.put("recordsPerSecond", recordsPerSecond);
            result.put("mbPerSecond", mbPerSecond);
            result.put("latencyMs", latency.percentilesMs());
            Json.print(out(), result);
        } else {
            if (warmupRecords > 0) out().println("after " + warmupRecords + " warm-up records:");
            out().println(sent + " records sent, " + recordsPerSecond + " records/sec (" + mbPerSecond
                    + " MB/sec), latency " + latency.summary());
        }
    }
}
