package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestThreads;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The inter-broker client against scripted brokers on real sockets. */
@Timeout(120)
class InterBrokerClientTest {
    private static final short FIND_COORDINATOR_V0 = 0;

    private static CompletableFuture<ApiMessage> lookup(InterBrokerClient client, int port, String key) {
        return client.send(1, InetSocketAddress.createUnresolved("127.0.0.1", port), ApiKey.FIND_COORDINATOR,
                FIND_COORDINATOR_V0, new FindCoordinatorRequest().setKey(key));
    }

    private static InterBrokerClient client(int maxInFlight, int requestTimeoutMs, long backoffMs, long backoffMaxMs) {
        return new InterBrokerClient(new InterBrokerClient.Settings("test-client", maxInFlight, requestTimeoutMs,
                backoffMs, backoffMaxMs, 10_000, 30_000, 1_000, 20), InterBrokerSecurity.PLAINTEXT);
    }

    @Test
    void shouldKeepSeveralRequestsInFlightAndMatchAnswersGivenOutOfOrder() throws Exception {
        int requests = 5;
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = client(requests, 30_000, 50, 50)) {
            List<CompletableFuture<ApiMessage>> answers = new ArrayList<>();
            for (int i = 0; i < requests; i++) answers.add(lookup(client, broker.getLocalPort(), "key-" + i));
            try (Socket peer = broker.accept()) {
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                // Every request arrives before any is answered: they are all in flight on one connection.
                List<ScriptedBroker.Received> received = new ArrayList<>();
                for (int i = 0; i < requests; i++) received.add(ScriptedBroker.read(peer));
                for (CompletableFuture<ApiMessage> a : answers) assertFalse(a.isDone());
                // Answered last first, each naming its own key's number as the coordinator.
                for (int i = requests - 1; i >= 0; i--) {
                    ScriptedBroker.Received r = received.get(i);
                    int n = Integer.parseInt(((FindCoordinatorRequest) r.body()).key.substring("key-".length()));
                    ScriptedBroker.answer(peer, r, new FindCoordinatorResponse().setNodeId(100 + n).setHost("h")
                            .setPort(n));
                }
                for (int i = 0; i < requests; i++) {
                    FindCoordinatorResponse response = (FindCoordinatorResponse) answers.get(i).get(10,
                            TimeUnit.SECONDS);
                    assertEquals(100 + i, response.nodeId, "request " + i + " got its own answer");
                }
            }
        }
    }

    @Test
    void shouldSendNoMoreThanMaxInFlightAtOnce() throws Exception {
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = client(1, 30_000, 50, 50)) {
            CompletableFuture<ApiMessage> first = lookup(client, broker.getLocalPort(), "a");
            CompletableFuture<ApiMessage> second = lookup(client, broker.getLocalPort(), "b");
            try (Socket peer = broker.accept()) {
                // The set-up and the first request come when the client gets to them (on a loaded machine that
                // took longer than the 300 ms below); only the absence of the second is timed.
                peer.setSoTimeout(10_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.Received a = ScriptedBroker.read(peer);
                assertEquals("a", ((FindCoordinatorRequest) a.body()).key);
                // Kafka's inter-broker max.in.flight of 1: the second waits for the first's answer.
                peer.setSoTimeout(300);
                assertThrows(java.net.SocketTimeoutException.class, () -> ScriptedBroker.read(peer));
                ScriptedBroker.answer(peer, a, new FindCoordinatorResponse().setNodeId(1).setHost("h"));
                peer.setSoTimeout(10_000);
                ScriptedBroker.Received b = ScriptedBroker.read(peer);
                assertEquals("b", ((FindCoordinatorRequest) b.body()).key);
                ScriptedBroker.answer(peer, b, new FindCoordinatorResponse().setNodeId(2).setHost("h"));
                assertEquals(1, ((FindCoordinatorResponse) first.get(10, TimeUnit.SECONDS)).nodeId);
                assertEquals(2, ((FindCoordinatorResponse) second.get(10, TimeUnit.SECONDS)).nodeId);
            }
        }
    }

    @Test
    void shouldFailARequestWithoutAnswerAfterTheRequestTimeoutAndReconnect() throws Exception {
        int timeoutMs = 5_000;
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = client(1, timeoutMs, 50, 50)) {
            // A first request, answered, opens the connection (one not yet written gives up after the timeout from
            // its hand-over, so a slow start of this JVM must not use it up: on a loaded machine the set-up alone has
            // taken 2 s).
            CompletableFuture<ApiMessage> first = lookup(client, broker.getLocalPort(), "first");
            try (Socket peer = broker.accept()) {
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.answer(peer, ScriptedBroker.read(peer), new FindCoordinatorResponse().setNodeId(3)
                        .setHost("h"));
                assertEquals(3, ((FindCoordinatorResponse) first.get(10, TimeUnit.SECONDS)).nodeId);
                long start = System.nanoTime();
                CompletableFuture<ApiMessage> unanswered = lookup(client, broker.getLocalPort(), "never");
                ScriptedBroker.read(peer); // and never answered
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> unanswered.get(10, TimeUnit.SECONDS));
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertInstanceOf(IOException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("no answer within " + timeoutMs + " ms"),
                        e.getCause().getMessage());
                assertTrue(waitedMs >= timeoutMs, "failed after " + waitedMs + " ms");
                // The connection was closed (an answer could still come): the broker sees its end.
                assertEquals(-1, peer.getInputStream().read());
            }
            // After the backoff a new connection carries the next request.
            Thread.sleep(100);
            CompletableFuture<ApiMessage> next = lookup(client, broker.getLocalPort(), "again");
            try (Socket peer = broker.accept()) {
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.Received r = ScriptedBroker.read(peer);
                ScriptedBroker.answer(peer, r, new FindCoordinatorResponse().setNodeId(7).setHost("h"));
                assertEquals(7, ((FindCoordinatorResponse) next.get(10, TimeUnit.SECONDS)).nodeId);
            }
        }
    }

    @Test
    void shouldFailAtOnceDuringTheReconnectBackoffAndDoubleIt() throws Exception {
        // Long enough that the test thread, delayed on a loaded machine, still acts within the backoff's window.
        long backoffMs = 1_000;
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = client(1, 30_000, backoffMs, 4 * backoffMs)) {
            // A broker that hangs up on every connection at once.
            Thread acceptor = new Thread(() -> {
                while (!broker.isClosed()) {
                    try (Socket s = broker.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            List<Long> waits = new ArrayList<>();
            // The first attempt fails once the broker hangs up; the backoff's clock starts then. The time is taken
            // on the client's thread as the request fails, not when this (possibly descheduled) thread sees it.
            long failedAt = failureTime(lookup(client, broker.getLocalPort(), "x"));
            for (int attempt = 1; attempt <= 2; attempt++) {
                int tried = accepted.get();
                assertEquals(attempt, tried, "one connection per attempt");
                // During the backoff a request fails at once, without a connection.
                ExecutionException refused = assertThrows(ExecutionException.class,
                        () -> lookup(client, broker.getLocalPort(), "x").get(10, TimeUnit.SECONDS));
                assertTrue(refused.getCause().getMessage().contains("next attempt in"),
                        refused.getCause().getMessage());
                assertEquals(tried, accepted.get());
                // Probe until the next connection is tried (that probe fails too, when the broker hangs up). The
                // wait ends no earlier than the probe that connected was sent, so a late probe only lengthens it.
                long probedAt;
                long probeFailedAt;
                do {
                    if (accepted.get() == tried) Thread.sleep(20);
                    probedAt = System.nanoTime();
                    probeFailedAt = failureTime(lookup(client, broker.getLocalPort(), "x"));
                } while (accepted.get() == tried);
                waits.add(TimeUnit.NANOSECONDS.toMillis(probedAt - failedAt));
                failedAt = probeFailedAt;
            }
            // reconnect.backoff.ms, then twice it, each with Kafka's 20% jitter.
            assertTrue(waits.get(0) >= backoffMs * 0.8, "first backoff " + waits);
            assertTrue(waits.get(1) >= 2 * backoffMs * 0.8, "second backoff " + waits);
        }
    }

    /** When {@code request} failed, read on the thread that failed it (it must fail within 10 s). */
    private static long failureTime(CompletableFuture<ApiMessage> request) throws Exception {
        java.util.concurrent.atomic.AtomicLong failedAt = new java.util.concurrent.atomic.AtomicLong();
        CompletableFuture<ApiMessage> stamped = request.whenComplete((answer, failure) -> failedAt.set(System.nanoTime()));
        assertThrows(ExecutionException.class, () -> stamped.get(10, TimeUnit.SECONDS));
        return failedAt.get();
    }

    /**
     * As Kafka's NetworkClient, request.timeout.ms runs from when the request is written, not from its hand-over:
     * a connection whose set-up (here its ApiVersions answered late) takes most of it leaves the request its whole
     * timeout for the answer.
     */
    @Test
    void shouldCountTheRequestTimeoutFromTheWriteNotFromTheConnectionSetUp() throws Exception {
        int timeoutMs = 2_000;
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = client(1, timeoutMs, 0, 0)) {
            long handedOver = System.nanoTime();
            CompletableFuture<ApiMessage> answer = lookup(client, broker.getLocalPort(), "slow-setup");
            try (Socket peer = broker.accept()) {
                peer.setSoTimeout(30_000);
                Thread.sleep(1_800);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.Received request = ScriptedBroker.read(peer);
                long writtenMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - handedOver);
                // Answered past request.timeout.ms from the hand-over, well within it from the write: at least
                // 1.7 s to spare, for this thread waking late on a loaded machine.
                long answerAtMs = timeoutMs + 100;
                assertTrue(answerAtMs < writtenMs + timeoutMs - 300, "written " + writtenMs + " ms after hand-over");
                Thread.sleep(answerAtMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - handedOver));
                ScriptedBroker.answer(peer, request, new FindCoordinatorResponse().setNodeId(5).setHost("h"));
                assertEquals(5, ((FindCoordinatorResponse) answer.get(10, TimeUnit.SECONDS)).nodeId);
            }
        }
    }

    /**
     * socket.connection.setup.timeout.ms as Kafka's ClusterConnectionStates applies it: each set-up that timed out
     * doubles the next one's bound (20% jitter) up to socket.connection.setup.timeout.max.ms, and a connection that
     * became ready brings it back to its base.
     */
    @Test
    void shouldDoubleTheSetupTimeoutAfterEachTimedOutSetupAndResetItOnceReady() throws Exception {
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = new InterBrokerClient(new InterBrokerClient.Settings("setup-client", 1, 30_000,
                     0, 0, 500, 3_000, 1_000, 20), InterBrokerSecurity.PLAINTEXT)) {
            long[] tookMs = new long[3];
            for (int i = 0; i < tookMs.length; i++) tookMs[i] = silentSetup(client, broker);
            // 500 ms * 2^n within 20%: 400-600, 800-1200, 1600-2400, measured from the hand-over, so never less.
            // The upper bounds are the behaviour under test (the bound grows from its base, and only so far).
            assertTrue(tookMs[0] < 1_000, "first set-up given up after " + tookMs[0] + " ms");
            assertTrue(tookMs[1] >= 700 && tookMs[1] < 2_000, "second set-up given up after " + tookMs[1] + " ms");
            assertTrue(tookMs[2] >= 1_400, "third set-up given up after " + tookMs[2] + " ms");
            CompletableFuture<ApiMessage> ok = lookup(client, broker.getLocalPort(), "ready");
            try (Socket peer = broker.accept()) {
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.answer(peer, ScriptedBroker.read(peer), new FindCoordinatorResponse().setNodeId(2)
                        .setHost("h"));
                assertEquals(2, ((FindCoordinatorResponse) ok.get(10, TimeUnit.SECONDS)).nodeId);
            }
            // The client sees the ready connection's end before the next request.
            Thread.sleep(300);
            long afterReadyMs = silentSetup(client, broker);
            assertTrue(afterReadyMs < 1_000, "set-up after a ready connection given up after " + afterReadyMs + " ms");
        }
    }

    /** A request to a broker that accepts and never answers ApiVersions: how long until the client gives it up. */
    private static long silentSetup(InterBrokerClient client, ServerSocket broker) throws Exception {
        // From the hand-over: the set-up's clock starts after it, and an accept this thread sees late (on a loaded
        // machine) would otherwise shorten the figure below the bound it checks.
        long handedOver = System.nanoTime();
        CompletableFuture<ApiMessage> answer = lookup(client, broker.getLocalPort(), "silent");
        long tookMs;
        try (Socket peer = broker.accept()) {
            peer.setSoTimeout(30_000);
            assertEquals(ApiKey.API_VERSIONS, ScriptedBroker.read(peer).key());
            assertEquals(-1, peer.getInputStream().read());
            tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - handedOver);
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("connection setup"), e.getCause().getMessage());
        return tookMs;
    }

    /** Kafka's ExponentialBackoff figures for socket.connection.setup.timeout.ms 10 s, its max 30 s. */
    @Test
    void shouldBoundTheSetupAsKafkasExponentialBackoff() {
        assertEquals(10_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 0, 0.5));
        assertEquals(8_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 0, 0.0));
        assertEquals(20_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 1, 0.5));
        // The exponent stops where the bound reaches the max (log2 3), and jitter never passes the max.
        assertEquals(30_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 2, 0.5));
        assertEquals(24_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 7, 0.0));
        assertEquals(30_000, InterBrokerConnection.setupTimeoutMs(10_000, 30_000, 7, 0.99));
        // A max not above the base: the base alone, without jitter.
        assertEquals(10_000, InterBrokerConnection.setupTimeoutMs(10_000, 10_000, 3, 0.0));
        assertEquals(5_000, InterBrokerConnection.setupTimeoutMs(10_000, 5_000, 0, 0.9));
    }

    @Test
    void shouldFailAtOnceWhenNoBrokerListens() throws Exception {
        int port;
        try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = gone.getLocalPort();
        }
        try (InterBrokerClient client = client(1, 30_000, 50, 50)) {
            long start = System.nanoTime();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> lookup(client, port, "x").get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("cannot connect"), e.getCause().getMessage());
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 5_000,
                    "a refused connection fails its request at once, not after request.timeout.ms");
        }
    }

    @Test
    void shouldBlockNoThreadWhateverTheRequestsWaitFor() throws Exception {
        int brokers = 10;
        int perBroker = 20;
        var threads = ManagementFactory.getThreadMXBean();
        List<ServerSocket> silent = new ArrayList<>();
        try {
            // Brokers whose kernel accepts the connection and then nobody ever reads or answers.
            for (int i = 0; i < brokers; i++) silent.add(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
            int before = threads.getThreadCount();
            List<CompletableFuture<ApiMessage>> answers = new ArrayList<>();
            long start = System.nanoTime();
            try (InterBrokerClient client = client(5, 60_000, 50, 50)) {
                for (int b = 0; b < brokers; b++) {
                    for (int r = 0; r < perBroker; r++) {
                        answers.add(client.send(b, InetSocketAddress.createUnresolved("127.0.0.1",
                                silent.get(b).getLocalPort()), ApiKey.FIND_COORDINATOR, FIND_COORDINATOR_V0,
                                new FindCoordinatorRequest().setKey("k")));
                    }
                }
                long handOverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                Thread.sleep(500);
                int during = threads.getThreadCount();
                assertTrue(handOverMs < 2_000, brokers * perBroker + " requests handed over in " + handOverMs + " ms");
                // Two threads for the client (its event loop and its work thread), whatever waits.
                assertTrue(during - before <= 2, "threads before " + before + ", with " + brokers * perBroker
                        + " requests waiting on " + brokers + " brokers: " + during);
                for (CompletableFuture<ApiMessage> a : answers) assertFalse(a.isDone());
            }
            // Closing fails what still waits.
            for (CompletableFuture<ApiMessage> a : answers) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(10, TimeUnit.SECONDS));
                assertInstanceOf(IOException.class, e.getCause());
            }
        } finally {
            for (ServerSocket s : silent) s.close();
        }
    }

    @Test
    void shouldWaitForTheAnswerOnTheCallersThreadButNeverOnAnEventLoop() throws Exception {
        try (ScriptedBroker broker = new ScriptedBroker();
             InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafkaBlocking("blocking",
                     30_000), InterBrokerSecurity.PLAINTEXT)) {
            CompletableFuture<ApiMessage> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.sendAndReceive(1, broker.address(), ApiKey.FIND_COORDINATOR, FIND_COORDINATOR_V0,
                            new FindCoordinatorRequest().setKey("k"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Socket peer = broker.accept(30_000);
            ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
            ScriptedBroker.answer(peer, ScriptedBroker.read(peer), new FindCoordinatorResponse().setNodeId(4)
                    .setHost("h"));
            assertEquals(4, ((FindCoordinatorResponse) answer.get(10, TimeUnit.SECONDS)).nodeId);
            // A wait on an event loop would stall every connection it serves: refused, whoever's loop it is.
            io.netty.channel.EventLoopGroup loop = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                    io.netty.channel.nio.NioIoHandler.newFactory());
            try {
                Throwable refused = loop.submit(() -> client.sendAndReceive(1, broker.address(),
                        ApiKey.FIND_COORDINATOR, FIND_COORDINATOR_V0, new FindCoordinatorRequest().setKey("k")))
                        .await().cause();
                assertInstanceOf(IllegalStateException.class, refused);
            } finally {
                loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }

    /**
     * A GSSAPI client asks the KDC for a service ticket inside its first step; a KDC that is slow to answer must hold
     * up only that connection: another broker's connection authenticates and its answers arrive meanwhile.
     */
    @Test
    void shouldNotHoldUpOtherConnectionsWhileOneSaslStepWaits() throws Exception {
        java.util.concurrent.CountDownLatch stepStarted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch kdcAnswers = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger made = new AtomicInteger();
        io.tandem.kafka.client.ClientSecurity sasl = new io.tandem.kafka.client.ClientSecurity(null, List.of(),
                List.of(), false, host -> new OneStepSaslClient(made.incrementAndGet() == 1, stepStarted, kdcAnswers));
        InterBrokerSecurity security = new InterBrokerSecurity("SASL", "SASL_PLAINTEXT", sasl, "broker");
        try (ScriptedBroker slow = new ScriptedBroker(); ScriptedBroker other = new ScriptedBroker();
             InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafka("sasl-client", 1,
                     30_000), security)) {
            CompletableFuture<ApiMessage> first = client.send(1, slow.address(), ApiKey.FIND_COORDINATOR,
                    FIND_COORDINATOR_V0, new FindCoordinatorRequest().setKey("slow"));
            Socket slowPeer = slow.accept(30_000);
            ScriptedBroker.introduce(slowPeer, ApiKey.FIND_COORDINATOR, ApiKey.SASL_HANDSHAKE,
                    ApiKey.SASL_AUTHENTICATE);
            saslHandshake(slowPeer);
            assertTrue(stepStarted.await(10, TimeUnit.SECONDS), "the first connection's SASL step started");
            try {
                CompletableFuture<ApiMessage> second = client.send(2, other.address(), ApiKey.FIND_COORDINATOR,
                        FIND_COORDINATOR_V0, new FindCoordinatorRequest().setKey("other"));
                Socket peer = other.accept(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR, ApiKey.SASL_HANDSHAKE,
                        ApiKey.SASL_AUTHENTICATE);
                saslHandshake(peer);
                ScriptedBroker.Received auth = ScriptedBroker.read(peer);
                assertEquals(ApiKey.SASL_AUTHENTICATE, auth.key());
                ScriptedBroker.answer(peer, auth, new io.tandem.kafka.wire.message.SaslAuthenticateResponse()
                        .setAuthBytes(new byte[0]));
                ScriptedBroker.Received lookup = ScriptedBroker.read(peer);
                ScriptedBroker.answer(peer, lookup, new FindCoordinatorResponse().setNodeId(2).setHost("h"));
                assertEquals(2, ((FindCoordinatorResponse) second.get(10, TimeUnit.SECONDS)).nodeId,
                        "answered while the other connection's SASL step still waits for its KDC");
                assertFalse(first.isDone());
            } finally {
                kdcAnswers.countDown();
            }
            ScriptedBroker.Received auth = ScriptedBroker.read(slowPeer);
            ScriptedBroker.answer(slowPeer, auth, new io.tandem.kafka.wire.message.SaslAuthenticateResponse()
                    .setAuthBytes(new byte[0]));
            ScriptedBroker.answer(slowPeer, ScriptedBroker.read(slowPeer), new FindCoordinatorResponse().setNodeId(1)
                    .setHost("h"));
            assertEquals(1, ((FindCoordinatorResponse) first.get(10, TimeUnit.SECONDS)).nodeId);
        }
    }

    private static void saslHandshake(Socket peer) throws IOException {
        ScriptedBroker.Received handshake = ScriptedBroker.read(peer);
        assertEquals(ApiKey.SASL_HANDSHAKE, handshake.key());
        ScriptedBroker.answer(peer, handshake, new io.tandem.kafka.wire.message.SaslHandshakeResponse()
                .setMechanisms(List.of(OneStepSaslClient.MECHANISM)));
    }

    /** A mechanism of one token; the first client made waits in its step as a GSSAPI client waits for its KDC. */
    private static final class OneStepSaslClient implements javax.security.sasl.SaslClient {
        static final String MECHANISM = "PLAIN";
        private final boolean slow;
        private final java.util.concurrent.CountDownLatch started;
        private final java.util.concurrent.CountDownLatch release;
        private boolean complete;

        OneStepSaslClient(boolean slow, java.util.concurrent.CountDownLatch started,
                          java.util.concurrent.CountDownLatch release) {
            this.slow = slow;
            this.started = started;
            this.release = release;
        }

        @Override
        public String getMechanismName() {
            return MECHANISM;
        }

        @Override
        public boolean hasInitialResponse() {
            return true;
        }

        @Override
        public byte[] evaluateChallenge(byte[] challenge) throws javax.security.sasl.SaslException {
            if (slow) {
                started.countDown();
                try {
                    if (!release.await(60, TimeUnit.SECONDS)) throw new javax.security.sasl.SaslException("no KDC");
                } catch (InterruptedException e) {
                    throw new javax.security.sasl.SaslException("interrupted", e);
                }
            }
            complete = true;
            return "\0broker\0secret".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public boolean isComplete() {
            return complete;
        }

        @Override
        public byte[] unwrap(byte[] incoming, int offset, int len) {
            throw new IllegalStateException();
        }

        @Override
        public byte[] wrap(byte[] outgoing, int offset, int len) {
            throw new IllegalStateException();
        }

        @Override
        public Object getNegotiatedProperty(String propName) {
            return null;
        }

        @Override
        public void dispose() {
        }
    }

    @Test
    void shouldLeaveNoThreadBehindAfterClose() throws Exception {
        String clientId = "counted-client";
        try (ScriptedBroker broker = new ScriptedBroker()) {
            InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafkaBlocking(clientId,
                    30_000), InterBrokerSecurity.PLAINTEXT);
            CompletableFuture<ApiMessage> answer = client.send(1, broker.address(), ApiKey.FIND_COORDINATOR,
                    FIND_COORDINATOR_V0, new FindCoordinatorRequest().setKey("k"));
            Socket peer = broker.accept(30_000);
            ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
            ScriptedBroker.answer(peer, ScriptedBroker.read(peer), new FindCoordinatorResponse().setHost("h"));
            answer.get(10, TimeUnit.SECONDS);
            assertTrue(TestThreads.named(clientId) >= 2, "the client's event loop and work thread ran");
            client.close();
            assertTrue(client.awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(TestThreads.noneNamed(clientId), "no thread of the client is left after close");
        }
    }
}
