package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.storage.log.LogSlice;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Kafka connection: decodes each frame's header and body and hands the requests to their handlers on the
 * request executor one at a time, in arrival order: like Kafka, a connection's next request is handled only once
 * the previous one is answered, so e.g. an idempotent producer's in-flight batches are appended in sequence order.
 * Answers are written strictly in request order. A malformed request closes only this connection, with one log line.
 */
final class KafkaConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());
    /**
     * Requests of one connection being handled or waiting to be written; past this the connection stops reading
     * until answers drain (the Java client itself keeps at most 5 in flight per connection).
     */
    static final int IN_FLIGHT_REQUESTS_MAX = 64;

    private final ApiRegistry registry;
    private final Executor executor;
    /** Answer slots in request order; touched only on this channel's event loop. */
    private final ArrayDeque<Slot> pending = new ArrayDeque<>();
    private ChannelHandlerContext context;
    /** Set when the channel closed: answers completing afterwards are released instead of queued. */
    private boolean closed;

    /** One request's place in the answer order, with the work that handles it until it is started. */
    private static final class Slot {
        /** A ByteBuf, or the parts of a zero-copy answer (a List of ByteBufs and FileRegions). */
        Object response;
        boolean done;
        Runnable work;
        ByteBuf frame;
    }

    KafkaConnectionHandler(ApiRegistry registry, Executor executor) {
        this.registry = registry;
        this.executor = executor;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        boolean handedOff = false;
        try {
            RequestHeader header;
            ApiKey key;
            try {
                header = KafkaFrames.readRequestHeader(frame);
                key = ApiKey.forId(header.requestApiKey);
            } catch (KafkaCodecException | IndexOutOfBoundsException e) {
                closeWith(ctx, "unreadable request header: " + e.getMessage());
                return;
            }
            short version = header.requestApiVersion;
            ApiRegistry.Entry entry = registry.lookup(key);
            if (key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion()) {
                // A newer client than us: answer at v0 with our ranges so it retries with a version we serve.
                ApiVersionsResponse unsupported = new ApiVersionsResponse()
                        .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(registry.apiVersions());
                Slot slot = reserve(ctx);
                complete(slot, KafkaFrames.encodeResponse(ctx.alloc(), header.correlationId, key, (short) 0,
                        unsupported));
                return;
            }
            if (entry == null || !entry.serves(version)) {
                closeWith(ctx, "unsupported request " + (key == null ? "?" : key.apiName()) + " v" + version);
                return;
            }
            ApiMessage request;
            try {
                request = key.readRequest(frame, version);
            } catch (RuntimeException e) {
                closeWith(ctx, "malformed " + key.apiName() + " v" + version + " request: " + e.getMessage());
                return;
            }
            RequestContext requestContext = new RequestContext(key, version, header.correlationId,
                    header.clientId, (InetSocketAddress) ctx.channel().remoteAddress());
            Slot slot = reserve(ctx);
            Responder responder = registry.observer()
                    .observe(requestContext, new ResponderImpl(requestContext, slot, frame));
            slot.frame = frame;
            slot.work = () -> executor.execute(() -> {
                try {
                    entry.handler().handle(requestContext, request, responder);
                } catch (Throwable t) {
                    responder.fail(t);
                }
            });
            handedOff = true;
            startNext();
        } finally {
            if (!handedOff) frame.release();
        }
    }

    private Slot reserve(ChannelHandlerContext ctx) {
        Slot slot = new Slot();
        pending.addLast(slot);
        if (pending.size() >= IN_FLIGHT_REQUESTS_MAX) ctx.channel().config().setAutoRead(false);
        return slot;
    }

    private void complete(Slot slot, Object response) {
        if (closed) {
            release(response);
            return;
        }
        slot.response = response;
        slot.done = true;
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peekFirst().done) {
            Slot head = pending.removeFirst();
            if (head.response != null) {
                if (context.channel().isActive()) {
                    if (head.response instanceof List<?> parts) {
                        for (Object part : parts) context.write(part, context.voidPromise());
                    } else {
                        context.write(head.response, context.voidPromise());
                    }
                    wrote = true;
                } else {
                    release(head.response);
                }
            }
        }
        if (wrote) context.flush();
        if (pending.size() < IN_FLIGHT_REQUESTS_MAX / 2 && !context.channel().config().isAutoRead()) {
            context.channel().config().setAutoRead(true);
        }
        startNext();
    }

    /** Starts the oldest unanswered request unless it is already running. */
    private void startNext() {
        Slot head = pending.peekFirst();
        if (head == null || head.done || head.work == null) return;
        Runnable work = head.work;
        head.work = null;
        head.frame = null;
        try {
            work.run();
        } catch (RejectedExecutionException e) {
            closeWith(context, "broker is shutting down");
        }
    }

    private void closeWith(ChannelHandlerContext ctx, String reason) {
        LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: {1}",
                ctx.channel().remoteAddress(), reason);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        for (Slot slot : pending) {
            release(slot.response);
            // Requests never started still hold their frame.
            if (slot.frame != null) slot.frame.release();
            slot.response = null;
            slot.frame = null;
        }
        pending.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeWith(ctx, cause.toString());
    }

    /** Runs on the channel's event loop; if the loop is gone (shutdown), the answer is dropped and released. */
    private void onEventLoop(Runnable task, Object owned) {
        try {
            context.channel().eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            release(owned);
        }
    }

    private static void release(Object response) {
        if (response instanceof List<?> parts) {
            for (Object part : parts) ReferenceCountUtil.release(part);
        } else if (response != null) {
            ReferenceCountUtil.release(response);
        }
    }

    private final class ResponderImpl implements Responder {
        private final RequestContext request;
        private final Slot slot;
        private final ByteBuf frame;
        private final AtomicBoolean answered = new AtomicBoolean();

        ResponderImpl(RequestContext request, Slot slot, ByteBuf frame) {
            this.request = request;
            this.slot = slot;
            this.frame = frame;
        }

        private boolean claim() {
            if (!answered.compareAndSet(false, true)) {
                throw new IllegalStateException(request.apiKey().apiName() + " answered twice");
            }
            return true;
        }

        @Override
        public void send(ApiMessage response) {
            claim();
            ByteBuf encoded;
            try {
                encoded = KafkaFrames.encodeResponse(context.alloc(), request.correlationId(), request.apiKey(),
                        request.apiVersion(), response);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Cannot encode " + request.apiKey().apiName() + " v"
                        + request.apiVersion() + " response", e);
                context.channel().eventLoop().execute(() -> context.close());
                return;
            } finally {
                // The request (and its record slices) is no longer needed once the answer is encoded.
                frame.release();
            }
            onEventLoop(() -> complete(slot, encoded), encoded);
        }

        @Override
        public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
            claim();
            List<Object> parts;
            try {
                // Every record set is gathered (minimum 1 byte), so each placeholder is a component of its own.
                ByteBuf encoded = KafkaFrames.encodeResponseGathering(context.alloc(), request.correlationId(),
                        request.apiKey(), request.apiVersion(), response, 1);
                parts = FileRecords.splice((CompositeByteBuf) encoded, slices);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Cannot encode " + request.apiKey().apiName() + " v"
                        + request.apiVersion() + " response", e);
                context.channel().eventLoop().execute(() -> context.close());
                return;
            } finally {
                // The request is no longer needed once the answer is encoded.
                frame.release();
            }
            onEventLoop(() -> complete(slot, parts), parts);
        }

        @Override
        public void noResponse() {
            claim();
            frame.release();
            onEventLoop(() -> complete(slot, null), null);
        }

        @Override
        public void fail(Throwable cause) {
            if (!answered.compareAndSet(false, true)) return;
            frame.release();
            LOG.log(System.Logger.Level.ERROR, "Failed to handle " + request.apiKey().apiName() + " v"
                    + request.apiVersion() + " from " + request.clientAddress() + "; closing the connection", cause);
            context.channel().eventLoop().execute(() -> context.close());
        }
    }
}
