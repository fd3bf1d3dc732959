package io.tandem.server.zookeeper;

import io.tandem.server.zab.LogSyncStats;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.server.zab.Role;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabServer;
import io.tandem.storage.zk.SnapshotBody;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * What {@link EnsembleCommit} needs of Zab: {@link ZabServer} in production ({@link #of(ZabServer)}); the
 * deterministic simulator hands in its own, backed by the same {@code ZabDriver} over simulated disk, network and
 * clock. As with {@link ZabServer}, {@link #submit} and {@link #compact} only queue: Zab takes them up on its own turn.
 */
interface EnsembleZab {
    boolean submit(byte[] txn);

    boolean isServing();

    Role role();

    int leaderId();

    long committedZxid();

    boolean isObserver();

    boolean isRecovering();

    /**
     * This member follows as a joiner no configuration names yet (Apache's non-voting follower): a configuration
     * without it does not remove it.
     */
    default boolean isJoining() {
        return false;
    }

    SnapshotData writeSnapshot(long zxid, SnapshotBody body) throws IOException;

    boolean compact(long zxid, SnapshotData snapshot);

    /**
     * A configuration applied at {@code zxid} (or a snapshot's, at its version): its members, this member's own line
     * included unless it was removed (see {@link ZabServer#changeMembers}). False when Zab cannot take it now; offered
     * again later.
     */
    boolean changeMembers(long zxid, Map<Integer, QuorumTransport.Peer> members);

    /** On the leader: whether {@code id} is this leader or a learner synced with it (reconfig's NewConfigNoQuorum). */
    boolean isSyncedWithLeader(int id);

    /** Counters for the metrics, or null when there are none. */
    ZabServer.Stats stats();

    /** mntr's figures about this member's log (Apache's names), or null when it has no log files (the simulator). */
    default LogSyncStats logStats() {
        return null;
    }

    /** See {@link ZabServer#syncedObservers}: null when this member is not an established leader. */
    default List<Map<String, Object>> syncedObservers() {
        return null;
    }

    /** See {@link ZabServer#resetObserverStats}. */
    default void resetObserverStats() {
    }

    /** See {@link ZabServer#reportLeader}. */
    default void reportLeader(int pendingSyncs, java.util.function.BiConsumer<String, Object> line) {
    }

    /** See {@link ZabServer#proposalSizes}: null when this member is not an established leader. */
    default ProposalSizes proposalSizes() {
        return null;
    }

    /** See {@link ZabServer#quorumFigures}: null where there are none (the simulator). */
    default io.tandem.server.zab.QuorumFigures quorumFigures() {
        return null;
    }

    void close() throws IOException;

    static EnsembleZab of(ZabServer server) {
        return new Production(server);
    }

    /** The production Zab: one {@link ZabServer} with its thread, files and quorum transport. */
    record Production(ZabServer server) implements EnsembleZab {
        @Override
        public boolean submit(byte[] txn) {
            return server.submit(txn);
        }

        @Override
        public boolean isServing() {
            return server.isServing();
        }

        @Override
        public Role role() {
            return server.role();
        }

        @Override
        public int leaderId() {
            return server.leaderId();
        }

        @Override
        public long committedZxid() {
            return server.committedZxid();
        }

        @Override
        public boolean isObserver() {
            return server.isObserver();
        }

        @Override
        public boolean isRecovering() {
            return server.isRecovering();
        }

        @Override
        public boolean isJoining() {
            return server.isJoining();
        }

        @Override
        public List<Map<String, Object>> syncedObservers() {
            return server.syncedObservers();
        }

        @Override
        public void resetObserverStats() {
            server.resetObserverStats();
        }

        @Override
        public void reportLeader(int pendingSyncs, java.util.function.BiConsumer<String, Object> line) {
            server.reportLeader(pendingSyncs, line);
        }

        @Override
        public ProposalSizes proposalSizes() {
            return server.proposalSizes();
        }

        @Override
        public io.tandem.server.zab.QuorumFigures quorumFigures() {
            return server.quorumFigures();
        }

        @Override
        public SnapshotData writeSnapshot(long zxid, SnapshotBody body) throws IOException {
            return server.writeSnapshot(zxid, body);
        }

        @Override
        public boolean compact(long zxid, SnapshotData snapshot) {
            return server.compact(zxid, snapshot);
        }

        @Override
        public boolean changeMembers(long zxid, Map<Integer, QuorumTransport.Peer> members) {
            return server.changeMembers(zxid, members);
        }

        @Override
        public boolean isSyncedWithLeader(int id) {
            return server.isSyncedWithLeader(id);
        }

        @Override
        public ZabServer.Stats stats() {
            return server.stats();
        }

        @Override
        public LogSyncStats logStats() {
            return server.logStats();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
