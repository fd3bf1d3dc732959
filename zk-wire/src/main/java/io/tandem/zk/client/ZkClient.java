package io.tandem.zk.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteLimits;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.PathValidation;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.ZkCodecException;
import io.tandem.zk.wire.ZkFrameDecoder;
import io.tandem.zk.wire.ZkFrameEncoder;
import io.tandem.zk.wire.ZkPacket;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.proto.CheckVersionRequest;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.ConnectResponse;
import io.tandem.zk.wire.proto.Create2Response;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.CreateTTLRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetACLResponse;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildren2Response;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetChildrenResponse;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.MultiResponse;
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.SetACLRequest;
import io.tandem.zk.wire.proto.SetACLResponse;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SyncRequest;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A small asynchronous ZooKeeper client on Netty, speaking the 3.9 client protocol with our zk-wire records.
 *
 * <p>What it does, as Apache's client does: tries the hosts of the connect string in turn (shuffled), performs the
 * handshake and adopts the negotiated session timeout, pings after a third of it without traffic and drops a connection
 * silent for two thirds of it, re-attaches the same session (id + password) on reconnect and re-registers its watches
 * with setWatches, matches replies to requests by xid order, delivers one-shot watch notifications and connection state
 * changes to one {@link Watcher}, and reports session expiry.
 *
 * <p>Threading: all connection and session state lives on one Netty event loop thread. Futures are completed, and
 * events delivered, on one separate callback thread, in the order the server sent them: a watch event is seen before
 * the result of a read issued after the change, as ZooKeeper guarantees. Callbacks must not block on another future
 * of this client (use the async continuation methods instead).
 *
 * <p>Requests that were sent when a connection is lost fail with CONNECTION_LOSS (whether they took effect is unknown,
 * exactly as with Apache's client); requests not yet sent wait for the next connection. After session expiry or
 * {@link #close()} every request fails with SESSION_EXPIRED.
 */
public final class ZkClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ZkClient.class.getName());

    /** Length of the session password in Apache's handshake. */
    private static final int SESSION_PASSWORD_BYTES = 16;

    /** Apache's client sends SetWatches in chunks below this size so that no frame nears jute.maxbuffer. */
    private static final int SET_WATCHES_CHUNK_BYTES_MAX = 128 * 1024;

    /** Reconnect delays grow from this to {@link #RECONNECT_DELAY_MS_MAX} while no host answers. */
    private static final long RECONNECT_DELAY_MS_MIN = 50;
    private static final long RECONNECT_DELAY_MS_MAX = 1000;

    private enum State { CONNECTING, CONNECTED, CLOSED, EXPIRED }

    private final ConnectString connectString;
    private final List<InetSocketAddress> hosts;
    private final int requestedSessionTimeoutMs;
    private final int pendingRequestsMax;
    private final int frameBytesMax;
    private final Watcher watcher;
    private final Runnable sessionExpiredListener;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final ExecutorService callbacks;
    private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    // Everything below is touched only on `loop`.
    private State state = State.CONNECTING;
    private long sessionId;
    private byte[] sessionPassword = new byte[SESSION_PASSWORD_BYTES];
    private int negotiatedTimeoutMs;
    private long lastZxid;
    private int nextXid = 1;
    private int hostIndex;
    private int failedAttempts;
    private Channel channel;
    private boolean handshakeDone;
    private boolean everConnected;
    private long lastSendNanos;
    private long lastReceiveNanos;
    private ScheduledFuture<?> heartbeat;
    private ScheduledFuture<?> connectTimeout;
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    private final Set<String> dataWatches = new HashSet<>();
    private final Set<String> existWatches = new HashSet<>();
    private final Set<String> childWatches = new HashSet<>();
    private Pending closeRequest;
    private boolean closing;
    private boolean closeFinished;
    /** Set once the threads are released; read from any thread to refuse new work without touching the loop. */
    private volatile boolean terminated;

    private ZkClient(Builder builder) {
        this.connectString = ConnectString.parse(builder.connectString);
        List<InetSocketAddress> shuffled = new ArrayList<>(connectString.hosts());
        // Spread clients over the ensemble as Apache's StaticHostProvider does.
        Collections.shuffle(shuffled, ThreadLocalRandom.current());
        this.hosts = List.copyOf(shuffled);
        this.requestedSessionTimeoutMs = Math.toIntExact(builder.sessionTimeout.toMillis());
        this.pendingRequestsMax = builder.pendingRequestsMax;
        this.frameBytesMax = builder.frameBytesMax;
        this.watcher = builder.watcher;
        this.sessionExpiredListener = builder.sessionExpiredListener;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("zk-client-io", true),
                NioIoHandler.newFactory());
        this.loop = group.next();
        // Bounded by what can be outstanding: pending requests are capped and watch events are bounded by watches.
        this.callbacks = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("zk-client-callbacks", true));
        if (builder.sessionId != 0) {
            this.sessionId = builder.sessionId;
            this.sessionPassword = builder.sessionPassword.clone();
        }
        loop.execute(this::connectNext);
    }

    public static Builder builder(String connectString) {
        return new Builder(connectString);
    }

    /** Connects with default settings; state changes and watch events go to {@code watcher}. */
    public static ZkClient connect(String connectString, Duration sessionTimeout, Watcher watcher) {
        return builder(connectString).sessionTimeout(sessionTimeout).watcher(watcher).build();
    }

    /** Completes when the first session is established; fails if it expires or the client closes first. */
    public CompletableFuture<Void> connected() {
        return firstConnection;
    }

    /** The session id, 0 before the first handshake. Read from any thread; set on the I/O thread. */
    public long sessionId() {
        return onLoop(() -> sessionId);
    }

    public byte[] sessionPassword() {
        return onLoop(() -> sessionPassword.clone());
    }

    /** The session timeout the server granted, 0 before the first handshake. */
    public int negotiatedSessionTimeoutMs() {
        return onLoop(() -> negotiatedTimeoutMs);
    }

    /** The address of the server currently connected to, or null. */
    public InetSocketAddress connectedServer() {
        return onLoop(() -> channel != null && handshakeDone ? (InetSocketAddress) channel.remoteAddress() : null);
    }

    // ------------------------------------------------------------------ operations

    /** Creates a node and returns its path (with the sequence suffix for sequential modes). */
    public CompletableFuture<String> create(String path, byte[] data, List<ACL> acl, CreateMode mode) {
        if (mode.isTtl()) {
            throw new IllegalArgumentException("a TTL node needs create2 with a ttl");
        }
        PathValidation.requireValid(path, mode.isSequential());
        int opCode = mode.isContainer() ? OpCode.CREATE_CONTAINER : OpCode.CREATE;
        // A container create is answered with a Create2Response; its path comes first, which is all we read here.
        return submit(opCode, path, new CreateRequest(server(path), data, acl, mode.flag()),
                in -> connectString.clientPath(CreateResponse.read(in).path()), null);
    }

    /** Creates a node and returns its path and Stat (the op Curator uses for every create). */
    public CompletableFuture<Created> create2(String path, byte[] data, List<ACL> acl, CreateMode mode) {
        if (mode.isTtl()) {
            throw new IllegalArgumentException("a TTL node needs a ttl: use create2(path, data, acl, mode, ttl)");
        }
        PathValidation.requireValid(path, mode.isSequential());
        int opCode = mode.isContainer() ? OpCode.CREATE_CONTAINER : OpCode.CREATE2;
        return submit(opCode, path, new CreateRequest(server(path), data, acl, mode.flag()), this::readCreated, null);
    }

    /** Creates a TTL node ({@link CreateMode#PERSISTENT_WITH_TTL} or its sequential variant). */
    public CompletableFuture<Created> create2(String path, byte[] data, List<ACL> acl, CreateMode mode, long ttlMs) {
        if (!mode.isTtl()) {
            return create2(path, data, acl, mode);
        }
        PathValidation.requireValid(path, mode.isSequential());
        return submit(OpCode.CREATE_TTL, path, new CreateTTLRequest(server(path), data, acl, mode.flag(), ttlMs),
                this::readCreated, null);
    }

    public CompletableFuture<Void> delete(String path, int version) {
        PathValidation.requireValid(path);
        return submit(OpCode.DELETE, path, new DeleteRequest(server(path), version), in -> null, null);
    }

    /** The node's Stat, or null when it does not exist; a watch fires on creation, change or deletion. */
    public CompletableFuture<Stat> exists(String path, boolean watch) {
        PathValidation.requireValid(path);
        return submit(OpCode.EXISTS, path, new ExistsRequest(server(path), watch), Stat::read,
                watch ? WatchKind.EXISTS : null);
    }

    public CompletableFuture<NodeData> getData(String path, boolean watch) {
        PathValidation.requireValid(path);
        return submit(OpCode.GET_DATA, path, new GetDataRequest(server(path), watch), in -> {
            GetDataResponse response = GetDataResponse.read(in);
            return new NodeData(response.data(), response.stat());
        }, watch ? WatchKind.DATA : null);
    }

    public CompletableFuture<Stat> setData(String path, byte[] data, int version) {
        PathValidation.requireValid(path);
        return submit(OpCode.SET_DATA, path, new SetDataRequest(server(path), data, version),
                in -> SetDataResponse.read(in).stat(), null);
    }

    public CompletableFuture<List<String>> getChildren(String path, boolean watch) {
        PathValidation.requireValid(path);
        return submit(OpCode.GET_CHILDREN, path, new GetChildrenRequest(server(path), watch),
                in -> GetChildrenResponse.read(in).children(), watch ? WatchKind.CHILDREN : null);
    }

    public CompletableFuture<Children> getChildren2(String path, boolean watch) {
        PathValidation.requireValid(path);
        return submit(OpCode.GET_CHILDREN2, path, new GetChildren2Request(server(path), watch), in -> {
            GetChildren2Response response = GetChildren2Response.read(in);
            return new Children(response.children(), response.stat());
        }, watch ? WatchKind.CHILDREN : null);
    }

    public CompletableFuture<Acl> getAcl(String path) {
        PathValidation.requireValid(path);
        return submit(OpCode.GET_ACL, path, new GetACLRequest(server(path)), in -> {
            GetACLResponse response = GetACLResponse.read(in);
            return new Acl(response.acl(), response.stat());
        }, null);
    }

    public CompletableFuture<Stat> setAcl(String path, List<ACL> acl, int version) {
        PathValidation.requireValid(path);
        return submit(OpCode.SET_ACL, path, new SetACLRequest(server(path), acl, version),
                in -> SetACLResponse.read(in).stat(), null);
    }

    /** Waits until the server this client is connected to has caught up with the leader for {@code path}. */
    public CompletableFuture<Void> sync(String path) {
        PathValidation.requireValid(path);
        return submit(OpCode.SYNC, path, new SyncRequest(server(path)), in -> null, null);
    }

    /**
     * Runs the operations atomically (all write ops) or as one batched read (all getData/getChildren ops, sent as
     * multiRead). Completes with every result; fails with a {@link ZkException} carrying the results when one operation
     * failed, as Apache's client does.
     */
    public CompletableFuture<List<OpResult>> multi(List<MultiRequest.Op> ops) {
        boolean reads = !ops.isEmpty() && ops.stream().allMatch(op -> op.type() == OpCode.GET_DATA
                || op.type() == OpCode.GET_CHILDREN);
        boolean anyRead = ops.stream().anyMatch(op -> op.type() == OpCode.GET_DATA
                || op.type() == OpCode.GET_CHILDREN);
        if (anyRead && !reads) {
            throw new IllegalArgumentException("a multi cannot mix reads and writes");
        }
        List<MultiRequest.Op> serverOps = new ArrayList<>(ops.size());
        for (MultiRequest.Op op : ops) {
            PathValidation.requireValid(op.path(), isSequentialCreate(op));
            serverOps.add(withServerPath(op));
        }
        int opCode = reads ? OpCode.MULTI_READ : OpCode.MULTI;
        CompletableFuture<List<OpResult>> result = new CompletableFuture<>();
        submit(opCode, null, new MultiRequest(serverOps), MultiResponse::read, null).whenComplete((response, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            List<OpResult> results = new ArrayList<>(response.results().size());
            OpResult firstFailure = null;
            int failedIndex = -1;
            for (OpResult opResult : response.results()) {
                results.add(withClientPath(opResult));
                if (!reads && opResult.isError() && opResult.err() != 0 && firstFailure == null) {
                    firstFailure = opResult;
                    failedIndex = results.size() - 1;
                }
            }
            if (firstFailure != null) {
                String failedPath = failedIndex < ops.size() ? ops.get(failedIndex).path() : null;
                result.completeExceptionally(new ZkException(firstFailure.err(), failedPath, List.copyOf(results)));
            } else {
                result.complete(List.copyOf(results));
            }
        });
        return result;
    }

    /** Closes the session on the server (waiting briefly for its answer) and releases the client's threads. */
    public CompletableFuture<Void> closeAsync() {
        boolean accepted = onLoopIfRunning(() -> {
            if (closing) {
                return;
            }
            closing = true;
            if (state == State.CONNECTED && sessionId != 0) {
                closeRequest = new Pending(OpCode.CLOSE_SESSION, null, null, in -> null, null);
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

    @Override
    public void close() {
        closeAsync().join();
    }

    // ------------------------------------------------------------------ connection life cycle (on loop)

    private void connectNext() {
        if (state != State.CONNECTING || closing) {
            return;
        }
        InetSocketAddress unresolved = hosts.get(hostIndex);
        hostIndex = (hostIndex + 1) % hosts.size();
        InetSocketAddress address = new InetSocketAddress(unresolved.getHostString(), unresolved.getPort());
        // Apache gives each host an equal share of the session timeout to answer before moving on.
        int connectTimeoutMs = Math.max(100, requestedSessionTimeoutMs / hosts.size());
        handshakeDone = false;
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ZkFrameDecoder(frameBytesMax), ZkFrameEncoder.INSTANCE,
                                new ConnectionHandler());
                    }
                });
        ChannelFuture connecting = bootstrap.connect(address);
        channel = connecting.channel();
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
                lastSendNanos = System.nanoTime();
                lastReceiveNanos = lastSendNanos;
                attempt.writeAndFlush(new ConnectRequest(0, lastZxid, requestedSessionTimeoutMs, sessionId,
                        sessionPassword, false));
            } else {
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
        failedAttempts = 0;
        cancel(connectTimeout);
        LOG.log(System.Logger.Level.INFO, "Session 0x{0} {1} on {2}, timeout {3} ms", Long.toHexString(sessionId),
                reattached ? "re-attached" : "established", channel.remoteAddress(), negotiatedTimeoutMs);
        startHeartbeat();
        if (everConnected) {
            sendSetWatches();
        }
        everConnected = true;
        while (!waiting.isEmpty()) {
            send(waiting.poll());
        }
        channel.flush();
        deliver(new WatchedEvent(EventType.NONE, KeeperState.SYNC_CONNECTED, null));
        runCallback(() -> firstConnection.complete(null));
    }

    private void onDisconnected(Channel lost) {
        if (lost != channel) {
            return;
        }
        channel = null;
        cancel(heartbeat);
        cancel(connectTimeout);
        boolean wasConnected = handshakeDone;
        handshakeDone = false;
        if (closing) {
            finishClose();
            return;
        }
        failInFlight(KeeperCode.CONNECTION_LOSS.code());
        if (state == State.CLOSED || state == State.EXPIRED) {
            return;
        }
        state = State.CONNECTING;
        if (wasConnected) {
            LOG.log(System.Logger.Level.INFO, "Connection lost for session 0x{0}, reconnecting",
                    Long.toHexString(sessionId));
            deliver(new WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, null));
        }
        long delay = wasConnected ? 0 : Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN << Math.min(5,
                failedAttempts++ / hosts.size()));
        loop.schedule(this::connectNext, delay, TimeUnit.MILLISECONDS);
    }

    private void startHeartbeat() {
        long pingIntervalMs = Math.max(1, negotiatedTimeoutMs / 3);
        long readTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(negotiatedTimeoutMs * 2L / 3);
        long tickMs = Math.max(1, pingIntervalMs / 4);
        Channel current = channel;
        heartbeat = loop.scheduleAtFixedRate(() -> {
            if (current != channel || !handshakeDone) {
                return;
            }
            long now = System.nanoTime();
            if (now - lastReceiveNanos > readTimeoutNanos) {
                LOG.log(System.Logger.Level.INFO, "No answer from {0} for {1} ms, reconnecting",
                        current.remoteAddress(), TimeUnit.NANOSECONDS.toMillis(now - lastReceiveNanos));
                current.close();
            } else if (now - lastSendNanos >= TimeUnit.MILLISECONDS.toNanos(pingIntervalMs)) {
                lastSendNanos = now;
                current.writeAndFlush(ZkPacket.of(new RequestHeader(Xids.PING, OpCode.PING)));
            }
        }, tickMs, tickMs, TimeUnit.MILLISECONDS);
    }

    private void sendSetWatches() {
        if (dataWatches.isEmpty() && existWatches.isEmpty() && childWatches.isEmpty()) {
            return;
        }
        List<String> data = new ArrayList<>();
        List<String> exist = new ArrayList<>();
        List<String> child = new ArrayList<>();
        int bytes = 0;
        for (int kind = 0; kind < 3; kind++) {
            Set<String> source = kind == 0 ? dataWatches : kind == 1 ? existWatches : childWatches;
            List<String> target = kind == 0 ? data : kind == 1 ? exist : child;
            for (String path : source) {
                if (bytes + path.length() * 3 + 4 > SET_WATCHES_CHUNK_BYTES_MAX) {
                    writeSetWatches(data, exist, child);
                    data = new ArrayList<>();
                    exist = new ArrayList<>();
                    child = new ArrayList<>();
                    target = kind == 0 ? data : kind == 1 ? exist : child;
                    bytes = 0;
                }
                target.add(path);
                bytes += path.length() * 3 + 4;
            }
        }
        writeSetWatches(data, exist, child);
    }

    private void writeSetWatches(List<String> data, List<String> exist, List<String> child) {
        channel.write(new ZkPacket(new RequestHeader(Xids.SET_WATCHES, OpCode.SET_WATCHES),
                new SetWatches(lastZxid, data, exist, child)));
    }

    private void expire() {
        state = State.EXPIRED;
        cancel(heartbeat);
        cancel(connectTimeout);
        if (channel != null) {
            channel.close();
        }
        failInFlight(KeeperCode.SESSION_EXPIRED.code());
        failWaiting(KeeperCode.SESSION_EXPIRED.code());
        deliver(new WatchedEvent(EventType.NONE, KeeperState.EXPIRED, null));
        runCallback(() -> {
            firstConnection.completeExceptionally(new ZkException(KeeperCode.SESSION_EXPIRED.code(), null));
            if (sessionExpiredListener != null) {
                sessionExpiredListener.run();
            }
        });
        runCallback(() -> closed.complete(null));
        releaseThreads();
    }

    private void finishClose() {
        if (closeFinished) {
            return;
        }
        closeFinished = true;
        boolean wasExpired = state == State.EXPIRED;
        state = State.CLOSED;
        cancel(heartbeat);
        cancel(connectTimeout);
        if (channel != null) {
            channel.close();
            channel = null;
        }
        failInFlight(KeeperCode.SESSION_EXPIRED.code());
        failWaiting(KeeperCode.SESSION_EXPIRED.code());
        if (!wasExpired) {
            deliver(new WatchedEvent(EventType.NONE, KeeperState.CLOSED, null));
        }
        runCallback(() -> firstConnection.completeExceptionally(
                new ZkException(KeeperCode.SESSION_EXPIRED.code(), null)));
        runCallback(() -> closed.complete(null));
        releaseThreads();
    }

    private void releaseThreads() {
        terminated = true;
        callbacks.shutdown();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------ requests and replies (on loop)

    private enum WatchKind { EXISTS, DATA, CHILDREN }

    /** One request on its way: queued, or sent and awaiting its reply. */
    private static final class Pending {
        final int opCode;
        final String clientPath;
        final JuteRecord request;
        final JuteInput.Reader<?> responseReader;
        final WatchKind watch;
        final CompletableFuture<Object> future = new CompletableFuture<>();
        int xid;

        Pending(int opCode, String clientPath, JuteRecord request, JuteInput.Reader<?> responseReader,
                WatchKind watch) {
            this.opCode = opCode;
            this.clientPath = clientPath;
            this.request = request;
            this.responseReader = responseReader;
            this.watch = watch;
        }

        String serverPath() {
            return request == null ? null : pathOf(request);
        }
    }

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> submit(int opCode, String clientPath, JuteRecord request,
                                            JuteInput.Reader<T> responseReader, WatchKind watch) {
        Pending pending = new Pending(opCode, clientPath, request, responseReader, watch);
        boolean accepted = onLoopIfRunning(() -> {
            if (state == State.CLOSED || state == State.EXPIRED || closing) {
                fail(pending, KeeperCode.SESSION_EXPIRED.code());
            } else if (waiting.size() + inFlight.size() >= pendingRequestsMax) {
                runCallback(() -> pending.future.completeExceptionally(new RejectedExecutionException(
                        "too many pending ZooKeeper requests (max " + pendingRequestsMax + ")")));
            } else if (state == State.CONNECTED) {
                send(pending);
                channel.flush();
            } else {
                waiting.add(pending);
            }
        });
        if (!accepted) {
            pending.future.completeExceptionally(new ZkException(KeeperCode.SESSION_EXPIRED.code(), clientPath));
        }
        return (CompletableFuture<T>) pending.future;
    }

    private void send(Pending pending) {
        pending.xid = nextXid();
        inFlight.add(pending);
        lastSendNanos = System.nanoTime();
        channel.write(new ZkPacket(new RequestHeader(pending.xid, pending.opCode), pending.request));
        if (pending == closeRequest) {
            channel.flush();
        }
    }

    private int nextXid() {
        int xid = nextXid;
        // Positive xids only: the negative ones are reserved for pings, notifications, auth and setWatches.
        nextXid = nextXid == Integer.MAX_VALUE ? 1 : nextXid + 1;
        return xid;
    }

    private void onReply(ByteBuf frame) {
        lastReceiveNanos = System.nanoTime();
        JuteInput in = new JuteInput(frame);
        ReplyHeader header = ReplyHeader.read(in);
        switch (header.xid()) {
            case Xids.PING, Xids.AUTH, Xids.SET_WATCHES -> {
                if (header.err() != 0) {
                    LOG.log(System.Logger.Level.WARNING, "Server answered xid {0} with error {1}", header.xid(),
                            header.err());
                }
                return;
            }
            case Xids.NOTIFICATION -> {
                onNotification(WatcherEvent.read(in));
                return;
            }
            default -> {
            }
        }
        Pending pending = inFlight.poll();
        if (pending == null || pending.xid != header.xid()) {
            throw new ZkCodecException("reply xid " + header.xid() + " does not match the oldest request xid "
                    + (pending == null ? "(none)" : pending.xid));
        }
        if (header.zxid() > 0) {
            lastZxid = header.zxid();
        }
        if (header.err() == 0) {
            Object value = pending.responseReader.read(in);
            registerWatch(pending, true);
            complete(pending, value);
        } else if (pending.opCode == OpCode.EXISTS && header.err() == KeeperCode.NO_NODE.code()) {
            registerWatch(pending, false);
            complete(pending, null);
        } else {
            fail(pending, header.err());
        }
    }

    private void registerWatch(Pending pending, boolean nodeExists) {
        if (pending.watch == null) {
            return;
        }
        String path = pending.serverPath();
        switch (pending.watch) {
            case EXISTS -> (nodeExists ? dataWatches : existWatches).add(path);
            case DATA -> dataWatches.add(path);
            case CHILDREN -> childWatches.add(path);
        }
    }

    private void onNotification(WatcherEvent event) {
        EventType type = EventType.fromCode(event.type());
        KeeperState state = KeeperState.fromCode(event.state());
        if (type == null || state == null) {
            LOG.log(System.Logger.Level.WARNING, "Ignoring watch event of unknown type {0} or state {1}",
                    event.type(), event.state());
            return;
        }
        String path = event.path();
        switch (type) {
            case NODE_CREATED, NODE_DATA_CHANGED -> {
                dataWatches.remove(path);
                existWatches.remove(path);
            }
            case NODE_DELETED -> {
                dataWatches.remove(path);
                existWatches.remove(path);
                childWatches.remove(path);
            }
            case NODE_CHILDREN_CHANGED -> childWatches.remove(path);
            default -> {
            }
        }
        deliver(new WatchedEvent(type, state, connectString.clientPath(path)));
    }

    private void failInFlight(int code) {
        while (!inFlight.isEmpty()) {
            fail(inFlight.poll(), code);
        }
    }

    private void failWaiting(int code) {
        while (!waiting.isEmpty()) {
            fail(waiting.poll(), code);
        }
    }

    private void complete(Pending pending, Object value) {
        runCallback(() -> pending.future.complete(value));
    }

    private void fail(Pending pending, int code) {
        ZkException error = new ZkException(code, pending.clientPath);
        runCallback(() -> pending.future.completeExceptionally(error));
    }

    /** Runs on the callback thread, or right here once that thread is gone (after close or expiry). */
    private void runCallback(Runnable callback) {
        try {
            callbacks.execute(callback);
        } catch (RejectedExecutionException afterShutdown) {
            callback.run();
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

    private void deliver(WatchedEvent event) {
        if (watcher == null) {
            return;
        }
        runCallback(() -> {
            try {
                watcher.process(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Watcher failed on " + event, e);
            }
        });
    }

    /** Handles one connection's frames on the client's event loop. */
    private final class ConnectionHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (ctx.channel() != channel) {
                return;
            }
            if (!handshakeDone) {
                lastReceiveNanos = System.nanoTime();
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

    // ------------------------------------------------------------------ helpers

    private String server(String clientPath) {
        return connectString.serverPath(clientPath);
    }

    private Created readCreated(JuteInput in) {
        Create2Response response = Create2Response.read(in);
        return new Created(connectString.clientPath(response.path()), response.stat());
    }

    private static boolean isSequentialCreate(MultiRequest.Op op) {
        int flags = op.request() instanceof CreateRequest create ? create.flags()
                : op.request() instanceof CreateTTLRequest ttl ? ttl.flags() : -1;
        return CreateMode.fromFlag(flags).map(CreateMode::isSequential).orElse(false);
    }

    private MultiRequest.Op withServerPath(MultiRequest.Op op) {
        if (connectString.chroot() == null) {
            return op;
        }
        JuteRecord request = op.request();
        JuteRecord rewritten;
        if (request instanceof CreateRequest r) {
            rewritten = new CreateRequest(server(r.path()), r.data(), r.acl(), r.flags());
        } else if (request instanceof CreateTTLRequest r) {
            rewritten = new CreateTTLRequest(server(r.path()), r.data(), r.acl(), r.flags(), r.ttl());
        } else if (request instanceof DeleteRequest r) {
            rewritten = new DeleteRequest(server(r.path()), r.version());
        } else if (request instanceof SetDataRequest r) {
            rewritten = new SetDataRequest(server(r.path()), r.data(), r.version());
        } else if (request instanceof CheckVersionRequest r) {
            rewritten = new CheckVersionRequest(server(r.path()), r.version());
        } else if (request instanceof GetChildrenRequest r) {
            rewritten = new GetChildrenRequest(server(r.path()), r.watch());
        } else if (request instanceof GetDataRequest r) {
            rewritten = new GetDataRequest(server(r.path()), r.watch());
        } else {
            throw new IllegalArgumentException("unexpected multi op " + request);
        }
        return new MultiRequest.Op(op.type(), rewritten);
    }

    private OpResult withClientPath(OpResult result) {
        if (connectString.chroot() == null) {
            return result;
        }
        if (result.response() instanceof CreateResponse r) {
            return OpResult.create(connectString.clientPath(r.path()));
        } else if (result.response() instanceof Create2Response r) {
            return OpResult.create2(connectString.clientPath(r.path()), r.stat());
        }
        return result;
    }

    private static String pathOf(JuteRecord request) {
        if (request instanceof CreateRequest r) {
            return r.path();
        } else if (request instanceof CreateTTLRequest r) {
            return r.path();
        } else if (request instanceof DeleteRequest r) {
            return r.path();
        } else if (request instanceof ExistsRequest r) {
            return r.path();
        } else if (request instanceof GetDataRequest r) {
            return r.path();
        } else if (request instanceof SetDataRequest r) {
            return r.path();
        } else if (request instanceof GetChildrenRequest r) {
            return r.path();
        } else if (request instanceof GetChildren2Request r) {
            return r.path();
        } else if (request instanceof GetACLRequest r) {
            return r.path();
        } else if (request instanceof SetACLRequest r) {
            return r.path();
        } else if (request instanceof SyncRequest r) {
            return r.path();
        }
        return null;
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

    // ------------------------------------------------------------------ results and builder

    /** Result of create2: the created path and the new node's Stat. */
    public record Created(String path, Stat stat) {
    }

    /** Result of getData. */
    public record NodeData(byte[] data, Stat stat) {
    }

    /** Result of getChildren2. */
    public record Children(List<String> children, Stat stat) {
    }

    /** Result of getACL. */
    public record Acl(List<ACL> acl, Stat stat) {
    }

    /** Settings of a client; {@link #build()} starts connecting. */
    public static final class Builder {
        private final String connectString;
        private Duration sessionTimeout = Duration.ofSeconds(30);
        private Watcher watcher;
        private Runnable sessionExpiredListener;
        private int pendingRequestsMax = 10_000;
        private int frameBytesMax = JuteLimits.FRAME_BYTES_MAX_DEFAULT;
        private long sessionId;
        private byte[] sessionPassword;

        private Builder(String connectString) {
            this.connectString = Objects.requireNonNull(connectString, "connectString");
        }

        /** The session timeout to ask for; the server clamps it to [2, 20] x tickTime. */
        public Builder sessionTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("session timeout out of range: " + timeout);
            }
            this.sessionTimeout = timeout;
            return this;
        }

        public Builder watcher(Watcher watcher) {
            this.watcher = watcher;
            return this;
        }

        /** Runs on the callback thread once the server reports the session expired; the client is then closed. */
        public Builder onSessionExpired(Runnable listener) {
            this.sessionExpiredListener = listener;
            return this;
        }

        /** Bound on queued plus in-flight requests; beyond it requests fail with RejectedExecutionException. */
        public Builder pendingRequestsMax(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("pendingRequestsMax must be positive: " + max);
            }
            this.pendingRequestsMax = max;
            return this;
        }

        /** Largest reply frame accepted (the client side's jute.maxbuffer). */
        public Builder frameBytesMax(int max) {
            this.frameBytesMax = max;
            return this;
        }

        /** Re-attaches an existing session instead of creating one. */
        public Builder session(long sessionId, byte[] sessionPassword) {
            if (sessionPassword == null || sessionPassword.length != SESSION_PASSWORD_BYTES) {
                throw new IllegalArgumentException("a session password has " + SESSION_PASSWORD_BYTES + " bytes");
            }
            this.sessionId = sessionId;
            this.sessionPassword = sessionPassword.clone();
            return this;
        }

        public ZkClient build() {
            return new ZkClient(this);
        }
    }
}
