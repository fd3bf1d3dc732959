package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The Kafka listener alone (no broker) on a free loopback port, with one handler thread and a request queue of one,
 * whose ApiVersions handler holds the handler thread, as a handler stuck on disk or ZooKeeper would, for each request
 * the test's predicate picks, until {@link #release()}. Shared by the tests of what waits behind a busy handler
 * (nothing else hands tasks to the event loops).
 */
final class HeldHandlerListener implements AutoCloseable {
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    final RequestDispatcher dispatcher;
    final KafkaServer server;

    /** {@code holds} runs on the handler thread for each ApiVersions request: true holds that request. */
    HeldHandlerListener(BooleanSupplier holds) throws InterruptedException {
        ApiRegistry registry = new ApiRegistry();
        registry.register(ApiKey.API_VERSIONS, 0, 3, (RequestContext context, ApiVersionsRequest request,
                                                       Responder responder) -> {
            if (holds.getAsBoolean()) {
                entered.countDown();
                release.await();
            }
            responder.send(new ApiVersionsResponse().setApiKeys(registry.apiVersions()));
        });
        dispatcher = new RequestDispatcher(1, 1);
        KafkaServer started;
        try {
            started = KafkaServer.start("127.0.0.1", 0, new ListenerLimits(1 << 20, 1, Integer.MAX_VALUE,
                    Integer.MAX_VALUE, -1, -1, 0), registry, dispatcher);
        } catch (InterruptedException | RuntimeException e) {
            dispatcher.close(5, TimeUnit.SECONDS);
            throw e;
        }
        server = started;
    }

    int port() {
        return server.port();
    }

    /** Whether a held request reached the handler within the time given. */
    boolean awaitHeld(long timeout, TimeUnit unit) throws InterruptedException {
        return entered.await(timeout, unit);
    }

    /** Lets every held request, and every later one, through. */
    void release() {
        release.countDown();
    }

    @Override
    public void close() throws InterruptedException {
        release();
        try {
            server.close();
        } finally {
            dispatcher.close(5, TimeUnit.SECONDS);
        }
    }
}
