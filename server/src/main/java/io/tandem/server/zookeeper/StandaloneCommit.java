package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.server.zab.LogSyncStats;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The standalone commit path: three stages on two threads, pipelined like Apache's Prep -> Sync -> Final processors.
 * The commit thread prepares each batch's writes and hands them to the {@link LogSyncer} thread, which serializes and
 * appends them to the log ({@link ZkStore}) and fsyncs everything handed over so far in one call (group commit) while
 * the commit thread goes on preparing; once a transaction is durable the commit thread applies it and answers. A
 * request waits only behind its own connection's earlier requests: a read of a connection with nothing in flight is
 * answered at once. So replies leave in xid order per session, reads see every earlier write of their session,
 * nothing is visible before it is durable, and no event loop ever waits on the disk. Every {@code snapCount} txns a
 * snapshot is started in the background ({@link BackgroundSnapshots}: the commit thread only notes the zxid and copies
 * the sessions); at shutdown one is written on this thread once the tree has stopped changing.
 */
final class StandaloneCommit implements CommitPath {
    private static final Logger LOG = System.getLogger(StandaloneCommit.class.getName());

    private final ZkServer server;
    private final ZkStore store;
    /** Requests waiting for the log to be durable up to their zxid, and the requests of the same connections behind. */
    private final ArrayDeque<Request> unsynced = new ArrayDeque<>();
    /** True while a KIND_SYNCED wake-up sits in the queue, so the syncer queues at most one. */
    private final AtomicBoolean syncedWakeupQueued = new AtomicBoolean();
    private LogSyncer syncer;
    /** mntr's figures about the log (Apache's SyncRequestProcessor and FileTxnLog names). */
    private final LogSyncStats logStats = new LogSyncStats();

    @Override
    public LogSyncStats logStats() {
        return logStats;
    }
    private final BackgroundSnapshots snapshots;
    private long lastZxid;
    /** {@link ZkServer#appliedTxns} when the newest snapshot was started (or skipped because one was running). */
    private long appliedAtSnapshot;
    private volatile boolean snapshotOnClose = true;

    StandaloneCommit(ZkServer server, ZkStore store) {
        this.server = server;
        this.store = store;
        this.snapshots = new BackgroundSnapshots(store, server.tree, server.database);
        logStats.fsyncWarningThresholdMs(server.config.fsyncWarningThresholdMs());
    }

    BackgroundSnapshots snapshots() {
        return snapshots;
    }

    /** Newest valid snapshot plus log replay; then starts the log syncer from the recovered zxid. */
    void recover() throws IOException {
        DataTree tree = server.tree;
        long started = System.nanoTime();
        long snapshotZxid = store.readLatestSnapshot(
                (zxid, in) -> SnapshotFormat.read(in, tree, server.sessions.byId()));
        long snapshotLoaded = System.nanoTime();
        long[] replayed = {0};
        store.forEachTxn(snapshotZxid, (zxid, bytes) -> {
            JuteInput in = new JuteInput(Unpooled.wrappedBuffer(bytes), Integer.MAX_VALUE);
            TxnHeader header = TxnHeader.read(in);
            JuteRecord txn = Jute.txnBody(header.type(), in);
            server.applyTxn(header, txn);
            replayed[0]++;
        });
        server.database.loaded((snapshotLoaded - started) / 1_000_000, replayed[0],
                DatabaseStats.msSince(snapshotLoaded), DatabaseStats.msSince(started));
        lastZxid = tree.lastProcessedZxid();
        server.recovered();
        server.sessions.startIds(1);
        if (snapshotZxid > 0 || replayed[0] > 0) {
            LOG.log(Level.INFO, () -> "ZooKeeper data recovered: snapshot at zxid 0x" + Long.toHexString(snapshotZxid) + ", "
                    + replayed[0] + " transactions replayed, " + tree.nodeCount() + " znodes, "
                    + server.sessions.byId().size() + " sessions, last zxid 0x" + Long.toHexString(lastZxid));
        }
        syncer = new LogSyncer(store, lastZxid, logStats, this::wakeAfterSync);
    }

