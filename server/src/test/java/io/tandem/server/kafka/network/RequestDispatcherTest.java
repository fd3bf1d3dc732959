package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The listener with a full request queue, over real sockets: requests beyond queued.max.requests wait (their
 * connections unread) instead of running on the Netty event loop, which keeps serving what it answers itself.
 */
class RequestDispatcherTest {
    @Test
    @Timeout(30)
    void shouldQueueBeyondQueuedMaxRequestsWithoutRunningHandlersOnTheEventLoop() throws Exception {
        Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
        // Every request holds the handler thread until released, as one stuck on disk or ZooKeeper would.
        try (HeldHandlerListener listener = new HeldHandlerListener(() -> {
            handlerThreads.add(Thread.currentThread().getName());
            return true;
        })) {
            RequestDispatcher dispatcher = listener.dispatcher;
            List<RawKafkaConnection> clients = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    RawKafkaConnection c = new RawKafkaConnection(listener.port());
                    clients.add(c);
                    ids.add(c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest()));
                }
                assertTrue(listener.awaitHeld(5, TimeUnit.SECONDS));
                // One running, one queued, two waiting beyond the queue.
                long deadline = System.currentTimeMillis() + 3_000;
                while (dispatcher.waiting() < 3 && System.currentTimeMillis() < deadline) Thread.sleep(10);
                // The single event loop still answers a request it handles itself: a too-new ApiVersions.
                try (Socket probe = new Socket("127.0.0.1", listener.port())) {
                    probe.setSoTimeout(2_000);
                    ByteBuf frame = Unpooled.buffer();
                    RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.API_VERSIONS.id())
                            .setRequestApiVersion((short) 99).setCorrelationId(7).setClientId("future");
                    frame.writeInt(header.size((short) 2) + 1);
                    header.write(frame, (short) 2);
                    frame.writeByte(0);
                    byte[] bytes = new byte[frame.readableBytes()];
                    frame.readBytes(bytes);
                    probe.getOutputStream().write(bytes);
                    DataInputStream in = new DataInputStream(probe.getInputStream());
                    byte[] body = new byte[in.readInt()];
                    in.readFully(body);
                    ByteBuf answer = Unpooled.wrappedBuffer(body);
                    assertEquals(7, answer.readInt());
                    assertEquals(Errors.UNSUPPORTED_VERSION.code(),
                            ApiVersionsResponse.read(answer, (short) 0).errorCode);
                }
                assertEquals(3, dispatcher.waiting(), "one request queued, two beyond the queue");
                listener.release();
                for (int i = 0; i < clients.size(); i++) {
                    assertEquals(Errors.NONE.code(), clients.get(i).receive(ids.get(i), (short) 0, (short) 0,
                            ApiVersionsResponse::read).errorCode);
                }
                assertEquals(Set.of("kafka-request-handler-1"), handlerThreads,
                        "handlers ran only on the handler thread");
                assertEquals(0, dispatcher.waiting());
            } finally {
                for (RawKafkaConnection c : clients) c.close();
            }
        }
    }

    /**
     * A request still waiting beyond the queue when the broker stops never runs: it is told, so the frames it holds
     * are released; the one already queued still runs, and nothing is taken afterwards.
     */
    @Test
    @Timeout(30)
    void shouldTellTheRequestsItDropsAtShutdown() throws Exception {
        RequestDispatcher dispatcher = new RequestDispatcher(1, 1);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch queuedRan = new CountDownLatch(1);
        AtomicInteger dropped = new AtomicInteger();
        AtomicInteger droppedRan = new AtomicInteger();
        dispatcher.submit(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(running.await(5, TimeUnit.SECONDS));
        dispatcher.submit(queuedRan::countDown);
        for (int i = 0; i < 2; i++) {
            dispatcher.submit(new RequestDispatcher.FrameHolder() {
                @Override
                public void run() {
                    droppedRan.incrementAndGet();
                }

                @Override
                public void dropped() {
                    dropped.incrementAndGet();
                }
            });
        }
        assertEquals(3, dispatcher.waiting());
        dispatcher.close(0, TimeUnit.MILLISECONDS);
        assertEquals(2, dropped.get(), "both requests beyond the queue were told they were dropped");
        assertThrows(RejectedExecutionException.class, () -> dispatcher.submit(() -> { }));
        release.countDown();
        assertTrue(queuedRan.await(5, TimeUnit.SECONDS), "the queued request still ran");
        assertEquals(0, droppedRan.get());
    }
}
