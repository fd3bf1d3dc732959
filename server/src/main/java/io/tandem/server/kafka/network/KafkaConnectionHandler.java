package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
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
import io.tandem.server.kafka.security.IllegalSaslStateAnswers;
import io.tandem.server.kafka.security.KafkaPrincipals;
import io.tandem.server.kafka.security.SaslAuthenticator;
import io.tandem.server.kafka.security.SaslFailure;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One Kafka connection, handled as Kafka's network layer does: one request at a time, in arrival order. So an
 * idempotent producer's in-flight batches are appended in sequence order and answers leave in request order. While a
 * request is in hand the connection's next frames are read ahead and wait here, within {@link ConnectionTurn}'s
 * bounds (a few frames, 1 MiB): then the connection is muted (not read, see {@link ReadGate}) until the holder takes
 * a frame. It is muted too while an answer is not on the socket yet, so a client that sends without reading its
 * answers is soon not read either. A request a client quota throttled keeps the connection muted after its answer is
 * written until the throttle time is over.
 * A malformed request closes only this connection, with one log line. On a SASL listener, requests before
 * authentication completes go to the connection's {@link SaslAuthenticator} (ApiVersions excepted), and so do those
 * of a re-authentication (KIP-368), which starts with a SaslHandshake on an authenticated connection: since requests
 * are taken one at a time, every earlier request has been answered by then, as Kafka's KafkaChannel requires.
 *
 * <p>Threads: the event loop queues frames and writes answers (it answers a too-new ApiVersions itself, from memory).
 * A request handler thread takes the connection
 * (its "drain"), decodes and handles its oldest frame, and when the answer is ready hands the encoded bytes to the
 * event loop and goes on with the connection's next frame itself, without a round trip through the event loop and
 * the handler queue for every request (two thread hand-offs per request before). An answer that comes later from
 * another thread (a parked acks=all produce, a coordinator callback) hands the next frame to a handler thread
 * again. Nothing of a request, disk included, runs on the event loop; exactly one thread holds a connection's
 * requests at any time ({@link ConnectionTurn}). A request's answer is encoded by its {@link ConnectionResponder}.
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
    /** connection.failed.authentication.delay.ms: see {@link #closeAfterFailedAuthentication}. */
    private final long failedAuthenticationDelayMs;
    /** A failed authentication's answer held back until the delay is over; event loop only. */
    private Object heldFailureAnswer;
    /** The held answer's delay is over; event loop only. */
    private boolean failureDelayOver;
    /** Frames waiting, and which thread handles them; whoever gives the turn back makes sure the connection is unmuted. */
    private final ConnectionTurn turn = new ConnectionTurn();
    private ChannelHandlerContext context;
    /** Set when the channel closed: answers completing afterwards are released instead of written. */
    private volatile boolean closed;
    /** The last answer handed to the socket; event loop only. The connection is not read until it is written. */
    private ChannelFuture lastWrite;
    /** The pending write {@link #updateReading} listens to, so it listens once; event loop only. */
    private ChannelFuture awaitedWrite;
    /**
     * The event loop takes the connection on once an answer is on the socket (a throttled or closing answer): no
     * reading until then, as Kafka's MUTED_AND_THROTTLED. Set by the answering thread, cleared on the event loop.
     */
    private volatile boolean loopHolds;

    KafkaConnectionHandler(ApiRegistry registry, RequestDispatcher dispatcher, ReadGate gate, String listenerName,
                           String securityProtocol, SaslAuthenticator sasl, long failedAuthenticationDelayMs) {
        this.failedAuthenticationDelayMs = failedAuthenticationDelayMs;
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
        boolean take = turn.add((ByteBuf) msg, System.nanoTime());
        updateReading();
        if (!take) return;
        if (answeredOnEventLoop((ByteBuf) msg)) {
            // It is the only frame (nobody held the turn): answered right here, from memory.
            if (start(turn.nextOrGiveBack())) continueElsewhere();
        } else {
            dispatch();
        }
    }

    /**
     * An ApiVersions newer than ours needs nothing but our ranges: the event loop answers it itself, so a client can
     * learn which versions to use even while every request handler thread is busy.
     */
    private boolean answeredOnEventLoop(ByteBuf frame) {
        if (sasl != null && sasl.expectsRawToken()) return false;
        int at = frame.readerIndex();
        if (frame.readableBytes() < 4 || frame.getShort(at) != ApiKey.API_VERSIONS.id()) return false;
        ApiRegistry.Entry entry = registry.lookup(ApiKey.API_VERSIONS);
        return entry != null && frame.getShort(at + 2) > entry.maxVersion();
    }

    /** Hands the connection's turn (held by the caller) to a request handler thread ({@link #drain}). */
    private void dispatch() {
        try {
            dispatcher.submit(this::drain);
        } catch (RejectedExecutionException e) {
            closeWith("broker is shutting down");
        }
    }

    /**
     * On a request handler thread: handles the connection's frames one after the other for as long as each is
     * answered right away and another one is waiting; stops when the queue is empty (the connection goes idle), or
     * when an answer is left to someone else (a parked request, a throttle, a closing answer), who goes on from there.
     */
    private void drain() {
        ConnectionTurn.Received frame = nextFrameOrIdle();
        while (frame != null) {
            if (!start(frame)) return;
            frame = nextFrameOrIdle();
        }
    }

    /**
     * The oldest waiting frame, or null: then no request is in hand any more. Taking a frame makes room to read
     * ahead: the event loop is told when it stopped reading for want of it. Any thread.
     */
    private ConnectionTurn.Received nextFrameOrIdle() {
        ConnectionTurn.Received next = turn.nextOrGiveBack();
        if (turn.roomFreed()) onEventLoop(this::updateReading, null);
        return next;
    }

    /**
     * The request in hand is done where its next frame is not taken at once (on the event loop, after a throttled
     * answer or one the loop answered itself): the next frame goes to a handler thread, or the connection goes idle.
     */
    private void continueElsewhere() {
        loopHolds = false;
        if (!turn.giveBackUnlessFrameWaits()) dispatch();
        updateReading();
    }

    /**
     * Event loop: reads the connection on unless the last answer is not on the socket yet (then again once it is),
     * the loop holds the connection ({@link #loopHolds}), or the read-ahead bounds are reached (then again once the
     * holder takes a frame, {@link ConnectionTurn#roomFreed}).
     */
    private void updateReading() {
        if (closed) return;
        ChannelFuture pending = lastWrite;
        if (pending != null && !pending.isDone()) {
            gate.busy(true);
            if (awaitedWrite != pending) {
                awaitedWrite = pending;
                pending.addListener(f -> updateReading());
            }
            return;
        }
        gate.busy(loopHolds || !turn.roomToRead());
    }

    /**
     * Decodes and handles one frame on the current (request handler) thread, or, for a too-new ApiVersions, on the
     * event loop (see {@link #answeredOnEventLoop}). Returns true when its answer was handed
     * to the event loop before this returned, so this thread may go on with the next frame; false when the answer is
     * left to another thread or to the event loop (which then go on), or the connection is closing.
     */
    private boolean start(ConnectionTurn.Received read) {
        long takenNanos = System.nanoTime();
        ByteBuf frame = read.frame();
        int frameBytes = frame.readableBytes();
        boolean handedOff = false;
        try {
            boolean authenticating = sasl != null && !sasl.isComplete();
            if (authenticating && sasl.failsWithoutAnswer()) {
                closeAfterFailedAuthentication(sasl.refusal(null));
                return false;
            }
            if (authenticating && frameBytes > sasl.receiveBytesMax()) {
                // Kafka: "Failing SASL authentication due to invalid receive size", an authentication failure.
                closeAfterFailedAuthentication("SASL request of " + frameBytes + " bytes is over "
                        + "sasl.server.max.receive.size " + sasl.receiveBytesMax());
                return false;
            }
            if (authenticating && sasl.expectsRawToken()) {
                return rawToken(ByteBufUtil.getBytes(frame));
            }
            RequestHeader header;
            ApiKey key;
            try {
                header = KafkaFrames.readRequestHeader(frame);
                key = ApiKey.forId(header.requestApiKey);
            } catch (KafkaCodecException | IndexOutOfBoundsException e) {
                closeWith("unreadable request header: " + e.getMessage());
                return false;
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
                    return false;
                }
            }
            if (authenticating) {
                // An ApiVersions newer than ours is answered below without using up the one ApiVersions allowed.
                boolean retry = key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion();
                boolean exchanging = sasl.exchanging();
                String refusal = retry ? sasl.refusal(key) : sasl.admit(key);
                if (refusal != null) {
                    // Kafka: another request once the token exchange began is an authentication failure, answered
                    // with its own error response and closed (both delayed); before it, an invalid request (closed
                    // at once).
                    if (exchanging) refuseDuringExchange(header, key, frame, refusal);
                    else closeWith(refusal);
                    return false;
                }
            }
            if (key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion()) {
                // A newer client than us: answer at v0 with our ranges so it retries with a version we serve.
                ApiVersionsResponse unsupported = new ApiVersionsResponse()
                        .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(registry.apiVersions());
                ByteBuf encoded = KafkaFrames.encodeResponse(context.alloc(), header.correlationId, key, (short) 0,
                        unsupported);
                onEventLoop(() -> write(encoded, 0, false, null), encoded);
                return true;
            }
            if (entry == null || !entry.serves(version)) {
                closeWith("unsupported request " + (key == null ? "?" : key.apiName()) + " v" + version);
                return false;
            }
            ApiMessage request;
            try {
                request = key.readRequest(frame, version);
            } catch (RuntimeException e) {
                closeWith("malformed " + key.apiName() + " v" + version + " request: " + e.getMessage());
                return false;
            }
            ConnectionResponder.Throttle throttle = new ConnectionResponder.Throttle();
            RequestContext requestContext = new RequestContext(key, version, header.correlationId,
                    header.clientId, (InetSocketAddress) context.channel().remoteAddress(), listenerName,
                    KafkaPrincipals.of(context.channel(), sasl), frameBytes, throttle, securityProtocol,
                    sasl != null && sasl.tokenAuthenticated());
            ConnectionResponder direct = new ConnectionResponder(connection, requestContext, frame, frameBytes,
                    throttle);
            direct.stages = RequestStages.forApi(key);
            direct.traced = RequestStages.traced();
            direct.readNanos = read.nanos();
            direct.takenNanos = takenNanos;
            Responder responder = registry.observer().observe(requestContext, direct);
            ApiHandler<ApiMessage> handler = authenticating && key != ApiKey.API_VERSIONS ? this::authenticationStep
                    : entry.handler();
            if (!authenticating) direct.body = request;
            handedOff = true;
            Thread drainThread = Thread.currentThread();
            direct.drainThread = drainThread;
            // Run here when the request goes ahead now; a request a fault delayed resumes later on another thread
            // and goes to a handler thread then.
            Runnable handle = () -> {
                if (Thread.currentThread() == drainThread) {
                    run(handler, requestContext, request, responder, direct);
                } else {
                    submit(handler, requestContext, request, responder, direct);
                }
            };
            RequestFaults faults = registry.faults();
            Runnable drop = () -> {
                direct.releaseRequest();
                closeWith("an injected fault drops " + key.apiName() + " requests");
            };
            RequestFaults.Outcome fault = faults.armed()
                    ? faults.intercept(requestContext, request, responder, handle, drop) : RequestFaults.Outcome.PASS;
            if (fault == RequestFaults.Outcome.PASS) handle.run();
            else if (fault == RequestFaults.Outcome.DROP) drop.run();
            return direct.finishOnDrainThread();
        } finally {
            if (!handedOff) {
                frame.release();
                gate.release(frameBytes);
            }
        }
    }

    /** Handles a request on this (request handler) thread, timing it for the request quota. */
    private static void run(ApiHandler<ApiMessage> handler, RequestContext requestContext, ApiMessage request,
                            Responder responder, ConnectionResponder direct) {
        direct.startNanos = System.nanoTime();
        try {
            handler.handle(requestContext, request, responder);
        } catch (Throwable t) {
            FatalErrors.check(t);
            responder.fail(t);
        } finally {
            direct.handlerNanos = Math.max(System.nanoTime() - direct.startNanos, 1);
        }
    }

    private void submit(ApiHandler<ApiMessage> handler, RequestContext requestContext, ApiMessage request,
                        Responder responder, ConnectionResponder direct) {
        try {
            dispatcher.submit(() -> run(handler, requestContext, request, responder, direct));
        } catch (RejectedExecutionException e) {
            direct.releaseRequest();
            closeWith("broker is shutting down");
        }
    }

    /**
     * A request other than SaslAuthenticate during the token exchange, as Kafka's SaslServerAuthenticator takes it: one
     * it cannot parse closes at once (InvalidRequestException); any other gets its own error response with
     * ILLEGAL_SASL_STATE ({@link IllegalSaslStateAnswers}) and the close, both after the failed-authentication delay.
     */
    private void refuseDuringExchange(RequestHeader header, ApiKey key, ByteBuf frame, String refusal) {
        ApiMessage answer;
        try {
            answer = IllegalSaslStateAnswers.answer(key, header.requestApiVersion, frame);
        } catch (RuntimeException unparseable) {
            closeWith("unparseable request during SASL authentication: " + unparseable.getMessage());
            return;
        }
        closeAfterFailedAuthentication(refusal, answer == null ? null : KafkaFrames.encodeResponse(context.alloc(),
                header.correlationId, key, header.requestApiVersion, answer));
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

    /**
     * A raw SASL token after a v0 SaslHandshake, on this handler thread: answered with a raw token (4-byte size and
     * bytes), or the connection closed. Returns whether this thread may go on with the next frame.
     */
    private boolean rawToken(byte[] token) {
        try {
            byte[] challenge = sasl.rawToken(token);
            ByteBuf out = context.alloc().buffer(4 + challenge.length).writeInt(challenge.length)
                    .writeBytes(challenge);
            onEventLoop(() -> write(out, 0, false, null), out);
            return true;
        } catch (SaslFailure e) {
            // Kafka delays the close of a SaslAuthenticationException (the mechanism's own words, such as PLAIN's);
            // any other SaslException of a raw token closes at once.
            if (e.clientMessage() != null) closeAfterFailedAuthentication(e.getMessage());
            else closeWith("Failed authentication: " + e.getMessage());
        } catch (Throwable t) {
            FatalErrors.check(t);
            closeWith("SASL token failed: " + t);
        }
        return false;
    }

    /**
     * Writes an answer. With {@code finishWhenWritten} the request is finished once it is on the socket and, when a
     * quota throttled it, {@code unmuteAtNanos} has come (Kafka's MUTED_AND_THROTTLED state): the event loop then
     * takes the connection on; otherwise the answering thread already went on. {@code timed}: the request whose
     * stages are recorded ({@link RequestStages}), else null. Event loop only.
     */
    private void write(Object response, long unmuteAtNanos, boolean finishWhenWritten, ConnectionResponder timed) {
        if (closed || !context.channel().isActive()) {
            release(response);
            // The frames read before the client closed are still handled (ConnectionTurn), without answers.
            if (closeAfterWrite) turn.discard();
            else if (finishWhenWritten) continueElsewhere();
            return;
        }
        if (closeAfterWrite && failedAuthenticationDelayMs > 0 && !failureDelayOver) {
            // A failed authentication's answer waits out the delay, as Kafka's Selector holds it; the connection
            // stays muted (loopHolds) until then.
            heldFailureAnswer = response;
            context.executor().schedule(() -> {
                Object held = heldFailureAnswer;
                heldFailureAnswer = null;
                failureDelayOver = true;
                if (held == null) turn.discard(); // released when the connection closed meanwhile
                else write(held, unmuteAtNanos, finishWhenWritten, timed);
            }, failedAuthenticationDelayMs, TimeUnit.MILLISECONDS);
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
        lastWrite = written;
        context.flush();
        written.addListener(f -> {
            if (timed != null && f.isSuccess()) timed.recordStages(System.nanoTime());
            if (closeAfterWrite) {
                turn.discard();
                context.close();
            } else if (f.isSuccess() && finishWhenWritten) {
                finishedAt(unmuteAtNanos);
            } else if (finishWhenWritten) {
                // The connection went away under the answer: the frames read before that are still handled.
                continueElsewhere();
            }
        });
    }

    /** The request is done; the connection stays muted until {@code unmuteAtNanos} (0: not throttled). Event loop. */
    private void finishedAt(long unmuteAtNanos) {
        long delayNanos = unmuteAtNanos == 0 ? 0 : unmuteAtNanos - System.nanoTime();
        if (delayNanos <= 0) {
            continueElsewhere();
        } else {
            context.executor().schedule(this::continueElsewhere, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * A failed SASL authentication without an answer to send, closed as Kafka's Selector closes it: the connection is
     * not read any more, and is closed after connection.failed.authentication.delay.ms (at once for 0), so a client
     * guessing passwords gets one guess per delay and connection. Held connections stay open, so they count against
     * max.connections and max.connections.per.ip as Kafka counts its delayed closes. Any thread.
     */
    private void closeAfterFailedAuthentication(String reason) {
        closeAfterFailedAuthentication(reason, null);
    }

    /** As above, with an answer to write (after the delay) before the close when {@code answer} is not null. */
    private void closeAfterFailedAuthentication(String reason, ByteBuf answer) {
        LOG.log(System.Logger.Level.INFO, "Failed authentication with {0} ({1})", context.channel().remoteAddress(),
                reason);
        loopHolds = true;
        turn.discard();
        if (answer != null) {
            closeAfterWrite = true;
            onEventLoop(() -> write(answer, 0, false, null), answer);
            return;
        }
        onEventLoop(() -> {
            updateReading();
            if (failedAuthenticationDelayMs == 0) context.close();
            else context.executor().schedule(() -> context.close(), failedAuthenticationDelayMs, TimeUnit.MILLISECONDS);
        }, null);
    }

    private void closeWith(String reason) {
        LOG.log(System.Logger.Level.WARNING, "Closing Kafka connection from {0}: {1}",
                context.channel().remoteAddress(), reason);
        turn.discard();
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
        // Frames read before the close are still handled, unanswered (ConnectionTurn#close); their bytes went back
        // to the budget with the connection.
        closed = true;
        turn.close();
        if (heldFailureAnswer != null) {
            release(heldFailureAnswer);
            heldFailureAnswer = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.check(cause);
        closeWith(cause.toString());
    }

    /** What a request's answer ({@link ConnectionResponder}) needs of this connection. */
    private final ConnectionResponder.Connection connection = new ConnectionResponder.Connection() {
        @Override
        public ByteBufAllocator alloc() {
            return context.alloc();
        }

        @Override
        public boolean encrypted() {
            return ChannelSecurity.isEncrypted(context.channel());
        }

        @Override
        public void handOn(ConnectionResponder answered, Object encoded, long unmuteAtNanos) {
            KafkaConnectionHandler.this.handOn(answered, encoded, unmuteAtNanos);
        }

        @Override
        public void closeOnEventLoop() {
            turn.discard();
            onEventLoop(() -> context.close(), null);
        }

        @Override
        public void releaseFrameBytes(int bytes) {
            gate.release(bytes);
        }

        @Override
        public RequestTimeQuota requestQuota() {
            return registry.requestQuota();
        }
    };

    /**
     * A request's answer (null for none) goes to the event loop, which writes it and decides on reading further (in
     * the same task, with no second wake-up of the loop); then whoever takes the connection on is decided: no one
     * when no frame waits (the connection goes idle); the drain thread that started the request when it answers
     * inline; else this thread, which hands the next frame to the pool; else the event loop when the answer must be
     * on the socket first (a throttle, or a closing answer: no reading until then). Any thread.
     */
    private void handOn(ConnectionResponder answered, Object encoded, long unmuteAt) {
        boolean leaveToLoop = unmuteAt != 0 || closeAfterWrite;
        if (leaveToLoop) loopHolds = true;
        boolean idle = !leaveToLoop && turn.giveBackUnlessFrameWaits();
        if (encoded != null) {
            ConnectionResponder timed = answered.timed() ? answered : null;
            if (timed != null) timed.answeredNanos = System.nanoTime();
            onEventLoop(() -> {
                write(encoded, unmuteAt, leaveToLoop, timed);
                updateReading();
            }, encoded);
        } else if (leaveToLoop) {
            onEventLoop(() -> finishedAt(unmuteAt), null);
        } else if (idle && turn.roomFreed()) {
            onEventLoop(this::updateReading, null);
        }
        if (leaveToLoop || idle) return;
        if (!answered.answeredInlineOn(Thread.currentThread())) dispatch();
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
}
