package io.tandem.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP listener for the node's operational endpoints (the Prometheus scrape, ZooKeeper's AdminServer), on the
 * JDK's own {@code com.sun.net.httpserver}: a scrape every few seconds needs no framework, and the JDK server adds no
 * dependency and no start-up cost when the endpoints are off. Requests are handled on a small pool of its own threads,
 * never on a Netty event loop, so a handler may wait for the ZooKeeper commit thread. The pool's queue is bounded;
 * a request beyond it is refused by the JDK server (the connection is closed).
 */
public final class HttpEndpoint implements AutoCloseable {
    /** Threads answering requests: scrapes and admin commands are rare and short. */
    static final int HANDLER_THREADS_MAX = 2;
    /** Requests accepted while both threads are busy; more are refused rather than queued without bound. */
    static final int QUEUED_REQUESTS_MAX = 32;

    /** Answers one request; the endpoint writes what it returns. */
    @FunctionalInterface
    public interface Handler {
        Response handle(HttpExchange exchange) throws Exception;
    }

    /** An answer: status, content type, body. */
    public record Response(int status, String contentType, byte[] body) {
        public static Response text(int status, String contentType, String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static final System.Logger LOG = System.getLogger(HttpEndpoint.class.getName());

    private final HttpServer server;
    private final ThreadPoolExecutor executor;
    private final String name;

    private HttpEndpoint(HttpServer server, ThreadPoolExecutor executor, String name) {
        this.server = server;
        this.executor = executor;
        this.name = name;
    }

    /** Binds {@code host:port} (port 0: any free port; host null or empty: every interface) and starts serving. */
    public static HttpEndpoint start(String name, String host, int port) throws IOException {
        InetSocketAddress address = host == null || host.isBlank() ? new InetSocketAddress(port)
                : new InetSocketAddress(host.trim(), port);
        HttpServer server;
        try {
            server = HttpServer.create(address, 0);
        } catch (IOException e) {
            throw new IOException("cannot bind the " + name + " HTTP endpoint to " + address + ": " + e.getMessage(),
                    e);
        }
        AtomicInteger ids = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(HANDLER_THREADS_MAX, HANDLER_THREADS_MAX, 60,
                TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED_REQUESTS_MAX), r -> {
                    Thread t = new Thread(r, name + "-http-" + ids.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        server.setExecutor(executor);
        server.start();
        HttpEndpoint endpoint = new HttpEndpoint(server, executor, name);
        LOG.log(System.Logger.Level.INFO, "{0} HTTP endpoint bound to {1}", name, server.getAddress());
        return endpoint;
    }

    /** Methods of a route that only reports. */
    private static final Set<String> READ_METHODS = Set.of("GET", "HEAD");

    /** Serves {@code path} and everything below it with {@code handler}, for GET and HEAD only. */
    public HttpEndpoint route(String path, Handler handler) {
        return route(path, handler, READ_METHODS);
    }

    /** Serves {@code path} and everything below it with {@code handler}, for {@code methods} (others: 405). */
    public HttpEndpoint route(String path, Handler handler, Set<String> methods) {
        server.createContext(path, exchange -> answer(exchange, handler, methods));
        return this;
    }

    private void answer(HttpExchange exchange, Handler handler, Set<String> methods) throws IOException {
        Response response;
        String method = exchange.getRequestMethod();
        try {
            // A reporting route refuses anything but GET (e.g. TRACE, which Apache's AdminServer refuses too): 405.
            response = methods.contains(method) ? handler.handle(exchange)
                    : Response.text(405, "text/plain; charset=utf-8", "Method " + method + " is not allowed\n");
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "The " + name + " endpoint failed to answer "
                    + exchange.getRequestURI(), e);
            response = Response.text(500, "text/plain; charset=utf-8", "Internal error: " + e + "\n");
        }
        try (exchange; OutputStream body = exchange.getResponseBody()) {
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
            if (response.status() == 405) exchange.getResponseHeaders().set("Allow", String.join(", ", new java.util.TreeSet<>(methods)));
            boolean head = method.equals("HEAD");
            exchange.sendResponseHeaders(response.status(), head ? -1 : response.body().length == 0 ? -1
                    : response.body().length);
            if (!head) body.write(response.body());
        }
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
