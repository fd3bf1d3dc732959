package io.tandem.zk.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.WatcherType;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.ZkPacket;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The session engine of a {@link ZkClient}: the connection to one host at a time, the handshake, pings, reconnects with
 * the same session and its watches, replies matched to requests by xid order, notifications, expiry and close. All of
 * its state lives on one Netty event loop thread; futures are completed and events delivered on one callback thread, in
 * the order the server sent them. It owns the session's state and connection life cycle; the request/reply
 * bookkeeping is {@link ClientRequests}, the pings and read timeout {@link ClientHeartbeat}, the SASL login
 * {@link ClientSessionSasl}.
 */
final class ClientSession {
    private static final System.Logger LOG = System.getLogger(ZkClient.class.getName());

    /** Length of the session password in Apache's handshake. */
    static final int SESSION_PASSWORD_BYTES = 16;
    /** addAuth credentials one client keeps; a program adding them in a loop gets a warning, not a growing list. */
    static final int AUTH_INFOS_MAX = 64;

    private enum State { CONNECTING, CONNECTED, CLOSED, EXPIRED, AUTH_FAILED } // the last three are for good

    private final RequestPaths paths;
    private final ClientHosts hosts;
    private final int requestedSessionTimeoutMs;
    private final int frameBytesMax;
    private final Runnable sessionExpiredListener;
    private final ClientTls tls;
    /** Why the last connection attempt failed (a refused connection, a TLS handshake), or null; any thread reads it. */
    private volatile String lastConnectFailure;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final ClientCallbacks callbacks;
    private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    // Everything below is touched only on `loop`.
    private State state = State.CONNECTING;
    private long sessionId;
    private byte[] sessionPassword = new byte[SESSION_PASSWORD_BYTES];
    private int negotiatedTimeoutMs;
    private long lastZxid;
    private Channel channel;
    /** The host of {@link #channel} as the connect string names it (a GSSAPI ticket is asked for its name). */
    private InetSocketAddress channelAddress;
    private boolean handshakeDone;
    private boolean everConnected;
    private final ClientHeartbeat heartbeat;
    private ScheduledFuture<?> connectTimeout;
    private final ClientRequests requests;
    private final ClientWatches watches = new ClientWatches();
    private PendingRequest closeRequest;
    /** addAuth's credentials, sent again on every connection as Apache's client does; the caller's own, bounded. */
    private final List<AuthPacket> authInfo = new ArrayList<>();
    private final ClientSessionSasl sasl;
    /** How the SASL login acts on this session. */
    private final ClientSessionSasl.Steps saslSteps = new ClientSessionSasl.Steps() {
        @Override
        public void send(PendingRequest tokenRequest) {
            ClientSession.this.send(tokenRequest);
            channel.flush();
        }

        @Override
        public void authenticated() {
            callbacks.deliver(new WatchedEvent(EventType.NONE, KeeperState.SASL_AUTHENTICATED, null));
            releaseRequests();
        }

        @Override
        public void failed(String why) {
            authFailed(why);
        }

        @Override
        public void abandon(String why) {
            LOG.log(System.Logger.Level.WARNING, "Dropping the connection of session 0x{0} to retry its SASL login: "
                    + "{1}", Long.toHexString(sessionId), why);
            channel.close();
        }
    };
    private boolean closing;
    private boolean closeFinished;
    /** Set once the threads are released (with the code later requests fail with), read from any thread. */
    private volatile boolean terminated;
    private volatile KeeperCode endCode = KeeperCode.SESSION_EXPIRED;

