package io.tandem.server.kafka.log;

import io.netty.util.concurrent.FastThreadLocalThread;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.TestRequests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A connection's requests are handled one after the other by the request handler thread that answered the previous
 * one (no trip through the event loop per request): pipelined produce requests must still be appended and answered
 * in their order, and no append may ever run on a Netty event loop.
 */
class PipelinedProduceTest {
    @TempDir
    Path dir;
    private Tandem tandem;
    private final Set<String> appendThreads = ConcurrentHashMap.newKeySet();
    private final AtomicInteger appendsOnEventLoops = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        Partition.watchAppends((thread, records) -> {
            appendThreads.add(thread.getName());
            // Netty's event loop threads are FastThreadLocalThreads; the request handler threads are plain threads.
            if (thread instanceof FastThreadLocalThread) appendsOnEventLoops.incrementAndGet();
        });
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
    }

    @AfterEach
    void stop() {
        Partition.watchAppends(null);
        tandem.close();
    }

    @Test
    void shouldAppendAndAnswerPipelinedProducesInRequestOrderOffTheEventLoop() throws IOException {
        int requests = 200;
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "pipelined");
            // Every request written before any answer is read, in a few socket writes: the broker reads several
            // frames at a time and must take them one by one. acks=0 requests get no answer but take their offset;
            // an ApiVersions in the middle must be answered between its neighbours.
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int[] correlationIds = new int[requests];
            short[] acks = new short[requests];
            int versionsAfter = requests / 2;
            int versionsId = -1;
            for (int i = 0; i < requests; i++) {
                acks[i] = (short) (i % 10 == 7 ? 0 : i % 2 == 0 ? 1 : -1);
                wire.write(c.encode(ApiKey.PRODUCE, (short) 9, TestRequests.produce("pipelined", TestRequests.batch("v" + i), acks[i], 30_000)));
                correlationIds[i] = c.lastCorrelationId();
                if (i == versionsAfter) {
                    wire.write(c.encode(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest()));
                    versionsId = c.lastCorrelationId();
                }
            }
            byte[] bytes = wire.toByteArray();
            for (int from = 0; from < bytes.length; from += 64 * 1024) {
                c.socket.getOutputStream().write(bytes, from, Math.min(64 * 1024, bytes.length - from));
            }
            c.socket.getOutputStream().flush();
            for (int i = 0; i < requests; i++) {
                if (acks[i] != 0) {
                    ProduceResponse response = c.receive(correlationIds[i], (short) 1, (short) 9,
                            ProduceResponse::read);
                    ProduceResponse.PartitionProduceResponse partition =
                            response.responses.get(0).partitionResponses.get(0);
                    assertEquals(Errors.NONE.code(), partition.errorCode, "request " + i);
                    assertEquals(i, partition.baseOffset, "request " + i + " must be appended in its turn");
                }
                if (i == versionsAfter) {
                    assertEquals(Errors.NONE.code(),
                            c.receive(versionsId, (short) 0, (short) 0, ApiVersionsResponse::read).errorCode);
                }
            }
        }
        assertEquals(0, appendsOnEventLoops.get(), "appends ran on event loops: " + appendThreads);
        assertFalse(appendThreads.isEmpty());
        assertTrue(appendThreads.stream().allMatch(name -> name.startsWith("kafka-request-handler-")),
                "every produce append runs on a request handler thread: " + appendThreads);
    }

}
