package io.tandem.server.kafka.network;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ResponseHeader;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One broker's connection in an {@link InterBrokerClient}, Kafka's NetworkClient for one node: opened when a request
 * needs it, secured and introduced ({@link InterBrokerHandshake}: TLS, ApiVersions, SASL), then up to
 * {@code maxInFlight} requests on the wire at once, answers matched by correlation id (in any order), the others
 * waiting in a bounded queue. Every field is touched only on the connection's event loop, so no lock is needed and no
 * caller ever waits: {@link #send} hands the request over and returns its future.
 *
 * <p>As Kafka's NetworkClient: a request on the wire gets no answer within request.timeout.ms counted from when it was
 * written, and the connection is closed (an answer could still come and would be out of step); a request not yet
 * written gives up after request.timeout.ms from its hand-over (Kafka's blocking senders wait that long for the
 * connection, NetworkClientUtils.awaitReady with the same timeout; its InterBrokerSendThread expires unsent requests
 * so). Setting a connection up (connect, TLS, ApiVersions, SASL) is bounded apart by
 * socket.connection.setup.timeout.ms, which doubles after each attempt that failed while setting up, up to
 * socket.connection.setup.timeout.max.ms, with 20% jitter, and starts again from its base once a connection was ready
 * (ClusterConnectionStates' exponential setup timeout): a slow set-up never eats the time a request has for its
 * answer. A lost, refused or timed-out
 * connection fails every request it carries and every request waiting for it at once (Kafka's "disconnected"
 * responses), and while the reconnect backoff runs (reconnect.backoff.ms doubling per consecutive failure up to
 * reconnect.backoff.max.ms, 20% jitter, as ClusterConnectionStates) a new request fails at once too: the sender
 * decides whether and when to try again. A connection that became ready resets the backoff.
 */
final class InterBrokerConnection {
    private static final System.Logger LOG = System.getLogger(InterBrokerConnection.class.getName());
    /** Kafka's ClusterConnectionStates jitters each reconnect backoff by this fraction either way. */
    private static final double BACKOFF_JITTER = 0.2;

    /** A request handed to the connection and not yet answered. */
    static final class Pending {
        final ApiKey key;
        /**
         * The version sent: a handshake request's own, any other's the highest in [{@link #minVersion},
         * {@link #maxVersion}] the broker advertised, chosen when it is written.
         */
        short version;
        final short minVersion;
        final short maxVersion;
        final ApiMessage request;
        final CompletableFuture<ApiMessage> answer;
        /** Until written: its hand-over plus request.timeout.ms; once written: its write plus request.timeout.ms. */
        long deadlineNanos;
        /** The handshake's own requests go out before the connection is ready and complete on the event loop. */
        final boolean handshake;

        Pending(ApiKey key, short version, ApiMessage request, long deadlineNanos, boolean handshake) {
            this(key, version, version, request, deadlineNanos, handshake);
        }

        Pending(ApiKey key, short minVersion, short maxVersion, ApiMessage request, long deadlineNanos,
                boolean handshake) {
            this.key = key;
            this.version = maxVersion;
            this.minVersion = minVersion;
            this.maxVersion = maxVersion;
            this.request = request;
            this.answer = new CompletableFuture<>();
            this.deadlineNanos = deadlineNanos;
            this.handshake = handshake;
        }
    }

    private enum State { DISCONNECTED, CONNECTING, READY }

    private final InterBrokerClient client;
    private final int brokerId;
    private final EventLoop loop;
    private InetSocketAddress address;
    private State state = State.DISCONNECTED;
    private Channel channel;
    private InterBrokerHandshake handshake;
    /** What the broker advertised in ApiVersions on this connection: per API key its {min, max} version. */
    private Map<Short, short[]> peerVersions = Map.of();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    /** Requests on the wire by correlation id, oldest first (the first to time out). */
    private final Map<Integer, Pending> inFlight = new LinkedHashMap<>();
    private int nextCorrelationId;
    /** Numbers the connection attempts, so that a resolution finishing after its attempt was given up is dropped. */
    private int connectAttempt;
    private int consecutiveFailures;
    /** Attempts in a row that failed while setting up (Kafka's failedConnectAttempts): the setup bound doubles. */
    private int failedSetups;
    /** The bound of the set-up under way and when it ends: the handshake's requests have no longer. */
    private int setupMs;
    private long setupDeadlineNanos;
    private long reconnectAtNanos;
    /** Why the last connection failed, given to the requests failed during its backoff. */
    private IOException lastFailure;
    private ScheduledFuture<?> timer;
    private boolean closed;

    InterBrokerConnection(InterBrokerClient client, int brokerId, InetSocketAddress address, EventLoop loop) {
        this.client = client;
        this.brokerId = brokerId;
        this.address = address;
        this.loop = loop;
    }

    int brokerId() {
        return brokerId;
    }

    /**
     * Hands a request over from any thread; its future completes on the client's completion thread. It goes at the
     * highest version in [{@code minVersion}, {@code maxVersion}] the broker advertised on this connection, chosen
     * when it is written; none there fails it with {@link InterBrokerClient.UnsupportedVersion} (Kafka's
     * NetworkClient versionMismatch) and nothing is written.
     */
    CompletableFuture<ApiMessage> send(InetSocketAddress target, ApiKey key, short minVersion, short maxVersion,
                                       ApiMessage request) {
        Pending pending = new Pending(key, minVersion, maxVersion, request,
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(client.settings().requestTimeoutMs()), false);
        loop.execute(() -> enqueue(target, pending));
        return pending.answer;
    }

    /** Closes the connection and fails everything it carries. */
    void close() {
        loop.execute(() -> {
            closed = true;
            disconnect(new IOException("the inter-broker client " + client.settings().clientId() + " is closed"),
                    false);
        });
    }

    // ---------------------------------------------------------------- on the event loop

    private void enqueue(InetSocketAddress target, Pending pending) {
        if (closed) {
            fail(pending, new IOException("the inter-broker client " + client.settings().clientId() + " is closed"));
            return;
        }
        if (target != null && !sameAddress(target, address)) {
            // The broker registered again elsewhere: what is under way to the old address is lost.
            address = target;
            disconnect(new IOException("broker " + brokerId + " moved to " + hostPort(target)), false);
            consecutiveFailures = 0;
            failedSetups = 0;
            reconnectAtNanos = 0;
        }
        if (state == State.DISCONNECTED && consecutiveFailures > 0 && System.nanoTime() < reconnectAtNanos) {
            fail(pending, new IOException("connection to broker " + brokerId + " at " + hostPort(address)
                    + " failed (" + (lastFailure == null ? "?" : lastFailure.getMessage()) + "); next attempt in "
                    + TimeUnit.NANOSECONDS.toMillis(reconnectAtNanos - System.nanoTime()) + " ms", lastFailure));
            return;
        }
        if (waiting.size() >= client.settings().queuedRequestsMax()) {
            fail(pending, new IOException(client.settings().queuedRequestsMax() + " requests already wait for broker "
                    + brokerId));
            return;
        }
        waiting.add(pending);
        if (state == State.DISCONNECTED) connect();
        else pump();
        startTimer();
    }

    /**
     * Resolves the broker's name off the event loop (a DNS lookup may take seconds), then dials one of its addresses:
     * as Kafka's ClusterConnectionStates, each attempt after a failure takes the next one (use_all_dns_ips).
     */
    private void connect() {
        state = State.CONNECTING;
        int attempt = ++connectAttempt;
        InetSocketAddress target = address;
        String host = target.getHostString();
        // An address literal needs no lookup: no thread is taken for it.
        boolean literal = NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
        CompletableFuture.supplyAsync(() -> {
            try {
                return InetAddress.getAllByName(host);
            } catch (UnknownHostException e) {
                throw new CompletionException(e);
            }
        }, literal ? Runnable::run : client.handshakeWork()).whenCompleteAsync((candidates, failure) -> {
            if (state != State.CONNECTING || connectAttempt != attempt || channel != null) return;
            if (failure != null) {
                disconnect(new IOException("cannot resolve broker " + brokerId + "'s host " + target.getHostString()),
                        true);
                return;
            }
            dial(target, new InetSocketAddress(candidates[consecutiveFailures % candidates.length], target.getPort()));
        }, loop);
    }

    private void dial(InetSocketAddress target, InetSocketAddress resolved) {
        ClientSecurity security = client.security().client();
        int setupMs = (int) setupTimeoutMs(client.settings().connectionSetupTimeoutMs(),
                client.settings().connectionSetupTimeoutMaxMs(), failedSetups,
                ThreadLocalRandom.current().nextDouble());
        this.setupMs = setupMs;
        setupDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(setupMs);
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, setupMs)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (security.tls()) ch.pipeline().addLast("tls", tls(security, target, setupMs));
                        ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(
                                InterBrokerClient.RESPONSE_BYTES_MAX, 0, 4, 0, 4));
                        ch.pipeline().addLast("answers", new Answers());
                    }
                });
        ChannelFuture connecting = bootstrap.connect(resolved);
        Channel ch = connecting.channel();
        channel = ch;
        handshake = new InterBrokerHandshake(this, client, brokerId, target);
        connecting.addListener(f -> {
            if (channel != ch) return;
            if (!f.isSuccess()) {
                failed(ch, new IOException("cannot connect to broker " + brokerId + " at " + hostPort(target) + ": "
                        + f.cause().getMessage(), f.cause()));
                return;
            }
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            if (tls == null) {
                handshake.start(ch);
            } else {
                tls.handshakeFuture().addListener(h -> {
                    if (channel != ch) return;
                    if (h.isSuccess()) handshake.start(ch);
                    else failed(ch, tlsFailure("TLS handshake with " + hostPort(target) + " failed: "
                            + h.cause().getMessage(), h.cause()));
                });
            }
        });
        // The whole setup (connect, TLS, ApiVersions, SASL) is bounded, as Kafka's socket.connection.setup.timeout.ms.
        loop.schedule(() -> {
            if (channel == ch && state == State.CONNECTING) {
                failed(ch, new IOException("connection setup to broker " + brokerId + " at " + hostPort(target)
                        + " took more than " + setupMs + " ms"));
            }
        }, setupMs, TimeUnit.MILLISECONDS);
    }

    private static SslHandler tls(ClientSecurity security, InetSocketAddress target, int handshakeMs) {
        SSLEngine engine = security.sslContext().createSSLEngine(target.getHostString(), target.getPort());
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        if (!security.tlsProtocols().isEmpty()) parameters.setProtocols(security.tlsProtocols().toArray(String[]::new));
        if (!security.cipherSuites().isEmpty()) {
            parameters.setCipherSuites(security.cipherSuites().toArray(String[]::new));
        }
        // Kafka's ssl.endpoint.identification.algorithm=https: the certificate must name the host dialled.
        parameters.setEndpointIdentificationAlgorithm(security.verifyHostname() ? "HTTPS" : null);
        engine.setSSLParameters(parameters);
        SslHandler handler = new SslHandler(engine);
        handler.setHandshakeTimeoutMillis(handshakeMs);
        return handler;
    }

    /** Called by the handshake (on the event loop) once the broker accepted this one, with its ApiVersions ranges. */
    void ready(Channel ch, Map<Short, short[]> versions) {
        if (channel != ch || state != State.CONNECTING) return;
        peerVersions = versions;
        state = State.READY;
        consecutiveFailures = 0;
        failedSetups = 0;
        lastFailure = null;
        handshake = null;
        pump();
    }

    /** Called by the handshake (on the event loop) when it cannot go on. */
    void failed(Channel ch, IOException why) {
        if (channel != ch) return;
        if (why instanceof InterBrokerClient.AuthenticationFailure) {
            client.logAuthenticationFailure("cannot authenticate to broker " + brokerId + " at " + hostPort(address)
                    + ": " + why.getMessage());
        }
        disconnect(why, true);
    }

    /** A failed TLS handshake: Kafka's SslAuthenticationException, INVALID_CONFIG on Kafka 4.x's wire. */
    static IOException tlsFailure(String message, Throwable cause) {
        return new InterBrokerClient.AuthenticationFailure(message, cause, Errors.INVALID_CONFIG.code());
    }

    /** A failed SASL exchange, {@code error} the Kafka error its client exception maps to. */
    static IOException saslFailure(String message, Throwable cause, short error) {
        return new InterBrokerClient.AuthenticationFailure(message, cause, error);
    }

    /** Writes waiting requests while fewer than max.in.flight are on the wire. */
    private void pump() {
        if (state != State.READY) return;
        int max = client.settings().maxInFlight();
        while (!waiting.isEmpty() && inFlight.size() < max) write(waiting.poll());
    }

    /** Writes one request (the handshake's too) on the current channel. */
    void write(Pending pending) {
        if (!pending.handshake) {
            // The handshake's requests pick their own versions (ApiVersions comes before the broker's ranges are known).
            short[] served = peerVersions.get(pending.key.id());
            short highest = served == null ? -1 : (short) Math.min(served[1], pending.maxVersion);
            if (served == null || highest < Math.max(served[0], pending.minVersion)) {
                fail(pending, new InterBrokerClient.UnsupportedVersion(pending.key.apiName() + " v" + pending.minVersion
                        + "-" + pending.maxVersion + " is not served by broker " + brokerId + " (it serves "
                        + (served == null ? "none" : "v" + served[0] + "-" + served[1]) + ")"));
                return;
            }
            pending.version = highest;
        }
        // request.timeout.ms runs from here, as Kafka's InFlightRequest counts from its send: the set-up is not its.
        if (!pending.handshake) {
            pending.deadlineNanos = System.nanoTime()
                    + TimeUnit.MILLISECONDS.toNanos(client.settings().requestTimeoutMs());
        }
        int correlationId = nextCorrelationId++;
        if (nextCorrelationId == Integer.MAX_VALUE) nextCorrelationId = 0;
        ByteBuf frame;
        try {
            frame = KafkaFrames.encodeRequest(channel.alloc(), correlationId, client.settings().clientId(),
                    pending.key, pending.version, pending.request);
        } catch (RuntimeException e) {
            fail(pending, new IOException("cannot encode " + pending.key.apiName() + " v" + pending.version + ": "
                    + e.getMessage(), e));
            return;
        }
        inFlight.put(correlationId, pending);
        Channel ch = channel;
        ch.writeAndFlush(frame).addListener(f -> {
            if (!f.isSuccess()) {
                failed(ch, new IOException(pending.key.apiName() + " to broker " + brokerId + " failed: "
                        + f.cause().getMessage(), f.cause()));
            }
        });
    }

    /** Handshake requests: written at once, whatever the connection's state, since they make it ready. */
    CompletableFuture<ApiMessage> handshakeRequest(ApiKey key, short version, ApiMessage request) {
        Pending pending = new Pending(key, version, request, setupDeadlineNanos, true);
        write(pending);
        return pending.answer;
    }

    private void answered(Channel ch, ByteBuf frame) {
        if (channel != ch) return;
        if (frame.readableBytes() < 4) {
            protocolError(ch, "an answer of " + frame.readableBytes() + " bytes has no correlation id");
            return;
        }
        int correlationId = frame.getInt(frame.readerIndex());
        Pending pending = inFlight.remove(correlationId);
        if (pending == null) {
            protocolError(ch, "an answer with correlation id " + correlationId + " matches no request in flight");
            return;
        }
        ApiMessage response;
        try {
            // A heap copy: the decoded message may keep slices of it, and nothing must be released later.
            ByteBuf copy = Unpooled.wrappedBuffer(ByteBufUtil.getBytes(frame));
            ResponseHeader.read(copy, pending.key.responseHeaderVersion(pending.version));
            response = InterBrokerHandshake.readResponse(pending.key, pending.version, copy);
        } catch (RuntimeException e) {
            fail(pending, new IOException("cannot decode " + pending.key.apiName() + " v" + pending.version
                    + " answer from broker " + brokerId + ": " + e.getMessage(), e));
            protocolError(ch, "an undecodable " + pending.key.apiName() + " answer");
            return;
        }
        if (pending.handshake) pending.answer.complete(response);
        else client.complete(pending.answer, response);
        pump();
    }

    private void protocolError(Channel ch, String what) {
        LOG.log(System.Logger.Level.WARNING, "{0}: closing the connection to broker {1} at {2}: {3}",
                client.settings().clientId(), brokerId, hostPort(address), what);
        failed(ch, new IOException("protocol error from broker " + brokerId + ": " + what));
    }

    /**
     * Closes the channel and fails what it carried and what waited for it; {@code backoff} (a failure, not a close
     * or a move) starts the reconnect backoff.
     */
    private void disconnect(IOException why, boolean backoff) {
        Channel ch = channel;
        channel = null;
        // As ClusterConnectionStates.disconnected: a failure while setting up doubles the next setup bound, the loss
        // of a connection that was ready brings it back to its base.
        if (state == State.CONNECTING && backoff) failedSetups++;
        else if (state == State.READY) failedSetups = 0;
        state = State.DISCONNECTED;
        InterBrokerHandshake h = handshake;
        handshake = null;
        if (h != null) h.abandon();
        if (ch != null) ch.close();
        if (backoff) {
            consecutiveFailures++;
            lastFailure = why;
            reconnectAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs(consecutiveFailures));
        }
        List<Pending> lost = new ArrayList<>(inFlight.values());
        inFlight.clear();
        lost.addAll(waiting);
        waiting.clear();
        for (Pending p : lost) fail(p, why);
        if (timer != null && closed) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * Kafka's exponential bound of a connection's set-up (its ExponentialBackoff as ClusterConnectionStates builds it
     * for socket.connection.setup.timeout.ms): {@code baseMs * 2^failures} with the exponent capped where it reaches
     * {@code maxMs}, times a jitter factor in [0.8, 1.2) ({@code random} in [0, 1)), never above {@code maxMs}; a
     * max not above the base gives the base alone, without jitter.
     */
    static long setupTimeoutMs(long baseMs, long maxMs, int failures, double random) {
        long initial = Math.min(baseMs, maxMs);
        if (maxMs <= initial) return initial;
        double expMax = Math.log(maxMs / (double) Math.max(initial, 1)) / Math.log(2);
        double term = initial * Math.pow(2, Math.min(failures, expMax));
        double jitter = 1 - BACKOFF_JITTER + random * 2 * BACKOFF_JITTER;
        return Math.min((long) (jitter * term), maxMs);
    }

    /** Kafka's exponential reconnect backoff: base * 2^(failures-1), capped, +-20% jitter. */
    long backoffMs(int failures) {
        long base = client.settings().reconnectBackoffMs();
        long max = client.settings().reconnectBackoffMaxMs();
        double term = base * Math.pow(2, Math.min(failures - 1, 30));
        double capped = Math.min(term, Math.max(base, max));
        double jitter = 1 + (ThreadLocalRandom.current().nextDouble() * 2 - 1) * BACKOFF_JITTER;
        return Math.max(0, Math.round(capped * jitter));
    }

    private void fail(Pending pending, IOException why) {
        if (pending.handshake) pending.answer.completeExceptionally(why);
        else client.fail(pending.answer, why);
    }

    /** Checks the deadlines: a request in flight past its own closes the connection, as Kafka's NetworkClient. */
    private void startTimer() {
        if (timer != null) return;
        long periodMs = client.settings().timeoutCheckMs();
        timer = loop.scheduleAtFixedRate(this::expire, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    private void expire() {
        long now = System.nanoTime();
        for (Pending p : inFlight.values()) {
            if (now - p.deadlineNanos >= 0) {
                IOException why = p.handshake
                        ? new IOException("connection setup to broker " + brokerId + " at " + hostPort(address)
                                + " took more than " + setupMs + " ms (" + p.key.apiName() + " unanswered)")
                        : new IOException(p.key.apiName() + " to broker " + brokerId + " at " + hostPort(address)
                                + " got no answer within " + client.settings().requestTimeoutMs() + " ms");
                disconnect(why, true);
                return;
            }
        }
        while (!waiting.isEmpty() && now - waiting.peek().deadlineNanos >= 0) {
            Pending p = waiting.poll();
            fail(p, new IOException(p.key.apiName() + " to broker " + brokerId + " waited "
                    + client.settings().requestTimeoutMs() + " ms without being sent"));
        }
        if (inFlight.isEmpty() && waiting.isEmpty() && timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
        return b != null && a.getHostString().equals(b.getHostString()) && a.getPort() == b.getPort();
    }

    static String hostPort(InetSocketAddress address) {
        return address == null ? "(no endpoint)" : address.getHostString() + ":" + address.getPort();
    }

    /** The pipeline's last handler: frames to {@link #answered}, a closed or broken channel to {@link #failed}. */
    private final class Answers extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            answered(ctx.channel(), frame);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failed(ctx.channel(), new IOException("broker " + brokerId + " at " + hostPort(address)
                    + " closed the connection"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            SSLException tls = tlsCause(cause);
            failed(ctx.channel(), tls != null
                    ? tlsFailure("TLS with " + hostPort(address) + " failed: " + tls.getMessage(), cause)
                    : new IOException("connection to broker " + brokerId + " failed: " + cause.getMessage(), cause));
        }
    }

    private static SSLException tlsCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException ssl) return ssl;
        }
        return null;
    }
}
