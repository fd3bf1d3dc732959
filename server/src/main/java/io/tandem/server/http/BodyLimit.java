package io.tandem.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds each request body to its route's limit before the aggregator buffers it: the aggregator's own bound is
 * {@link HttpEndpoint#LARGE_REQUEST_BODY_BYTES_MAX}, which only a route that asked for it may use. A body above
 * {@link HttpEndpoint#REQUEST_BODY_BYTES_MAX} must declare its length (a chunked one is held to the small limit) and
 * takes one of {@link #LARGE_BODIES_MAX} slots of the endpoint until its answer is written (or the connection closes),
 * so large bodies cannot pile up across connections. A refused request is answered 413 (too long) or 503 (no slot) and
 * its connection closed (lingering, see {@link #refuse}): the rest of its body cannot be told from a next request.
 */
final class BodyLimit extends ChannelDuplexHandler {
    /** Large bodies held at once by one endpoint: restore is rate-limited anyway; one is all it needs. */
    static final int LARGE_BODIES_MAX = 1;
    /** How long a refused request's connection keeps reading (and dropping) what its client still sends. */
    static final long LINGER_MS = 2_000;

    private final HttpEndpoint endpoint;
    private final AtomicInteger largeBodies;
    /** Bytes the current request's body may still bring. */
    private long remaining;
    /** Whether this connection holds a large-body slot. */
    private boolean holdsSlot;
    /** Set once a request is refused: everything after it is dropped until the close. */
    private boolean refused;

    BodyLimit(HttpEndpoint endpoint) {
        this.endpoint = endpoint;
        this.largeBodies = endpoint.largeBodies();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            release();
            int limit = endpoint.bodyBytesMaxOf(pathOf(request.uri()));
            long declared = HttpUtil.getContentLength(request, -1L);
            if (declared < 0) limit = Math.min(limit, HttpEndpoint.REQUEST_BODY_BYTES_MAX);
            if (declared > limit) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "Request body of " + declared
                        + " bytes is larger than the " + limit + " bytes this URL takes\n");
                return;
            }
            if (declared > HttpEndpoint.REQUEST_BODY_BYTES_MAX) {
                if (largeBodies.incrementAndGet() > LARGE_BODIES_MAX) {
                    largeBodies.decrementAndGet();
                    refuse(ctx, msg, HttpResponseStatus.SERVICE_UNAVAILABLE, "Another large request body is being "
                            + "received; try again later\n");
                    return;
                }
                holdsSlot = true;
            }
            remaining = limit;
        }
        if (msg instanceof HttpContent content) {
            remaining -= content.content().readableBytes();
            if (remaining < 0) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "Request body too large\n");
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** The end of an answer frees the slot its request held. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof LastHttpContent) release();
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release();
        super.channelInactive(ctx);
    }

    private void release() {
        if (holdsSlot) {
            holdsSlot = false;
            largeBodies.decrementAndGet();
        }
    }

    private void refuse(ChannelHandlerContext ctx, Object msg, HttpResponseStatus status, String text) {
        ReferenceCountUtil.release(msg);
        refused = true;
        release();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // A lingering close: closing at once with the client's body still arriving makes the kernel reset the
        // connection, and a reset can destroy the answer before the client reads it (CI saw "header parser received
        // no bytes"). So the output is shut down after the answer (the client sees it, then the end), the rest of
        // the body is read and dropped (refused), and the connection closes when the client closes it or after
        // LINGER_MS at most.
        ctx.writeAndFlush(response).addListener(written -> {
            if (written.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), LINGER_MS, TimeUnit.MILLISECONDS);
            } else {
                ctx.close();
            }
        });
    }

    /** The path of a request target, without its query; null when it is not a URI (the dispatcher answers 400). */
    private static String pathOf(String uri) {
        try {
            return new java.net.URI(uri).getPath();
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }
}
