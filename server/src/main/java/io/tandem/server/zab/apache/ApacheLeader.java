package io.tandem.server.zab.apache;

import io.tandem.server.zab.ZabDisk;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Tandem member leading Apache ZooKeeper 3.9 followers over Apache's leader/learner protocol, one leadership per
 * {@link #lead} call, as Apache's Leader.lead: discovery (a quorum's FOLLOWERINFO, the new epoch as one more than any
 * accepted epoch, LEADERINFO, a quorum's ACKEPOCH, none of them ahead of this member's history), synchronization of
 * each learner ({@link ApacheLearnerHandler}: DIFF, TRUNC or SNAP in Apache's serialization, the proposals after the
 * sync point, NEWLEADER; UPTODATE once a quorum acknowledged NEWLEADER) and broadcast (PROPOSAL to every learner, a
 * commit once a quorum, this member included after its fsync, acknowledged it, COMMIT in zxid order, PING every half
 * tick, a forwarded REQUEST, REVALIDATE and SYNC answered through the application).
 *
 * <p>Threads: {@link #lead} runs on the quorum peer's thread (discovery waits, then the ping and quorum checks); one
 * acceptor thread; a reader and a sender thread per learner; one delivery thread that hands commits and answers to
 * the application in order ({@link LeaderDeliveries}: the application queues them onto its commit thread, which may
 * block, and the commit thread itself calls {@link #propose}, so the leader's lock is never held while the
 * application is called). The proposer (the application's commit thread) appends under the lock and fsyncs outside
 * it ({@link #flush}).
 *
 * <p>This class holds the per-learner protocol and the leadership's phases; the proposals themselves (outstanding with
 * their acks, the committed window a DIFF starts from, the syncs waiting for a commit) are {@link LeaderHistory}'s,
 * guarded by the same lock.
 */
public final class ApacheLeader extends LearnerMaster implements Closeable {
    private static final Logger LOG = System.getLogger(ApacheLeader.class.getName());

    final ZabDisk disk;
    final LeaderApplication application;
    private final int tickTimeMs;

    final Object lock = new Object();
    /** When this leadership began: Apache's leader_uptime counts from it. */
    private final long startedMillis = System.currentTimeMillis();
    // Everything below is guarded by lock.
    /** The configurations quorums are counted with, their activations and a designated leader's step-down. */
    private final LeaderReconfigs reconfigs;
    private final LeaderConfigs configs;
    private final Map<Long, Long> followerEpochs = new HashMap<>();
    private final Set<Long> epochAcks = new HashSet<>();
    private final Set<Long> newLeaderAcks = new HashSet<>();
    private String failure;
    private long epoch = -1;
    private boolean established;
    private boolean ended;
    /** The proposals: outstanding with their acks, the committed window DIFFs start from, the waiting syncs. */
    private final LeaderHistory history;
    /** The learners, and what each kind (follower, observer) is sent. */
    private final LeaderLearners learners = new LeaderLearners();

    /** Commits and answers to the application, in order, off the lock; one per leadership ({@link #lead}). */
    private final LeaderDeliveries deliveries;
    private volatile ServerSocket serverSocket;
    private QuorumSockets sockets = QuorumSockets.PLAIN;
    /** mntr's quorum figures: the quorum peer's, so that they outlive this leadership (see {@link #countingInto}). */
    private ApacheQuorumFigures figures = new ApacheQuorumFigures();

    /**
     * @param committedZxid the newest zxid of this member's state: its applied state plus the proposals it had
     *                      logged, all of which a leader's history commits ({@code committed})
     * @param config        the configuration in force
     * @param lastSeen      a newer configuration of a reconfig among {@code committed}, or {@code config}: NEWLEADER
     *                      carries it and the leadership activates it, as Apache's leader completes such a reconfig
     */
    public ApacheLeader(long myId, ApacheConfig config, ApacheConfig lastSeen, ZabDisk disk,
                        LeaderApplication application, int tickTimeMs, int initLimit, int syncLimit,
                        long appliedZxid, List<QuorumPacket> committed) {
        super(myId, initLimit * tickTimeMs, syncLimit * tickTimeMs);
        this.disk = disk;
        this.application = application;
        this.tickTimeMs = tickTimeMs;
        this.deliveries = new LeaderDeliveries(myId);
        this.reconfigs = new LeaderReconfigs(myId, config, lastSeen, application, deliveries);
        this.configs = reconfigs.configs();
        this.history = new LeaderHistory(appliedZxid, committed);
    }

    /** Before {@link #lead}: how learners' connections are secured (sslQuorum's TLS); plain unless called. */
    ApacheLeader useSockets(QuorumSockets sockets) {
        this.sockets = sockets;
        return this;
    }

    /** Before {@link #lead}: this leadership counts its proposals, commits and learner syncs into {@code into}. */
    ApacheLeader countingInto(ApacheQuorumFigures into) {
        this.figures = into;
        return this;
    }

    /**
     * Leads until the leadership ends (an IOException says why: no quorum within initLimit, a learner ahead of this
     * member, the quorum lost, or {@link #close}). Returns the epochs and the log this member is left with.
     */
    public LeadershipOutcome lead(String host, int quorumPort, long acceptedEpoch, long currentEpoch)
            throws IOException, InterruptedException {
        long newEpoch = -1;
        long writtenCurrent = currentEpoch;
        deliveries.start();
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        try {
            ss.bind(new InetSocketAddress(host, quorumPort));
            serverSocket = ss;
            Thread acceptor = new Thread(() -> acceptLearners(ss, sockets), "apache-leader-accept-" + myId);
            acceptor.setDaemon(true);
            acceptor.start();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(initLimitMs);
            ApacheConfig versioned;
            synchronized (lock) {
                followerEpochs.put(myId, acceptedEpoch);
                awaitQuorum(followerEpochs.keySet(), false, deadline, "FOLLOWERINFO");
                newEpoch = followerEpochs.values().stream().mapToLong(Long::longValue).max().orElse(acceptedEpoch) + 1;
                versioned = reconfigs.establish(newEpoch); // before any learner's NEWLEADER carries it
            }
            disk.writeAcceptedEpoch(newEpoch); // the promise is durable before LEADERINFO makes it
            // Apache's Leader.lead: the versioned static configuration is the last seen one (zoo.cfg.dynamic.next)
            // before the epoch is acknowledged; NEWLEADER's acknowledgement activates it and the next file goes.
            reconfigs.announce(versioned);
            LOG.log(Level.INFO, "server {0}: leading Apache followers in epoch {1}", myId, newEpoch);
            synchronized (lock) {
                epoch = newEpoch;
                leaderCurrentEpoch = currentEpoch;
                epochAcks.add(myId);
                lock.notifyAll();
                awaitQuorum(epochAcks, false, deadline, "ACKEPOCH");
            }
            disk.writeCurrentEpoch(newEpoch);
            writtenCurrent = newEpoch;
            synchronized (lock) {
                newLeaderAcks.add(myId);
                awaitQuorum(newLeaderAcks, true, deadline, "NEWLEADER acknowledgements");
                established = true;
                lock.notifyAll();
                reconfigs.established(); // Apache's startZkServer: NEWLEADER's configuration activated here too
            }
            LOG.log(Level.INFO, "server {0}: leadership of epoch {1} established", myId, newEpoch);
            deliveries.add(() -> application.onLeading(this, true));
            while (true) {
                Thread.sleep(Math.max(10, tickTimeMs / 2));
                checkQuorumAndPing();
            }
        } finally {
            List<ApacheLearnerHandler> toClose;
            LeadershipOutcome outcome;
            synchronized (lock) {
                ended = true;
                if (failure == null) failure = "leadership ended";
                lock.notifyAll();
                toClose = learners.connections();
                outcome = new LeadershipOutcome(newEpoch < 0 ? acceptedEpoch : newEpoch, writtenCurrent,
                        history.lastAppendedZxid(), history.lastCommittedZxid(), history.uncommitted());
            }
            this.outcome = outcome;
            ss.close();
            for (ApacheLearnerHandler handler : toClose) {
                handler.close();
            }
            deliveries.add(() -> application.onLeading(this, false));
            deliveries.stopAfterQueued();
        }
    }

    private volatile LeadershipOutcome outcome;

    /** What {@link #lead} left, once it has returned or thrown. */
    public LeadershipOutcome outcome() {
        return outcome;
    }

    /** A learner's connection, while the leadership lasts and up to four per known member. */
    @Override
    ApacheLearnerHandler admit(Socket socket) {
        synchronized (lock) {
            if (ended || learners.connectionCount() >= 4 * configs.known().size()) return null;
            ApacheLearnerHandler handler = new ApacheLearnerHandler(this, socket);
            learners.connected(handler);
            return handler;
        }
    }

    /**
     * Under lock: waits until {@code acked} is a quorum (of the committed voters, and with {@code full} of the last
     * seen ones too), the deadline passes or the leadership fails.
     */
    private void awaitQuorum(Set<Long> acked, boolean full, long deadline, String what)
            throws IOException, InterruptedException {
        while (!(full ? configs.isFullQuorum(acked) : configs.isCommittedQuorum(acked))) {
            if (failure != null) {
                throw new IOException(failure);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                failure = "no quorum of " + what + " within initLimit (" + acked + ")";
                throw new IOException(failure);
            }
            lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        if (failure != null) {
            throw new IOException(failure);
        }
    }

    /** This member's currentEpoch before the leadership: a learner with a newer history must not follow it. */
    private long leaderCurrentEpoch;

    // ---------------------------------------------------------------- learner handler calls (their threads)

    @Override
    public void touches(Map<Long, Integer> touches) {
        application.onTouches(touches);
    }

    @Override
    public void revalidate(ApacheLearnerHandler handler, long sessionId, int timeoutMs, QuorumPacket packet) {
        application.onRevalidate(handler.sid(), sessionId, timeoutMs);
    }

    @Override
    public void request(ApacheLearnerHandler handler, QuorumPacket packet, long sessionId, int cxid, int type,
                        byte[] body, List<LearnerWire.Id> auth) {
        application.onRequest(handler.sid(), sessionId, cxid, type, body, auth);
    }

    /**
     * This member, or a learner synced with it: Apache's Leader.isQuorumSynced counts these for a reconfig's
     * NewConfigNoQuorum check. Any thread.
     */
    public boolean isSynced(long sid) {
        synchronized (lock) {
            return sid == myId || learners.isSyncedFollower(sid);
        }
    }

    /** A learner's FOLLOWERINFO: waits for the new epoch (-1: the leadership failed). */
    @Override
    public long followerInfo(long sid, long acceptedEpoch) throws InterruptedException {
        synchronized (lock) {
            if (epoch < 0) {
                followerEpochs.put(sid, acceptedEpoch);
                lock.notifyAll();
            }
            while (epoch < 0 && !ended) {
                lock.wait();
            }
            return ended ? -1 : epoch;
        }
    }

    /**
     * A learner's ACKEPOCH: a learner whose history is newer than this member's fails the leadership (it must not
     * lead); otherwise waits until a quorum acknowledged the epoch. Returns false when the leadership failed.
     */
    @Override
    public boolean epochAcked(long sid, int learnerCurrentEpoch, long learnerLastZxid) throws InterruptedException {
        synchronized (lock) {
            if (learnerCurrentEpoch != -1 && (learnerCurrentEpoch > leaderCurrentEpoch
                    || (learnerCurrentEpoch == leaderCurrentEpoch && learnerLastZxid > history.lastAppendedZxid()))) {
                failure = "server " + sid + " is ahead of the leader (epoch " + learnerCurrentEpoch + ", zxid 0x"
                        + Long.toHexString(learnerLastZxid) + ")";
                lock.notifyAll();
                return false;
            }
            epochAcks.add(sid);
            lock.notifyAll();
            while (!configs.isCommittedQuorum(epochAcks) && !ended) {
                lock.wait();
            }
            return !ended;
        }
    }

    /**
     * Queues the learner's sync: DIFF from its zxid when it is within what this leader holds, TRUNC when it logged
     * beyond it, SNAP otherwise; then the proposals (and commits) after the sync point and NEWLEADER. From here on the
     * learner receives every proposal and commit. Returns the kind of sync, or -1 when the leadership ended.
     */
    @Override
    public int syncLearner(ApacheLearnerHandler handler, long peerLastZxid) throws IOException, InterruptedException {
        LeaderApplication.SyncSnapshot snapshot = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            synchronized (lock) {
                if (ended) return -1;
                if (history.canDiffFrom(peerLastZxid)) {
                    handler.queue(new QuorumPacket(LearnerWire.DIFF, history.lastCommittedZxid(), null));
                    startForwarding(handler, peerLastZxid);
                    figures.learnerSynced(LearnerWire.DIFF);
                    return LearnerWire.DIFF;
                }
                if (peerLastZxid > history.lastAppendedZxid()) {
                    // It logged proposals this leader's history lacks: they never committed (ZOOKEEPER-1154).
                    handler.queue(new QuorumPacket(LearnerWire.TRUNC, history.lastCommittedZxid(), null));
                    startForwarding(handler, history.lastCommittedZxid());
                    figures.learnerSynced(LearnerWire.TRUNC);
                    return LearnerWire.TRUNC;
                }
                if (snapshot != null && history.reachesWindow(snapshot.zxid())) {
                    handler.queue(new QuorumPacket(LearnerWire.SNAP, snapshot.zxid(), null));
                    handler.queueBody(snapshot.body());
                    startForwarding(handler, snapshot.zxid());
                    figures.learnerSynced(LearnerWire.SNAP);
                    return LearnerWire.SNAP;
                }
            }
            snapshot = application.snapshot();
        }
        throw new IOException("the state moved past the committed log three times while serializing a SNAP");
    }

    /**
     * Under lock: the committed proposals after {@code from} with their commits, the outstanding ones (to a follower
     * only: an observer learns them by INFORM once they commit, as Apache's startForwarding), NEWLEADER.
     */
    private void startForwarding(ApacheLearnerHandler handler, long from) {
        history.forward(handler, from, !handler.isObserver());
        learners.startForwarding(handler);
        // Apache's LearnerHandler: NEWLEADER carries the last seen configuration (its version set by establish).
        handler.queue(new QuorumPacket(LearnerWire.NEWLEADER, epoch << 32,
                configs.lastSeen().text().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /** The learner acknowledged NEWLEADER: waits until the leadership is established (false: it ended). */
    @Override
    public boolean newLeaderAcked(long sid) throws InterruptedException {
        synchronized (lock) {
            newLeaderAcks.add(sid);
            lock.notifyAll();
            while (!established && !ended) {
                lock.wait();
            }
            return established && !ended;
        }
    }

    /** A learner's ACK of a proposal (durable there). */
    @Override
    public void ack(long sid, long zxid) {
        if ((zxid & 0xffff_ffffL) == 0) {
            return; // the ACK after UPTODATE (NEWLEADER's was counted in newLeaderAcked)
        }
        synchronized (lock) {
            history.ack(sid, zxid);
            commitReady();
        }
    }

    @Override
    public void learnerGone(ApacheLearnerHandler handler) {
        synchronized (lock) {
            learners.gone(handler);
        }
    }

    // ---------------------------------------------------------------- the proposer (the application's commit thread)

    /** The epoch of this leadership, -1 before discovery chose it. */
    public long epoch() {
        synchronized (lock) {
            return epoch;
        }
    }

    /** The zxid the next proposal gets (the commit thread is the only proposer); -1 while not established. */
    public long nextZxid() {
        synchronized (lock) {
            return established && !ended ? (epoch << 32) | history.nextCounter() : -1;
        }
    }

    /**
     * Proposes {@code txn} (its TxnHeader carries {@code zxid}, which must be {@link #nextZxid}): logged here, sent to
     * every learner. Durable here, and counted as this member's ack, after the next {@link #flush}. False when the
     * leadership is not (or no longer) established.
     */
    public boolean propose(long zxid, byte[] txn) throws IOException {
        return propose(zxid, txn, null);
    }

    /**
     * As {@link #propose(long, byte[])}; {@code reconfig} is the configuration the transaction makes when it is a
     * reconfig (its SetDataTxn's text, versioned with {@code zxid}): it and every proposal after it until it commits
     * need a quorum of the old voters and of the new (Apache's Leader.propose), and its commit activates it.
     */
    public boolean propose(long zxid, byte[] txn, ApacheConfig reconfig) throws IOException {
        synchronized (lock) {
            if (!established || ended) {
                return false;
            }
            if (zxid != ((epoch << 32) | history.nextCounter())) {
                throw new IllegalStateException("proposal 0x" + Long.toHexString(zxid) + " is not the next zxid");
            }
            disk.append(zxid, txn);
            if (reconfig != null) reconfigs.proposed(reconfig);
            history.append(zxid, txn, configs.forProposal(), reconfig);
            learners.propose(new QuorumPacket(LearnerWire.PROPOSAL, zxid, txn));
            figures.proposed();
        }
        // Apache's Leader.propose: setLastSeenQuorumVerifier(qv, true), in memory for the election and on disk.
        if (reconfig != null) reconfigs.announce(reconfig);
        return true;
    }

    /** Makes the proposals so far durable here and counts this member's acks for them. */
    public void flush() throws IOException {
        long appended;
        synchronized (lock) {
            appended = history.lastAppendedZxid();
        }
        disk.sync();
        synchronized (lock) {
            history.ackUpTo(myId, appended);
            commitReady();
        }
    }

    /** Runs {@code whenSynced} once every proposal made so far is committed (and its commit delivered). */
    public void sync(Runnable whenSynced) {
        synchronized (lock) {
            if (!history.afterOutstanding(whenSynced)) {
                deliveries.add(whenSynced);
            }
        }
    }

    /** Answers a learner's forwarded sync: its SYNC follows the commits of everything proposed before. */
    public void syncLearner(long learnerSid) {
        sync(() -> {
            synchronized (lock) {
                ApacheLearnerHandler handler = learners.get(learnerSid);
                if (handler != null) handler.queue(new QuorumPacket(LearnerWire.SYNC, 0, null));
            }
        });
    }

    /** The application's answer to {@link Application#onRevalidate}: {@code long sessionId, boolean valid}. */
    public void revalidated(long learnerSid, long sessionId, boolean valid) {
        byte[] data = java.nio.ByteBuffer.allocate(9).putLong(sessionId).put((byte) (valid ? 1 : 0)).array();
        synchronized (lock) {
            ApacheLearnerHandler handler = learners.get(learnerSid);
            if (handler != null) handler.queue(new QuorumPacket(LearnerWire.REVALIDATE, -1, data));
        }
    }

    /** Under lock: commits the oldest proposals while a quorum acknowledged them, in zxid order. */
    private void commitReady() {
        while (reconfigs.allowedToCommit() && history.committable() != null) {
            LeaderProposal proposal = history.commitOldest();
            long designated = proposal.reconfig == null ? -1
                    : reconfigs.committed(proposal, history.outstandingAcks());
            learners.commit(proposal.zxid, proposal.data, designated);
            if (proposal.reconfig == null) {
                figures.committed(); // Apache's COMMITANDACTIVATE skips Leader.commit
                figures.quorumAcked(proposal.data);
            }
            long zxid = proposal.zxid;
            byte[] data = proposal.data;
            deliveries.add(() -> application.onCommit(zxid, data));
            deliveries.addAll(history.syncsDue(zxid));
        }
    }

    /**
     * Every half tick: PING to each synced learner; the leadership ends when fewer than a quorum of voters are synced
     * (observers never count).
     */
    private void checkQuorumAndPing() throws IOException {
        synchronized (lock) {
            if (ended) {
                throw new IOException(failure);
            }
            String stepDown = reconfigs.stepDownReason();
            if (stepDown != null) {
                failure = stepDown;
                throw new IOException(failure);
            }
            Set<Long> synced = learners.pingSynced(history.lastAppendedZxid(), TimeUnit.MILLISECONDS.toNanos(syncLimitMs));
            synced.add(myId);
            if (!configs.isFullQuorum(synced)) {
                failure = "only " + synced + " synced within syncLimit: not a quorum";
                throw new IOException(failure);
            }
        }
    }

    /**
     * Apache's leader lines of mntr (its Leader's gauges), while this leadership is established: the learners
     * ({@link LeaderLearners#reportStats}), pending syncs, and the ms since it started leading. Any thread.
     */
    public void reportStats(java.util.function.BiConsumer<String, Object> line) {
        synchronized (lock) {
            learners.reportStats(configs.committed().voters(), line);
            line.accept("zk_pending_syncs", history.pendingSyncCount());
            line.accept("zk_leader_uptime", System.currentTimeMillis() - startedMillis);
        }
    }

    /** The observers admin command's list: each observer's LearnerHandler figures. Any thread. */
    public java.util.List<java.util.Map<String, Object>> observersInfo() {
        synchronized (lock) {
            return learners.observersInfo();
        }
    }

    /** Apache's observer_connection_stat_reset on a leader. Any thread. */
    public void resetObserverStats() {
        synchronized (lock) {
            learners.resetObserverStats();
        }
    }

    /** Ends the leadership ({@link #lead} throws). */
    @Override
    public void close() throws IOException {
        synchronized (lock) {
            if (failure == null) failure = "closed";
            ended = true;
            lock.notifyAll();
        }
        ServerSocket ss = serverSocket;
        if (ss != null) ss.close();
    }
}