    ClientSession(ZkClient.Builder builder, ConnectString connectString, RequestPaths paths) {
        this.paths = paths;
        this.hosts = new ClientHosts(connectString.hosts());
        this.requestedSessionTimeoutMs = Math.toIntExact(builder.sessionTimeout.toMillis());
        this.frameBytesMax = builder.frameBytesMax;
        this.sessionExpiredListener = builder.sessionExpiredListener;
        this.tls = builder.tls;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("zk-client-io", true),
                NioIoHandler.newFactory());
        this.loop = group.next();
        this.sasl = new ClientSessionSasl(builder.saslLogin, loop);
        this.callbacks = new ClientCallbacks(builder.watcher);
        this.requests = new ClientRequests(callbacks, builder.pendingRequestsMax);
        this.heartbeat = new ClientHeartbeat(loop);
        if (builder.sessionId != 0) {
            this.sessionId = builder.sessionId;
            this.sessionPassword = builder.sessionPassword.clone();
        }
        loop.execute(this::connectNext);
    }

    String lastConnectFailure() {
        return lastConnectFailure;
    }

    /** Completes when the first session is established; fails if it expires or the client closes first. */
    CompletableFuture<Void> firstConnection() {
        return firstConnection;
    }

    long sessionId() {
        return onLoop(() -> sessionId);
    }

    byte[] sessionPassword() {
        return onLoop(() -> sessionPassword.clone());
    }

    int negotiatedSessionTimeoutMs() {
        return onLoop(() -> negotiatedTimeoutMs);
    }

    InetSocketAddress connectedServer() {
        return onLoop(() -> channel != null && handshakeDone ? (InetSocketAddress) channel.remoteAddress() : null);
    }

    /** Closes the session on the server (waiting briefly for its answer) and releases the client's threads. */
    CompletableFuture<Void> closeAsync() {
        boolean accepted = onLoopIfRunning(() -> {
            if (closing) {
                return;
            }
            closing = true;
            if (state == State.CONNECTED && sessionId != 0) {
                closeRequest = new PendingRequest(OpCode.CLOSE_SESSION, null, null, in -> null, null);
                closeRequest.future.whenComplete((ignored, error) -> onLoopIfRunning(this::finishClose));
                send(closeRequest);
                loop.schedule(this::finishClose, Math.max(200, negotiatedTimeoutMs / 3), TimeUnit.MILLISECONDS);
            } else {
                finishClose();
            }
        });
        if (!accepted) {
            closed.complete(null);
        }
        return closed;
    }

    // ------------------------------------------------------------------ connection life cycle (on loop)

    private void connectNext() {
        if (state != State.CONNECTING || closing) {
            return;
        }
        InetSocketAddress address = hosts.next();
        int connectTimeoutMs = hosts.connectTimeoutMs(requestedSessionTimeoutMs);
        handshakeDone = false;
        ChannelFuture connecting = ClientChannels.bootstrap(loop, address, connectTimeoutMs, frameBytesMax, tls,
                cause -> {
                    // A handshake cut by our own clock or close (this attempt's time is up: SslHandler's handshake
                    // timeout or ours, whichever fires first; or the handle closes) says nothing about the server:
                    // keep what an earlier attempt learnt from it (an alert naming the protocol).
                    boolean ours = cause instanceof ClosedChannelException
                            || cause instanceof SslHandshakeTimeoutException;
                    if (ours && lastConnectFailure != null) return;
                    lastConnectFailure = "TLS handshake with " + address + " failed: " + cause;
                },
                new ConnectionHandler()).connect(address);
        channel = connecting.channel();
        channelAddress = address;
        Channel attempt = channel;
        // The close future also fires for a connection that never became active (refused, timed out).
        attempt.closeFuture().addListener(done -> onDisconnected(attempt));
        connectTimeout = loop.schedule(() -> {
            if (attempt == channel && !handshakeDone) {
                LOG.log(System.Logger.Level.INFO, "No handshake from {0} within {1} ms, trying the next host",
                        address, connectTimeoutMs);
                attempt.close();
            }
        }, connectTimeoutMs, TimeUnit.MILLISECONDS);
        connecting.addListener(done -> {
            if (done.isSuccess()) {
                heartbeat.connected();
                attempt.writeAndFlush(new ConnectRequest(0, lastZxid, requestedSessionTimeoutMs, sessionId,
                        sessionPassword, false));
            } else {
                lastConnectFailure = "cannot connect to " + address + ": " + done.cause();
                LOG.log(System.Logger.Level.DEBUG, "Cannot connect to {0}: {1}", address, done.cause().toString());
            }
        });
    }

    private void onConnectResponse(ConnectResponse response) {
        if (response.timeOut() <= 0) {
            LOG.log(System.Logger.Level.WARNING, "Session 0x{0} expired", Long.toHexString(sessionId));
            expire();
            return;
        }
        boolean reattached = sessionId != 0 && response.sessionId() == sessionId;
        sessionId = response.sessionId();
        sessionPassword = response.passwd() == null ? new byte[SESSION_PASSWORD_BYTES] : response.passwd().clone();
        negotiatedTimeoutMs = response.timeOut();
        handshakeDone = true;
        state = State.CONNECTED;
        hosts.connected();
        cancel(connectTimeout);
        LOG.log(System.Logger.Level.INFO, "Session 0x{0} {1} on {2}, timeout {3} ms", Long.toHexString(sessionId),
                reattached ? "re-attached" : "established", channel.remoteAddress(), negotiatedTimeoutMs);
        Channel current = channel;
        heartbeat.start(current, negotiatedTimeoutMs, () -> current == channel && handshakeDone);
        callbacks.deliver(new WatchedEvent(EventType.NONE, KeeperState.SYNC_CONNECTED, null));
        if (sasl.enabled()) {
            // As Apache's client: SASL first on every connection, and nothing else (but pings) until it succeeds.
            sasl.start(channelAddress, saslSteps);
            return;
        }
        releaseRequests();
    }

    /** The connection is ready for requests: the watches are armed again and the queued requests go. */
    private void releaseRequests() {
        if (everConnected) {
            sendSetWatches();
        }
        everConnected = true;
        // Apache's primeConnection order: watches, then credentials, then the queued requests.
        for (AuthPacket auth : authInfo) {
            channel.write(new ZkPacket(new RequestHeader(Xids.AUTH, OpCode.AUTH), auth));
        }
        for (PendingRequest pending = requests.nextWaiting(); pending != null; pending = requests.nextWaiting()) {
            send(pending);
        }
        channel.flush();
        callbacks.run(() -> firstConnection.complete(null));
    }

    private void onDisconnected(Channel lost) {
        if (lost != channel) {
            return;
        }
        channel = null;
        heartbeat.cancel();
        cancel(connectTimeout);
        sasl.dispose();
        boolean wasConnected = handshakeDone;
        handshakeDone = false;
        if (closing) {
            finishClose();
            return;
        }
        // As Apache's conLossPacket: after a refused addAuth (end() closes the channel, which lands here at once),
        // the requests in flight fail with AUTHFAILED, not as a lost connection.
        requests.failInFlight(state == State.AUTH_FAILED ? KeeperCode.AUTH_FAILED.code()
                : KeeperCode.CONNECTION_LOSS.code());
        if (state == State.CLOSED || state == State.EXPIRED || state == State.AUTH_FAILED) {
            return;
        }
        state = State.CONNECTING;
        if (wasConnected) {
            LOG.log(System.Logger.Level.INFO, "Connection lost for session 0x{0}, reconnecting",
                    Long.toHexString(sessionId));
            callbacks.deliver(new WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, null));
        }
        loop.schedule(this::connectNext, hosts.reconnectDelayMs(wasConnected), TimeUnit.MILLISECONDS);
    }

    private void sendSetWatches() {
        for (ClientWatches.Registration registration : watches.setWatches(lastZxid)) {
            channel.write(new ZkPacket(new RequestHeader(Xids.SET_WATCHES, registration.opCode()),
                    registration.request()));
        }
    }

    private void expire() {
        end(State.EXPIRED, KeeperCode.SESSION_EXPIRED, KeeperState.EXPIRED, sessionExpiredListener);
    }

    /** Apache's AUTH_FAILED state: every request fails with AUTHFAILED and the client stops. */
    private void authFailed(String why) {
        LOG.log(System.Logger.Level.WARNING, "Authentication of session 0x{0} failed: {1}",
                Long.toHexString(sessionId), why);
        end(State.AUTH_FAILED, KeeperCode.AUTH_FAILED, KeeperState.AUTH_FAILED, null);
    }

    /** Ends the client for good (expiry or a refused login): every request fails with {@code code}. */
    private void end(State endState, KeeperCode code, KeeperState event, Runnable listener) {
        state = endState;
        endCode = code;
        sasl.dispose();
        heartbeat.cancel();
        cancel(connectTimeout);
        if (channel != null) {
            channel.close();
        }
        requests.failInFlight(code.code());
        requests.failWaiting(code.code());
        callbacks.deliver(new WatchedEvent(EventType.NONE, event, null));
        callbacks.run(() -> {
            firstConnection.completeExceptionally(new ZkException(code.code(), null));
            if (listener != null) {
                listener.run();
            }
        });
        callbacks.run(() -> closed.complete(null));
        releaseThreads();
    }

    private void finishClose() {
        if (closeFinished) {
            return;
        }
        closeFinished = true;
        boolean wasExpired = state == State.EXPIRED;
        state = State.CLOSED;
        heartbeat.cancel();
        cancel(connectTimeout);
        if (channel != null) {
            channel.close();
            channel = null;
        }
        requests.failInFlight(KeeperCode.SESSION_EXPIRED.code());
        requests.failWaiting(KeeperCode.SESSION_EXPIRED.code());
        if (!wasExpired) {
            callbacks.deliver(new WatchedEvent(EventType.NONE, KeeperState.CLOSED, null));
        }
        callbacks.run(() -> firstConnection.completeExceptionally(
                new ZkException(KeeperCode.SESSION_EXPIRED.code(), null)));
        callbacks.run(() -> closed.complete(null));
        releaseThreads();
    }

    private void releaseThreads() {
        terminated = true;
        callbacks.shutdown();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Adds credentials to the session (sent now when connected, and again on each reconnection). */
    void addAuth(AuthPacket auth) {
        onLoopIfRunning(() -> {
            if (authInfo.size() >= AUTH_INFOS_MAX) {
                LOG.log(System.Logger.Level.WARNING, "Ignoring addAuth: this client already holds {0} credentials",
                        AUTH_INFOS_MAX);
                return;
            }
            authInfo.add(auth);
            if (state == State.CONNECTED && !sasl.inProgress()) {
                channel.writeAndFlush(new ZkPacket(new RequestHeader(Xids.AUTH, OpCode.AUTH), auth));
            }
        });
    }

    /**
     * removeWatches as Apache's client does it: NOWATCHER without asking the server when this client holds no such
     * watch; else the server removes them, and then so does the client, telling the watcher with *WatchRemoved
     * events. With {@code local}, they are removed here even when the server fails or cannot be reached.
     */
    CompletableFuture<Void> removeWatches(String clientPath, String serverPath, WatcherType type, boolean local) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        boolean accepted = onLoopIfRunning(() -> {
            if (!watches.holds(serverPath, type)) {
                callbacks.run(() -> result.completeExceptionally(new ZkException(KeeperCode.NO_WATCHER.code(),
                        clientPath)));
                return;
            }
            if (local && state != State.CONNECTED) {
                removeLocally(clientPath, serverPath, type, result);
                return;
            }
            CompletableFuture<Void> sent = submit(OpCode.REMOVE_WATCHES, clientPath,
                    new RemoveWatchesRequest(serverPath, type.code()), in -> null, null);
            sent.whenComplete((ignored, error) -> {
                if (error != null && !local) {
                    result.completeExceptionally(error);
                } else if (!onLoopIfRunning(() -> removeLocally(clientPath, serverPath, type, result))) {
                    result.complete(null);
                }
            });
        });
        if (!accepted) {
            result.completeExceptionally(new ZkException(endCode.code(), clientPath));
        }
        return result;
    }

    private void removeLocally(String clientPath, String serverPath, WatcherType type,
                               CompletableFuture<Void> result) {
        for (EventType removed : watches.remove(serverPath, type)) {
            callbacks.deliver(new WatchedEvent(removed, KeeperState.SYNC_CONNECTED, clientPath));
        }
        // After the events, on the same thread, so a caller sees them before its answer.
        callbacks.run(() -> result.complete(null));
    }

    // ------------------------------------------------------------------ requests and replies (on loop)

    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> submit(int opCode, String clientPath, JuteRecord request,
                                            JuteInput.Reader<T> responseReader, ClientWatches.Kind watch) {
        PendingRequest pending = new PendingRequest(opCode, clientPath, request, responseReader, watch);
        boolean accepted = onLoopIfRunning(() -> {
            if (state == State.AUTH_FAILED) {
                requests.fail(pending, KeeperCode.AUTH_FAILED.code());
            } else if (state == State.CLOSED || state == State.EXPIRED || closing) {
                requests.fail(pending, KeeperCode.SESSION_EXPIRED.code());
            } else if (requests.full()) {
                callbacks.run(() -> pending.future.completeExceptionally(new RejectedExecutionException(
                        "too many pending ZooKeeper requests (max " + requests.pendingRequestsMax() + ")")));
            } else if (state == State.CONNECTED && !sasl.inProgress()) {
                send(pending);
                channel.flush();
            } else {
                requests.await(pending);
            }
        });
        if (!accepted) {
            pending.future.completeExceptionally(new ZkException(endCode.code(), clientPath));
        }
        return (CompletableFuture<T>) pending.future;
    }

    private void send(PendingRequest pending) {
        requests.send(pending, channel);
        heartbeat.sent();
        if (pending == closeRequest) {
            channel.flush();
        }
    }

    private void onReply(ByteBuf frame) {
        heartbeat.received();
        JuteInput in = new JuteInput(frame);
        ReplyHeader header = ReplyHeader.read(in);
        switch (header.xid()) {
            case Xids.AUTH -> {
                if (header.err() == KeeperCode.AUTH_FAILED.code()) {
                    // As Apache's client: a refused addAuth ends the session (AuthFailed), the server closes.
                    authFailed("the server refused the credentials of addAuth");
                }
                return;
            }
            case Xids.PING, Xids.SET_WATCHES -> {
                if (header.err() != 0) {
                    LOG.log(System.Logger.Level.WARNING, "Server answered xid {0} with error {1}", header.xid(),
                            header.err());
                }
                return;
            }
            case Xids.NOTIFICATION -> {
                WatchedEvent event = watches.notified(WatcherEvent.read(in), paths);
                if (event != null) {
                    callbacks.deliver(event);
                }
                return;
            }
            default -> {
            }
        }
        PendingRequest pending = requests.answeredBy(header.xid());
        if (header.zxid() > 0) {
            lastZxid = header.zxid();
        }
        if (pending.opCode == OpCode.SASL) {
            sasl.onReply(header.err(), in, saslSteps);
            return;
        }
        if (header.err() == 0) {
            Object value = pending.responseReader.read(in);
            watches.answered(pending, true);
            requests.complete(pending, value);
        } else if (pending.opCode == OpCode.EXISTS && header.err() == KeeperCode.NO_NODE.code()) {
            watches.answered(pending, false);
            requests.complete(pending, null);
        } else {
            requests.fail(pending, header.err());
        }
    }

    /** Runs the task on the I/O loop; false when the client's threads are already released. */
    private boolean onLoopIfRunning(Runnable task) {
        if (terminated) {
            return false;
        }
        try {
            loop.execute(task);
            return true;
        } catch (RejectedExecutionException afterShutdown) {
            return false;
        }
    }

    /** Handles one connection's frames on the client's event loop. */
    private final class ConnectionHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (ctx.channel() != channel) {
                return;
            }
            if (!handshakeDone) {
                heartbeat.received();
                onConnectResponse(ConnectResponse.read(new JuteInput(frame)));
            } else {
                onReply(frame);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "Closing connection to {0}: {1}", ctx.channel().remoteAddress(),
                    cause.toString());
            ctx.close();
        }
    }

    private static void cancel(ScheduledFuture<?> task) {
        if (task != null) {
            task.cancel(false);
        }
    }

    /** Reads loop-confined state from any thread. */
    private <T> T onLoop(java.util.concurrent.Callable<T> read) {
        // Once terminated the loop writes nothing more, and the volatile write of `terminated` publishes its last
        // writes, so reading directly is safe; inside the loop it is trivially safe.
        if (loop.inEventLoop() || terminated) {
            try {
                return read.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        try {
            return loop.submit(read).syncUninterruptibly().getNow();
        } catch (RejectedExecutionException raceWithShutdown) {
            return onLoop(read);
        }
    }
}
