package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Pipelined requests of one connection, answered one after the other by the handler thread that holds the
 * connection: their answers reach the event loop together, not one wake-up of the loop each, and still leave in
 * request order. Over a real socket with the listener alone (no broker), so nothing else hands tasks to event loops.
 */
class AnswerBatchingTest {
    private static final int PIPELINED = ConnectionTurn.READ_AHEAD_FRAMES_MAX + 1;

    @Test
    @Timeout(30)
    void shouldHandPipelinedAnswersToTheEventLoopTogetherAndInOrder() throws Exception {
        AtomicBoolean first = new AtomicBoolean(false);
        // The first request after the warm-up holds the handler thread until the test has sent every request, so
        // they all wait read ahead behind it and the thread answers them back to back.
        try (HeldHandlerListener listener = new HeldHandlerListener(() -> first.compareAndSet(true, false));
             RawKafkaConnection c = new RawKafkaConnection(listener.port())) {
            // Warm: the connection's first answer (the loop's tasks for it are not counted).
            assertEquals(Errors.NONE.code(), c.receive(c.send(ApiKey.API_VERSIONS, (short) 0,
                    new ApiVersionsRequest()), (short) 0, (short) 0, ApiVersionsResponse::read).errorCode);
            first.set(true);
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < PIPELINED; i++) {
                ids.add(c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest()));
            }
            assertTrue(listener.awaitHeld(10, TimeUnit.SECONDS));
            // Time for the event loop to read the requests sent behind the first (a few microseconds of work).
            Thread.sleep(300);
            long before = ConnectionWriter.handOvers();
            listener.release();
            for (int id : ids) {
                assertEquals(Errors.NONE.code(), c.receive(id, (short) 0, (short) 0, ApiVersionsResponse::read)
                        .errorCode, "answer " + id + " in request order");
            }
            long handOvers = ConnectionWriter.handOvers() - before;
            // Before: one per answer, plus one telling the loop there was room to read again.
            assertTrue(handOvers <= 2, PIPELINED + " answers took " + handOvers + " hand-overs to the event loop");
        }
    }
}
