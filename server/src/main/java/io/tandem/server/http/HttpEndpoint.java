package io.tandem.server.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tandem.server.net.AcceptedChannels;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP listener for the node's operational endpoints (the Prometheus scrape, ZooKeeper's AdminServer, the web
 * console, fault injection), on Netty like the Kafka and ZooKeeper ports.
 *
 * <p>Why Netty and not the JDK's {@code com.sun.net.httpserver} it used before: the JDK server's stop() closes the
 * connections it has listed, but one its dispatcher thread accepted just before is listed after that sweep and stayed
 * open forever, so a client that connected the instant before a node stopped waited out its own timeout instead of
 * seeing the disconnect (about one stop in three under load). Here every accepted connection goes through
 * {@link AcceptedChannels}, as on the Kafka and ZooKeeper listeners, and {@link #close()} closes each of them.
 *
 * <p>Requests are answered on a small pool of threads of the endpoint's own ({@link RequestDispatcher}), never on the
 * Netty event loop, so a handler may wait for the ZooKeeper commit thread. The pool's queue is bounded; a request
 * beyond it is answered 503. A connection has one request in flight at a time (HTTP/1.1 answers in order), kept alive
 * as HTTP/1.1 expects and closed after {@link #IDLE_SECONDS_MAX} without traffic, as the JDK server did.
 */
public final class HttpEndpoint implements AutoCloseable {
    /** Threads answering requests: scrapes and admin commands are rare and short. */
    static final int HANDLER_THREADS_MAX = 2;
    /** Requests accepted while both threads are busy; more are answered 503 rather than queued without bound. */
    static final int QUEUED_REQUESTS_MAX = 32;
    /**
     * The largest request body of a route that did not ask for more: they read no more than a query string (fault
     * rules and admin commands take URL parameters), so a small bound keeps a client from making the endpoint hold
     * megabytes; a larger body gets 413.
     */
    public static final int REQUEST_BODY_BYTES_MAX = 64 * 1024;
    /**
     * The longest request line (method, URL, version); a longer one gets 414. Above the console's own query limit
     * (ConsoleApi.QUERY_CHARS_MAX, 4096), so the console still answers a long query with its own JSON error, as it
     * did on the JDK server, which had no such limit.
     */
    public static final int REQUEST_LINE_CHARS_MAX = 16 * 1024;
    /**
     * The largest body any route may ask to take ({@link #route(String, Handler, Set, int)}): a ZooKeeper snapshot
     * posted to the AdminServer's restore. It must be declared by Content-Length, and the endpoint takes
     * {@link BodyLimit#LARGE_BODIES_MAX} of them at a time; {@link BodyLimit} refuses a larger one with 413 before
     * it is buffered.
     */
    public static final int LARGE_REQUEST_BODY_BYTES_MAX = 256 << 20;
    /** All header lines of a request together; browsers send a few kilobytes at most. A larger block gets 431. */
    static final int REQUEST_HEADER_BYTES_MAX = 16 * 1024;
    /**
     * A connection with no traffic for this long is closed, the JDK server's idle interval; it is longer than the
     * longest a handler waits ({@link ZooKeeperAdminServer#COMMAND_WAIT_MS}), so no answer being prepared is cut off.
     */
    static final int IDLE_SECONDS_MAX = 30;
    /**
     * Open connections at most; a connection beyond is closed as it is accepted. A browser keeps six or so per host,
     * a scraper one: the cap only stops a client that opens connections and leaves them silent.
     */
    static final int CONNECTIONS_MAX = 128;

    /** Answers one request; the endpoint writes what it returns. */
    @FunctionalInterface
    public interface Handler {
        Response handle(HttpRequest request) throws Exception;
    }

    /**
     * An answer: status, content type, body, and headers of its own (Apache's snapshot command answers its zxid and
     * size in headers). With {@code file} set the body is that file's bytes instead, read in chunks on the handler
     * thread as the client takes them (never on the event loop, never whole in memory), and the file is deleted once
     * written or abandoned: the AdminServer's snapshot streams a temporary file this way.
     */
    public record Response(int status, String contentType, byte[] body, Map<String, String> headers, Path file) {
        public Response(int status, String contentType, byte[] body) {
            this(status, contentType, body, Map.of(), null);
        }

        public static Response text(int status, String contentType, String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8));
        }

        /** {@code file}'s bytes, then the file is deleted. */
        public static Response file(int status, String contentType, Path file, Map<String, String> headers) {
            return new Response(status, contentType, new byte[0], headers, file);
        }
    }

    /** A handler, the methods it serves, and the largest request body it takes. */
    record Route(Handler handler, Set<String> methods, int bodyBytesMax) {
    }

    private static final System.Logger LOG = System.getLogger(HttpEndpoint.class.getName());
    /** Methods of a route that only reports. */
    private static final Set<String> READ_METHODS = Set.of("GET", "HEAD");

    private final String name;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor executor;
    /** {@link #IDLE_SECONDS_MAX} in milliseconds, shorter only in tests that watch the idle close happen. */
    private final long idleMillis;
    private final AcceptedChannels accepted = new AcceptedChannels();
    /** Request bodies above {@link #REQUEST_BODY_BYTES_MAX} being received or answered ({@link BodyLimit}). */
    private final AtomicInteger largeBodies = new AtomicInteger();
    /** Path prefix to route; written while starting, read on the handler threads. */
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private Channel listener;

    private HttpEndpoint(String name, EventLoopGroup group, ThreadPoolExecutor executor, long idleMillis) {
        this.name = name;
        this.group = group;
        this.executor = executor;
        this.idleMillis = idleMillis;
    }

    /** Binds {@code host:port} (port 0: any free port; host null or empty: every interface) and starts serving. */
    public static HttpEndpoint start(String name, String host, int port) throws IOException {
        return start(name, host, port, TimeUnit.SECONDS.toMillis(IDLE_SECONDS_MAX));
    }

    /** {@link #start(String, String, int)} closing connections idle for {@code idleMillis} instead. */
    static HttpEndpoint start(String name, String host, int port, long idleMillis) throws IOException {
        if (idleMillis <= 0) throw new IllegalArgumentException("idle time must be positive: " + idleMillis);
        InetSocketAddress address = host == null || host.isBlank() ? new InetSocketAddress(port)
                : new InetSocketAddress(host.trim(), port);
        AtomicInteger ids = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(HANDLER_THREADS_MAX, HANDLER_THREADS_MAX, 60,
                TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED_REQUESTS_MAX), r -> {
                    Thread t = new Thread(r, name + "-http-" + ids.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        // One event loop accepts and reads every connection: the handlers' work is on the pool above.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(name.replace(' ', '-') + "-http-io", true), NioIoHandler.newFactory());
        HttpEndpoint endpoint = new HttpEndpoint(name, group, executor, idleMillis);
        try {
            endpoint.bind(address);
        } catch (IOException | RuntimeException e) {
            endpoint.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "{0} HTTP endpoint bound to {1}", name, endpoint.listener.localAddress());
        return endpoint;
    }

    private void bind(InetSocketAddress address) throws IOException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // RequestDispatcher asks for reads once a connection's requests are answered, so answers leave in order.
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        // One event loop accepts them all, so the count and the admission are not raced.
                        if (accepted.size() >= CONNECTIONS_MAX) {
                            LOG.log(System.Logger.Level.WARNING, "{0}: {1} connections open, closing {2}", name,
                                    CONNECTIONS_MAX, channel.remoteAddress());
                            channel.close();
                            return;
                        }
                        if (!accepted.admit(channel)) return;
                        channel.pipeline()
                                .addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
                                .addLast("http", new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(REQUEST_LINE_CHARS_MAX)
                                        .setMaxHeaderSize(REQUEST_HEADER_BYTES_MAX)))
                                .addLast("bodyLimit", new BodyLimit(HttpEndpoint.this))
                                .addLast("keepAlive", new HttpServerKeepAliveHandler())
                                .addLast("aggregate", new HttpObjectAggregator(LARGE_REQUEST_BODY_BYTES_MAX))
                                .addLast("dispatch", new RequestDispatcher(HttpEndpoint.this));
                    }
                });
        try {
            listener = bootstrap.bind(address).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding the " + name + " HTTP endpoint to " + address, e);
        } catch (Exception e) {
            throw new IOException("cannot bind the " + name + " HTTP endpoint to " + address + ": " + e.getMessage(),
                    e);
        }
    }

    /** Serves {@code path} and everything below it with {@code handler}, for GET and HEAD only. */
    public HttpEndpoint route(String path, Handler handler) {
        return route(path, handler, READ_METHODS);
    }

    /** Serves {@code path} and everything below it with {@code handler}, for {@code methods} (others: 405). */
    public HttpEndpoint route(String path, Handler handler, Set<String> methods) {
        return route(path, handler, methods, REQUEST_BODY_BYTES_MAX);
    }

    /**
     * {@link #route(String, Handler, Set)} taking request bodies of up to {@code bodyBytesMax} (at most
     * {@link #LARGE_REQUEST_BODY_BYTES_MAX}): only a route that reads a large body asks for it (the AdminServer's
     * restore); every other route still answers a body above {@link #REQUEST_BODY_BYTES_MAX} with 413.
     */
    public HttpEndpoint route(String path, Handler handler, Set<String> methods, int bodyBytesMax) {
        if (path == null || !path.startsWith("/")) throw new IllegalArgumentException("not an absolute path: " + path);
        if (bodyBytesMax < 0 || bodyBytesMax > LARGE_REQUEST_BODY_BYTES_MAX) {
            throw new IllegalArgumentException("body limit out of range: " + bodyBytesMax);
        }
        if (routes.putIfAbsent(path, new Route(handler, Set.copyOf(methods), bodyBytesMax)) != null) {
            throw new IllegalArgumentException("the " + name + " endpoint already serves " + path);
        }
        return this;
    }

    /**
     * The route of the longest path that {@code path} starts with, or null: the JDK server's rule, kept so that every
     * URL answers as before (a route {@code /metrics} also serves {@code /metrics/anything}).
     */
    Route routeOf(String path) {
        String best = null;
        for (String prefix : routes.keySet()) {
            if (path.startsWith(prefix) && (best == null || prefix.length() > best.length())) best = prefix;
        }
        return best == null ? null : routes.get(best);
    }

    /** The body limit of the route serving {@code path}: {@link #REQUEST_BODY_BYTES_MAX} where none does. */
    int bodyBytesMaxOf(String path) {
        Route route = path == null ? null : routeOf(path);
        return route == null ? REQUEST_BODY_BYTES_MAX : route.bodyBytesMax();
    }

    AtomicInteger largeBodies() {
        return largeBodies;
    }

    String name() {
        return name;
    }

    ThreadPoolExecutor executor() {
        return executor;
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Closes the port and every connection it accepted, even one accepted the instant before. */
    @Override
    public void close() {
        if (listener != null) listener.close().syncUninterruptibly();
        accepted.close();
        executor.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
