package io.tandem.server.cli;

import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.Partitioner;
import io.tandem.kafka.client.ProducerRecord;
import io.tandem.kafka.client.RecordHeader;
import io.tandem.kafka.client.RecordSender;
import io.tandem.kafka.wire.compress.CompressionType;
import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem produce}: one record per input line, like kafka-console-producer (same {@code --property} keys).
 * Records are batched while input is already waiting and sent as soon as it is not, so typed lines go out at once and
 * piped files go out in large batches.
 */
@Command(name = "produce", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Produce one record per line of stdin (or --file) to a Kafka topic.",
                "Keys: --key-separator SEP (or --property parse.key=true --property key.separator=SEP).",
                "Headers: --header K=V on every record, or --property parse.headers=true for per-line headers"
                        + " (h1:v1,h2:v2<TAB>key<TAB>value)."})
public final class ProduceCommand extends CliCommand {
    /** A batch is sent once its records reach this many bytes (well below Kafka's default 1 MB message limit). */
    static final int BATCH_BYTES_MAX = 512 * 1024;
    /** How often a long run prints its progress line. */
    static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(2);

    @Mixin KafkaOptions kafka;
    @Mixin TopicName topicName;

    @Option(names = "--file", paramLabel = "FILE", description = "Read lines from FILE instead of stdin.")
    Path file;

    @Option(names = "--partition", paramLabel = "N",
            description = "Send every record to this partition (default: by key hash, unkeyed ones spread).")
    Integer partition;

