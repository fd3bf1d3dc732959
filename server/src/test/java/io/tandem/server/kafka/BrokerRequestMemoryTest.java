package io.tandem.server.kafka;

import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the broker holds of clients' requests is bounded in bytes: one request per connection (the connection is
 * not read while its request is in hand) and queued.max.request.bytes over all connections.
 */
class BrokerRequestMemoryTest {
    private static final short FETCH_VERSION = 12;
    /** How long the budget test's fetches park, from when the broker reads them. */
    private static final int PARK_MS = 15_000;
    /** How long a probe waits for its answer before it counts as not read. */
    private static final int PROBE_MS = 1_000;

    @TempDir
    Path dir;

    private Tandem start(String... keyValues) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA));
        for (int i = 0; i < keyValues.length; i += 2) config.set(keyValues[i], keyValues[i + 1]);
        return Tandem.start(config);
    }

    /**
     * A session-less long poll on partition 0 of an empty topic, which parks until maxWaitMs; the partition is named
     * {@code copies} times so the request is as large as the test needs.
     */
    private static FetchRequest parkedFetch(String topic, int maxWaitMs, int copies) {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = maxWaitMs;
        request.minBytes = 1;
        request.maxBytes = 1 << 20;
        request.sessionId = 0;
        request.sessionEpoch = -1;
        FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
        t.topic = topic;
        for (int i = 0; i < copies; i++) {
            FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
            p.partition = 0;
            p.fetchOffset = 0;
            p.partitionMaxBytes = 1024;
            t.partitions.add(p);
        }
        request.topics.add(t);
        return request;
    }

    @Test
    void shouldNotReadAConnectionWhileItsRequestIsInHand() throws Exception {
        try (Tandem tandem = start();
             RawKafkaConnection admin = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(admin, "quiet");
            // Encoded by a helper connection only for its codec; the bytes go out on a non-blocking channel.
            byte[] fetch = admin.encode(ApiKey.FETCH, FETCH_VERSION, parkedFetch("quiet", 3_000, 1));
            ProduceRequest produce = new ProduceRequest();
            produce.acks = 1;
            produce.timeoutMs = 1000;
            ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
            data.name = "absent";
            ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
            partition.index = 0;
            partition.records = Unpooled.wrappedBuffer(new byte[1 << 20]);
            data.partitionData.add(partition);
            produce.topicData.add(data);
            byte[] bigRequest = admin.encode(ApiKey.PRODUCE, (short) 9, produce);

            try (SocketChannel client = SocketChannel.open()) {
                client.setOption(StandardSocketOptions.SO_SNDBUF, 64 * 1024);
                client.connect(new InetSocketAddress("127.0.0.1", tandem.kafkaPort()));
                client.write(ByteBuffer.wrap(fetch));
                client.configureBlocking(false);
                // While the fetch is parked, keep sending 1 MiB requests without reading any answer.
                long written = 0;
                long deadline = System.currentTimeMillis() + 1_500;
                ByteBuffer pending = ByteBuffer.wrap(bigRequest);
                while (System.currentTimeMillis() < deadline && written < 200L << 20) {
                    int n = client.write(pending);
                    written += n;
                    if (!pending.hasRemaining()) pending = ByteBuffer.wrap(bigRequest);
                    if (n == 0) Thread.sleep(5);
                }
                // Socket buffers on both sides take a few MiB; a broker reading ahead takes far more.
                assertTrue(written < 24L << 20, "the broker kept reading while a request was in hand: "
                        + (written >> 20) + " MiB taken");
            }
        }
    }

    @Test
    void shouldNotReadNewRequestsWhileQueuedMaxRequestBytesAreHeld() throws Exception {
        try (Tandem tandem = start("socket.request.max.bytes", "1048576", "queued.max.request.bytes", "1048576");
             RawKafkaConnection first = new RawKafkaConnection(tandem.kafkaPort());
             RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(first, "held");
            // Two parked fetches of ~650 KB each: together they hold more than the 1 MiB budget until they expire,
            // PARK_MS after the broker read them (never before they were sent).
            // Encoded first (20,000 partitions take a while on a loaded machine), so sentAt is when the bytes go out.
            FetchRequest big = parkedFetch("held", PARK_MS, 20_000);
            byte[] firstFetch = first.encode(ApiKey.FETCH, FETCH_VERSION, big);
            byte[] secondFetch = second.encode(ApiKey.FETCH, FETCH_VERSION, big);
            int firstId = first.lastCorrelationId(), secondId = second.lastCorrelationId();
            long sentAt = System.currentTimeMillis();
            first.socket.getOutputStream().write(firstFetch);
            second.socket.getOutputStream().write(secondFetch);
            // Until the broker has read both fetches' length prefixes the budget has room, and a new request is
            // rightly served: on a loaded machine (CI, two cores) that may take seconds. So new connections probe
            // until one is not answered within PROBE_MS; each probe is sent early enough that the fetches, parked
            // from when they were read, still hold their bytes for the whole of it. A broker that never stops
            // reading new requests fails here.
            RawKafkaConnection late = null;
            while (late == null) {
                long elapsed = System.currentTimeMillis() - sentAt;
                assertTrue(elapsed < PARK_MS - 2L * PROBE_MS, "a new request is read while the budget is spent: "
                        + "every probe was answered for " + elapsed + " ms after the fetches were sent");
                RawKafkaConnection probe = new RawKafkaConnection(tandem.kafkaPort());
                probe.setTimeout(PROBE_MS);
                try {
                    assertEquals(Errors.NONE.code(), probe.apiVersions().errorCode);
                    probe.close();
                    Thread.sleep(100); // the fetches are still being read: give the broker's event loops the cores
                } catch (SocketTimeoutException held) {
                    late = probe;
                }
            }
            try (RawKafkaConnection stuck = late) {
                stuck.setTimeout(30_000);
                ApiVersionsResponse answer = stuck.receive(stuck.lastCorrelationId(), (short) 0, (short) 0,
                        ApiVersionsResponse::read);
                assertEquals(Errors.NONE.code(), answer.errorCode);
                // The fetches were read after sentAt and held their bytes PARK_MS from then on.
                assertTrue(System.currentTimeMillis() - sentAt >= PARK_MS - 500,
                        "answered only once the fetches released their bytes");
            }
            // Answers of 20,000 partitions each: on a loaded machine they take longer than the 10 s default.
            first.setTimeout(30_000);
            second.setTimeout(30_000);
            assertEquals(20_000, first.receive(firstId, (short) 1, FETCH_VERSION, FetchResponse::read)
                    .responses.get(0).partitions.size());
            assertEquals(20_000, second.receive(secondId, (short) 1, FETCH_VERSION, FetchResponse::read)
                    .responses.get(0).partitions.size());
        }
    }
}
