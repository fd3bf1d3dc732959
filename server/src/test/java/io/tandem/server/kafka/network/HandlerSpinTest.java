package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A handler thread that finished a request spins briefly for the next one, which is then handed straight to it instead
 * of waking a parked thread of the pool; over real sockets, an idle connection's next request goes that way. The
 * spin is bounded: a request queued meanwhile, a shut-down pool and the end of the spin each send the thread back.
 */
class HandlerSpinTest {
    private RequestDispatcher dispatcher;
    private KafkaServer server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) server.close();
        if (dispatcher != null) dispatcher.close(5, TimeUnit.SECONDS);
    }

    private static String ranOn(RequestDispatcher dispatcher) throws Exception {
        CompletableFuture<String> thread = new CompletableFuture<>();
        dispatcher.submit(() -> thread.complete(Thread.currentThread().getName()));
        return thread.get(5, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(30)
    void shouldHandTheNextRequestToTheThreadThatSpinsAfterItsLastOne() throws Exception {
        // Two threads: without the spin the pool starts its second thread for the second request.
        dispatcher = new RequestDispatcher(2, 10, TimeUnit.SECONDS.toNanos(10));
        String first = ranOn(dispatcher);
        Thread.sleep(50);
        assertEquals(first, ranOn(dispatcher), "the second request ran on the thread that spun");
        assertEquals(1, dispatcher.handedToSpinner());
    }

    @Test
    @Timeout(30)
    void shouldParkAtOnceWithoutASpin() throws Exception {
        dispatcher = new RequestDispatcher(2, 10, 0);
        String first = ranOn(dispatcher);
        Thread.sleep(50);
        assertNotEquals(first, ranOn(dispatcher), "the pool's second thread took it");
        assertEquals(0, dispatcher.handedToSpinner());
    }

    @Test
    @Timeout(30)
    void shouldStopSpinningAtTheEndOfTheSpin() throws Exception {
        dispatcher = new RequestDispatcher(2, 10, TimeUnit.MILLISECONDS.toNanos(1));
        ranOn(dispatcher);
        Thread.sleep(200);
        ranOn(dispatcher);
        assertEquals(0, dispatcher.handedToSpinner(), "nobody spun 200 ms after the first request");
    }

    @Test
    @Timeout(30)
    void shouldNotLeaveARequestQueuedBehindTheSpin() throws Exception {
        // One thread: a request it queues itself while it runs one finds nobody spinning and waits in the pool's
        // queue; the thread takes it when done instead of spinning for 10 s.
        dispatcher = new RequestDispatcher(1, 10, TimeUnit.SECONDS.toNanos(10));
        ranOn(dispatcher);
        Thread.sleep(50);
        CountDownLatch queuedRan = new CountDownLatch(1);
        long start = System.nanoTime();
        dispatcher.submit(() -> dispatcher.submit(queuedRan::countDown));
        assertTrue(queuedRan.await(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "the queued request did not wait out the spin");
        assertEquals(1, dispatcher.handedToSpinner(), "the outer request went to the spinning thread");
    }

    @Test
    @Timeout(30)
    void shouldStopSpinningWhenClosed() throws Exception {
        dispatcher = new RequestDispatcher(1, 10, TimeUnit.SECONDS.toNanos(20));
        ranOn(dispatcher);
        long start = System.nanoTime();
        dispatcher.close(10, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "close did not wait out the spin");
        dispatcher = null;
    }

    @Test
    @Timeout(30)
    void shouldHandAnIdleConnectionsNextRequestToTheSpinningThread() throws Exception {
        ApiRegistry registry = new ApiRegistry();
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        registry.register(ApiKey.API_VERSIONS, 0, 3, (RequestContext context, ApiVersionsRequest request,
                                                       Responder responder) -> {
            threads.add(Thread.currentThread().getName());
            responder.send(new ApiVersionsResponse().setApiKeys(registry.apiVersions()));
        });
        dispatcher = new RequestDispatcher(4, 10, TimeUnit.SECONDS.toNanos(10));
        server = KafkaServer.start("127.0.0.1", 0, new ListenerLimits(1 << 20, 10, Integer.MAX_VALUE,
                Integer.MAX_VALUE, -1, -1, 0), registry, dispatcher);
        try (RawKafkaConnection c = new RawKafkaConnection(server.port())) {
            for (int i = 0; i < 5; i++) {
                // One request at a time: each finds the connection idle and is handed over by the event loop.
                int id = c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
                assertEquals(Errors.NONE.code(), c.receive(id, (short) 0, (short) 0, ApiVersionsResponse::read)
                        .errorCode);
            }
        }
        assertEquals(5, threads.size());
        assertEquals(1, threads.stream().distinct().count(), "one thread took them all: " + threads);
        assertTrue(dispatcher.handedToSpinner() >= 4, "handed to the spinner: " + dispatcher.handedToSpinner());
    }
}
