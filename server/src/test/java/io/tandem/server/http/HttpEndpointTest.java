package io.tandem.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint's HTTP as clients see it, on raw sockets so that every byte of an answer and every close is visible:
 * keep-alive and pipelining as HTTP/1.1 expects, HEAD, 405 with Allow, 404 without a route, 503 when the handler
 * threads and their queue are full, and the bounds on what a request may send, on how many requests a client may
 * send ahead of their answers and on how long a connection may stay silent.
 */
class HttpEndpointTest {
    private static final String TEXT = "text/plain; charset=utf-8";

    private HttpEndpoint endpoint;
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        endpoint = HttpEndpoint.start("test", "127.0.0.1", 0)
                .route("/hello", request -> HttpEndpoint.Response.text(200, TEXT, "hello " + request.path()
                        + (request.rawQuery() == null ? "" : "?" + request.rawQuery())))
                .route("/echo", request -> HttpEndpoint.Response.text(200, TEXT,
                        request.method() + " " + new String(request.body(), StandardCharsets.UTF_8)),
                        Set.of("POST"));
    }

    @AfterEach
    void stop() throws IOException {
        endpoint.close();
        for (Socket socket : sockets) socket.close();
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrderOnOneKeptAliveConnection() throws IOException {
        Socket socket = connect();
        send(socket, "GET /hello/one HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/two?a=%20b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("hello /hello/one", read(socket).body);
        assertEquals("hello /hello/two?a=%20b", read(socket).body);
        send(socket, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Answer third = read(socket);
        assertEquals(200, third.status);
        assertEquals(TEXT, third.headers.get("content-type"));
        assertEquals("hello /hello", third.body);
    }

    @Test
    void shouldCloseAfterAnsweringARequestThatDoesNotAskToBeKeptAlive() throws IOException {
        Socket socket = connect();
        send(socket, "GET /hello HTTP/1.0\r\n\r\n");
        assertEquals("hello /hello", read(socket).body);
        assertEquals(-1, socket.getInputStream().read());

        Socket closing = connect();
        send(closing, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals(200, read(closing).status);
        assertEquals(-1, closing.getInputStream().read());
    }

    @Test
    void shouldAnswerHeadWithTheLengthOfTheBodyButNoBody() throws IOException {
        Socket socket = connect();
        send(socket, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Answer head = readHead(socket);
        assertEquals(200, head.status);
        assertEquals(String.valueOf("hello /hello".length()), head.headers.get("content-length"));
        // The next bytes are the GET's answer: the HEAD sent no body.
        assertEquals("hello /hello", read(socket).body);
    }

    @Test
    void shouldRefuseAMethodTheRouteDoesNotServeWith405NamingTheOnesItDoes() throws IOException {
        Socket socket = connect();
        send(socket, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        Answer refused = read(socket);
        assertEquals(405, refused.status);
        assertEquals("GET, HEAD", refused.headers.get("allow"));
        send(socket, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("POST", read(socket).headers.get("allow"));
    }

    @Test
    void shouldAnswer404WhereNoRouteMatches() throws IOException {
        Socket socket = connect();
        send(socket, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(404, read(socket).status);
    }

    @Test
    void shouldHandTheBodyToTheHandlerAndRefuseOneLargerThanMax() throws IOException {
        Socket socket = connect();
        send(socket, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde");
        assertEquals("POST abcde", read(socket).body);

        Socket large = connect();
        send(large, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + (HttpEndpoint.REQUEST_BODY_BYTES_MAX + 1)
                + "\r\n\r\n");
        assertEquals(413, read(large).status);
    }

    /**
     * A route that asks for large bodies takes one declared by Content-Length; a chunked one is held to the small
     * limit, and only one large body is held at a time across the endpoint (the next gets 503 until it is answered).
     */
    @Test
    void shouldTakeALargeBodyOnlyWhereTheRouteAsksAndOneAtATime() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        endpoint.route("/upload", request -> {
            entered.countDown();
            release.await(10, java.util.concurrent.TimeUnit.SECONDS);
            return HttpEndpoint.Response.text(200, TEXT, "got " + request.body().length);
        }, Set.of("POST"), 1 << 20);
        int large = HttpEndpoint.REQUEST_BODY_BYTES_MAX * 2;
        Socket first = connect();
        send(first, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + large + "\r\n\r\n" + "a".repeat(large));
        // While the first large body is held, a second one is refused before it is read.
        assertTrue(entered.await(10, java.util.concurrent.TimeUnit.SECONDS));
        Socket second = connect();
        send(second, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + large + "\r\n\r\n");
        assertEquals(503, read(second).status);
        release.countDown();
        assertEquals("got " + large, read(first).body);
        // Answered: the slot is free again, though the first connection stays open.
        Socket third = connect();
        send(third, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + large + "\r\n\r\n" + "c".repeat(large));
        assertEquals("got " + large, read(third).body);
        // Chunked: held to the small limit.
        Socket chunked = connect();
        String chunk = Integer.toHexString(HttpEndpoint.REQUEST_BODY_BYTES_MAX + 1) + "\r\n"
                + "b".repeat(HttpEndpoint.REQUEST_BODY_BYTES_MAX + 1) + "\r\n0\r\n\r\n";
        send(chunked, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk);
        assertEquals(413, read(chunked).status);
        // Above the route's own limit: 413 before the body is read.
        Socket tooLarge = connect();
        send(tooLarge, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + ((1 << 20) + 1) + "\r\n\r\n");
        assertEquals(413, read(tooLarge).status);
    }

    @Test
    void shouldServeARequestLineAsLongAsTheRoutesAccept() throws IOException {
        // The console refuses a query longer than its own limit itself (400 with its JSON error), so the endpoint
        // must let such a request line through rather than cut the connection first.
        Socket socket = connect();
        String query = "x=" + "y".repeat(8192);
        send(socket, "GET /hello?" + query + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("hello /hello?" + query, read(socket).body);

        Socket tooLong = connect();
        send(tooLong, "GET /hello?" + "y".repeat(HttpEndpoint.REQUEST_LINE_CHARS_MAX) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(414, read(tooLong).status);
        assertEquals(-1, tooLong.getInputStream().read());
    }

    @Test
    void shouldAnswer503WhenEveryHandlerThreadIsBusyAndTheQueueIsFull() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        endpoint.route("/slow", request -> {
            started.incrementAndGet();
            release.await(30, TimeUnit.SECONDS);
            return HttpEndpoint.Response.text(200, TEXT, "slow");
        });
        int admitted = HttpEndpoint.HANDLER_THREADS_MAX + HttpEndpoint.QUEUED_REQUESTS_MAX;
        List<Socket> waiting = new ArrayList<>();
        for (int i = 0; i < admitted; i++) {
            Socket socket = connect();
            send(socket, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            waiting.add(socket);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (started.get() < HttpEndpoint.HANDLER_THREADS_MAX
                || endpoint.executor().getQueue().size() < HttpEndpoint.QUEUED_REQUESTS_MAX) {
            assertTrue(System.nanoTime() < deadline, "the requests did not reach the handler threads");
            Thread.sleep(10);
        }
        Socket refused = connect();
        send(refused, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(503, read(refused).status);
        release.countDown();
        for (Socket socket : waiting) assertEquals("slow", read(socket).body);
    }

    @Test
    void shouldAnswerAsManyPipelinedRequestsAsTheLimitAllowsInOrder() throws IOException {
        Socket socket = connect();
        // One in flight and PIPELINED_REQUESTS_MAX waiting behind it, all in one write so one read decodes them.
        int sent = 1 + RequestDispatcher.PIPELINED_REQUESTS_MAX;
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < sent; i++) requests.append("GET /hello/").append(i).append(" HTTP/1.1\r\n\r\n");
        send(socket, requests.toString());
        for (int i = 0; i < sent; i++) assertEquals("hello /hello/" + i, read(socket).body);
        send(socket, "GET /hello/after HTTP/1.1\r\n\r\n");
        assertEquals("hello /hello/after", read(socket).body, "the connection is still served");
    }

    @Test
    void shouldCloseAConnectionThatSendsMorePipelinedRequestsThanTheLimit() throws IOException {
        Socket socket = connect();
        int sent = 2 + RequestDispatcher.PIPELINED_REQUESTS_MAX;
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < sent; i++) requests.append("GET /hello/").append(i).append(" HTTP/1.1\r\n\r\n");
        send(socket, requests.toString());
        // Without the limit every request would be answered and the connection would stay open.
        int answered = answersUntilClosed(socket);
        assertTrue(answered < sent, answered + " of " + sent + " requests answered");
    }

    @Test
    void shouldCloseAConnectionIdleForTheIdleTime() throws Exception {
        long idleMs = 2_000;
        try (HttpEndpoint idle = HttpEndpoint.start("idle", "127.0.0.1", 0, idleMs)
                .route("/hello", request -> HttpEndpoint.Response.text(200, TEXT, "hello"))) {
            Socket socket = connect(idle.port());
            // Traffic keeps the connection open: requests an eighth of the idle time apart, for longer than it.
            long start = System.nanoTime();
            long lastAnswer = start;
            while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(idleMs + idleMs / 4)) {
                Thread.sleep(idleMs / 8);
                send(socket, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals("hello", read(socket).body);
                lastAnswer = System.nanoTime();
            }
            // Then silence: closed after the idle time (the read would time out after 10 s otherwise), not at once.
            assertEquals(-1, socket.getInputStream().read(), "the idle connection is closed");
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastAnswer);
            assertTrue(waitedMs >= idleMs / 2, "closed " + waitedMs + " ms after the last answer");
        }
    }

    /** As Jetty in Apache's AdminServer: a handler running longer than the idle time is not cut off. */
    @Test
    void shouldAnswerARequestHandledForLongerThanTheIdleTimeThenCloseAfterIt() throws Exception {
        long idleMs = 500;
        try (HttpEndpoint idle = HttpEndpoint.start("idle", "127.0.0.1", 0, idleMs)
                .route("/slow", request -> {
                    Thread.sleep(3 * idleMs);
                    return HttpEndpoint.Response.text(200, TEXT, "slow");
                })) {
            Socket socket = connect(idle.port());
            send(socket, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("slow", read(socket).body);
            long answered = System.nanoTime();
            // The idle time counts again from the answer: the silent connection is then closed.
            assertEquals(-1, socket.getInputStream().read(), "the idle connection is closed");
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered);
            assertTrue(waitedMs >= idleMs / 2, "closed " + waitedMs + " ms after the answer");
        }
    }

    @Test
    void shouldCloseConnectionsBeyondTheCapAndAcceptOnceOneCloses() throws Exception {
        List<Socket> open = new ArrayList<>();
        for (int i = 0; i < HttpEndpoint.CONNECTIONS_MAX; i++) {
            Socket socket = connect();
            send(socket, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("hello /hello", read(socket).body, "connection " + i);
            open.add(socket);
        }
        Socket beyond = connect();
        int first;
        try {
            send(beyond, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            first = beyond.getInputStream().read();
        } catch (java.net.SocketException reset) {
            first = -1; // closed before the request was written or read: the same refusal
        }
        assertEquals(-1, first, "the connection beyond the cap is closed unanswered");
        open.get(0).close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Socket again = connect();
            send(again, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            try {
                assertEquals("hello /hello", read(again).body);
                break; // the closed one's place was taken
            } catch (IOException | AssertionError closedYet) {
                again.close();
                if (System.nanoTime() - deadline > 0) throw closedYet;
                Thread.sleep(50);
            }
        }
    }

    private Socket connect() throws IOException {
        return connect(endpoint.port());
    }

    private Socket connect(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        sockets.add(socket);
        return socket;
    }

    /** Reads whole answers until the server closes the connection; how many came. */
    private static int answersUntilClosed(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        int answers = 0;
        try {
            for (String status = line(in); status != null; status = line(in)) {
                int length = 0;
                for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
                    if (header.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(header.substring(header.indexOf(':') + 1).trim());
                    }
                }
                if (in.readNBytes(length).length < length) return answers;
                answers++;
            }
        } catch (java.net.SocketException reset) {
            // A reset ends the connection as a close does.
        }
        return answers;
    }

    private static void send(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    private record Answer(int status, Map<String, String> headers, String body) {
    }

    /** An answer with its body (Content-Length bytes). */
    private static Answer read(Socket socket) throws IOException {
        Answer head = readHead(socket);
        int length = Integer.parseInt(head.headers.getOrDefault("content-length", "0"));
        byte[] body = socket.getInputStream().readNBytes(length);
        assertEquals(length, body.length, "the body ended early");
        return new Answer(head.status, head.headers, new String(body, StandardCharsets.UTF_8));
    }

    /** The status line and the headers only (a HEAD's answer). */
    private static Answer readHead(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        String status = line(in);
        assertTrue(status != null && status.startsWith("HTTP/1.1 "), "status line: " + status);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        return new Answer(Integer.parseInt(status.substring(9, 12)), headers, null);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
            if (b != '\r') line.write(b);
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }
}
