package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.server.FatalErrors;
import io.tandem.server.kafka.security.KafkaPrincipals;
import io.tandem.server.kafka.security.SaslAuthenticator;

import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;

/**
 * Decodes one frame of a Kafka connection and starts its request, on the thread that holds the connection's turn: the
 * request header, the SASL gate on a SASL listener ({@link ConnectionAuthentication}), the API and version against the
 * {@link ApiRegistry} (an ApiVersions newer than ours is answered at v0 with our ranges), the body, injected faults
 * ({@link RequestFaults}), then the API's handler, timed for the request quota, whose answer goes through the
 * request's {@link ConnectionResponder}. A malformed request closes only its connection, with one log line.
 */
final class RequestStarter {
    private final ApiRegistry registry;
    private final RequestDispatcher dispatcher;
    private final ReadGate gate;
    private final String listenerName;
    private final String securityProtocol;
    private final Channel channel;
    /** The connection's SASL authentication on a SASL listener, else null; {@link #authentication} with it. */
    private final SaslAuthenticator sasl;
    private final ConnectionAuthentication authentication;
    private final ConnectionWriter writer;
    /** What a request's answer needs of the connection. */
    private final ConnectionResponder.Connection connection;

    RequestStarter(ApiRegistry registry, RequestDispatcher dispatcher, ReadGate gate, String listenerName,
                   String securityProtocol, Channel channel, SaslAuthenticator sasl,
                   ConnectionAuthentication authentication, ConnectionWriter writer,
                   ConnectionResponder.Connection connection) {
        this.registry = registry;
        this.dispatcher = dispatcher;
        this.gate = gate;
        this.listenerName = listenerName;
        this.securityProtocol = securityProtocol;
        this.channel = channel;
        this.sasl = sasl;
        this.authentication = authentication;
        this.writer = writer;
        this.connection = connection;
    }

    /**
     * An ApiVersions newer than ours needs nothing but our ranges: the event loop answers it itself, so a client can
     * learn which versions to use even while every request handler thread is busy.
     */
    boolean answeredOnEventLoop(ByteBuf frame) {
        if (authentication != null && authentication.expectsRawToken()) return false;
        int at = frame.readerIndex();
        if (frame.readableBytes() < 4 || frame.getShort(at) != ApiKey.API_VERSIONS.id()) return false;
        ApiRegistry.Entry entry = registry.lookup(ApiKey.API_VERSIONS);
        return entry != null && frame.getShort(at + 2) > entry.maxVersion();
    }

    /**
     * Decodes and handles one frame on the current (request handler) thread, or, for a too-new ApiVersions, on the
     * event loop (see {@link #answeredOnEventLoop}). Returns true when its answer was handed
     * to the event loop before this returned, so this thread may go on with the next frame; false when the answer is
     * left to another thread or to the event loop (which then go on), or the connection is closing.
     */
    boolean start(ConnectionTurn.Received read) {
        long takenNanos = System.nanoTime();
        ByteBuf frame = read.frame();
        int frameBytes = frame.readableBytes();
        boolean handedOff = false;
        try {
            boolean authenticating = authentication != null && authentication.authenticating();
            if (authenticating) {
                if (!authentication.admitsFrame(frameBytes)) return false;
                if (authentication.expectsRawToken()) return authentication.rawToken(ByteBufUtil.getBytes(frame));
            }
            RequestHeader header;
            ApiKey key;
            try {
                header = KafkaFrames.readRequestHeader(frame);
                key = ApiKey.forId(header.requestApiKey);
            } catch (KafkaCodecException | IndexOutOfBoundsException e) {
                writer.closeWith("unreadable request header: " + e.getMessage());
                return false;
            }
            short version = header.requestApiVersion;
            ApiRegistry.Entry entry = registry.lookup(key);
            if (authentication != null) {
                ConnectionAuthentication.Admission admission =
                        authentication.admit(authenticating, header, key, entry, frame);
                if (admission == ConnectionAuthentication.Admission.CLOSED) return false;
                authenticating = admission == ConnectionAuthentication.Admission.AUTHENTICATE;
            }
            if (key == ApiKey.API_VERSIONS && entry != null && version > entry.maxVersion()) {
                // A newer client than us: answer at v0 with our ranges so it retries with a version we serve.
                ApiVersionsResponse unsupported = new ApiVersionsResponse()
                        .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(registry.apiVersions());
                writer.writeOnEventLoop(KafkaFrames.encodeResponse(writer.alloc(), header.correlationId, key,
                        (short) 0, unsupported));
                return true;
            }
            if (entry == null || !entry.serves(version)) {
                writer.closeWith("unsupported request " + (key == null ? "?" : key.apiName()) + " v" + version);
                return false;
            }
            ApiMessage request;
            try {
                request = key.readRequest(frame, version);
            } catch (RuntimeException e) {
                writer.closeWith("malformed " + key.apiName() + " v" + version + " request: " + e.getMessage());
                return false;
            }
            String refused = ParseTimeRefusals.refusal(key, request);
            if (refused != null) {
                writer.closeWith("malformed " + key.apiName() + " v" + version + " request: " + refused);
                return false;
            }
            ConnectionResponder.Throttle throttle = new ConnectionResponder.Throttle();
            RequestContext requestContext = new RequestContext(key, version, header.correlationId,
                    header.clientId, (InetSocketAddress) channel.remoteAddress(), listenerName,
                    KafkaPrincipals.of(channel, sasl), frameBytes, throttle, securityProtocol,
                    sasl != null && sasl.tokenAuthenticated(), ConnectionIds.of(channel));
            ConnectionResponder direct = new ConnectionResponder(connection, requestContext, frame, frameBytes,
                    throttle);
            direct.stages = RequestStages.forApi(key);
            direct.traced = RequestStages.traced();
            direct.readNanos = read.nanos();
            direct.takenNanos = takenNanos;
            RequestFaults faults = registry.faults();
            Runnable drop = () -> {
                direct.releaseRequest();
                writer.closeWith("an injected fault drops " + key.apiName() + " requests");
            };
            Responder responder = faults.answering(request, registry.observer().observe(requestContext, direct),
                    drop);
            ApiHandler<ApiMessage> handler = authenticating && key != ApiKey.API_VERSIONS ? authentication::step
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
            dispatcher.submit(new RequestDispatcher.FrameHolder() {
                @Override
                public void run() {
                    RequestStarter.run(handler, requestContext, request, responder, direct);
                }

                @Override
                public void dropped() {
                    shuttingDown(direct);
                }
            });
        } catch (RejectedExecutionException e) {
            shuttingDown(direct);
        }
    }

    /** The request will not run: its frame goes back and its connection is closed. */
    private void shuttingDown(ConnectionResponder direct) {
        direct.releaseRequest();
        writer.closeWith("broker is shutting down");
    }
}
