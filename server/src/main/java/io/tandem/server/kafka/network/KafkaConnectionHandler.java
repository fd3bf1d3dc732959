package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.server.FatalErrors;
import io.tandem.server.kafka.security.KafkaPrincipals;
import io.tandem.server.kafka.security.SaslAuthenticator;
import io.tandem.server.kafka.security.SaslFailure;
import io.tandem.storage.log.LogSlice;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Kafka connection, handled as Kafka's network layer does: one request at a time, in arrival order. While a
 * request is in hand the connection is muted (not read, see {@link ReadGate}); it is unmuted once the answer is
 * written to the socket (or, for acks=0, once the handler is done). So an idempotent producer's in-flight batches are
 * appended in sequence order, answers leave in request order, and a client that sends without reading its answers
 * is soon not read either. Frames that arrived in the same socket read as the one in hand wait here. A request a
 * client quota throttled keeps the connection muted after its answer is written until the throttle time is over.
 * A malformed request closes only this connection, with one log line. On a SASL listener, requests before
 * authentication completes go to the connection's {@link SaslAuthenticator} (ApiVersions excepted), and so do those
 * of a re-authentication (KIP-368), which starts with a SaslHandshake on an authenticated connection: since requests
 * are taken one at a time, every earlier request has been answered by then, as Kafka's KafkaChannel requires.
 */
