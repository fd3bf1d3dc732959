package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.zab.LogSyncStats;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The standalone server's group commit, on its own thread (Apache's SyncRequestProcessor): the commit thread hands
 * over each batch's prepared transactions; this thread serializes them, appends them to the store (CRC and copy into
 * the log's buffer) and fsyncs everything handed over so far in one go, publishes the zxid now durable and wakes the
 * commit thread, which applies and answers up to it. While the disk works the commit thread prepares the next
 * requests and applies the previous group, so neither the CPU nor the disk waits for the other, and a slow fsync lets
 * the next group grow instead of queueing one fsync per batch. The serialization and the log copy run here, not on
 * the commit thread, because that one thread bounds the server's write rate (docs/profiles/zk-writes.md).
 */
final class LogSyncer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(LogSyncer.class.getName());

    /** What the reused serialization buffer may keep between groups; a larger transaction grows it for a while. */
    private static final int TXN_BUFFER_BYTES_KEPT = 64 << 10;

    private final ZkStore store;
    /** mntr's batch sizes and fsync times, counted here where the log is written and forced. */
    private final LogSyncStats stats;
    private final Runnable onSynced;
    /** This thread's serialization buffer (heap, so the log copies straight from its array) and its writer. */
    private ByteBuf txnBuffer = Unpooled.buffer(4096);
    private JuteOutput txnOutput = new JuteOutput(txnBuffer);
    private final Object lock = new Object();
    private final Thread thread;
    /** Transactions handed over and not yet taken by this thread, in zxid order; guarded by {@link #lock}. */
    private List<Pending> pending = new ArrayList<>();
    /** The list this thread logged last, emptied, to become {@link #pending} at the next take (two lists swap). */
    private List<Pending> spare = new ArrayList<>();
    /**
     * Requests without a transaction (reads, pings) held behind {@link #pending}'s writes, to be answered after the
     * fsync that takes them: Apache's SyncRequestProcessor queues such a request behind its unflushed batch and counts
     * it in the batch's size. Guarded by {@link #lock}.
     */
    private long pendingHeld;
    /** Highest zxid handed over; guarded by {@link #lock}. */
    private long requestedZxid;
    /** Set to stop once everything asked for is durable; guarded by {@link #lock}. */
    private boolean stopping;
    private volatile long syncedZxid;
    private volatile IOException failure;
    // Statistics for mntr: fsyncs, and the transactions they made durable (zxids are consecutive standalone).
    private volatile long syncs;
    private volatile long syncedTxns;

    /**
     * {@code syncedZxid} is what is already durable (recovered from the log); {@code onSynced} runs on this thread
     * after every fsync and after a failure, and must only hand off (it wakes the commit thread).
     */
    LogSyncer(ZkStore store, long syncedZxid, LogSyncStats stats, Runnable onSynced) {
        this.store = store;
        this.stats = stats;
        this.syncedZxid = syncedZxid;
        this.requestedZxid = syncedZxid;
        this.onSynced = onSynced;
        this.thread = new Thread(this::run, "zk-log-sync");
        thread.setDaemon(true);
        thread.start();
    }

    /** One prepared transaction waiting to be logged (the records are immutable, so any thread may write them). */
    record Pending(TxnHeader header, JuteRecord txn) {
    }

    /**
     * Hands over one batch's transactions, in zxid order, to be logged and made durable; returns at once (the batch's
     * requests hold the same records while they wait, so this adds no memory a client could grow).
     */
    void logAndSync(List<Pending> batch) {
        logAndSync(batch, 0);
    }

    /**
     * As {@link #logAndSync(List)}, with {@code held} requests without a transaction that wait behind these writes (or
     * behind earlier ones not yet taken by this thread): they count in the size of the batch the next fsync makes
     * durable, as Apache counts the reads in its toFlush list. Held behind a batch already being fsynced they count in
     * none, as a read that reaches Apache's SyncRequestProcessor during a flush finds the list empty and passes.
     */
    void logAndSync(List<Pending> batch, long held) {
        if (batch.isEmpty() && held == 0) {
            return;
        }
        synchronized (lock) {
            if (!batch.isEmpty()) {
                pending.addAll(batch);
                requestedZxid = batch.get(batch.size() - 1).header().zxid();
                lock.notifyAll();
            }
            if (!pending.isEmpty()) pendingHeld += held;
        }
    }

    /** Every transaction appended up to this zxid is durable. */
    long syncedZxid() {
        return syncedZxid;
    }

    /** The fsync failure that stopped this thread, or null; nothing after {@link #syncedZxid} may be acknowledged. */
    IOException failure() {
        return failure;
    }

    long syncs() {
        return syncs;
    }

    long syncedTxns() {
        return syncedTxns;
    }

    private void run() {
        try {
            while (true) {
                long target;
                long held;
                List<Pending> toLog;
                synchronized (lock) {
                    while (requestedZxid <= syncedZxid && !stopping) {
                        lock.wait();
                    }
                    if (requestedZxid <= syncedZxid) {
                        return; // stopping, and nothing left to make durable
                    }
                    target = requestedZxid;
                    toLog = pending;
                    pending = spare;
                    held = pendingHeld;
                    pendingHeld = 0;
                }
                for (Pending txn : toLog) {
                    // Serialized into one reused buffer that the log copies from: no array, Netty buffer and
                    // buffer growth per transaction (docs/profiles/zk-writes.md).
                    txnBuffer.clear();
                    txn.header().write(txnOutput);
                    if (txn.txn() != null) {
                        txn.txn().write(txnOutput);
                    }
                    store.append(txn.header().zxid(), txnBuffer.array(),
                            txnBuffer.arrayOffset() + txnBuffer.readerIndex(), txnBuffer.readableBytes());
                }
                toLog.clear();
                spare = toLog;
                if (txnBuffer.capacity() > TXN_BUFFER_BYTES_KEPT) {
                    // A large transaction grew it (up to jute.maxbuffer): give that memory back.
                    txnBuffer.release();
                    txnBuffer = Unpooled.buffer(TXN_BUFFER_BYTES_KEPT);
                    txnOutput = new JuteOutput(txnBuffer);
                }
                // Everything handed over up to target is flushed and forced by this one call.
                // Mntr's batch size: the transactions and the requests held behind them (Apache's toFlush list).
                stats.appended(target - syncedZxid + held);
                long syncStarted = System.nanoTime();
                store.sync();
                stats.synced((System.nanoTime() - syncStarted) / 1_000_000);
                syncs++;
                syncedTxns += target - syncedZxid;
                syncedZxid = target;
                onSynced.run();
            }
        } catch (IOException | RuntimeException e) {
            failure = e instanceof IOException io ? io : new IOException("logging a transaction failed", e);
            LOG.log(Level.ERROR, "writing or fsyncing the ZooKeeper transaction log failed", e);
            onSynced.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            txnBuffer.release();
        }
    }

    /** Makes everything asked for durable, then stops the thread. */
    @Override
    public void close() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
