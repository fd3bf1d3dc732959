package io.tandem.server.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Deque;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Hands each request of one connection to the endpoint's handler threads and writes the answer back. The event loop
 * only decodes and encodes: a handler may block (an admin command waits for the ZooKeeper commit thread), so it runs on
 * {@link HttpEndpoint#executor()}, and a request the full queue cannot take is answered 503 at once.
 *
 * <p>A connection has one request in flight, so HTTP/1.1's pipelined requests are answered in order: requests decoded
 * while one is being answered wait in {@link #waiting}, and the channel reads again only once they are all answered
 * (auto-read is off). One read brings at most a socket buffer of requests, and {@link #PIPELINED_REQUESTS_MAX} bounds
 * them anyway. Netty's FlowControlHandler would do the holding, but behind it (Netty 4.2.18, auto-read off) a request
 * longer than one socket read was never answered (a 4 KiB console query hung until the client gave up), so the few
 * waiting requests are held here instead.
 */
final class RequestDispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final System.Logger LOG = System.getLogger(RequestDispatcher.class.getName());
    private static final String TEXT = "text/plain; charset=utf-8";

    /** Requests a client may send ahead of their answers; past this its connection is closed. */
    static final int PIPELINED_REQUESTS_MAX = 16;
    /** The piece of a file answer read and written at a time. */
    static final int FILE_CHUNK_BYTES = 64 * 1024;
    /** How long a connection refused for a bad request is read and drained before it is closed. */
    static final long LINGER_MS = 1_000;

    private final HttpEndpoint endpoint;
    /** Requests decoded while another is answered, each as the step that starts answering it (event loop only). */
    private final Deque<Runnable> waiting = new ArrayDeque<>();
    /** Whether a request is being answered (event loop only). */
    private boolean answering;
    /**
     * Whether a handler thread is preparing an answer, from the hand-over until its (first) write is done: cleared
     * on the event loop then, so no idle check falls between the end of the handler and the write that restarts
     * the idle clock (under load one did, and closed the connection before the answer). The idle time does
     * not cut such a request off, as Jetty's in Apache's AdminServer does not (its idle expiry only fails a pending
     * read or write, and the servlet running meanwhile has neither); it counts again from the answer's write. The
     * write itself is not covered: an answer the client stops reading is still closed after the idle time.
     */
    private volatile boolean handling;

    RequestDispatcher(HttpEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.read();
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        Runnable step = start(ctx, request);
        if (!answering) {
            answering = true;
            step.run();
        } else if (waiting.size() < PIPELINED_REQUESTS_MAX) {
            waiting.add(step);
        } else {
            LOG.log(System.Logger.Level.INFO, () -> "The " + endpoint.name() + " endpoint closed the connection from "
                    + ctx.channel().remoteAddress() + ": more than " + PIPELINED_REQUESTS_MAX
                    + " requests sent ahead of their answers");
            ctx.close();
        }
    }

    /** What answering {@code request} takes, read from it now: its buffer is released when channelRead0 returns. */
    private Runnable start(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            Throwable cause = request.decoderResult().cause();
            return () -> refuse(ctx, cause);
        }
        URI uri;
        try {
            uri = new URI(request.uri());
        } catch (URISyntaxException e) {
            // The JDK server's answer to a request target that is not a URI.
            return () -> write(ctx, false, HttpEndpoint.Response.text(400, TEXT, "Bad request line\n"), null, true);
        }
        String method = request.method().name();
        String remoteIp = ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress inet
                && inet.getAddress() != null ? inet.getAddress().getHostAddress() : null;
        HttpRequest ours = new HttpRequest(method, uri.getPath(), uri.getRawQuery(),
                ByteBufUtil.getBytes(request.content()), request.headers().get(HttpHeaderNames.AUTHORIZATION),
                remoteIp);
        boolean head = method.equals("HEAD");
        return () -> {
            try {
                handling = true;
                endpoint.executor().execute(() -> answer(ctx, ours, head));
            } catch (RejectedExecutionException e) {
                write(ctx, head, HttpEndpoint.Response.text(503, TEXT, "The " + endpoint.name() + " endpoint is busy: "
                        + HttpEndpoint.QUEUED_REQUESTS_MAX + " requests are waiting; try again later\n"), null, false);
            }
        };
    }

    /** On the event loop, once an answer is written: starts the next waiting request, or reads for more. */
    private void answered(ChannelHandlerContext ctx) {
        Runnable next = waiting.poll();
        if (next != null) {
            next.run();
        } else {
            answering = false;
            ctx.read();
        }
    }

    /** On a handler thread: finds the route, runs it, and writes what it answered. */
    private void answer(ChannelHandlerContext ctx, HttpRequest request, boolean head) {
        String path = request.path();
        HttpEndpoint.Route route = path == null ? null : endpoint.routeOf(path);
        if (route == null) {
            // The JDK server's answer where no route matches.
            write(ctx, head, HttpEndpoint.Response.text(404, "text/html; charset=utf-8",
                    "<h1>404 Not Found</h1>No context found for request"), null, false);
            return;
        }
        HttpEndpoint.Response response;
        try {
            // A reporting route refuses anything but GET (e.g. TRACE, which Apache's AdminServer refuses too): 405.
            response = route.methods().contains(request.method()) ? route.handler().handle(request)
                    : HttpEndpoint.Response.text(405, TEXT, "Method " + request.method() + " is not allowed\n");
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "The " + endpoint.name() + " endpoint failed to answer " + path, e);
            response = HttpEndpoint.Response.text(500, TEXT, "Internal error: " + e + "\n");
        }
        String allow = response.status() == 405 ? String.join(", ", new TreeSet<>(route.methods())) : null;
        write(ctx, head, response, allow, false);
    }

    /**
     * Writes one answer (a HEAD's without its body but with its length) and asks for the next request, or closes the
     * connection after it when {@code close}. Whether a well-formed request's connection stays open is HTTP/1.1's
     * rule, applied by the HttpServerKeepAliveHandler in front of this one.
     */
    private void write(ChannelHandlerContext ctx, boolean head, HttpEndpoint.Response answer, String allow,
                              boolean close) {
        if (answer.file() != null) {
            writeFile(ctx, head, answer);
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(answer.status()),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .set(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
        answer.headers().forEach(response.headers()::set);
        if (allow != null) response.headers().set(HttpHeaderNames.ALLOW, allow);
        if (close) response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) written -> {
            handling = false; // on the event loop, with the write's time already the idle clock's start
            if (!written.isSuccess()) {
                written.channel().close();
            } else if (close) {
                closeAfterAnswer(ctx);
            } else if (written.channel().isActive()) {
                answered(ctx);
            }
        });
    }

    /**
     * Writes a file answer on this (handler) thread, {@link #FILE_CHUNK_BYTES} at a time, each chunk read only once the
     * previous one is written: the event loop never reads the disk, and a slow client holds at most one chunk in
     * memory (a silent one is closed by the idle timeout, which ends the wait). The file is deleted afterwards,
     * written or not.
     */
    private void writeFile(ChannelHandlerContext ctx, boolean head, HttpEndpoint.Response answer) {
        java.nio.file.Path file = answer.file();
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ)) {
            long length = channel.size();
            io.netty.handler.codec.http.HttpResponse response = new io.netty.handler.codec.http.DefaultHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                    .set(HttpHeaderNames.CONTENT_LENGTH, length)
                    .set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
            answer.headers().forEach(response.headers()::set);
            if (!ctx.writeAndFlush(response).addListener(written -> handling = false).await().isSuccess()) {
                ctx.channel().close();
                return;
            }
            long sent = 0;
            while (!head && sent < length) {
                java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate((int) Math.min(FILE_CHUNK_BYTES,
                        length - sent));
                while (chunk.hasRemaining()) {
                    if (channel.read(chunk, sent + chunk.position()) < 0) {
                        throw new java.io.EOFException(file + " ended before its " + length + " bytes");
                    }
                }
                chunk.flip();
                sent += chunk.remaining();
                if (!ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                        Unpooled.wrappedBuffer(chunk))).await().isSuccess()) {
                    ctx.channel().close();
                    return;
                }
            }
            ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT)
                    .addListener((ChannelFutureListener) written -> {
                        if (!written.isSuccess()) {
                            written.channel().close();
                        } else if (written.channel().isActive()) {
                            answered(ctx);
                        }
                    });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.channel().close();
        } catch (java.io.IOException e) {
            // The status line may be out already: the connection is closed so the client sees a short body.
            LOG.log(System.Logger.Level.WARNING, "The " + endpoint.name() + " endpoint failed to send " + file, e);
            ctx.channel().close();
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(file);
            } catch (java.io.IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not delete " + file, e);
            }
        }
    }

    /**
     * Closes a connection whose request could not be read, without losing the answer: closing a socket with unread
     * bytes (the rest of that request) sends a reset, which may discard the answer before the client reads it. So the
     * output is shut first, the rest is read and dropped (the decoder discards everything after a bad request), and
     * the connection closes when the client closes its side or after {@link #LINGER_MS}.
     */
    private static void closeAfterAnswer(ChannelHandlerContext ctx) {
        if (!(ctx.channel() instanceof SocketChannel socket) || !socket.isActive()) {
            ctx.channel().close();
            return;
        }
        socket.shutdownOutput().addListener(shut -> {
            socket.config().setAutoRead(true);
            ctx.executor().schedule(() -> socket.close(), LINGER_MS, TimeUnit.MILLISECONDS);
        });
    }

    /** A request the decoder could not read: its status, then the connection closes (its bytes cannot be framed). */
    private void refuse(ChannelHandlerContext ctx, Throwable cause) {
        int status = cause instanceof TooLongHttpLineException ? 414
                : cause instanceof TooLongHttpHeaderException ? 431 : 400;
        LOG.log(System.Logger.Level.DEBUG, () -> "The " + endpoint.name() + " endpoint refused a request from "
                + ctx.channel().remoteAddress() + " (" + status + "): " + cause);
        write(ctx, false, HttpEndpoint.Response.text(status, TEXT, "Bad request: " + cause.getMessage() + "\n"),
                null, true);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            if (!handling) ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, () -> "The " + endpoint.name() + " endpoint closed the connection from "
                + ctx.channel().remoteAddress() + ": " + cause);
        ctx.close();
    }
}
