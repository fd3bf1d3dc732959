package io.tandem.server.zookeeper;

import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The answer-in-order machinery of an ensemble member's commit path ({@link EnsembleCommit}, and
 * {@link ApacheEnsembleCommit} in Apache mode), on the commit thread only. ZooKeeper clients need their replies in
 * request order per session, and a read must wait for its session's earlier writes, so every local request takes its
 * place in one queue in arrival order and leaves it only when it and everything ahead of it can be answered.
 *
 * <p>A write waits for its transaction to commit, found again by (session, cxid). Writes reach the leader in this
 * member's order and commit in that order, so a write still waiting ahead of one that committed was dropped (a leader
 * change, a refused proposal) and its client is disconnected to retry ({@link #committed}). A write that waited past
 * the lost-write deadline tells the same without any later commit ({@link #closeLost}).
 */
final class PendingAnswers {
    private static final Logger LOG = System.getLogger(PendingAnswers.class.getName());

    /** What an entry waits for before its turn to be answered comes. */
    enum Wait { NONE, COMMIT, SYNC, REVALIDATE }

    private record Key(long sessionId, int cxid) {
    }

    /** One request of a local client in arrival order. */
    static final class Entry {
        final Request request;
        /** When the wait started, on the commit path's clock (what the lost-write deadline counts from). */
        final long sinceNanos;
        private Wait wait;
        private boolean lost;
        private DataTree.Result result;

        private Entry(Request request, Wait wait, long sinceNanos) {
            this.request = request;
            this.wait = wait;
            this.sinceNanos = sinceNanos;
        }

        boolean waiting() {
            return wait != Wait.NONE;
        }
    }

    private final ZkServer server;
    private final long lostAfterNanos;
    /** Told of each entry given up as lost (its client disconnected), e.g. to drop it from another waiting queue. */
    private final Consumer<Entry> onLost;
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final Map<Key, Entry> awaitingCommit = new HashMap<>();

    /**
     * @param lostAfterNanos how long a request may wait for the leader while this member serves before its client is
     *                       told to retry
     */
    PendingAnswers(ZkServer server, long lostAfterNanos, Consumer<Entry> onLost) {
        this.server = server;
        this.lostAfterNanos = lostAfterNanos;
        this.onLost = onLost;
    }

    /** Queues a request answered in its turn with nothing more to wait for (a read, a re-attach decided here). */
    Entry answerInTurn(Request request, long nowNanos) {
        Entry entry = new Entry(request, Wait.NONE, nowNanos);
        queue.add(entry);
        return entry;
    }

    /** Queues a write that waits for the commit of the transaction {@code (sessionId, cxid)}. */
    Entry awaitCommit(Request request, long sessionId, int cxid, long sinceNanos) {
        Entry entry = new Entry(request, Wait.COMMIT, sinceNanos);
        queue.add(entry);
        awaitingCommit.put(new Key(sessionId, cxid), entry);
        return entry;
    }

    /** Queues a request that waits for something the caller tracks ({@link Wait#SYNC}, {@link Wait#REVALIDATE}). */
    Entry await(Request request, Wait wait, long sinceNanos) {
        Entry entry = new Entry(request, wait, sinceNanos);
        queue.add(entry);
        return entry;
    }

    /**
     * The transaction of {@code (sessionId, cxid)} committed: returns the entry that waited for it (or null), no
     * longer waiting and with {@code result} as its answer; writes still waiting ahead of it are lost.
     */
    Entry committed(long sessionId, int cxid, DataTree.Result result) {
        Entry entry = awaitingCommit.remove(new Key(sessionId, cxid));
        if (entry != null) {
            resolve(entry, result);
            dropLostBefore(entry);
        }
        return entry;
    }

    /**
     * A committed transaction was applied ({@code result} null for a sync marker, answered as a read): the local
     * request waiting for it, if any, is answered in its turn, with a reply built from what was committed (a follower
     * never saw the prepared transaction). A close of a session no local request waits for (expired by the leader, or
     * closed through another member) closes the connection holding that session here.
     */
    void answerCommitted(TxnHeader header, JuteRecord txn, DataTree.Result result) {
        Entry entry = committed(header.clientId(), header.cxid(), result);
        if (entry != null) {
            if (result != null) {
                entry.request.header = header;
                entry.request.txn = txn;
            }
        } else if (header.type() == OpCode.CLOSE_SESSION) {
            server.listener.closeOwnerOf(header.clientId(), null);
        }
    }

    /** What the caller tracked arrived: the entry is answered in its turn. */
    void resolve(Entry entry, DataTree.Result result) {
        entry.result = result;
        entry.wait = Wait.NONE;
    }

    private void dropLostBefore(Entry committed) {
        for (Entry entry : queue) {
            if (entry == committed) {
                return;
            }
            if (entry.wait == Wait.COMMIT) {
                lose(entry);
            }
        }
    }

    private void lose(Entry entry) {
        entry.wait = Wait.NONE;
        entry.lost = true;
        awaitingCommit.values().remove(entry);
        onLost.accept(entry);
        entry.request.connection.closeNow();
    }

    /** Answers the entries at the head of the queue that wait for nothing, in order. */
    void drain() {
        while (!queue.isEmpty() && !queue.peek().waiting()) {
            Entry entry = queue.poll();
            if (entry.lost) {
                continue;
            }
            try {
                if (entry.request.type == Request.KIND_CONNECT) {
                    server.finish(entry.request); // re-attach
                } else {
                    server.responder.reply(entry.request, entry.result);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "failed to answer request type " + entry.request.type + " of session 0x"
                        + Long.toHexString(entry.request.sessionId), e);
                entry.request.connection.closeNow();
            }
        }
    }

    /**
     * Requests reach the leader in arrival order, so the oldest waiting one tells whether anything was dropped
     * silently: once it has waited past the limit, its client and every client waiting behind it are disconnected
     * (they see ConnectionLoss and retry, as after a leader change; their requests may still commit, as in Apache),
     * and what can be answered is. Returns whether it did so.
     */
    boolean closeLost(long nowNanos) {
        Entry oldest = null;
        for (Entry entry : queue) {
            if (entry.waiting()) {
                oldest = entry;
                break;
            }
        }
        if (oldest == null || nowNanos - oldest.sinceNanos < lostAfterNanos) {
            return false;
        }
        long session = oldest.request.sessionId;
        LOG.log(Level.WARNING, () -> "A request of session 0x" + Long.toHexString(session) + " waited over "
                + TimeUnit.NANOSECONDS.toMillis(lostAfterNanos) + " ms for the leader; disconnecting the clients "
                + "whose requests are still waiting");
        for (Entry entry : queue) {
            if (entry.waiting()) {
                lose(entry);
            }
        }
        awaitingCommit.clear();
        drain();
        server.responder.flushMarked();
        return true;
    }

    /** Forgets everything (the leader changed: the clients were disconnected and retry). */
    void clear() {
        queue.clear();
        awaitingCommit.clear();
    }
}
