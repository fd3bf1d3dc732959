package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.network.FileRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many raw-protocol clients produce known payloads and fetch them back, every byte checked, to catch a pooled buffer
 * shared wrongly between threads on the Kafka side. The broker's request threads allocate and release pooled buffers
 * off the event loops: encoded responses, fetched slices copied into pooled buffers (a slice larger than
 * {@link FileRecords#ZERO_COPY_BYTES_MAX}), gathered composites of both, and zero-copy file regions, all written and
 * released on the event loops. A buffer released twice, retained too little or written after its release shows up
 * here as a record whose bytes, offset or CRC are not the ones produced.
 *
 * <p>Every record's value is a pure function of (round, partition, offset), so any client can check any partition:
 * each fetch asks for every partition of the topic at a random offset below what was acknowledged, with partition
 * limits both below and above the zero-copy cap (so one answer mixes file regions and pooled copies), at several
 * Fetch versions (4, 7, 11 non-flexible; 12 flexible). Rounds alternate between one large segment per partition and
 * 1 MiB segments (many segments, fetches ending at segment ends).
 *
 * <p>The suite runs one short round. A long run, for a suspected corruption (the same properties size it):
 * <pre>
 * mvn -B -q -o -pl server -am test -Dtest=KafkaBufferSharingStressTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtandem.stress.rounds=50 -Dtandem.stress.clients=12 -Dtandem.stress.partitions=24
 * </pre>
 * It prints the rounds, fetches, batches and bytes it checked. The suite's JVM runs Netty's leak detector at paranoid
 * (the parent pom's argLine); a leak it reports for a buffer the Kafka path allocated fails the test.
 */
class KafkaBufferSharingStressTest {
    private static final int ROUNDS = Integer.getInteger("tandem.stress.rounds", 1);
    private static final int CLIENTS = Integer.getInteger("tandem.stress.clients", 3);
    private static final int PARTITIONS = Integer.getInteger("tandem.stress.partitions", 4);
    /** What each partition holds at the end of a round: above the zero-copy cap, so copies happen too. */
    private static final int PARTITION_BYTES = Integer.getInteger("tandem.stress.partitionBytes",
            FileRecords.ZERO_COPY_BYTES_MAX + (FileRecords.ZERO_COPY_BYTES_MAX / 4));
    /** Fetches each client makes after its partitions are full, so reads go on once writes stop. */
    private static final int FETCHES_AFTER_FULL = Integer.getInteger("tandem.stress.fetchesAfterFull", 3);
    private static final short[] FETCH_VERSIONS = {4, 7, 11, 12};
    private static final short[] PRODUCE_VERSIONS = {3, 7, 8, 9};
    private static final String TOPIC = "stress";

    @TempDir
    Path dir;

    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong batchesChecked = new AtomicLong();
    private final AtomicLong bytesChecked = new AtomicLong();
    private final AtomicLong copiedSlices = new AtomicLong();

    @Test
    void everyFetchedByteIsTheByteProducedUnderManyConcurrentClients() throws Exception {
        long started = System.nanoTime();
        ConcurrentLinkedQueue<String> leaks = new ConcurrentLinkedQueue<>();
        ByteBufUtil.setLeakListener((type, records) -> {
            // Only the Kafka path's buffers: a leak of another test sharing this JVM is reported by Netty's log.
            if (records.contains("io.tandem.server.kafka") || records.contains("io.tandem.kafka.wire")) {
                leaks.add(type + ": " + records);
            }
        });
        try {
            for (int round = 0; round < ROUNDS; round++) {
                runRound(round);
            }
            // Leaks are reported when the leaked buffers are collected and the detector next tracks a buffer.
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(100);
                for (int j = 0; j < 100; j++) ByteBufAllocator.DEFAULT.buffer(16).release();
            }
        } finally {
            ByteBufUtil.setLeakListener(null);
        }
        assertTrue(leaks.isEmpty(), leaks.size() + " leaked buffers, the first: " + leaks.peek());
        System.out.printf("KafkaBufferSharingStressTest: %d rounds, %d clients, %d partitions of %d bytes: %d fetches,"
                        + " %d batches (%d bytes) checked, %d partition answers above the zero-copy cap, %.1f s%n",
                ROUNDS, CLIENTS, PARTITIONS, PARTITION_BYTES, fetches.get(), batchesChecked.get(), bytesChecked.get(),
                copiedSlices.get(), (System.nanoTime() - started) / 1e9);
        assertTrue(copiedSlices.get() > 0, "no fetch answered a partition above the zero-copy cap: the copy path"
                + " was not exercised");
    }

    private void runRound(int round) throws Exception {
        Path roundDir = Files.createDirectories(dir.resolve("round-" + round));
        TandemConfig config = KafkaBrokerEndToEndTest.config(roundDir);
        if (round % 2 == 1) config.set("log.segment.bytes", String.valueOf(1 << 20));
        try (Tandem tandem = Tandem.start(config)) {
            try (RawKafkaConnection admin = new RawKafkaConnection(tandem.kafkaPort())) {
                TestRequests.createTopic(admin, TOPIC, PARTITIONS);
            }
            AtomicLongArray acknowledged = new AtomicLongArray(PARTITIONS);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    Client client = new Client(round, c, tandem.kafkaPort(), acknowledged);
                    clients.add(pool.submit(() -> {
                        client.run();
                        return null;
                    }));
                }
                for (Future<?> client : clients) client.get(10, TimeUnit.MINUTES);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** One connection: produces to the partitions it owns (p % CLIENTS == id) and fetches every partition. */
    private final class Client {
        private final int round;
        private final int id;
        private final int port;
        private final AtomicLongArray acknowledged;
        private final SplittableRandom random;

        Client(int round, int id, int port, AtomicLongArray acknowledged) {
            this.round = round;
            this.id = id;
            this.port = port;
            this.acknowledged = acknowledged;
            this.random = new SplittableRandom(round * 1_000_003L + id);
        }

        void run() throws IOException {
            List<Integer> owned = new ArrayList<>();
            for (int p = id; p < PARTITIONS; p += CLIENTS) owned.add(p);
            long[] bytes = new long[PARTITIONS];
            int fetchesAfterFull = 0;
            try (RawKafkaConnection connection = new RawKafkaConnection(port)) {
                connection.setTimeout(60_000);
                while (fetchesAfterFull < FETCHES_AFTER_FULL) {
                    boolean full = true;
                    for (int p : owned) {
                        if (bytes[p] < PARTITION_BYTES) {
                            full = false;
                            bytes[p] += produce(connection, p);
                        }
                    }
                    fetch(connection);
                    if (full) fetchesAfterFull++;
                }
            }
        }

        /** One batch of records to {@code partition}, appended after what this client acknowledged; its bytes. */
        private int produce(RawKafkaConnection connection, int partition) throws IOException {
            long base = acknowledged.get(partition);
            // Up to about 870 KB: below message.max.bytes (1 MiB) whatever the values' sizes.
            int count = 1 + random.nextInt(70);
            ByteBuf records = Unpooled.buffer();
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
                for (int i = 0; i < count; i++) {
                    builder.append(System.currentTimeMillis(), key(partition, base + i),
                            value(round, partition, base + i));
                }
                builder.build();
            }
            int size = records.readableBytes();
            ProduceRequest request = TestRequests.produce(TOPIC, records, (short) -1, 30_000);
            request.topicData.get(0).partitionData.get(0).index = partition;
            short version = PRODUCE_VERSIONS[random.nextInt(PRODUCE_VERSIONS.length)];
            int correlation = connection.send(ApiKey.PRODUCE, version, request);
            ProduceResponse response = connection.receive(correlation,
                    ApiKey.PRODUCE.responseHeaderVersion(version), version, ProduceResponse::read);
            ProduceResponse.PartitionProduceResponse answer = response.responses.get(0).partitionResponses.get(0);
            assertEquals(0, answer.errorCode, "produce to partition " + partition);
            assertEquals(base, answer.baseOffset, "produce to partition " + partition);
            acknowledged.set(partition, base + count);
            return size;
        }

        /** Every partition from a random acknowledged offset, limits below and above the zero-copy cap. */
        private void fetch(RawKafkaConnection connection) throws IOException {
            FetchRequest request = new FetchRequest();
            request.replicaId = -1;
            request.maxWaitMs = 10;
            request.minBytes = 1;
            request.maxBytes = 16 << 20;
            FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
            topic.topic = TOPIC;
            long[] from = new long[PARTITIONS];
            for (int p = 0; p < PARTITIONS; p++) {
                FetchRequest.FetchPartition partition = new FetchRequest.FetchPartition();
                partition.partition = p;
                long end = acknowledged.get(p);
                // Mostly from the start, so answers are large; sometimes from anywhere, even inside a batch.
                from[p] = random.nextInt(3) == 0 && end > 0 ? random.nextLong(end + 1) : 0;
                partition.fetchOffset = from[p];
                partition.partitionMaxBytes = random.nextBoolean() ? 1 << 20 : 2 * FileRecords.ZERO_COPY_BYTES_MAX;
                topic.partitions.add(partition);
            }
            request.topics.add(topic);
            short version = FETCH_VERSIONS[random.nextInt(FETCH_VERSIONS.length)];
            int correlation = connection.send(ApiKey.FETCH, version, request);
            FetchResponse response = connection.receive(correlation, ApiKey.FETCH.responseHeaderVersion(version),
                    version, FetchResponse::read);
            fetches.incrementAndGet();
            assertEquals(0, response.errorCode, "fetch v" + version);
            for (FetchResponse.FetchableTopicResponse topicAnswer : response.responses) {
                for (FetchResponse.PartitionData data : topicAnswer.partitions) {
                    assertEquals(0, data.errorCode, "fetch v" + version + " of partition " + data.partitionIndex);
                    check(version, data.partitionIndex, from[data.partitionIndex], data.records);
                }
            }
        }

        /** Every batch whole, its CRC right, its offsets contiguous from the fetch offset, every record's bytes. */
        private void check(short version, int partition, long fetchOffset, ByteBuf records) {
            if (records == null || !records.isReadable()) return;
            if (records.readableBytes() > FileRecords.ZERO_COPY_BYTES_MAX) copiedSlices.incrementAndGet();
            String where = "fetch v" + version + " of partition " + partition + " from " + fetchOffset;
            int position = records.readerIndex();
            long expectedBase = -1;
            while (position < records.writerIndex()) {
                RecordBatch batch = RecordBatch.wrap(records, position);
                if (!batch.isValid()) {
                    fail(where + ": CRC mismatch in the batch at offset " + batch.baseOffset() + " (byte "
                            + (position - records.readerIndex()) + " of " + records.readableBytes() + ")");
                }
                if (expectedBase < 0) {
                    assertTrue(batch.baseOffset() <= fetchOffset && fetchOffset <= batch.lastOffset(),
                            where + ": first batch " + batch.baseOffset() + ".." + batch.lastOffset());
                } else {
                    assertEquals(expectedBase, batch.baseOffset(), where + ": batches not contiguous");
                }
                long next = batch.baseOffset();
                try (RecordIterator iterator = batch.records()) {
                    while (iterator.hasNext()) {
                        Record record = iterator.next();
                        assertEquals(next, record.offset(), where);
                        checkBytes(where + ", key of offset " + next, key(partition, next), record.key());
                        checkBytes(where + ", value of offset " + next, value(round, partition, next), record.value());
                        next++;
                    }
                }
                assertEquals(batch.nextOffset(), next, where + ": records of the batch at " + batch.baseOffset());
                expectedBase = next;
                position += batch.sizeInBytes();
                batchesChecked.incrementAndGet();
                bytesChecked.addAndGet(batch.sizeInBytes());
            }
        }
    }

    private static void checkBytes(String where, byte[] expected, ByteBuf actual) {
        assertEquals(expected.length, actual.readableBytes(), where + ": length");
        if (ByteBufUtil.equals(Unpooled.wrappedBuffer(expected), actual)) return;
        for (int i = 0; i < expected.length; i++) {
            byte b = actual.getByte(actual.readerIndex() + i);
            if (b != expected[i]) {
                fail(where + ": byte " + i + " of " + expected.length + " is " + b + ", produced " + expected[i]);
            }
        }
    }

    private static byte[] key(int partition, long offset) {
        return (partition + ":" + offset).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** 100 bytes to 12 KiB, a pseudo-random stream of (round, partition, offset): equal runs would hide a swap. */
    static byte[] value(int round, int partition, long offset) {
        long state = mix(round * 0x9E3779B97F4A7C15L ^ partition * 0xC2B2AE3D27D4EB4FL ^ offset * 0x165667B19E3779F9L);
        byte[] value = new byte[100 + (int) Long.remainderUnsigned(state, 12 * 1024)];
        for (int i = 0; i < value.length; i += 8) {
            state = mix(state + 0x9E3779B97F4A7C15L);
            for (int j = 0; j < 8 && i + j < value.length; j++) value[i + j] = (byte) (state >>> (8 * j));
        }
        return value;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
