package io.tandem.server.zookeeper;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The standalone server's group commit, on its own thread (Apache's SyncRequestProcessor): the commit thread appends
 * transactions to the store and asks for them to be made durable; this thread fsyncs everything appended so far in
 * one go, publishes the zxid now durable and wakes the commit thread, which applies and answers up to it. While the
 * disk works the commit thread prepares the next requests and applies the previous group, so neither the CPU nor the
 * disk waits for the other, and a slow fsync lets the next group grow instead of queueing one fsync per batch.
 */
final class LogSyncer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LogSyncer.class.getName());

    private final ZkStore store;
    private final Runnable onSynced;
    private final Object lock = new Object();
    private final Thread thread;
    /** Highest zxid appended and asked for; guarded by {@link #lock}. */
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
    LogSyncer(ZkStore store, long syncedZxid, Runnable onSynced) {
        this.store = store;
        this.syncedZxid = syncedZxid;
        this.requestedZxid = syncedZxid;
        this.onSynced = onSynced;
        this.thread = new Thread(this::run, "zk-log-sync");
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for everything appended up to {@code zxid} to be made durable; returns at once. */
    void syncThrough(long zxid) {
        synchronized (lock) {
            if (zxid > requestedZxid) {
                requestedZxid = zxid;
                lock.notifyAll();
            }
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
                synchronized (lock) {
                    while (requestedZxid <= syncedZxid && !stopping) {
                        lock.wait();
                    }
                    if (requestedZxid <= syncedZxid) {
                        return; // stopping, and nothing left to make durable
                    }
                    target = requestedZxid;
                }
                // Everything appended before target was asked for is flushed and forced by this one call.
                store.sync();
                syncs++;
                syncedTxns += target - syncedZxid;
                syncedZxid = target;
                onSynced.run();
            }
        } catch (IOException e) {
            failure = e;
            LOG.log(Level.SEVERE, "fsync of the ZooKeeper transaction log failed", e);
            onSynced.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
