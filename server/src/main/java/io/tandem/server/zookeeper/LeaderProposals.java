package io.tandem.server.zookeeper;

import io.tandem.zk.wire.OpCode;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * On an ensemble's leader, the transactions it proposed through Zab, in order, until each is seen committed: as one
 * commits, the preparer may drop the change records its prepare made (its stamp). They also say how many of them are
 * sync markers (a client's sync, the leader's own clients' or one a follower forwarded): Apache's leader counts the
 * syncs it holds until a quorum commits what came before ({@code pending_syncs} of mntr); Tandem's marker is itself a
 * proposal, held until a quorum commits it. Used on the commit thread; {@link #pendingSyncs} is read by mntr too.
 */
final class LeaderProposals {
    /** Leader-proposed transactions not yet seen committed; beyond this, writes are refused (the client retries). */
    static final int PROPOSED_MAX = 5_000;

    /** Where a transaction's TxnHeader (clientId long, cxid int, zxid long, time long, type int) keeps its type. */
    private static final int TYPE_OFFSET = Long.BYTES + Integer.BYTES + Long.BYTES + Long.BYTES;

    /** A transaction the leader proposed, with the number of the prepare that made its change records (or 0). */
    private record Proposal(byte[] txn, long stamp, boolean sync) {
    }

    private final ArrayDeque<Proposal> proposed = new ArrayDeque<>();
    /** The sync markers among {@link #proposed}; written on the commit thread only. */
    private volatile int syncs;

    /** Whether another proposal may be taken (the bound on what waits for its commit). */
    boolean hasRoom() {
        return proposed.size() < PROPOSED_MAX;
    }

    /** Zab took {@code txn} (its TxnHeader first, as every transaction's bytes) to propose. */
    void add(byte[] txn, long stamp) {
        boolean sync = isSyncMarker(txn);
        proposed.add(new Proposal(txn, stamp, sync));
        if (sync) syncs++;
    }

    /**
     * The transaction {@code bytes} committed: if it is the oldest one proposed here, it is done with, and its stamp
     * (or 0) is answered; -1 when it is not (proposed by an earlier leader, or already forgotten).
     */
    long committed(byte[] bytes) {
        Proposal oldest = proposed.peek();
        if (oldest == null || !Arrays.equals(oldest.txn(), bytes)) return -1;
        proposed.poll();
        if (oldest.sync()) syncs--;
        return oldest.stamp();
    }

    /** A role change or an installed snapshot: what was proposed before is no longer this leader's to follow. */
    void clear() {
        proposed.clear();
        syncs = 0;
    }

    /** The sync markers proposed and not yet seen committed. Any thread. */
    int pendingSyncs() {
        return syncs;
    }

    private static boolean isSyncMarker(byte[] txn) {
        return txn.length >= TYPE_OFFSET + Integer.BYTES && ByteBuffer.wrap(txn).getInt(TYPE_OFFSET) == OpCode.SYNC;
    }
}