    /** From the syncer's thread: wakes the commit thread to answer what is now durable. */
    private void wakeAfterSync() {
        // A full queue needs no wake-up: the commit thread is busy and looks at the synced zxid after every batch.
        if (syncedWakeupQueued.compareAndSet(false, true)
                && !server.submit(new Request(null, 0, 0, Request.KIND_SYNCED, null))) {
            syncedWakeupQueued.set(false);
        }
    }

    /**
     * Prepares the batch's writes and appends them to the log, asks the syncer to make them durable, and answers at
     * once what needs nothing in flight; then applies and answers, in arrival order, everything the syncer has made
     * durable so far (this batch's writes usually come back with a later wake-up).
     */
    @Override
    public void processBatch(List<Request> batch) throws IOException {
        IOException failure = syncer.failure();
        if (failure != null) {
            throw failure;
        }
        long time = System.currentTimeMillis();
        List<LogSyncer.Pending> toLog = new ArrayList<>();
        long queued = 0;
        // Requests without a transaction held behind a write: they count in the fsync's batch size, as in Apache's.
        long held = 0;
        for (Request request : batch) {
            if (request.type == Request.KIND_SYNCED) {
                syncedWakeupQueued.set(false);
                continue;
            }
            if (request.type != Request.KIND_TASK) queued++;
            if (request.connection != null && request.type != Request.KIND_CONNECT) {
                request.sessionId = request.connection.sessionId;
            }
            if (request.type == Request.KIND_CONNECT) {
                if (server.sessions.prepareConnect(request)) {
                    server.preparer.prepare(request, ++lastZxid, time, List.of());
                }
            } else if (request.isWrite() && (request.connection == null || request.sessionId != 0)) {
                server.preparer.prepare(request, ++lastZxid, time, request.authInfo());
            }
            if (request.type == Request.KIND_TASK && !toLog.isEmpty()) {
                // A task may wait for every prepared write to be applied (the admin restore): hand them over first.
                syncer.logAndSync(List.copyOf(toLog));
                toLog.clear();
            }
            if (request.header != null) {
                toLog.add(new LogSyncer.Pending(request.header, request.txn));
                waitForSync(request);
            } else if (request.connection != null && request.connection.unsyncedRequests > 0) {
                waitForSync(request); // behind an earlier write of its connection: replies stay in xid order
                held++;
            } else {
                finishSafely(request);
            }
        }
        syncer.logAndSync(toLog, held);
        // Every request passes Apache's standalone SyncRequestProcessor (reads, pings and session requests too).
        logStats.queued(queued);
        finishSynced();
        server.responder.flushMarked();
        if (server.appliedTxns() - appliedAtSnapshot >= server.config.snapCount()) {
            startSnapshot();
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
                    server.preparer.applied(request.prepareSequence);
                }
            }
        }
    }

    private void finishSafely(Request request) {
        try {
            server.finish(request);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "failed to complete request type " + request.type + " of session 0x"
                    + Long.toHexString(request.sessionId), e);
            if (request.connection != null) {
                request.connection.closeNow();
            }
        }
    }

    /**
     * Between batches every applied transaction is in the tree and none is half applied, so the tree's last zxid now
     * is what the snapshot covers: the writer may see later changes too, and recovery replays from this zxid on.
     */
    private void startSnapshot() {
        // Counted from this attempt even when it is skipped, so a slow writer is not asked again after every batch.
        appliedAtSnapshot = server.appliedTxns();
        snapshots.start(server.tree.lastProcessedZxid(), SnapshotFormat.sessionTimeouts(server.sessions.byId()));
    }

    /**
     * The AdminServer's restore (Apache's {@code ZooKeeperServer.restoreFromSnapshot}), on this thread: every write
     * already prepared is made durable, applied and answered first; the Apache snapshot is read once into a scratch
     * tree (a damaged one changes nothing), then into the live tree and sessions in place of theirs; the zxid goes on
     * from the higher of the restored and the logged one (so zxids never go back and the log's older transactions are
     * never replayed over the restored tree), every watch set before is dropped unfired (Apache's new DataTree has none), and a snapshot of the restored tree is written at once, so a restart
     * starts from it. Returns the zxid the restored snapshot records.
     */
    long restore(java.nio.file.Path apacheSnapshot) throws IOException {
        while (true) {
            IOException failure = syncer.failure();
            if (failure != null) throw failure;
            finishSynced();
            if (unsynced.isEmpty()) break;
            java.util.concurrent.locks.LockSupport.parkNanos(200_000); // the syncer's fsync is under way
        }
        server.responder.flushMarked();
        int fieldBytesMax = server.config.frameBytesMax();
        long restoredZxid = AdminSnapshots.readApache(apacheSnapshot, new DataTree(), new java.util.HashMap<>(),
                fieldBytesMax);
        snapshots.cancelAndAwait();
        server.tree.clearForSnapshot();
        server.tree.watches.clear();
        server.sessions.byId().clear();
        AdminSnapshots.readApache(apacheSnapshot, server.tree, server.sessions.byId(), fieldBytesMax);
        server.sessions.sessionsRestored();
        lastZxid = Math.max(lastZxid, restoredZxid);
        server.tree.setLastProcessedZxid(lastZxid);
        server.recovered();
        server.preparer.clear();
        writeSnapshot(lastZxid);
        appliedAtSnapshot = server.appliedTxns();
        return restoredZxid;
    }

    /** The newest snapshot in the store as {zxid, last-modified millis}, or null when there is none (any thread). */
    long[] lastSnapshot() throws IOException {
        return store.lastSnapshot();
    }

    /** At shutdown, on this thread: the tree no longer changes, so the snapshot is exact. */
    private void takeFinalSnapshot() throws IOException {
        writeSnapshot(server.tree.lastProcessedZxid());
    }

    /** An exact snapshot on this thread (the tree does not change meanwhile), timed for mntr's snapshottime. */
    private void writeSnapshot(long zxid) throws IOException {
        long started = System.nanoTime();
        store.writeSnapshot(zxid, out -> SnapshotFormat.write(out, server.tree, server.sessions.byId()));
        server.database.snapshotWritten(DatabaseStats.msSince(started));
    }

    @Override
    public void tick() {
        // Nothing periodic: the syncer wakes the commit thread through the queue.
    }

    @Override
    public boolean decidesExpiry() {
        return true;
    }

    @Override
    public String mode() {
        return "standalone";
    }

    @Override
    public void reportStats(BiConsumer<String, Object> line) {
        logStats.report(line);
    }

    @Override
    public void reportOwnStats(BiConsumer<String, Object> line) {
        // Tandem's own: group commit (log fsyncs and the transactions they made durable).
        LogSyncer running = syncer;
        line.accept("zk_log_syncs", running == null ? 0 : running.syncs());
        line.accept("zk_log_synced_txns", running == null ? 0 : running.syncedTxns());
    }

    @Override
    public void stopIntake() {
        // Requests come only from clients, and the listener has stopped accepting them.
    }

    @Override
    public void onCommitThreadExit() {
        // Whatever was appended is made durable and answered before the shutdown snapshot, which covers it.
        syncer.close();
        if (syncer.failure() == null) {
            try {
                finishSynced();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "failed to apply the last transactions at shutdown", e);
            }
            server.responder.flushMarked();
        }
        // A background snapshot still being written is abandoned: the final one below supersedes it, and a simulated
        // crash keeps none, as a killed process would not have finished it either.
        snapshots.cancelAndAwait();
        try {
            if (snapshotOnClose && server.appliedTxns() > 0
                    && server.tree.lastProcessedZxid() != snapshots.lastCompletedZxid()) {
                takeFinalSnapshot();
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "snapshot at shutdown failed; the log still holds every transaction", e);
        }
    }

    @Override
    public void close() {
        if (syncer != null) {
            syncer.close(); // normally already stopped by the commit thread; needed if it never ran
        }
        try {
            store.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the ZooKeeper store failed", e);
        }
    }

    @Override
    public void skipShutdownSnapshot() {
        snapshotOnClose = false;
    }
}
