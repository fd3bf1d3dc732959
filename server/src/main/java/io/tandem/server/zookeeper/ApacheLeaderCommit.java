package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.server.zab.apache.ApacheConfig;
import io.tandem.server.zab.apache.ApacheLeader;
import io.tandem.server.zab.apache.LearnerWire;
import io.tandem.server.zab.apache.LeaderApplication;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The leader's half of {@link ApacheEnsembleCommit}: while this member leads Apache followers ({@link ApacheLeader}),
 * it prepares every write, its own clients' and those the followers forward as REQUEST packets, on the commit thread
 * against the tree plus its outstanding changes (the {@link Preparer}, as Apache's PrepRequestProcessor), numbers it
 * with the leader's next zxid and proposes it; its sessions are the ensemble's (createSession and closeSession are
 * proposed here, expiry is decided here, followers' PING answers and REVALIDATEs touch them). Commits come back
 * through {@link ApacheEnsembleCommit#onCommit} like a follower's.
 */
final class ApacheLeaderCommit {
    private static final Logger LOG = System.getLogger(ApacheLeaderCommit.class.getName());

    /** A proposal made here and the preparation that made its change records, dropped once it is applied. */
    private record Stamp(long zxid, long prepareSequence) {
    }

    private final ZkServer server;
    private final PendingAnswers answers;
    private final ArrayDeque<Stamp> proposed = new ArrayDeque<>();
    /** The established leadership, or null; written on the commit thread. */
    private volatile ApacheLeader leader;
    /**
     * The established leadership's proposal sizes (Apache's Leader.proposalStats), or null: the data of each PROPOSAL
     * packet, the transaction as Apache's Leader.propose measures it (without the TxnDigest Apache adds, as Tandem's
     * proposals carry none). Recorded on the commit thread, read by srvr and mntr on theirs.
     */
    private volatile ProposalSizes proposalSizes;
    private boolean unflushed;

    ApacheLeaderCommit(ZkServer server, PendingAnswers answers) {
        this.server = server;
        this.answers = answers;
    }

    boolean leading() {
        return leader != null;
    }

    /** This leader or a learner synced with it (Reconfig's NewConfigNoQuorum check); true while not leading. */
    boolean isSynced(long sid) {
        ApacheLeader now = leader;
        return now == null || now.isSynced(sid);
    }

    /** Apache's leader lines of mntr while leading, its proposal sizes last; nothing otherwise. Any thread. */
    void reportStats(java.util.function.BiConsumer<String, Object> line) {
        ApacheLeader now = leader;
        ProposalSizes sizes = proposalSizes;
        if (now == null || sizes == null) return;
        now.reportStats(line);
        int[] lastMinMax = sizes.lastMinMax();
        line.accept("zk_last_proposal_size", lastMinMax[0]);
        line.accept("zk_max_proposal_size", lastMinMax[2]);
        line.accept("zk_min_proposal_size", lastMinMax[1]);
    }

    /** The established leadership's observers with their LearnerHandler figures, null while not leading. */
    java.util.List<java.util.Map<String, Object>> observersInfo() {
        ApacheLeader now = leader;
        return now == null ? null : now.observersInfo();
    }

    /** Apache's observer_connection_stat_reset: the leadership's observer counters start over. Any thread. */
    void resetObserverStats() {
        ApacheLeader now = leader;
        if (now != null) now.resetObserverStats();
    }

    /** The established leadership's proposal sizes, null while not leading. Any thread. */
    ProposalSizes proposalSizes() {
        return proposalSizes;
    }

    /** Commit thread: the leadership was established (with {@code now}) or ended (null). */
    void leadership(ApacheLeader now) {
        proposalSizes = now == null ? null : new ProposalSizes(); // Apache's new Leader starts at -1/-1/-1
        leader = now;
        proposed.clear();
        server.preparer.clear();
        // Closes prepared under an earlier role may never commit; a new leader gives every session a full timeout.
        for (Session session : server.sessions.byId().values()) {
            session.closing = false;
            if (now != null) session.touch();
        }
    }

    /** Commit thread: one request of this member's batch while leading. */
    void process(Request request, long time) {
        if (request.type == Request.KIND_CONNECT) {
            if (server.sessions.prepareConnect(request)) {
                propose(request, time, List.of());
            } else if (request.type != Request.KIND_TASK) {
                answers.answerInTurn(request, request.receivedNanos); // the leader owns sessions: decided here
            }
        } else if (request.isWrite() && (request.connection == null || request.sessionId != 0)) {
            propose(request, time, request.authInfo());
        } else if (request.type == OpCode.SYNC && request.sessionId != 0) {
            PendingAnswers.Entry entry = answers.await(request, PendingAnswers.Wait.SYNC, request.receivedNanos);
            leader.sync(() -> enqueue(() -> {
                answers.resolve(entry, null); // answered as a read once everything proposed before is applied
                answers.drain();
                server.responder.flushMarked();
            }));
        } else if (request.connection != null) {
            answers.answerInTurn(request, request.receivedNanos);
        }
    }

    /** Commit thread, after a batch: the batch's proposals become durable here (one fsync). */
    void flush() {
        ApacheLeader running = leader;
        if (!unflushed || running == null) {
            return;
        }
        unflushed = false;
        try {
            running.flush();
        } catch (IOException e) {
            LOG.log(Level.ERROR, "the leader's log fsync failed: ending the leadership", e);
            closeQuietly(running);
        }
    }

    private void propose(Request request, long time, List<Id> auth) {
        ApacheLeader running = leader;
        long zxid = running == null ? -1 : running.nextZxid();
        boolean proposedHere = false;
        if (zxid >= 0) {
            server.preparer.prepare(request, zxid, time, auth);
            ApacheConfig reconfig = null;
            if (request.header.type() == OpCode.RECONFIG) {
                // Apache's PrepRequestProcessor versions the new configuration with the reconfig's own zxid
                // (qv.setVersion), which this leader knows now: the text carries it, as the followers read it.
                request.txn = Reconfig.stamped((SetDataTxn) request.txn, zxid);
                reconfig = ApacheConfig.parse(((SetDataTxn) request.txn).data());
            }
            try {
                byte[] txn = Jute.txnBytes(request.header, request.txn);
                proposedHere = running.propose(zxid, txn, reconfig);
                // A reconfig proposed here is the last seen configuration (ApacheLeader tells the member: the
                // election and zoo.cfg.dynamic.next); a refused one is not, so a restart does not take it up.
                if (proposedHere) proposalSizes.record(txn.length);
            } catch (IOException e) {
                LOG.log(Level.ERROR, "the leader's log append failed: ending the leadership", e);
                closeQuietly(running);
            }
            if (proposedHere) {
                proposed.add(new Stamp(zxid, request.prepareSequence));
                unflushed = true;
            } else {
                server.preparer.withdraw(request.prepareSequence);
            }
        }
        if (request.connection == null) {
            return;
        }
        if (!proposedHere) {
            request.connection.closeNow(); // no leadership any more: the client fails over
            return;
        }
        answers.awaitCommit(request, request.header.clientId(), request.xid, request.receivedNanos);
    }

    /** Commit thread: a committed transaction was applied; the change records of its preparation go. */
    void applied(long zxid) {
        while (!proposed.isEmpty() && proposed.peek().zxid() <= zxid) {
            Stamp stamp = proposed.poll();
            if (stamp.zxid() == zxid) {
                server.preparer.applied(stamp.prepareSequence());
            }
        }
    }

    /** Commit thread: a follower's forwarded request (Apache's REQUEST). */
    void forwarded(long learnerSid, long sessionId, int cxid, int type, byte[] body, List<LearnerWire.Id> auth) {
        ApacheLeader running = leader;
        if (running == null) {
            return; // the leadership ended: the follower's client retries
        }
        if (type == OpCode.SYNC) {
            running.syncLearner(learnerSid);
            return;
        }
        Request request;
        if (type == OpCode.CREATE_SESSION) {
            if (body.length < 4) {
                LOG.log(Level.WARNING, () -> "Dropping a forwarded createSession without a timeout from server " + learnerSid);
                return;
            }
            request = new Request(null, sessionId, cxid, type, null);
            request.negotiatedTimeout = ByteBuffer.wrap(body).getInt();
        } else if (type == OpCode.CLOSE_SESSION) {
            request = new Request(null, sessionId, cxid, type, null);
        } else {
            Object decoded;
            try {
                decoded = RequestBodies.decode(type, new JuteInput(Unpooled.wrappedBuffer(body), Integer.MAX_VALUE));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, () -> "Dropping a malformed forwarded request of type " + type + " from server "
                        + learnerSid + ": " + e);
                return;
            }
            if (decoded == RequestBodies.UNKNOWN || !OpCode.isWrite(type)) {
                LOG.log(Level.WARNING, () -> "Dropping a forwarded request of type " + type + " from server " + learnerSid
                        + ": not a write");
                return;
            }
            request = new Request(null, sessionId, cxid, type, decoded);
        }
        List<Id> ids = new ArrayList<>();
        for (LearnerWire.Id id : auth) {
            ids.add(new Id(id.scheme(), id.id()));
        }
        propose(request, System.currentTimeMillis(), ids);
    }

    /** Commit thread: whether a session a follower's client reconnects with is alive; it is touched if so. */
    void revalidate(long learnerSid, long sessionId) {
        ApacheLeader running = leader;
        if (running == null) {
            return;
        }
        Session session = server.sessions.byId().get(sessionId);
        boolean valid = session != null && !session.closing;
        if (valid) {
            session.touch();
        }
        running.revalidated(learnerSid, sessionId, valid);
    }

    /** Commit thread: a follower's PING answer keeps its clients' sessions alive. */
    void touch(Map<Long, Integer> touches) {
        for (long id : touches.keySet()) {
            Session session = server.sessions.byId().get(id);
            if (session != null) session.touch();
        }
    }

    /**
     * A learner's thread: the tree and sessions as Apache's SNAP body with its signature, written later by the
     * learner's sender straight to its socket from the live tree (fuzzy, {@link ApacheTreeFormat#writeFuzzy}), so the
     * commit thread goes on committing meanwhile, as Apache's leader does, and the body is never held in memory. It
     * covers the last zxid the tree had applied before the walk ({@link ZkServer#lastProcessedZxid}, published after
     * the txn changed the tree): every txn up to it is in what the walk copies, and the learner replays the proposals
     * after it.
     */
    LeaderApplication.SyncSnapshot snapshot() throws IOException {
        long zxid = server.lastProcessedZxid();
        Map<Long, Integer> sessions = SnapshotFormat.sessionTimeouts(server.sessions.byId());
        return new LeaderApplication.SyncSnapshot(zxid,
                ApacheTreeFormat.writeFuzzy(server.tree, sessions, zxid, LearnerWire.SNAPSHOT_SIGNATURE));
    }

    private void enqueue(Runnable task) {
        server.runOnCommitThread(task);
    }

    private static void closeQuietly(ApacheLeader running) {
        try {
            running.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the leadership failed", e);
        }
    }
}
