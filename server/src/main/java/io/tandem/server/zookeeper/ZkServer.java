package io.tandem.server.zookeeper;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.tandem.zk.wire.AddWatchMode;
import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.ZkFrameDecoder;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.ClientInfo;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.proto.AddWatchRequest;
import io.tandem.zk.wire.proto.CheckWatchesRequest;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.proto.Create2Response;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.ErrorResponse;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.ExistsResponse;
import io.tandem.zk.wire.proto.GetACLRequest;
import io.tandem.zk.wire.proto.GetACLResponse;
import io.tandem.zk.wire.proto.GetAllChildrenNumberRequest;
import io.tandem.zk.wire.proto.GetAllChildrenNumberResponse;
import io.tandem.zk.wire.proto.GetChildren2Request;
import io.tandem.zk.wire.proto.GetChildren2Response;
import io.tandem.zk.wire.proto.GetChildrenRequest;
import io.tandem.zk.wire.proto.GetChildrenResponse;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.GetEphemeralsRequest;
import io.tandem.zk.wire.proto.GetEphemeralsResponse;
import io.tandem.zk.wire.proto.MultiHeader;
import io.tandem.zk.wire.proto.RemoveWatchesRequest;
import io.tandem.zk.wire.proto.SetACLResponse;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.SyncRequest;
import io.tandem.zk.wire.proto.SyncResponse;
import io.tandem.zk.wire.proto.WhoAmIResponse;
import io.tandem.zk.wire.txn.CheckVersionTxn;
import io.tandem.zk.wire.txn.CloseSessionTxn;
import io.tandem.zk.wire.txn.CreateContainerTxn;
import io.tandem.zk.wire.txn.CreateSessionTxn;
import io.tandem.zk.wire.txn.CreateTTLTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.MultiTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A single-node ZooKeeper server. Netty event loops decode packets and hand them to one commit thread, which prepares
 * writes into transactions (ACL, version and path checks against the tree plus the outstanding changes) and appends
 * them to the log; the {@link LogSyncer} thread fsyncs whatever has been appended (group commit) while the commit
 * thread goes on preparing, and once a transaction is durable the commit thread applies it, fires its watches and
 * answers, in arrival order. A request waits in that order only behind its own connection's earlier requests: a read
 * of a connection with nothing in flight is answered at once. So replies leave in xid order per session, reads see
 * every earlier write of their session, nothing is visible before it is durable, the tree has one writer, and no
 * event loop ever waits on the disk.
 */
