package io.tandem.server.zookeeper;

import io.tandem.server.FatalErrors;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A ZooKeeper server, standalone or a member of an ensemble. Netty event loops ({@link ClientListener},
 * {@link ServerConnection}) decode packets and queue them for one commit thread, which owns the tree: each batch goes
 * to the {@link CommitPath} (standalone: own log with group commit; ensemble: Zab), which prepares writes
 * ({@link Preparer}), gets them durable, applies them here ({@link #applyTxn}) in zxid order and answers through the
 * {@link Responder} in each connection's arrival order; reads run in that order too ({@link ReadExecutor}). Sessions
 * live in the {@link SessionTracker}, container clean-up in the {@link ContainerSweeper}, figures in
 * {@link ServerStats}. The tree has one writer and no event loop ever waits on the disk or on another node.
 */
public final class ZkServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ZkServer.class.getName());

    /** Requests waiting for the commit thread, all connections together; a full queue closes the offending connection. */
    static final int QUEUE_REQUESTS_MAX = 50_000;
    /** Requests handled per group commit; bounds the latency one batch adds to the next. */
    static final int BATCH_REQUESTS_MAX = 2_000;
    /** A connection stops being read while it has this many requests in flight (Apache throttles the same way). */
    static final int CONNECTION_IN_FLIGHT_MAX = 1_000;
    /**
     * A connection stops being read while its requests in flight hold this many bytes of frames, until half is
     * answered: four requests of the default jute.maxbuffer. One larger request is still read (the check follows it).
     */
    static final long CONNECTION_QUEUED_BYTES_MAX = 4L << 20;

    final ZkServerConfig config;
    private final String superDigest;
    /** How clients authenticate (SASL, x509, enforce.auth) and the secure port's TLS. */
    final ZkSecurity security;
    final DataTree tree = new DataTree();
    final ServerStats stats = new ServerStats();
    /** mntr's figures about loading and snapshotting the tree (Apache's snapshottime, dbinittime, ...). */
    final DatabaseStats database = new DatabaseStats();
    final ClientListener listener;
    final SessionTracker sessions;
    final Preparer preparer;
    final Responder responder;
    /** Fault injection's rules; read for every client request, so they can be armed while the server runs. */
    volatile ZkFaults faults = ZkFaults.NONE;
    private final ContainerSweeper containers;
    private final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(QUEUE_REQUESTS_MAX);
    /**
     * Work handed over by the consensus side (commits, role changes, requests forwarded by other members): a queue of
     * its own, so Zab's thread never waits for room behind client requests. It is not bounded by clients: what Zab
     * hands over is bounded by what it has in flight (proposals, themselves bounded by the members' client limits).
     */
    private final Queue<Request> consensusTasks = new ConcurrentLinkedQueue<>();
    /** Put on the client queue to wake a waiting commit thread when a consensus task arrives; runs nothing. */
    private static final Request WAKE = new Request(null, 0, 0, Request.KIND_TASK, null);
    /** Client requests queued or in progress, all connections together (globalOutstandingLimit; see ReadGate). */
    final AtomicInteger outstanding = new AtomicInteger();
    /** globalOutstandingLimit as this node applies it (an ensemble member divides it, see startEnsemble). */
    private int globalOutstandingLimit;
    private CommitPath commitPath;
    private Thread commitThread;
    private volatile boolean running;
    private volatile long lastProcessedZxid;
    /** Transactions applied since start, replay included (commit thread). */
    private long appliedTxns;

    private ZkServer(ZkServerConfig config, String superDigest, ZkSecurity security, boolean ensemble) {
        this.config = config;
        this.superDigest = superDigest;
        this.security = security;
        this.listener = new ClientListener(this, config);
        this.sessions = new SessionTracker(config, tree, listener);
        this.preparer = new Preparer(tree, sessions.byId(), new Reconfig(config.reconfigEnabled(), ensemble));
        preparer.security = security;
        preparer.enforceQuota = config.enforceQuota();
        this.responder = new Responder(tree, sessions, new ReadExecutor(tree, sessions.byId()), listener, stats);
        this.containers = new ContainerSweeper(config, tree);
        this.globalOutstandingLimit = config.globalOutstandingLimit();
    }

    /** Recovers the tree from {@code store}, binds the client port (0 = any free port) and starts serving. */
    public static ZkServer start(ZkServerConfig config, ZkStore store, String superDigest) throws IOException {
        return start(config, store, superDigest, ZkSecurity.NONE);
    }

    static ZkServer start(ZkServerConfig config, ZkStore store, String superDigest, ZkSecurity security)
            throws IOException {
        ZkServer server = new ZkServer(config, superDigest, security, false);
        StandaloneCommit standalone = new StandaloneCommit(server, store);
        server.commitPath = standalone;
        try {
            standalone.recover();
            server.startCommitThread();
            server.listener.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Starts a member of an ensemble: the tree comes from Zab (its snapshot and log under {@code zabDir}), writes are
     * proposed through Zab, and the client port is bound at once; clients are refused until the node serves.
     */
    public static ZkServer startEnsemble(ZkServerConfig config, String superDigest, int myId,
                                         Map<String, String> settings, Path zabDir) throws IOException {
        return startEnsemble(config, superDigest, ZkSecurity.NONE, myId, settings, zabDir);
    }

    static ZkServer startEnsemble(ZkServerConfig config, String superDigest, ZkSecurity security, int myId,
                                  Map<String, String> settings, Path zabDir) throws IOException {
        Map<String, String> named = settings;
        settings = Reconfig.withDynamicFile(settings, config.dataDir(), myId); // the last applied configuration
        DynamicConfigFile.checkNext(named, DynamicConfigFile.version(settings));
        ZkServer server = new ZkServer(config, superDigest, security, true);
        // Apache's leader and followers share the limit out: divided by (voters - 1) when there are more than two
        // (observers are not voters, so they do not change the share).
        long voters = QuorumTransport.parsePeers(settings).values().stream().filter(peer -> !peer.observer()).count();
        server.globalOutstandingLimit = (int) (config.globalOutstandingLimit() / (voters > 2 ? voters - 1 : 1));
        EnsembleCommit ensemble = new EnsembleCommit(server, settings);
        server.commitPath = ensemble;
        try {
            server.sessions.startIds(myId);
            // The commit thread runs before Zab starts: Zab hands over its durable snapshot while starting.
            server.startCommitThread();
            ensemble.startZab(myId, settings, zabDir);
            server.listener.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Starts a member of an ensemble with Apache ZooKeeper servers ({@code tandem.quorumProtocol=apache}): Apache's
     * election and leader/learner protocol, state under {@code quorumDir}; clients are refused until it follows a
     * leader.
     */
    static ZkServer startApacheEnsemble(ZkServerConfig config, String superDigest, ZkSecurity security, int myId,
                                        Map<String, String> settings, Path quorumDir) throws IOException {
        return startApacheEnsemble(config, superDigest, security, myId, settings, quorumDir, null);
    }

    /**
     * As above; {@code zooCfg} is the one zoo.cfg the node was started on (null: none), beside which the dynamic
     * configuration files go and which a reconfig rewrites, as Apache's do ({@link ApacheConfigFiles}).
     */
    static ZkServer startApacheEnsemble(ZkServerConfig config, String superDigest, ZkSecurity security, int myId,
                                        Map<String, String> settings, Path quorumDir, Path zooCfg)
            throws IOException {
        Map<String, String> named = settings;
        settings = Reconfig.withDynamicFile(settings, config.dataDir(), myId); // the last activated configuration
        // A zoo.cfg.dynamic.next is read (and adopted) as Apache reads it, once the restored state is known.
        ApacheConfigFiles configFiles = new ApacheConfigFiles(config.dataDir(), zooCfg, myId, named);
        ZkServer server = new ZkServer(config, superDigest, security, true);
        long voters = QuorumTransport.parsePeers(settings).size();
        server.globalOutstandingLimit = (int) (config.globalOutstandingLimit() / (voters > 2 ? voters - 1 : 1));
        server.sessions.startIds(myId);
        ApacheEnsembleCommit apache;
        try {
            apache = new ApacheEnsembleCommit(server, myId, settings, quorumDir, configFiles);
        } catch (IOException | RuntimeException e) {
            server.listener.shutdown();
            throw e;
        }
        server.commitPath = apache;
        try {
            server.startCommitThread();
            apache.start();
            server.listener.bind();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * A member without threads or ports, for the deterministic simulator: {@code zab} stands in for the
     * {@link io.tandem.server.zab.ZabServer}, time is {@code clock}'s (sessions' expiry included), snapshots are written on the commit thread, and
     * the caller runs the commit thread's turns ({@link #runCommitTurn}) and attaches client connections itself.
     * Everything else (EnsembleCommit, Preparer, SessionTracker, DataTree, Responder) is the production code.
     */
    static ZkServer simulatedMember(ZkServerConfig config, String superDigest, int myId, Map<String, String> settings,
                                    EnsembleZab zab, CommitClock clock) {
        ZkServer server = new ZkServer(config, superDigest, ZkSecurity.NONE, true);
        EnsembleCommit ensemble = new EnsembleCommit(server, settings, clock, true);
        ensemble.attachZab(zab, myId);
        server.commitPath = ensemble;
        server.sessions.startIds(myId, clock.currentTimeMillis());
        server.sessions.useClock(clock::nanoTime); // sessions expire on the virtual clock, so a seed replays
        server.containers.useClock(clock); // and containers and TTL nodes are swept on it
        server.running = true;
        return server;
    }

    /** One turn of the commit thread without waiting: what is queued now, then the path's tick (simulator only). */
    void runCommitTurn() throws IOException {
        List<Request> batch = new ArrayList<>();
        takeConsensusTasks(batch);
        queue.drainTo(batch, BATCH_REQUESTS_MAX);
        commitTurn(batch);
    }

    public int port() {
        return listener.port();
    }

    /** The secure (TLS) client port, or -1 when there is none. */
    public int securePort() {
        return listener.securePort();
    }

    public long lastProcessedZxid() {
        return lastProcessedZxid;
    }

    String superDigest() {
        return superDigest;
    }

    CommitPath commitPath() {
        return commitPath;
    }

    /** Apache's server state for srvr and mntr: standalone, leader, follower, or looking while there is no leader. */
    String mode() {
        return commitPath.mode();
    }

    int globalOutstandingLimit() {
        return globalOutstandingLimit;
    }

    int queuedRequests() {
        return queue.size();
    }

    long appliedTxns() {
        return appliedTxns;
    }

    /** Recovery replayed the log into the tree: publish where it ended. */
    void recovered() {
        lastProcessedZxid = tree.lastProcessedZxid();
    }

    // ---------------------------------------------------------------- start-up and shut-down

    private void startCommitThread() {
        running = true;
        commitThread = new Thread(this::runCommitLoop, "zk-commit");
        commitThread.setDaemon(true);
        commitThread.start();
    }

    /** Stops like a killed process would as far as the disk is concerned: no snapshot, only the synced log remains. */
    void closeWithoutSnapshot() {
        commitPath.skipShutdownSnapshot();
        close();
    }

    @Override
    public void close() {
        listener.stopAccepting();
        commitPath.stopIntake();
        listener.closeAll();
        if (commitThread != null) {
            // No interrupt: the loop polls with a short timeout, and an interrupt would abort the shutdown snapshot.
            running = false;
            try {
                commitThread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        commitPath.close();
        listener.shutdown();
    }

    // ---------------------------------------------------------------- submitting work

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
        if (!queue.offer(new Request(null, 0, 0, Request.KIND_TASK, task))) {
            result.completeExceptionally(new IllegalStateException("ZooKeeper request queue is full"));
        }
        return result;
    }

    /**
     * Runs {@code task} on the commit thread, in order with the other consensus tasks and ahead of the client requests
     * waiting then; never waits, so the consensus thread that calls it never stalls on clients.
     */
    void runOnCommitThread(Runnable task) {
        consensusTasks.add(new Request(null, 0, 0, Request.KIND_TASK, task));
        // A full client queue means the commit thread is busy: it takes the task at its next turn without a wake-up.
        queue.offer(WAKE);
    }

    private void takeConsensusTasks(List<Request> batch) {
        Request task;
        while ((task = consensusTasks.poll()) != null) {
            batch.add(task);
        }
    }

    // ---------------------------------------------------------------- the commit thread

    private void runCommitLoop() {
        List<Request> batch = new ArrayList<>();
        while (running) {
            try {
                // A container sweep in progress wakes the thread for its next paced deletion.
                Request first = consensusTasks.isEmpty() ? queue.poll(Math.min(SessionTracker.CHECK_INTERVAL_MS,
                        containers.msUntilNextDeletion()), TimeUnit.MILLISECONDS) : null;
                takeConsensusTasks(batch);
                if (first != null) {
                    batch.add(first);
                }
                queue.drainTo(batch, BATCH_REQUESTS_MAX - 1);
                commitTurn(batch);
            } catch (InterruptedException e) {
                if (!running) {
                    break;
                }
            } catch (IOException e) {
                // The log cannot be written: nothing more may be acknowledged. Apache exits in this situation.
                LOG.log(Level.ERROR, "ZooKeeper transaction log failed; the server stops accepting requests", e);
                running = false;
                listener.closeAll();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "unexpected failure on the ZooKeeper commit thread", e);
            } catch (Error e) {
                stopServing(e);
            } finally {
                batch.clear();
            }
        }
        commitPath.onCommitThreadExit();
    }

    /**
     * An Error (memory ran out) on the thread that applies every write. In a {@code tandem start} process
     * {@link FatalErrors} halts it; embedded (a JUnit test, an application) the server stops serving,
     * as Apache's ZooKeeperServer goes to its ERROR state when a critical thread dies: its ports and connections close,
     * so clients see a disconnect instead of waiting forever on a thread that is gone. Every acknowledged write is in
     * the log already (a write is answered after its fsync).
     */
    private void stopServing(Error error) {
        FatalErrors.check(error);
        running = false;
        try {
            LOG.log(Level.ERROR, "ZooKeeper commit thread failed; the server stops serving: " + error);
            listener.stopAccepting();
            listener.closeAll();
        } catch (Throwable e) {
            // Memory may still be short: the loop ends anyway, and close() releases the rest.
        }
    }

    private void commitTurn(List<Request> batch) throws IOException {
        cleanUpClosedConnections();
        if (commitPath.decidesExpiry()) {
            sessions.addExpired(batch);
            containers.addDeletions(batch);
        } else {
            containers.abandonSweep(); // a new leadership starts a sweep of its own, as Apache's ContainerManager
        }
        commitPath.tick();
        if (!batch.isEmpty()) {
            commitPath.processBatch(batch);
        }
    }

    /** Drops the watches of closed connections and detaches them from their sessions. */
    private void cleanUpClosedConnections() {
        ServerConnection connection;
        while ((connection = listener.pollClosed()) != null) {
            tree.watches.removeWatcher(connection);
            sessions.detach(connection);
        }
    }

    /** Applies a txn to the sessions and the tree (Apache's processTxn); the result is what the reply is built from. */
    DataTree.Result applyTxn(TxnHeader header, JuteRecord txn) {
        return applyTxn(header, txn, null, 0);
    }

    /** As above, with the node its preparation found at {@code generation} of the tree (see {@link Request#node}). */
    private DataTree.Result applyTxn(TxnHeader header, JuteRecord txn, DataNode node, int generation) {
        sessions.apply(header, txn);
        DataTree.Result result = tree.processTxn(header, txn, node, generation);
        lastProcessedZxid = tree.lastProcessedZxid();
        appliedTxns++;
        return result;
    }

    /** Completes a request whose turn has come: runs a task, answers a re-attach, or applies and answers. */
    void finish(Request request) {
        if (request.type == Request.KIND_SYNCED) {
            return;
        }
        if (request.type == Request.KIND_TASK) {
            if (request.body instanceof Runnable task) {
                task.run();
            }
            return;
        }
        if (request.type == Request.KIND_CONNECT) {
            if (sessions.reattach(request)) {
                responder.markForFlush(request.connection);
            }
            return;
        }
        DataTree.Result result = request.header == null ? null
                : applyTxn(request.header, request.txn, request.node, request.nodeGeneration);
        request.node = null;
        responder.reply(request, result);
    }
}
