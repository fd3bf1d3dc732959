package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Runs the leader's produce path a few thousand times on a scratch log when a broker starts, on one background
 * thread, so that the JIT has compiled it before the first clients produce: a Produce request's body decoded from a
 * direct buffer, its records validated ({@link LogValidator}) and appended through {@link Partition#append} (the
 * producer-state check, the segment write), the answer encoded. A fresh node otherwise compiles that path under its
 * first clients' load: in the first 200,000 produced records its C2 compiler thread was 45-55% of the node's CPU, and
 * the first ~30 Produce requests of a fixed-rate producer took 7-27 ms each on the server against 0.15 ms once warm
 * (docs/profiles/kafka-produce.md, "The JIT" and "The fixed-rate p99's first seconds").
 *
 * <p>The scratch log lives in a temporary directory outside the data directory, is no topic, is never seen by a
 * client or the controller, and is deleted when the run ends; the run stops early when the broker closes. The buffers
 * are those of the request path (direct buffers of the default allocator, the records a slice of the request), so
 * the compiled code meets the receiver types real requests bring ({@link RecordBuffers}). The batches are an
 * idempotent producer's (Kafka clients' default since 3.0), a new producer id every {@link #BATCHES_PER_PRODUCER}
 * batches, so the unknown-producer branch is in the profile too. {@value #PROPERTY} sets the number of batches
 * (0 turns the warm-up off).
 */
public final class ProducePathWarmup {
    private static final System.Logger LOG = System.getLogger(ProducePathWarmup.class.getName());
    /** System property: how many batches the warm-up appends; 0 = none. */
    public static final String PROPERTY = "tandem.kafka.producePathWarmup";
    /**
     * Enough for C2: a method is compiled at tier 4 after about 5,000 calls made in its profiled (tier 3) code, which
     * it reaches after about 200, and the thresholds grow with C2's queue (a node's start fills it); one batch per
     * request is one call of every per-request method. 8,000 left the per-request methods to the first clients.
     */
    static final int BATCHES_DEFAULT = 20_000;
    /** Not a "kafka-" name: tests count the broker's request threads by that prefix. */
    static final String THREAD_NAME = "tandem-produce-warmup";
    /** The scratch directory's name starts with this and the process id, so leftovers of a killed process are known. */
    static final String SCRATCH_PREFIX = "tandem-produce-warmup-";
    static final int RECORDS_PER_BATCH = 5;
    static final int VALUE_BYTES = 100;
    static final int BATCHES_PER_PRODUCER = 1_000;
    private static final short VERSION = ProduceRequest.HIGHEST_VERSION;

    private ProducePathWarmup() {
    }

    /** The number of batches {@link #PROPERTY} asks for (the default when unset or unreadable, never negative). */
    public static int configuredBatches() {
        try {
            return Math.max(0, Integer.getInteger(PROPERTY, BATCHES_DEFAULT));
        } catch (SecurityException e) {
            return BATCHES_DEFAULT;
        }
    }

    /**
     * Starts the warm-up on a daemon thread of its own (never an event loop: it writes to disk), or returns null
     * when {@code batches} is 0.
     */
    public static Thread start(int brokerId, TopicConfigs.ProduceSettings settings, int batches, BooleanSupplier stop) {
        if (batches <= 0) return null;
        Thread thread = new Thread(() -> {
            try {
                long t0 = System.nanoTime();
                int done = run(brokerId, settings, batches, stop);
                LOG.log(System.Logger.Level.INFO, "produce path warm-up: {0} batches in {1} ms", done,
                        (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException | RuntimeException e) {
                // Only a speed-up: a node that cannot warm up compiles the path under load, as before.
                LOG.log(System.Logger.Level.WARNING, "produce path warm-up stopped: " + e);
            }
        }, THREAD_NAME);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Appends up to {@code batches} batches to a scratch log, then deletes it; returns the batches appended. */
    static int run(int brokerId, TopicConfigs.ProduceSettings settings, int batches, BooleanSupplier stop)
            throws IOException {
        Path scratch = Files.createTempDirectory(SCRATCH_PREFIX + ProcessHandle.current().pid() + "-");
        try {
            Log log = Log.open(scratch.resolve("warmup-0"), LogConfig.defaults(), Log.Checkpoint.NONE, false,
                    System::currentTimeMillis, null);
            try {
                Partition partition = new Partition(new TopicPartition("warmup", 0), brokerId, log, tp -> { });
                partition.makeLeaderUnflushed(0, List.of(brokerId), 0, List.of(brokerId), System.currentTimeMillis());
                return appendAll(partition, settings, batches, stop);
            } finally {
                log.closeAndDelete();
            }
        } finally {
            deleteTree(scratch);
        }
    }

    private static int appendAll(Partition partition, TopicConfigs.ProduceSettings settings, int batches,
                                 BooleanSupplier stop) throws IOException {
        ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
        UUID topicId = new UUID(0x7a6d, 0x7761726d);
        // Direct, as the records of a request are: the builder's reads of it are code the produce path shares.
        ByteBuf value = allocator.directBuffer(VALUE_BYTES).writeZero(VALUE_BYTES);
        try {
            return appendAll(partition, settings, batches, stop, allocator, topicId, value);
        } finally {
            value.release();
        }
    }

    private static int appendAll(Partition partition, TopicConfigs.ProduceSettings settings, int batches,
                                 BooleanSupplier stop, ByteBufAllocator allocator, UUID topicId, ByteBuf value)
            throws IOException {
        int done = 0;
        for (; done < batches && !stop.getAsBoolean(); done++) {
            long producerId = 1 + done / BATCHES_PER_PRODUCER;
            int sequence = (done % BATCHES_PER_PRODUCER) * RECORDS_PER_BATCH;
            ByteBuf body = requestBody(allocator, topicId, producerId, sequence, value);
            // As the event loop hands a request on: a retained slice of what the socket read (ReadGate), and the
            // frame a retained slice of that (KafkaFrameDecoder), so the decode meets the classes it will meet.
            ByteBuf read = body.readRetainedSlice(body.readableBytes());
            body.release();
            ByteBuf frame = read.readRetainedSlice(read.readableBytes());
            read.release();
            try {
                ProduceRequest request = ProduceRequest.read(frame, VERSION);
                ProduceRequest.PartitionProduceData data = request.topicData.get(0).partitionData.get(0);
                LogValidator validator = LogValidator.forClients(settings, System.currentTimeMillis());
                Partition.AppendResult result = partition.append(data.records, validator, 1);
                ProduceResponse response = answer(request, data, result);
                KafkaFrames.encodeResponse(allocator, done, ApiKey.PRODUCE, VERSION, response).release();
            } finally {
                frame.release();
            }
        }
        return done;
    }

    /** A Produce request's body as a client sends it: one topic, one partition, one batch of 5 records. */
    private static ByteBuf requestBody(ByteBufAllocator allocator, UUID topicId, long producerId, int sequence,
                                       ByteBuf value) {
        ByteBuf batch = allocator.directBuffer();
        try {
            RecordBatchBuilder builder = RecordBatchBuilder.create(batch).producer(producerId, (short) 0, sequence);
            long now = System.currentTimeMillis();
            for (int i = 0; i < RECORDS_PER_BATCH; i++) builder.append(now, null, value, List.of());
            builder.build();
            ProduceRequest.PartitionProduceData data = new ProduceRequest.PartitionProduceData();
            data.index = 0;
            data.records = batch;
            ProduceRequest.TopicProduceData topic = new ProduceRequest.TopicProduceData();
            topic.name = "";
            topic.topicId = topicId;
            topic.partitionData = new ArrayList<>(List.of(data));
            ProduceRequest request = new ProduceRequest();
            request.acks = -1;
            request.timeoutMs = 30_000;
            request.topicData = new ArrayList<>(List.of(topic));
            ByteBuf body = allocator.directBuffer();
            request.write(body, VERSION);
            return body;
        } finally {
            batch.release();
        }
    }

    private static ProduceResponse answer(ProduceRequest request, ProduceRequest.PartitionProduceData data,
                                          Partition.AppendResult result) {
        ProduceResponse.PartitionProduceResponse partition = new ProduceResponse.PartitionProduceResponse();
        partition.index = data.index;
        partition.errorCode = result.error();
        partition.baseOffset = result.baseOffset();
        partition.logAppendTimeMs = result.logAppendTimeMs();
        partition.logStartOffset = result.logStartOffset();
        ProduceResponse.TopicProduceResponse topic = new ProduceResponse.TopicProduceResponse();
        topic.name = request.topicData.get(0).name;
        topic.topicId = request.topicData.get(0).topicId;
        topic.partitionResponses.add(partition);
        ProduceResponse response = new ProduceResponse();
        response.responses.add(topic);
        return response;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
