package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection's answers leave in request order even when the thread that answered a request is descheduled right
 * after it let the connection go idle, and the next request arrives meanwhile and is answered by another handler
 * thread. Seen with ProducerPerformance at 5,000 records/s: two Produce answers swapped, the producer failed both
 * with a correlation id mismatch and lost their batches to its delivery timeout.
 */
class AnswerOrderTest {
    @TempDir
    Path dir;
    private Tandem tandem;

    @BeforeEach
    void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
    }

    @AfterEach
    void stop() {
        KafkaConnectionHandler.turnGivenBack = null;
        tandem.close();
    }

    @Test
    void anAnswerShouldNotBeOvertakenByTheNextRequestsAnswerOnAnotherThread() throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            assertEquals(Errors.NONE.code(), c.apiVersions().errorCode, "warm: the connection and the handlers");
            AtomicBoolean armed = new AtomicBoolean(true);
            CountDownLatch idle = new CountDownLatch(1);
            // The first answering thread to let the connection go idle stalls there, as a descheduled thread would,
            // long enough for the next request to be read, handed to another thread and answered.
            KafkaConnectionHandler.turnGivenBack = () -> {
                if (!armed.compareAndSet(true, false)) return;
                idle.countDown();
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            int first = c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            assertTrue(idle.await(10, TimeUnit.SECONDS), "the first answer let the connection go idle");
            int second = c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            assertEquals(Errors.NONE.code(),
                    c.receive(first, (short) 0, (short) 0, ApiVersionsResponse::read).errorCode, "first answer first");
            assertEquals(Errors.NONE.code(),
                    c.receive(second, (short) 0, (short) 0, ApiVersionsResponse::read).errorCode);
        }
    }
}