public final class ZkServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ZkServer.class.getName());

    /** Requests waiting for the commit thread, all connections together; a full queue closes the offending connection. */
    static final int QUEUE_REQUESTS_MAX = 50_000;
    /** Requests handled per group commit; bounds the latency one batch adds to the next. */
    static final int BATCH_REQUESTS_MAX = 2_000;
    /** A connection stops being read while it has this many requests in flight (Apache throttles the same way). */
    static final int CONNECTION_IN_FLIGHT_MAX = 1_000;
    /** How often the commit thread looks for expired sessions when idle. */
    private static final long SESSION_CHECK_INTERVAL_MS = 100;

    /** Internal request kinds, outside every opcode. */
    static final int KIND_CONNECT = Integer.MIN_VALUE;
    static final int KIND_TASK = Integer.MIN_VALUE + 1;
    static final int KIND_UNKNOWN = Integer.MIN_VALUE + 2;
    /** The log syncer made more transactions durable (a wake-up, nothing to answer). */
    static final int KIND_SYNCED = Integer.MIN_VALUE + 3;

    final ZkServerConfig config;
    private final ZkStore store;
    final DataTree tree = new DataTree();
    final Map<Long, Session> sessions = new ConcurrentHashMap<>();
    final Preparer preparer;
    /** Null when standalone; otherwise writes are replicated through Zab (see {@link EnsembleCommit}). */
    private EnsembleCommit ensemble;
    private final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(QUEUE_REQUESTS_MAX);
    final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<ServerConnection> toFlush = new LinkedHashSet<>();
    private final java.util.Queue<ServerConnection> closedConnections = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /**
     * Standalone: requests waiting for the log to be durable up to their zxid, and the requests of the same connections
     * behind them, in arrival order (commit thread only).
     */
    private final ArrayDeque<Request> unsynced = new ArrayDeque<>();
    /** Standalone: the group-commit thread; null in an ensemble (Zab logs there). */
    private LogSyncer syncer;
    /** True while a KIND_SYNCED wake-up sits in the queue, so the syncer queues at most one. */
    private final AtomicBoolean syncedWakeupQueued = new AtomicBoolean();
    private final String superDigest;
    final long startedMillis = System.currentTimeMillis();
    private Thread commitThread;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Channel serverChannel;
    private volatile boolean running;
    /** Cleared to simulate a crash in tests: the shutdown snapshot is skipped, so recovery must replay the log. */
    private volatile boolean snapshotOnClose = true;
    private volatile long lastProcessedZxid;
    private long lastZxid;
    private long nextSessionId;
    private long txnsSinceSnapshot;
    private long nextSessionCheckNanos;
    private long nextContainerCheckNanos;

    // Statistics for the four-letter words; written by the commit thread and Netty threads.
    final AtomicLong packetsReceived = new AtomicLong();
    final AtomicLong packetsSent = new AtomicLong();
    private long latencyMinMs = Long.MAX_VALUE;
    private long latencyMaxMs;
    private long latencyTotalMs;
    private long latencyCount;

    private ZkServer(ZkServerConfig config, ZkStore store, String superDigest) {
        this.config = config;
        this.store = store;
        this.superDigest = superDigest;
        this.preparer = new Preparer(tree, sessions);
    }

    /**
     * Starts a member of an ensemble: the tree comes from Zab (its snapshot and log under {@code zabDir}), writes are
     * proposed through Zab, and the client port is bound at once; clients are refused until the node serves.
     */
    public static ZkServer startEnsemble(ZkServerConfig config, String superDigest, int myId,
                                         Map<String, String> settings, java.nio.file.Path zabDir) throws IOException {
        ZkServer server = new ZkServer(config, ZkStore.inMemory(), superDigest);
        try {
            // Apache puts the server id in the top byte of session ids, so members never hand out the same id.
            server.nextSessionId = ((System.currentTimeMillis() << 24) >>> 8) | ((long) myId << 56);
            server.startCommitThread();
            server.ensemble = EnsembleCommit.start(server, myId, settings, zabDir);
            server.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** Apache's server state for srvr and mntr: standalone, leader, follower, or looking while there is no leader. */
    String mode() {
        return ensemble == null ? "standalone" : ensemble.mode();
    }

    /** The Zab side of an ensemble member, or null when standalone. */
    EnsembleCommit ensemble() {
        return ensemble;
    }

    /** Recovers the tree from {@code store}, binds the client port (0 = any free port) and starts serving. */
    public static ZkServer start(ZkServerConfig config, ZkStore store, String superDigest) throws IOException {
        ZkServer server = new ZkServer(config, store, superDigest);
        try {
            server.recover();
            server.syncer = new LogSyncer(store, server.lastZxid, server::wakeAfterSync);
            server.startCommitThread();
            server.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public long lastProcessedZxid() {
        return lastProcessedZxid;
    }

    String superDigest() {
        return superDigest;
    }

    // ---------------------------------------------------------------- start-up and shut-down

    private void recover() throws IOException {
        long snapshotZxid = store.readLatestSnapshot((zxid, in) -> SnapshotFormat.read(in, tree, sessions));
        long[] replayed = {0};
        store.forEachTxn(snapshotZxid, (zxid, bytes) -> {
            JuteInput in = new JuteInput(io.netty.buffer.Unpooled.wrappedBuffer(bytes), Integer.MAX_VALUE);
            TxnHeader header = TxnHeader.read(in);
            JuteRecord txn = readTxnBody(header.type(), in);
            applyTxn(header, txn);
            replayed[0]++;
        });
        lastZxid = tree.lastProcessedZxid();
        lastProcessedZxid = lastZxid;
        txnsSinceSnapshot = replayed[0];
        // Session ids start from the clock, as Apache does, so ids from before a restart are never handed out again.
        nextSessionId = ((System.currentTimeMillis() << 24) >>> 8) | (1L << 56);
        if (snapshotZxid > 0 || replayed[0] > 0) {
            LOG.info(() -> "ZooKeeper data recovered: snapshot at zxid 0x" + Long.toHexString(snapshotZxid) + ", "
                    + replayed[0] + " transactions replayed, " + tree.nodeCount() + " znodes, " + sessions.size()
                    + " sessions, last zxid 0x" + Long.toHexString(lastZxid));
        }
    }

    static JuteRecord readTxnBody(int type, JuteInput in) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2 -> CreateTxn.read(in);
            case OpCode.CREATE_TTL -> CreateTTLTxn.read(in);
            case OpCode.CREATE_CONTAINER -> CreateContainerTxn.read(in);
            case OpCode.DELETE, OpCode.DELETE_CONTAINER -> DeleteTxn.read(in);
            case OpCode.SET_DATA -> SetDataTxn.read(in);
            case OpCode.SET_ACL -> SetACLTxn.read(in);
            case OpCode.CHECK -> CheckVersionTxn.read(in);
            case OpCode.ERROR -> ErrorTxn.read(in);
            case OpCode.MULTI -> MultiTxn.read(in);
            case OpCode.CREATE_SESSION -> CreateSessionTxn.read(in);
            case OpCode.CLOSE_SESSION -> in.hasRemaining() ? CloseSessionTxn.read(in) : null;
            default -> throw new IllegalStateException("unknown transaction type " + type + " in the log");
        };
    }

    private void startCommitThread() {
        running = true;
        commitThread = new Thread(this::runCommitLoop, "zk-commit");
        commitThread.setDaemon(true);
        commitThread.start();
    }

    private void bind() throws IOException {
        bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workerGroup = new MultiThreadIoEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
                NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        ServerConnection connection = new ServerConnection(ZkServer.this, channel);
                        // The decoder reads a four-letter word in the first length prefix, as Apache does.
                        channel.pipeline().addLast("frames", new ZkFrameDecoder(config.frameBytesMax(), true));
                        channel.pipeline().addLast("zk", connection);
                    }
                });
        try {
            serverChannel = bootstrap.bind(config.host(), config.port()).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding the ZooKeeper port", e);
        } catch (Exception e) {
            throw new IOException("cannot bind the ZooKeeper port " + config.host() + ":" + config.port() + ": " + e, e);
        }
        LOG.info(() -> "ZooKeeper server listening on " + config.host() + ":" + port() + " (" + config + ")");
    }

    /** Stops like a killed process would as far as the disk is concerned: no snapshot, only the synced log remains. */
    void closeWithoutSnapshot() {
        snapshotOnClose = false;
        close();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        if (ensemble != null) {
            ensemble.close();
        }
        for (ServerConnection connection : connections) {
            connection.closeNow();
        }
        if (commitThread != null) {
            // No interrupt: the loop polls with a short timeout, and an interrupt would abort the shutdown snapshot.
            running = false;
            try {
                commitThread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (syncer != null) {
            syncer.close(); // normally already stopped by the commit thread; needed if it never ran
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
        try {
            store.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the ZooKeeper store failed", e);
        }
    }

    // ---------------------------------------------------------------- submitting work

    /** From the syncer's thread: wakes the commit thread to answer what is now durable. */
    private void wakeAfterSync() {
        // A full queue needs no wake-up: the commit thread is busy and looks at the synced zxid after every batch.
        if (syncedWakeupQueued.compareAndSet(false, true)
                && !queue.offer(new Request(null, 0, 0, KIND_SYNCED, null))) {
            syncedWakeupQueued.set(false);
        }
    }

    /** Queues a request from a Netty thread; false when the queue is full (the caller closes the connection). */
    boolean submit(Request request) {
        return queue.offer(request);
    }

    /** Runs {@code work} on the commit thread, where the tree may be read consistently. */
    <T> CompletableFuture<T> call(Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                result.complete(work.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        };
        if (!queue.offer(new Request(null, 0, 0, KIND_TASK, task))) {
            result.completeExceptionally(new IllegalStateException("ZooKeeper request queue is full"));
        }
        return result;
    }

    /** Runs {@code task} on the commit thread in queue order; waits for room, because the task must not be lost. */
    void runOnCommitThread(Runnable task) throws InterruptedException {
        queue.put(new Request(null, 0, 0, KIND_TASK, task));
    }

    /** Open connections from one client address, for Apache's maxClientCnxns limit. */
    int connectionsFrom(java.net.InetAddress address) {
        int count = 0;
        for (ServerConnection connection : connections) {
            if (connection.remoteAddress() instanceof InetSocketAddress remote && address.equals(remote.getAddress())) {
                count++;
            }
        }
        return count;
    }

    void connectionClosed(ServerConnection connection) {
        connections.remove(connection);
        // Not through the bounded request queue: an event loop must never wait, and this list is bounded by the
        // number of connections anyway.
        closedConnections.add(connection);
    }

    /** Drops the watches of closed connections and detaches them from their sessions (commit thread). */
    private void cleanUpClosedConnections() {
        ServerConnection connection;
        while ((connection = closedConnections.poll()) != null) {
            tree.removeWatcher(connection);
            Session session = connection.session;
            if (session != null && session.owner == connection) {
                session.owner = null;
            }
        }
    }

    // ---------------------------------------------------------------- the commit thread

    private void runCommitLoop() {
        List<Request> batch = new ArrayList<>();
        long now = System.nanoTime();
        nextSessionCheckNanos = now;
        nextContainerCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
        while (running) {
            try {
                Request first = queue.poll(SESSION_CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, BATCH_REQUESTS_MAX - 1);
                }
                cleanUpClosedConnections();
                if (ensemble == null || ensemble.isLeading()) {
                    addExpiredSessions(batch);
                    addContainerDeletions(batch);
                }
                if (ensemble != null) {
                    ensemble.tick();
                }
                if (!batch.isEmpty()) {
                    if (ensemble != null) {
                        ensemble.processBatch(batch);
                    } else {
                        processBatch(batch);
                    }
                }
            } catch (InterruptedException e) {
                if (!running) {
                    break;
                }
            } catch (IOException e) {
                // The log cannot be written: nothing more may be acknowledged. Apache exits in this situation.
                LOG.log(Level.SEVERE, "ZooKeeper transaction log failed; the server stops accepting requests", e);
                running = false;
                for (ServerConnection connection : connections) {
                    connection.closeNow();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "unexpected failure on the ZooKeeper commit thread", e);
            } finally {
                batch.clear();
            }
        }
        if (syncer != null) {
            // Whatever was appended is made durable and answered before the shutdown snapshot, which covers it.
            syncer.close();
            if (syncer.failure() == null) {
                try {
                    finishSynced();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "failed to apply the last transactions at shutdown", e);
                }
                flushMarked();
            }
        }
        try {
            if (snapshotOnClose && txnsSinceSnapshot > 0) {
                takeSnapshot();
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "snapshot at shutdown failed; the log still holds every transaction", e);
        }
    }

    /**
     * Standalone: prepares the batch's writes and appends them to the log, asks the syncer to make them durable, and
     * answers at once what needs nothing in flight; then applies and answers, in arrival order, everything the syncer
     * has made durable so far (this batch's writes usually come back with a later wake-up).
     */
    private void processBatch(List<Request> batch) throws IOException {
        IOException failure = syncer.failure();
        if (failure != null) {
            throw failure;
        }
        long time = System.currentTimeMillis();
        long appendedThrough = 0;
        for (Request request : batch) {
            if (request.type == KIND_SYNCED) {
                syncedWakeupQueued.set(false);
                continue;
            }
            if (request.connection != null && request.type != KIND_CONNECT) {
                request.sessionId = request.connection.sessionId;
            }
            if (request.type == KIND_CONNECT) {
                prepareConnect(request, time);
            } else if (request.isWrite() && (request.connection == null || request.sessionId != 0)) {
                preparer.prepare(request, ++lastZxid, time, authInfo(request));
            }
            if (request.header != null) {
                store.append(request.header.zxid(), Jute.txnBytes(request.header, request.txn));
                appendedThrough = request.header.zxid();
                waitForSync(request);
            } else if (request.connection != null && request.connection.unsyncedRequests > 0) {
                waitForSync(request); // behind an earlier write of its connection: replies stay in xid order
            } else {
                finishSafely(request);
            }
        }
        if (appendedThrough != 0) {
            syncer.syncThrough(appendedThrough);
        }
        finishSynced();
        flushMarked();
        if (txnsSinceSnapshot >= config.snapCount()) {
            takeSnapshot();
        }
    }

    private void waitForSync(Request request) {
        unsynced.add(request);
        if (request.connection != null) {
            request.connection.unsyncedRequests++;
        }
    }

    /** Applies and answers, in arrival order, every waiting request whose transaction (if any) is now durable. */
    private void finishSynced() {
        long synced = syncer.syncedZxid();
        while (!unsynced.isEmpty()) {
            Request request = unsynced.peek();
            if (request.header != null && request.header.zxid() > synced) {
                return;
            }
            unsynced.poll();
            if (request.connection != null) {
                request.connection.unsyncedRequests--;
            }
            try {
                finishSafely(request);
            } finally {
                if (request.header != null) {
                    preparer.applied(request.prepareSequence);
                }
            }
        }
    }

    private void finishSafely(Request request) {
        try {
            finish(request);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "failed to complete request type " + request.type + " of session 0x"
                    + Long.toHexString(request.sessionId), e);
            if (request.connection != null) {
                request.connection.closeNow();
            }
        }
    }

    private void takeSnapshot() throws IOException {
        long zxid = tree.lastProcessedZxid();
        store.writeSnapshot(zxid, out -> SnapshotFormat.write(out, tree, sessions));
        txnsSinceSnapshot = 0;
    }

    static List<Id> authInfo(Request request) {
        return request.connection == null ? List.of(new Id("super", "")) : request.connection.authInfo;
    }

    void prepareConnect(Request request, long time) {
        ConnectRequest connect = (ConnectRequest) request.body;
        ServerConnection connection = request.connection;
        if (connect.lastZxidSeen() > tree.lastProcessedZxid()) {
            LOG.info(() -> "Refusing session request for client " + connection.remoteAddress() + " as it has seen zxid 0x"
                    + Long.toHexString(connect.lastZxidSeen()) + " our last zxid is 0x"
                    + Long.toHexString(tree.lastProcessedZxid()) + " client must try another server");
            request.type = KIND_TASK;
            request.txn = null;
            connection.closeNow();
            return;
        }
        int timeout = Math.max(config.minSessionTimeoutMs(), Math.min(config.maxSessionTimeoutMs(), connect.timeOut()));
        request.negotiatedTimeout = timeout;
        if (connect.sessionId() == 0) {
            request.sessionId = nextSessionId++;
            if (request.sessionId == EphemeralOwner.CONTAINER) {
                request.sessionId = nextSessionId++;
            }
            request.type = OpCode.CREATE_SESSION;
            preparer.prepare(request, ++lastZxid, time, List.of());
        } else {
            request.sessionId = connect.sessionId();
            Session session = sessions.get(connect.sessionId());
            request.handshakeValid = session != null && !session.closing
                    && Arrays.equals(connect.passwd(), Session.password(connect.sessionId()));
        }
    }

    DataTree.Result applyTxn(TxnHeader header, JuteRecord txn) {
        if (header.type() == OpCode.CREATE_SESSION) {
            sessions.put(header.clientId(), new Session(header.clientId(), ((CreateSessionTxn) txn).timeOut()));
        } else if (header.type() == OpCode.CLOSE_SESSION) {
            sessions.remove(header.clientId());
        }
        DataTree.Result result = tree.processTxn(header, txn);
        lastProcessedZxid = tree.lastProcessedZxid();
        txnsSinceSnapshot++;
        return result;
    }

    void finish(Request request) {
        if (request.type == KIND_SYNCED) {
            return;
        }
        if (request.type == KIND_TASK) {
            if (request.body instanceof Runnable task) {
                task.run();
            }
            return;
        }
        if (request.type == KIND_CONNECT) {
            finishReattach(request);
            return;
        }
        DataTree.Result result = request.header == null ? null : applyTxn(request.header, request.txn);
        reply(request, result);
    }

    /** Answers a request whose transaction (if any) has been applied with {@code result}. */
    void reply(Request request, DataTree.Result result) {
        ServerConnection connection = request.connection;
        if (request.type == OpCode.CREATE_SESSION) {
            Session session = sessions.get(request.sessionId);
            session.owner = connection;
            connection.sessionEstablished(session, request.negotiatedTimeout);
            markForFlush(connection);
            return;
        }
        if (connection == null) {
            if (request.type == OpCode.CLOSE_SESSION) {
                closeOwnerOf(request.sessionId, null);
            }
            return;
        }
        if (request.sessionId == 0) {
            return; // the handshake of this connection failed; it is being closed
        }
        if (result == null && connection.isClosed()) {
            return; // nobody to answer, and a watch set now would outlive its connection
        }
        long started = request.receivedNanos;
        int err = KeeperCode.OK.code();
        JuteRecord body = null;
        if (result != null) {
            if (request.header.type() == OpCode.ERROR) {
                err = result.err;
            } else {
                body = writeResponse(request.type, result);
            }
        } else {
            try {
                body = executeRead(request);
            } catch (ZkException e) {
                err = e.code();
            }
        }
        long zxid = request.type == OpCode.PING || result == null ? tree.lastProcessedZxid() : result.zxid;
        if (request.type == OpCode.PING) {
            connection.send(Xids.PING, tree.lastProcessedZxid(), 0, null);
        } else {
            connection.send(request.xid, request.type == KIND_UNKNOWN ? -1 : tree.lastProcessedZxid(), err, body);
        }
        connection.requestDone(request.xid, zxid, request.type, started);
        recordLatency(started);
        markForFlush(connection);
        if (request.type == OpCode.CLOSE_SESSION) {
            connection.closeAfterFlush();
        }
    }

    private void finishReattach(Request request) {
        ServerConnection connection = request.connection;
        Session session = sessions.get(request.sessionId);
        // Apache (ZooKeeperServer.processConnectRequest) drops the connection holding the session before it checks
        // the password, so even a refused attach bounces the owner, who then reconnects and keeps the session.
        closeOwnerOf(request.sessionId, connection);
        if (!request.handshakeValid || session == null || session.closing) {
            LOG.info(() -> "Invalid session 0x" + Long.toHexString(request.sessionId) + " for client "
                    + connection.remoteAddress() + ", probably expired");
            connection.sessionRefused();
            return;
        }
        session.owner = connection;
        session.timeoutMs = request.negotiatedTimeout;
        session.touch();
        connection.sessionEstablished(session, request.negotiatedTimeout);
        markForFlush(connection);
    }

    void closeOwnerOf(long sessionId, ServerConnection keep) {
        for (ServerConnection other : connections) {
            if (other != keep && other.sessionId == sessionId) {
                other.closeNow();
            }
        }
    }

    void flushMarked() {
        for (ServerConnection connection : toFlush) {
            connection.flush();
        }
        toFlush.clear();
    }

    void markForFlush(ServerConnection connection) {
        toFlush.add(connection);
    }

    private void recordLatency(long startedNanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        latencyMinMs = Math.min(latencyMinMs, ms);
        latencyMaxMs = Math.max(latencyMaxMs, ms);
        latencyTotalMs += ms;
        latencyCount++;
    }

    long[] latency() {
        return new long[] {latencyCount == 0 ? 0 : latencyMinMs, latencyCount == 0 ? 0 : latencyTotalMs / latencyCount,
                latencyMaxMs, latencyCount, latencyTotalMs};
    }

    void resetLatency() {
        latencyMinMs = Long.MAX_VALUE;
        latencyMaxMs = 0;
        latencyTotalMs = 0;
        latencyCount = 0;
        packetsReceived.set(0);
        packetsSent.set(0);
    }

    /** Log fsyncs so far and the transactions they made durable (this run; Zab's in an ensemble). */
    long[] logSyncStats() {
        if (ensemble != null && ensemble.zab() != null) {
            io.tandem.server.zab.ZabServer.Stats zab = ensemble.zab().stats();
            return new long[] {zab.logSyncs(), zab.appends()};
        }
        return syncer == null ? new long[2] : new long[] {syncer.syncs(), syncer.syncedTxns()};
    }

    int queuedRequests() {
        return queue.size();
    }

    private static JuteRecord writeResponse(int type, DataTree.Result result) {
        return switch (type) {
            case OpCode.CREATE -> new CreateResponse(result.path);
            case OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER ->
                    new Create2Response(result.path, result.stat);
            case OpCode.SET_DATA -> new SetDataResponse(result.stat);
            case OpCode.SET_ACL -> new SetACLResponse(result.stat);
            case OpCode.MULTI -> multiResponse(result.multiResult);
            default -> null; // delete, check, closeSession: header only
        };
    }

    private static JuteRecord multiResponse(List<DataTree.Result> results) {
        return out -> {
            for (DataTree.Result sub : results) {
                int type = switch (sub.type) {
                    case OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER -> OpCode.CREATE2;
                    case OpCode.DELETE_CONTAINER -> OpCode.DELETE;
                    default -> sub.type;
                };
                new MultiHeader(type, false, type == OpCode.ERROR ? sub.err : 0).write(out);
                switch (type) {
                    case OpCode.CREATE -> new CreateResponse(sub.path).write(out);
                    case OpCode.CREATE2 -> new Create2Response(sub.path, sub.stat).write(out);
                    case OpCode.SET_DATA -> new SetDataResponse(sub.stat).write(out);
                    case OpCode.ERROR -> new ErrorResponse(sub.err).write(out);
                    default -> {
                        // delete and check carry no body
                    }
                }
            }
            new MultiHeader(-1, true, -1).write(out);
        };
    }

    // ---------------------------------------------------------------- reads

    private JuteRecord executeRead(Request request) throws ZkException {
        ServerConnection connection = request.connection;
        List<Id> auth = connection.authInfo;
        Session session = sessions.get(request.sessionId);
        if (request.type != KIND_UNKNOWN && (session == null || session.closing)) {
            throw new ZkException(KeeperCode.SESSION_EXPIRED);
        }
        switch (request.type) {
            case OpCode.PING, OpCode.SET_WATCHES, OpCode.SET_WATCHES2 -> {
                if (request.body instanceof SetWatches set) {
                    tree.setWatches(set.relativeZxid(), set.dataWatches(), set.existWatches(), set.childWatches(),
                            null, null, connection);
                } else if (request.body instanceof SetWatches2 set) {
                    tree.setWatches(set.relativeZxid(), set.dataWatches(), set.existWatches(), set.childWatches(),
                            set.persistentWatches(), set.persistentRecursiveWatches(), connection);
                }
                return null;
            }
            case OpCode.EXISTS -> {
                ExistsRequest exists = (ExistsRequest) request.body;
                String path = exists.path();
                if (path == null || path.indexOf('\0') != -1) {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS, path);
                }
                DataNode node = tree.getNode(path);
                if (node != null) {
                    // Apache 3.9 checks READ on an existing node before it registers the watch.
                    Acls.check(node.acl, Perms.READ, auth);
                }
                if (exists.watch()) {
                    tree.addDataWatch(path, connection);
                }
                if (node == null) {
                    throw new ZkException(KeeperCode.NO_NODE, path);
                }
                return new ExistsResponse(node.stat());
            }
            case OpCode.GET_DATA -> {
                GetDataRequest get = (GetDataRequest) request.body;
                return getData(get.path(), get.watch(), connection, auth);
            }
            case OpCode.GET_CHILDREN -> {
                GetChildrenRequest get = (GetChildrenRequest) request.body;
                return new GetChildrenResponse(getChildren(get.path(), get.watch(), connection, auth));
            }
            case OpCode.GET_CHILDREN2 -> {
                GetChildren2Request get = (GetChildren2Request) request.body;
                List<String> children = getChildren(get.path(), get.watch(), connection, auth);
                return new GetChildren2Response(children, tree.getNode(get.path()).stat());
            }
            case OpCode.GET_ACL -> {
                String path = ((GetACLRequest) request.body).path();
                DataNode node = node(path);
                Acls.check(node.acl, Perms.READ | Perms.ADMIN, auth);
                try {
                    Acls.check(node.acl, Perms.ADMIN, auth);
                    return new GetACLResponse(node.acl, node.stat());
                } catch (ZkException e) {
                    // Without ADMIN the digest hashes are masked, as Apache does since 3.6.
                    List<ACL> masked = new ArrayList<>(node.acl.size());
                    for (ACL acl : node.acl) {
                        masked.add(acl.id().scheme().equals("digest")
                                ? new ACL(acl.perms(), new Id("digest", acl.id().id().replaceAll(":.*", ":x")))
                                : acl);
                    }
                    return new GetACLResponse(masked, node.stat());
                }
            }
            case OpCode.GET_ALL_CHILDREN_NUMBER -> {
                String path = ((GetAllChildrenNumberRequest) request.body).path();
                DataNode node = node(path);
                Acls.check(node.acl, Perms.READ, auth);
                return new GetAllChildrenNumberResponse(tree.allChildrenNumber(path));
            }
            case OpCode.GET_EPHEMERALS -> {
                String prefix = ((GetEphemeralsRequest) request.body).prefixPath();
                List<String> result = new ArrayList<>();
                for (String path : tree.ephemeralsOf(request.sessionId)) {
                    if (prefix == null || prefix.isBlank() || prefix.trim().equals("/") || path.startsWith(prefix)) {
                        result.add(path);
                    }
                }
                return new GetEphemeralsResponse(result);
            }
            case OpCode.SYNC -> {
                return new SyncResponse(((SyncRequest) request.body).path());
            }
            case OpCode.CHECK_WATCHES, OpCode.REMOVE_WATCHES -> {
                String path;
                int watcherType;
                if (request.body instanceof CheckWatchesRequest check) {
                    path = check.path();
                    watcherType = check.type();
                } else {
                    RemoveWatchesRequest remove = (RemoveWatchesRequest) request.body;
                    path = remove.path();
                    watcherType = remove.type();
                }
                if (!tree.removeWatch(path, watcherType, connection, request.type == OpCode.CHECK_WATCHES)) {
                    throw new ZkException(KeeperCode.NO_WATCHER, path);
                }
                return null;
            }
            case OpCode.ADD_WATCH -> {
                AddWatchRequest add = (AddWatchRequest) request.body;
                AddWatchMode mode = AddWatchMode.fromCode(add.mode());
                if (mode == null) {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS, add.path());
                }
                tree.addPersistentWatch(add.path(), connection, mode == AddWatchMode.PERSISTENT_RECURSIVE);
                return new ErrorResponse(0);
            }
            case OpCode.WHO_AM_I -> {
                List<ClientInfo> infos = new ArrayList<>();
                for (Id id : auth) {
                    infos.add(new ClientInfo(id.scheme(), Acls.userName(id)));
                }
                return new WhoAmIResponse(infos);
            }
            case OpCode.MULTI_READ -> {
                @SuppressWarnings("unchecked")
                List<Request.Op> ops = (List<Request.Op>) request.body;
                return multiRead(ops, connection, auth);
            }
            case KIND_UNKNOWN -> throw new ZkException(KeeperCode.UNIMPLEMENTED);
            default -> throw new ZkException(KeeperCode.UNIMPLEMENTED);
        }
    }

    private DataNode node(String path) throws ZkException {
        DataNode node = path == null ? null : tree.getNode(path);
        if (node == null) {
            throw new ZkException(KeeperCode.NO_NODE, path);
        }
        return node;
    }

    private GetDataResponse getData(String path, boolean watch, ServerConnection connection, List<Id> auth)
            throws ZkException {
        DataNode node = node(path);
        Acls.check(node.acl, Perms.READ, auth);
        if (watch) {
            tree.addDataWatch(path, connection);
        }
        return new GetDataResponse(node.data, node.stat());
    }

    private List<String> getChildren(String path, boolean watch, ServerConnection connection, List<Id> auth)
            throws ZkException {
        DataNode node = node(path);
        Acls.check(node.acl, Perms.READ, auth);
        List<String> children = new ArrayList<>(node.children());
        if (watch) {
            tree.addChildWatch(path, connection);
        }
        return children;
    }

    private JuteRecord multiRead(List<Request.Op> ops, ServerConnection connection, List<Id> auth) {
        List<JuteRecord> results = new ArrayList<>(ops.size());
        List<Integer> types = new ArrayList<>(ops.size());
        for (Request.Op op : ops) {
            try {
                if (op.request() instanceof GetChildrenRequest get) {
                    results.add(new GetChildrenResponse(getChildren(get.path(), get.watch(), connection, auth)));
                    types.add(OpCode.GET_CHILDREN);
                } else if (op.request() instanceof GetDataRequest get) {
                    results.add(getData(get.path(), get.watch(), connection, auth));
                    types.add(OpCode.GET_DATA);
                } else {
                    throw new ZkException(KeeperCode.BAD_ARGUMENTS);
                }
            } catch (ZkException e) {
                results.add(new ErrorResponse(e.code()));
                types.add(OpCode.ERROR);
            }
        }
        return out -> {
            for (int i = 0; i < results.size(); i++) {
                int type = types.get(i);
                new MultiHeader(type, false, type == OpCode.ERROR ? ((ErrorResponse) results.get(i)).err() : 0)
                        .write(out);
                results.get(i).write(out);
            }
            new MultiHeader(-1, true, -1).write(out);
        };
    }

    // ---------------------------------------------------------------- sessions, containers and TTLs

    private void addExpiredSessions(List<Request> batch) {
        long now = System.nanoTime();
        if (now - nextSessionCheckNanos < 0) {
            return;
        }
        nextSessionCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(SESSION_CHECK_INTERVAL_MS);
        for (Session session : sessions.values()) {
            if (!session.closing && session.isExpired(now)) {
                session.closing = true;
                LOG.info(() -> "Expiring session 0x" + Long.toHexString(session.id) + ", timeout of "
                        + session.timeoutMs + "ms exceeded");
                batch.add(new Request(null, session.id, 0, OpCode.CLOSE_SESSION, null));
            }
        }
    }

    /** Apache's ContainerManager: empty containers that once had a child, and unmodified childless expired TTL nodes. */
    private void addContainerDeletions(List<Request> batch) {
        long now = System.nanoTime();
        if (now - nextContainerCheckNanos < 0) {
            return;
        }
        nextContainerCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
        long wallNow = System.currentTimeMillis();
        Set<String> candidates = new HashSet<>();
        for (String path : tree.containers()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                if (node.cversion > 0) {
                    candidates.add(path);
                } else if (config.containerMaxNeverUsedMs() != 0
                        && wallNow - node.mtime > config.containerMaxNeverUsedMs()) {
                    candidates.add(path);
                }
            }
        }
        for (String path : tree.ttls()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                long ttl = EphemeralOwner.ttlMsOf(node.ephemeralOwner);
                if (ttl != 0 && wallNow - node.mtime > ttl) {
                    candidates.add(path);
                }
            }
        }
        for (String path : candidates) {
            batch.add(new Request(null, 0, 0, OpCode.DELETE_CONTAINER, new DeleteRequest(path, -1)));
        }
    }
}