    @Option(names = "--key-separator", paramLabel = "SEP",
            description = "Lines are KEY<SEP>VALUE (same as --property parse.key=true --property key.separator=SEP).")
    String keySeparator;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "kafka-console-producer reader property: parse.key, key.separator, parse.headers,"
                    + " headers.delimiter, headers.separator, headers.key.separator, null.marker, ignore.error.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--header", paramLabel = "KEY=VALUE", description = "A header added to every record.")
    Map<String, String> headers = new LinkedHashMap<>();

    @Option(names = "--rate", paramLabel = "RECORDS_PER_SECOND",
            description = "Send at most this many records a second.")
    Double rate;

    @Option(names = {"--acks", "--request-required-acks"}, paramLabel = "ACKS",
            description = "1 (leader) or all/-1 (every in-sync replica, the default); over the acks property.")
    String acks;

    @Option(names = "--compression-codec", paramLabel = "CODEC",
            description = "none (the default), gzip, snappy, lz4 or zstd; over the compression.type property.")
    String compression;

    @Option(names = {"--producer-property", "--command-property"}, paramLabel = "KEY=VALUE",
            description = "Kafka producer property (over --producer.config's): acks, compression.type, batch.size"
                    + " (pending bytes that send a batch), client.id, request.timeout.ms, security ones. Any other key"
                    + " is refused.")
    Map<String, String> producerProperties = new LinkedHashMap<>();

    /** The producer properties honoured besides the connection's (ClientProperties). */
    static final java.util.Set<String> PRODUCER_KEYS = java.util.Set.of("acks", "compression.type", "batch.size");

    @Option(names = {"-q", "--quiet"}, description = "No progress line on long runs.")
    boolean quiet;

    private final Map<Integer, List<ProducerRecord>> pending = new TreeMap<>();
    private int pendingBytes;
    private int batchBytes = BATCH_BYTES_MAX;
    private long sent;
    private int nextUnkeyedPartition = -1;
    private int partitionCount;

    @Override
    protected int execute() throws Exception {
        String topic = topicName.required();
        Map<String, String> readerProperties = new LinkedHashMap<>(properties);
        if (keySeparator != null) {
            readerProperties.put("parse.key", "true");
            readerProperties.put("key.separator", keySeparator);
        }
        LineParser parser = new LineParser(readerProperties);
        if (rate != null && !(rate > 0)) {
            throw new IllegalArgumentException("--rate must be positive");
        }
        List<RecordHeader> fixedHeaders = new ArrayList<>();
        headers.forEach((k, v) -> fixedHeaders.add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        Map<String, String> clientProperties = ClientProperties.merge(ClientProperties.load(kafka.commandConfig),
                producerProperties, PRODUCER_KEYS, "producer");
        // As kafka-console-producer: a flag given explicitly wins over the property, the property over the default.
        short acksValue = parseAcks(acks != null ? acks : clientProperties.getOrDefault("acks", "all"));
        CompressionType codec = parseCompression(compression != null ? compression
                : clientProperties.getOrDefault("compression.type", "none"));
        batchBytes = ClientProperties.intValue(clientProperties, "batch.size", BATCH_BYTES_MAX);
        if (batchBytes <= 0) {
            throw new IllegalArgumentException("batch.size must be positive");
        }
        try (KafkaClient client = kafka.connect(clientProperties); BufferedReader reader = open()) {
            RecordSender sender = new RecordSender(client, acksValue, codec);
            int partitions = sender.partitionCount(topic);
            partitionCount = partitions;
            if (partition != null && (partition < 0 || partition >= partitions)) {
                throw new CliException(ExitCodes.ERROR, "topic " + topic + " has no partition " + partition
                        + " (it has " + partitions + ")");
            }
            long start = System.nanoTime();
            long nextProgress = start + PROGRESS_INTERVAL_NANOS;
            long lineNumber = 0;
            String line;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                LineParser.Parsed parsed = parser.parse(line, lineNumber);
                List<RecordHeader> recordHeaders = fixedHeaders;
                if (!parsed.headers().isEmpty()) {
                    recordHeaders = new ArrayList<>(fixedHeaders);
                    recordHeaders.addAll(parsed.headers());
                }
                if (rate != null) {
                    long due = start + (long) ((lineNumber - 1) * 1e9 / rate);
                    if (due > System.nanoTime()) {
                        flush(sender, topic);
                        TimeUnit.NANOSECONDS.sleep(due - System.nanoTime());
                    }
                }
                ProducerRecord record = new ProducerRecord(parsed.key(), parsed.value(), recordHeaders,
                        System.currentTimeMillis());
                add(choosePartition(parsed.key(), partitions), record);
                if (pendingBytes >= batchBytes || !reader.ready()) {
                    flush(sender, topic);
                }
                if (!quiet && System.nanoTime() >= nextProgress) {
                    progress(start, false);
                    nextProgress += PROGRESS_INTERVAL_NANOS;
                }
            }
            flush(sender, topic);
            if (!quiet && System.nanoTime() - start >= PROGRESS_INTERVAL_NANOS) {
                progress(start, true);
            }
            return ExitCodes.OK;
        }
    }

    private BufferedReader open() throws IOException {
        Reader reader;
        if (file == null) {
            // Closing the reader must not close the process's stdin: an embedding program (or the test runner)
            // may still use it after the command returns.
            reader = new InputStreamReader(new FilterInputStream(System.in) {
                @Override
                public void close() {
                }
            }, StandardCharsets.UTF_8);
        } else {
            try {
                reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("no such file: " + file);
            }
        }
        return new BufferedReader(reader);
    }

    /** Keyed records go where Kafka's default partitioner puts them; unkeyed ones take turns by batch. */
    private int choosePartition(byte[] key, int partitions) {
        if (partition != null) {
            return partition;
        }
        if (key != null) {
            return Partitioner.partitionForKey(key, partitions);
        }
        if (nextUnkeyedPartition < 0) {
            nextUnkeyedPartition = java.util.concurrent.ThreadLocalRandom.current().nextInt(partitions);
        }
        return nextUnkeyedPartition;
    }

    private void add(int target, ProducerRecord record) {
        pending.computeIfAbsent(target, p -> new ArrayList<>()).add(record);
        pendingBytes += size(record.key()) + size(record.value());
        for (RecordHeader header : record.headers()) {
            pendingBytes += header.key().length() + size(header.value());
        }
    }

    private void flush(RecordSender sender, String topic) {
        for (Map.Entry<Integer, List<ProducerRecord>> batch : pending.entrySet()) {
            sender.send(topic, batch.getKey(), batch.getValue());
            sent += batch.getValue().size();
        }
        if (!pending.isEmpty() && nextUnkeyedPartition >= 0) {
            // The next batch of unkeyed records goes to the next partition, as Kafka's sticky partitioner moves on.
            nextUnkeyedPartition = (nextUnkeyedPartition + 1) % partitionCount;
        }
        pending.clear();
        pendingBytes = 0;
    }

    private void progress(long start, boolean done) {
        double seconds = (System.nanoTime() - start) / 1e9;
        err().printf(Locale.ROOT, "%s %d records in %.1f s (%.0f records/s)%n", done ? "produced" : "producing:",
                sent, seconds, sent / Math.max(seconds, 1e-9));
        err().flush();
    }

    private static int size(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    static short parseAcks(String acks) {
        return switch (acks.trim().toLowerCase(Locale.ROOT)) {
            case "all", "-1" -> (short) -1;
            case "1" -> (short) 1;
            case "0" -> throw new IllegalArgumentException("--acks 0 is not offered: the broker would not answer, so"
                    + " failures could not be reported");
            default -> throw new IllegalArgumentException("--acks must be 1 or all, not '" + acks + "'");
        };
    }

    static CompressionType parseCompression(String codec) {
        try {
            return CompressionType.valueOf(codec.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--compression-codec must be none, gzip, snappy, lz4 or zstd, not '"
                    + codec + "'");
        }
    }
}
