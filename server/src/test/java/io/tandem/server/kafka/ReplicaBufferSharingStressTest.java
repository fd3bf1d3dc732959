package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.TandemCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The buffer-sharing stress on follower fetches: three brokers, a topic of replication factor 3, raw clients
 * producing known payloads (acks=all, pipelined, mostly small batches) to each partition's leader, and then every
 * replica's log read from its segment files and checked byte for byte: the leader's batches against what was produced
 * (CRC, offsets, keys, values), and each follower's bytes equal to the leader's. A follower receives the leader's
 * batches in Fetch answers (zero-copy file regions on the leader, its own fetcher's read buffers on the follower)
 * and appends them as they came, so a buffer shared wrongly on either side leaves a replica whose bytes differ.
 *
 * <p>The suite runs one short round. A long run (the same properties size it):
 * <pre>
 * mvn -B -q -o -pl server -am test -Dtest=ReplicaBufferSharingStressTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtandem.stress.replicaRounds=10 -Dtandem.stress.clients=8 -Dtandem.stress.partitions=12
 * </pre>
 * Any LEAK report of Netty's detector, paranoid for the test's run ({@link LeakWatch}), fails it.
 */
class ReplicaBufferSharingStressTest {
    private static final int ROUNDS = Integer.getInteger("tandem.stress.replicaRounds", 1);
    private static final int CLIENTS = Integer.getInteger("tandem.stress.clients", 3);
    private static final int PARTITIONS = Integer.getInteger("tandem.stress.partitions", 3);
    private static final int PARTITION_BYTES = Integer.getInteger("tandem.stress.replicaPartitionBytes", 3 << 20);
    private static final int PIPELINED_BATCHES = Integer.getInteger("tandem.stress.pipelinedBatches", 6);
    private static final short[] PRODUCE_VERSIONS = {3, 7, 8, 9};
    private static final int BROKERS = 3;

    private final BufferSharingChecks checks = new BufferSharingChecks();
    private final AtomicLong produces = new AtomicLong();
    private final AtomicLong replicaBytesCompared = new AtomicLong();

    @Test
    void everyReplicaHoldsTheBytesProduced() throws Exception {
        long started = System.nanoTime();
        try (LeakWatch leaks = new LeakWatch()) {
            for (int round = 0; round < ROUNDS; round++) {
                runRound(round);
            }
            leaks.assertNoLeaks();
        }
        System.out.printf("ReplicaBufferSharingStressTest: %d rounds, %d clients, %d partitions of %d bytes on %d"
                        + " replicas: %d produces, %d batches (%d bytes) checked on the leaders, %d follower bytes"
                        + " compared, %.1f s%n", ROUNDS, CLIENTS, PARTITIONS, PARTITION_BYTES, BROKERS, produces.get(),
                checks.batchesChecked.get(), checks.bytesChecked.get(), replicaBytesCompared.get(),
                (System.nanoTime() - started) / 1e9);
    }

    private void runRound(int round) throws Exception {
        String topic = "replicated-" + round;
        // Odd rounds roll 1 MiB segments: followers roll where their own appends say, so segments are compared
        // as one stream of bytes per replica.
        try (TandemCluster cluster = TandemCluster.start(BROKERS, config -> round % 2 == 1
                ? config.set("log.segment.bytes", String.valueOf(1 << 20)) : config);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) BROKERS)))
                    .all().get(60, TimeUnit.SECONDS);
            PartitionWaits.awaitTopicOnEveryBroker(admin, cluster, topic, PARTITIONS);
            int[] leaders = leaders(admin, topic);
            long[] acknowledged = new long[PARTITIONS];
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int id = c;
                    clients.add(pool.submit(() -> {
                        new Client(round, id, topic, cluster, leaders, acknowledged).run();
                        return null;
                    }));
                }
                for (Future<?> client : clients) client.get(10, TimeUnit.MINUTES);
            } finally {
                pool.shutdownNow();
            }
            for (int p = 0; p < PARTITIONS; p++) {
                checkReplicas(cluster, round, topic, p, leaders[p], acknowledged[p]);
            }
        }
    }

    private static int[] leaders(Admin admin, String topic) throws Exception {
        int[] leaders = new int[PARTITIONS];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic);
            boolean ready = description.partitions().size() == PARTITIONS;
            for (TopicPartitionInfo info : description.partitions()) {
                ready &= info.leader() != null && info.isr().size() == BROKERS;
                if (info.leader() != null) leaders[info.partition()] = info.leader().id();
            }
            if (ready) return leaders;
            assertTrue(System.nanoTime() < deadline, "partitions of " + topic + " not all led with a full ISR: "
                    + description);
            Thread.sleep(100);
        }
    }

    /**
     * Waits until every replica of the partition holds the same bytes as the leader, then checks the leader's bytes
     * against what was produced.
     */
    private void checkReplicas(TandemCluster cluster, int round, String topic, int partition, int leader,
                               long acknowledged) throws Exception {
        String where = topic + "-" + partition;
        byte[] leaderBytes = logBytes(cluster, leader, where);
        ByteBuf leaderLog = Unpooled.wrappedBuffer(leaderBytes);
        long end = checks.checkBatches("the leader's (" + leader + ") log of " + where, round, partition, 0,
                leaderLog);
        assertTrue(end >= acknowledged, where + ": the leader's log ends at " + end + ", " + acknowledged
                + " acknowledged");
        for (int broker = 1; broker <= BROKERS; broker++) {
            if (broker == leader) continue;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            byte[] followerBytes = logBytes(cluster, broker, where);
            while (followerBytes.length < leaderBytes.length && System.nanoTime() < deadline) {
                Thread.sleep(50); // acks=all: in the ISR's logs already, unless the ISR shrank meanwhile
                followerBytes = logBytes(cluster, broker, where);
            }
            assertEquals(leaderBytes.length, followerBytes.length, "broker " + broker + "'s log of " + where);
            int differs = Arrays.mismatch(leaderBytes, followerBytes);
            assertEquals(-1, differs, "broker " + broker + "'s log of " + where + " differs from the leader's at byte "
                    + differs + " of " + leaderBytes.length);
            replicaBytesCompared.addAndGet(followerBytes.length);
        }
    }

    /** The partition's segment files on {@code broker}, in offset order, as one stream of bytes. */
    private static byte[] logBytes(TandemCluster cluster, int broker, String partitionDir) throws IOException {
        Path brokerDir = cluster.dataDir().resolve("broker" + broker);
        Path dir;
        try (Stream<Path> found = Files.walk(brokerDir)) {
            dir = found.filter(path -> Files.isDirectory(path) && path.getFileName().toString().equals(partitionDir))
                    .findFirst().orElseThrow(() -> new AssertionError("no log of " + partitionDir + " on broker "
                            + broker));
        }
        List<Path> segments;
        try (Stream<Path> files = Files.list(dir)) {
            segments = files.filter(path -> path.getFileName().toString().endsWith(".log")).sorted().toList();
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Path segment : segments) out.write(Files.readAllBytes(segment));
        return out.toByteArray();
    }

    /** One client: produces (acks=all) to the partitions it owns (p % CLIENTS == id) on their leaders. */
    private final class Client {
        private final int round;
        private final int id;
        private final String topic;
        private final TandemCluster cluster;
        private final int[] leaders;
        private final long[] acknowledged;
        private final SplittableRandom random;
        private final Map<Integer, RawKafkaConnection> connections = new HashMap<>();

        Client(int round, int id, String topic, TandemCluster cluster, int[] leaders, long[] acknowledged) {
            this.round = round;
            this.id = id;
            this.topic = topic;
            this.cluster = cluster;
            this.leaders = leaders;
            this.acknowledged = acknowledged;
            this.random = new SplittableRandom(round * 1_000_003L + id + 77);
        }

        void run() throws IOException {
            List<Integer> owned = new ArrayList<>();
            for (int p = id; p < PARTITIONS; p += CLIENTS) owned.add(p);
            long[] next = new long[PARTITIONS];
            long[] bytes = new long[PARTITIONS];
            try {
                boolean full = false;
                while (!full) {
                    full = true;
                    List<Object[]> sent = new ArrayList<>();
                    for (int p : owned) {
                        for (int batch = 0; batch < PIPELINED_BATCHES && bytes[p] < PARTITION_BYTES; batch++) {
                            full = false;
                            RawKafkaConnection connection = connection(leaders[p]);
                            int count = random.nextInt(4) == 0 ? 1 + random.nextInt(70) : 1 + random.nextInt(3);
                            short version = PRODUCE_VERSIONS[random.nextInt(PRODUCE_VERSIONS.length)];
                            ByteBuf records = records(p, next[p], count);
                            bytes[p] += records.readableBytes();
                            ProduceRequest request = TestRequests.produce(topic, records, (short) -1, 30_000);
                            request.topicData.get(0).partitionData.get(0).index = p;
                            int correlation = connection.send(ApiKey.PRODUCE, version, request);
                            sent.add(new Object[] {connection, correlation, version, p, next[p]});
                            next[p] += count;
                            LockSupport.parkNanos(random.nextInt(200_000));
                        }
                    }
                    for (Object[] request : sent) {
                        short version = (short) request[2];
                        ProduceResponse response = ((RawKafkaConnection) request[0]).receive((int) request[1],
                                ApiKey.PRODUCE.responseHeaderVersion(version), version, ProduceResponse::read);
                        ProduceResponse.PartitionProduceResponse answer =
                                response.responses.get(0).partitionResponses.get(0);
                        int p = (int) request[3];
                        assertEquals(0, answer.errorCode, "produce to " + topic + "-" + p);
                        assertEquals((long) request[4], answer.baseOffset, "produce to " + topic + "-" + p);
                        produces.incrementAndGet();
                    }
                }
                for (int p : owned) acknowledged[p] = next[p];
            } finally {
                for (RawKafkaConnection connection : connections.values()) connection.close();
            }
        }

        private RawKafkaConnection connection(int broker) {
            return connections.computeIfAbsent(broker, b -> {
                try {
                    RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(b).kafkaPort());
                    connection.setTimeout(60_000);
                    return connection;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        private ByteBuf records(int partition, long base, int count) {
            ByteBuf records = Unpooled.buffer();
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
                for (int i = 0; i < count; i++) {
                    builder.append(System.currentTimeMillis(), BufferSharingChecks.key(partition, base + i),
                            BufferSharingChecks.value(round, partition, base + i));
                }
                builder.build();
            }
            return records;
        }
    }
}