final class KafkaConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(KafkaConnectionHandler.class.getName());

    private final ApiRegistry registry;
    private final RequestDispatcher dispatcher;
    private final ReadGate gate;
    private final String listenerName;
    private final String securityProtocol;
    /** The connection's SASL authentication on a SASL listener, else null. */
    private final SaslAuthenticator sasl;
    /** The answer being written ends the connection (a failed authentication); set before it is handed to write. */
    private volatile boolean closeAfterWrite;
    /** Frames read but not started; touched only on this channel's event loop. */
    private final ArrayDeque<ByteBuf> received = new ArrayDeque<>();
    private ChannelHandlerContext context;
    /** A request is being handled or its answer written. */
    private boolean busy;
    /** Set when the channel closed: answers completing afterwards are released instead of written. */
    private boolean closed;

    KafkaConnectionHandler(ApiRegistry registry, RequestDispatcher dispatcher, ReadGate gate, String listenerName,
                           String securityProtocol, SaslAuthenticator sasl) {
        this.listenerName = listenerName;
        this.securityProtocol = securityProtocol;
        this.registry = registry;
        this.dispatcher = dispatcher;
        this.gate = gate;
        this.sasl = sasl;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        received.addLast((ByteBuf) msg);
        startNext();
    }

    /** Starts the oldest received request unless one is in hand; the connection is read only when none is. */
    private void startNext() {
        while (!busy && !closed) {
            ByteBuf frame = received.pollFirst();
            if (frame == null) break;
            start(frame);
        }
        if (!closed) gate.busy(busy);
    }

    private void start(ByteBuf frame) {
        int frameBytes = frame.readableBytes();
        boolean handedOff = false;
        try {
            boolean authenticating = sasl != null && !sasl.isComplete();
            if (authenticating && sasl.failsWithoutAnswer()) {
                closeWith(sasl.refusal(null));
                return;
            }
            if (authenticating && frameBytes > sasl.receiveBytesMax()) {
                closeWith("SASL request of " + frameBytes + " bytes is over sasl.server.max.receive.size "
                        + sasl.receiveBytesMax());
                return;
            }
            if (authenticating && sasl.expectsRawToken()) {
                startRawToken(ByteBufUtil.getBytes(frame));
                return;
            }
            RequestHeader header;
            ApiKey key;
            try {
                header = KafkaFrames.readRequestHeader(frame);
                key = ApiKey.forId(header.requestApiKey);
            } catch (KafkaCodecException | IndexOutOfBoundsException e) {
                closeWith("unreadable request header: " + e.getMessage());
                return;
            }
            short version = header.requestApiVersion;
            ApiRegistry.Entry entry = registry.lookup(key);
            if (sasl != null && !authenticating) {
                // KIP-368, as Kafka's SocketServer: a SaslHandshake may start a re-authentication; any other request
                // of a session past its expiry closes the connection.
                if (key == ApiKey.SASL_HANDSHAKE && sasl.beginReauthentication()) {
                    authenticating = true;
                } else if (sasl.sessionExpired()) {
                    closeWith("its SASL session expired without re-authentication (connections.max.reauth.ms or "
                            + "the credential's lifetime)");
                    return;
                }
            }
            if (authenticating) {
                // An ApiVersions newer than ours is answered below without using up the one ApiVersions allowed.
                boolean retry = key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion();
                String refusal = retry ? sasl.refusal(key) : sasl.admit(key);
                if (refusal != null) {
                    closeWith(refusal);
                    return;
                }
            }
            if (key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion()) {
                // A newer client than us: answer at v0 with our ranges so it retries with a version we serve.
                ApiVersionsResponse unsupported = new ApiVersionsResponse()
                        .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(registry.apiVersions());
                busy = true;
                write(KafkaFrames.encodeResponse(context.alloc(), header.correlationId, key, (short) 0, unsupported));
                return;
            }
            if (entry == null || !entry.serves(version)) {
                closeWith("unsupported request " + (key == null ? "?" : key.apiName()) + " v" + version);
                return;
            }
            ApiMessage request;
            try {
                request = key.readRequest(frame, version);
            } catch (RuntimeException e) {
                closeWith("malformed " + key.apiName() + " v" + version + " request: " + e.getMessage());
                return;
            }
            Throttle throttle = new Throttle();
            RequestContext requestContext = new RequestContext(key, version, header.correlationId,
                    header.clientId, (InetSocketAddress) context.channel().remoteAddress(), listenerName,
                    KafkaPrincipals.of(context.channel(), sasl), frameBytes, throttle, securityProtocol,
                    sasl != null && sasl.tokenAuthenticated());
            ResponderImpl direct = new ResponderImpl(requestContext, frame, frameBytes, throttle);
            Responder responder = registry.observer().observe(requestContext, direct);
            ApiHandler<ApiMessage> handler = authenticating && key != ApiKey.API_VERSIONS ? this::authenticationStep
                    : entry.handler();
            if (!authenticating) direct.body = request;
            handedOff = true;
            busy = true;
            Runnable handle = () -> submit(handler, requestContext, request, responder, direct);
            RequestFaults faults = registry.faults();
            Runnable drop = () -> {
                direct.releaseRequest();
                closeWith("an injected fault drops " + key.apiName() + " requests");
            };
            RequestFaults.Outcome fault = faults.armed()
                    ? faults.intercept(requestContext, request, responder, handle, drop) : RequestFaults.Outcome.PASS;
            if (fault == RequestFaults.Outcome.PASS) handle.run();
            else if (fault == RequestFaults.Outcome.DROP) drop.run();
        } finally {
            if (!handedOff) {
                frame.release();
                gate.release(frameBytes);
            }
        }
    }

    private void submit(ApiHandler<ApiMessage> handler, RequestContext requestContext, ApiMessage request,
                        Responder responder, ResponderImpl direct) {
        try {
            dispatcher.submit(() -> {
                direct.startNanos = System.nanoTime();
                try {
                    handler.handle(requestContext, request, responder);
                } catch (Throwable t) {
                    FatalErrors.check(t);
                    responder.fail(t);
                } finally {
                    direct.handlerNanos = Math.max(System.nanoTime() - direct.startNanos, 1);
                }
            });
        } catch (RejectedExecutionException e) {
            direct.releaseRequest();
            closeWith("broker is shutting down");
        }
    }

    /** SaslHandshake or SaslAuthenticate before authentication completes: a step of this connection's exchange. */
    private void authenticationStep(RequestContext request, ApiMessage message, Responder responder) {
        SaslAuthenticator.Step<? extends ApiMessage> step = message instanceof SaslHandshakeRequest handshake
                ? sasl.handshake(handshake.mechanism, request.apiVersion())
                : sasl.authenticate(((SaslAuthenticateRequest) message).authBytes);
        if (step.closeAfter()) {
            LOG.log(System.Logger.Level.INFO, "Failed authentication with {0} ({1})", request.clientAddress(),
                    step.response() instanceof SaslAuthenticateResponse ? sasl.failureReason()
                            : "unsupported SASL mechanism " + ((SaslHandshakeRequest) message).mechanism);
            closeAfterWrite = true;
        }
        responder.send(step.response());
    }

    /** A raw SASL token after a v0 SaslHandshake: answered with a raw token (4-byte size and bytes), or closed. */
    private void startRawToken(byte[] token) {
        busy = true;
        try {
            dispatcher.submit(() -> {
                try {
                    byte[] challenge = sasl.rawToken(token);
                    ByteBuf out = context.alloc().buffer(4 + challenge.length).writeInt(challenge.length)
                            .writeBytes(challenge);
                    onEventLoop(() -> write(out), out);
                } catch (SaslFailure e) {
                    onEventLoop(() -> closeWith("Failed authentication: " + e.getMessage()), null);
                } catch (Throwable t) {
                    onEventLoop(() -> closeWith("SASL token failed: " + t), null);
                }
            });
        } catch (RejectedExecutionException e) {
            closeWith("broker is shutting down");
        }
    }

    /** Writes an answer; the connection is read again once it is on the socket. Event loop only. */
    private void write(Object response) {
        write(response, 0);
    }

    /**
     * Writes an answer; the connection is read again once it is on the socket and, when a quota throttled the
     * request, {@code unmuteAtNanos} has come (Kafka's MUTED_AND_THROTTLED state). Event loop only.
     */
    private void write(Object response, long unmuteAtNanos) {
        if (closed || !context.channel().isActive()) {
            release(response);
            return;
        }
        ChannelPromise written = context.newPromise();
        if (response instanceof List<?> parts) {
            for (int i = 0; i < parts.size(); i++) {
                context.write(parts.get(i), i == parts.size() - 1 ? written : context.voidPromise());
            }
            if (parts.isEmpty()) written.setSuccess();
        } else {
            context.write(response, written);
        }
        context.flush();
        written.addListener(f -> {
            if (closeAfterWrite) {
                context.close();
            } else if (f.isSuccess()) {
                finishedAt(unmuteAtNanos);
            }
        });
    }

    /** The request is done; the connection stays muted until {@code unmuteAtNanos} (0: not throttled). */
    private void finishedAt(long unmuteAtNanos) {
        long delayNanos = unmuteAtNanos == 0 ? 0 : unmuteAtNanos - System.nanoTime();
        if (delayNanos <= 0) {
            finished();
        } else {
            context.executor().schedule(this::finished, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void finished() {
        busy = false;
        startNext();
    }

    private void closeWith(String reason) {
        LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: {1}",
                context.channel().remoteAddress(), reason);
        context.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            LOG.log(System.Logger.Level.DEBUG, "Closing idle Kafka connection from {0}", ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        // Requests never started still hold their frame (their bytes went back to the budget with the connection).
        for (ByteBuf frame : received) frame.release();
        received.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.check(cause);
        closeWith(cause.toString());
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

    /** One request's throttle: when the connection may be read again, set from a handler thread before it answers. */
    private static final class Throttle implements ChannelThrottle {
        /** System.nanoTime() at which the throttle ends; 0 while not throttled. */
        private volatile long untilNanos;

        @Override
        public synchronized void throttle(int throttleTimeMs) {
            if (throttleTimeMs <= 0) return;
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(throttleTimeMs);
            if (untilNanos == 0 || until - untilNanos > 0) untilNanos = until;
        }
    }

    private final class ResponderImpl implements Responder {
        private final RequestContext request;
        private final ByteBuf frame;
        private final int frameBytes;
        private final Throttle throttle;
        /** The request body when the request quota applies to it (not during SASL authentication), else null. */
        private volatile ApiMessage body;
        /** When the handler thread started on the request, and how long it took (0 while it runs). */
        private volatile long startNanos;
        private volatile long handlerNanos;
        private final AtomicBoolean answered = new AtomicBoolean();
        private final AtomicBoolean released = new AtomicBoolean();

        ResponderImpl(RequestContext request, ByteBuf frame, int frameBytes, Throttle throttle) {
            this.request = request;
            this.frame = frame;
            this.frameBytes = frameBytes;
            this.throttle = throttle;
        }

        private void claim() {
            if (!answered.compareAndSet(false, true)) {
                throw new IllegalStateException(request.apiKey().apiName() + " answered twice");
            }
        }

        /** The request (and its record slices) is no longer needed: its memory and its budget bytes go back. */
        void releaseRequest() {
            if (!released.compareAndSet(false, true)) return;
            frame.release();
            gate.release(frameBytes);
        }

        private void encodingFailed(RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot encode " + request.apiKey().apiName() + " v"
                    + request.apiVersion() + " response", e);
            onEventLoop(() -> context.close(), null);
        }

        /**
         * The request_percentage quota: the handler time so far (or all of it, for an answer from the purgatory)
         * counts, and a throttle raises the answer's throttle_time_ms.
         */
        private void recordRequestTime(ApiMessage response) {
            RequestTimeQuota quota = registry.requestQuota();
            ApiMessage requestBody = body;
            if (!quota.armed() || requestBody == null) return;
            long nanos = handlerNanos != 0 ? handlerNanos : System.nanoTime() - startNanos;
            int throttleMs = quota.recordAndThrottle(request, requestBody, nanos);
            if (throttleMs > 0) ThrottleTimes.raise(response, throttleMs);
        }

        @Override
        public void send(ApiMessage response) {
            claim();
            recordRequestTime(response);
            ByteBuf encoded;
            try {
                encoded = KafkaFrames.encodeResponse(context.alloc(), request.correlationId(), request.apiKey(),
                        request.apiVersion(), response);
            } catch (RuntimeException e) {
                encodingFailed(e);
                return;
            } finally {
                releaseRequest();
            }
            long unmuteAt = throttle.untilNanos;
            onEventLoop(() -> write(encoded, unmuteAt), encoded);
        }

        @Override
        public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
            claim();
            recordRequestTime(response);
            List<Object> parts;
            try {
                // Every record set is gathered (minimum 1 byte), so each placeholder is a component of its own.
                ByteBuf encoded = KafkaFrames.encodeResponseGathering(context.alloc(), request.correlationId(),
                        request.apiKey(), request.apiVersion(), response, 1);
                // TLS encrypts ByteBufs only: on an encrypted connection the records are read into memory here, on
                // the handler thread, instead of going to the socket as file regions.
                parts = FileRecords.splice((CompositeByteBuf) encoded, slices,
                        ChannelSecurity.isEncrypted(context.channel()));
            } catch (RuntimeException e) {
                encodingFailed(e);
                return;
            } finally {
                releaseRequest();
            }
            long unmuteAt = throttle.untilNanos;
            onEventLoop(() -> write(parts, unmuteAt), parts);
        }

        @Override
        public void noResponse() {
            claim();
            releaseRequest();
            long unmuteAt = throttle.untilNanos;
            onEventLoop(() -> finishedAt(unmuteAt), null);
        }

        @Override
        public void fail(Throwable cause) {
            if (!answered.compareAndSet(false, true)) return;
            releaseRequest();
            LOG.log(System.Logger.Level.ERROR, "Failed to handle " + request.apiKey().apiName() + " v"
                    + request.apiVersion() + " from " + request.clientAddress() + "; closing the connection", cause);
            onEventLoop(() -> context.close(), null);
        }
    }
}
