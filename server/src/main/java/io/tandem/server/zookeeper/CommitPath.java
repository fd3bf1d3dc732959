package io.tandem.server.zookeeper;

import io.tandem.server.zab.LogSyncStats;
import io.tandem.server.zab.ProposalSizes;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * How the commit thread turns requests into applied, answered transactions: {@link StandaloneCommit} writes its own
 * log (group commit), {@link EnsembleCommit} replicates through Zab. Every method runs on the commit thread unless
 * said otherwise; both paths prepare with the same {@link Preparer}, apply with {@link ZkServer#applyTxn} and answer
 * with the same {@link Responder}, in each connection's arrival order.
 */
interface CommitPath {

    /** Handles one batch of queued requests (client requests, handshakes, internal requests, tasks). */
    void processBatch(List<Request> batch) throws IOException;

    /** Called on every turn of the commit loop, at least every {@link SessionTracker#CHECK_INTERVAL_MS}. */
    void tick();

    /** Whether this node decides session expiry and container clean-up: standalone always, an ensemble's leader. */
    boolean decidesExpiry();

    /** Apache's server state for srvr and mntr: standalone, leader, follower, observer, read-only, or looking. */
    String mode();

    /** The id of the ensemble's leader this member follows or is, -1 when there is none (and standalone). */
    /**
     * What {@code conf} prints after the server's own keys: the server id (0 standalone), and on an ensemble member
     * its quorum keys and the membership (Apache's QuorumZooKeeperServer.dumpConf).
     */
    default String confTail() {
        return "serverId=0\n";
    }

    default int leaderId() {
        return -1;
    }

    /**
     * On an ensemble's leader: Apache's LearnerHandler figures of each observer synced with it (the observers admin
     * command); null on any other server, which has none to list. Any thread.
     */
    default List<Map<String, Object>> syncedObservers() {
        return null;
    }

    /** Apache's observer_connection_stat_reset: a leader's observer connection counters start over. Any thread. */
    default void resetObserverStats() {
    }

    /**
     * On an ensemble's established leader: its leadership's proposal sizes (Apache's Leader.getProposalStats, for
     * srvr's "Proposal sizes" line and the AdminServer's {@code proposal_stats}); null on any other server, which
     * proposes nothing (Apache prints them on a leader only). Any thread.
     */
    default ProposalSizes proposalSizes() {
        return null;
    }

    /**
     * Adds this path's mntr lines, under Apache 3.9's names only (the log's figures and, on a leader, Apache's leader
     * lines). Any thread.
     */
    void reportStats(BiConsumer<String, Object> line);

    /**
     * Adds Tandem's own figures that Apache's mntr has no key for (group-commit and Zab counters): published by the
     * metrics endpoint, never printed by mntr. Any thread.
     */
    default void reportOwnStats(BiConsumer<String, Object> line) {
    }

    /** The figures of this path's transaction log, or null when it has no log files (the simulator). Any thread. */
    LogSyncStats logStats();

    /** At shutdown, before the commit thread stops (any thread): nothing new may come in from outside. */
    void stopIntake();

    /** The commit thread is about to end: finish what can be finished (standalone: fsync, answer, snapshot). */
    void onCommitThreadExit();

    /** After the commit thread has ended (any thread): release threads and files. */
    void close();

    /** Test hook: the next shutdown writes no snapshot, as a killed process would not. */
    default void skipShutdownSnapshot() {
    }
}
