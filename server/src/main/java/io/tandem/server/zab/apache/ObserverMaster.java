package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import io.tandem.zk.wire.OpCode;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A following member's learner master for Apache observers (observerMasterPort, ZOOKEEPER-3140), as Apache 3.9's
 * ObserverMaster: while the follower is synced with its leader it listens at its quorum host on that port and runs
 * the leader's side of the learner protocol for observers ({@link ApacheLearnerHandler}) without waiting for any
 * quorum: LEADERINFO with the epoch the follower follows, a sync from the follower's own committed history (DIFF from
 * the window of committed transactions it keeps, TRUNC for an observer ahead of it, otherwise a SNAP of its tree),
 * NEWLEADER with its last seen configuration, UPTODATE; then an INFORM for each commit the follower learns
 * (INFORMANDACTIVATE for a reconfig), a PING every half tick. What the observers send goes up through the follower's
 * own connection: their REQUESTs and REVALIDATEs are relayed to the leader (a sync's SYNC and a revalidation's
 * answer come back to the observer that asked, in order), their session touches ride on the follower's PING answers.
 *
 * <p>The follower's thread feeds it ({@link #proposalReceived}, {@link #proposalCommitted}, {@link #informAndActivate});
 * one acceptor thread, one pinger thread, and each observer's reader and sender threads call the rest. State is
 * guarded by this object's monitor, the pending revalidations by their own (they are sent to the leader under it).
 * The follower leaving its leader {@link #close}s it: every observer connection ends, and they sync again elsewhere.
 */
final class ObserverMaster extends LearnerMaster implements Closeable {
    private static final Logger LOG = System.getLogger(ObserverMaster.class.getName());

    /**
     * Bytes of committed transactions kept for DIFF syncs: Apache's {@code zookeeper.observerMaster.sizeLimit}
     * (32 MiB), trimmed as its cacheCommittedPacket trims (five of the oldest per commit past 80%, and never above).
     */
    static final long WINDOW_BYTES_MAX = Math.max(1, Integer.getInteger("zookeeper.observerMaster.sizeLimit", 32 << 20));
    /** Proposals waiting for their commit: the leader bounds its outstanding ones far below; past this, start over. */
    static final int PROPOSALS_MAX = 100_000;
    /** Observer connections at once (each has a reader and a sender thread). */
    static final int CONNECTIONS_MAX = 256;
    /** Revalidations relayed to the leader and not yet answered; an observer asking more is disconnected. */
    static final int REVALIDATIONS_MAX = 10_000;
    /** Sessions the observers touched since the follower's last PING answer; the newest beyond it are dropped. */
    static final int TOUCHES_MAX = 1_000_000;
    /** Tries at a SNAP whose tree has not yet applied what this master forwards from (the commit thread lags). */
    private static final int SNAPSHOT_ATTEMPTS = 50;
    private static final long SNAPSHOT_RETRY_MS = 20;

    /** The member's tree as Apache's SNAP body and the zxid it covers (may be fuzzy: some later ones replayed). */
    interface SnapshotSource {
        LeaderApplication.SyncSnapshot snapshot() throws IOException, InterruptedException;
    }

    /**
     * zoo.cfg's observerMasterPort on a voter, with where it binds and what it serves from: the member's tree, and
     * its last seen configuration (Apache's getLastSeenQuorumVerifier), which NEWLEADER carries.
     */
    record Settings(String host, int port, int tickTimeMs, SnapshotSource snapshots,
                    java.util.function.Supplier<ApacheConfig> lastSeen) {}

    private record Revalidation(long sessionId, int timeoutMs, ApacheLearnerHandler handler) {}

    private final Settings settings;
    private final ApacheFollower follower;
    private final ApacheQuorumFigures figures;
    /** The epoch the follower follows: observers are told it in LEADERINFO (Apache's getEpochToPropose). */
    private final long epoch;
    private ServerSocket serverSocket;
    private volatile boolean closed;

    // Guarded by this.
    private final Set<ApacheLearnerHandler> connections = new LinkedHashSet<>();
    /** Observers synced (or syncing) from their sync point on: each commit goes to them (Apache's activeObservers). */
    private final Set<ApacheLearnerHandler> active = new LinkedHashSet<>();
    /** The follower's proposals waiting for their commit, as the INFORMs they become (Apache's proposedPkts). */
    private final ArrayDeque<QuorumPacket> proposed = new ArrayDeque<>();
    /** Committed transactions as INFORM / INFORMANDACTIVATE packets, oldest first (Apache's committedPkts). */
    private final ArrayDeque<QuorumPacket> committed = new ArrayDeque<>();
    private long committedBytes;
    /** The zxid just before {@link #committed}'s first entry: the oldest point a DIFF can start from. */
    private long windowStart;
    private long lastCommitted;
    /** The newest zxid sent to the observers: PINGs carry it (Apache's lastProposedZxid). */
    private long lastSent;
    private final Map<Long, Integer> touched = new HashMap<>();

    // Guarded by itself.
    private final ArrayDeque<Revalidation> revalidations = new ArrayDeque<>();

    /**
     * @param committedZxid the newest zxid the follower handed to its application when it synced: the window starts
     *                      there
     * @param pending       the proposals the follower logged and has not seen committed, oldest first
     */
    private ObserverMaster(long myId, Settings settings, ApacheFollower follower, ApacheQuorumFigures figures,
                   int initLimitMs, int syncLimitMs, long epoch, long committedZxid, Iterable<QuorumPacket> pending) {
        super(myId, initLimitMs, syncLimitMs);
        this.settings = settings;
        this.follower = follower;
        this.figures = figures;
        this.epoch = epoch;
        this.windowStart = committedZxid;
        this.lastCommitted = committedZxid;
        this.lastSent = committedZxid;
        for (QuorumPacket proposal : pending) {
            proposed.add(new QuorumPacket(LearnerWire.INFORM, proposal.zxid(), proposal.data()));
        }
    }

    /**
     * A learner master for the follower's session in {@code epoch}, its window starting at {@code committedZxid} with
     * the follower's {@code pending} proposals waiting for their commits, listening. A port that cannot be bound
     * throws, and the follower's session ends with it, as Apache 3.9's Follower.followLeader lets the IOException of
     * ObserverMaster.start end the following (the peer goes back to LOOKING and follows again, to fail the same way
     * while the port stays taken): a member never follows without the learner master its zoo.cfg promises.
     */
    static ObserverMaster start(long myId, Settings settings, ApacheFollower follower, ApacheQuorumFigures figures,
                                int initLimitMs, int syncLimitMs, long epoch, long committedZxid,
                                Iterable<QuorumPacket> pending) throws IOException {
        ObserverMaster master = new ObserverMaster(myId, settings, follower, figures, initLimitMs, syncLimitMs, epoch,
                committedZxid, pending);
        master.listen();
        return master;
    }

    /** Binds {@link Settings#port} at the follower's quorum host and starts accepting observers and pinging them. */
    private void listen() throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        try {
            ss.bind(new InetSocketAddress(settings.host(), settings.port()));
        } catch (IOException e) {
            ss.close();
            throw new IOException("cannot serve observers on " + settings.host() + ":" + settings.port()
                    + " (observerMasterPort): " + e.getMessage(), e);
        }
        serverSocket = ss;
        Thread acceptor = new Thread(() -> acceptLearners(ss, follower.sockets()),
                "apache-observer-master-accept-" + myId);
        acceptor.setDaemon(true);
        acceptor.start();
        Thread pinger = new Thread(this::pingLoop, "apache-observer-master-ping-" + myId);
        pinger.setDaemon(true);
        pinger.start();
        LOG.log(Level.INFO, "server {0}: serving observers as a learner master on {1}:{2} in epoch {3}", myId,
                settings.host(), Integer.toString(settings.port()), epoch);
    }

    /** An observer's connection (sslQuorum=true: secured as the leader's are), while open, up to the maximum. */
    @Override
    synchronized ApacheLearnerHandler admit(Socket socket) {
        if (closed || connections.size() >= CONNECTIONS_MAX) {
            LOG.log(Level.WARNING, "server {0}: observer connection from {1} refused ({2} of at most {3})", myId,
                    socket.getRemoteSocketAddress(), connections.size(), CONNECTIONS_MAX);
            return null;
        }
        ApacheLearnerHandler handler = new ApacheLearnerHandler(this, socket);
        connections.add(handler);
        return handler;
    }

    /** Apache's ObserverMaster pinger: every half tick each synced observer gets a PING with the newest zxid sent. */
    private void pingLoop() {
        long interval = Math.max(10, settings.tickTimeMs() / 2);
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                QuorumPacket ping = new QuorumPacket(LearnerWire.PING, lastSent, null);
                for (ApacheLearnerHandler handler : active) {
                    if (handler.isSynced()) handler.queue(ping); // Apache pings once its sender runs, after the sync
                }
            }
        }
    }

    // ---------------------------------------------------------------- the follower's thread

    /**
     * A PROPOSAL the follower logged in broadcast: its INFORM waits for the commit. Timed into
     * {@code om_proposal_process_time_ms}, as Apache's Follower.processPacket times om.proposalReceived.
     */
    void proposalReceived(long zxid, byte[] txn) {
        long started = System.nanoTime();
        waitForCommit(zxid, txn);
        figures.learnerMasterProposal((System.nanoTime() - started) / 1_000_000);
    }

    private synchronized void waitForCommit(long zxid, byte[] txn) {
        if (proposed.size() >= PROPOSALS_MAX) {
            // The leader never has this many outstanding; if it does, the observers start over from a sync.
            LOG.log(Level.WARNING, "server {0}: {1} proposals without a commit: observers re-sync", myId,
                    proposed.size());
            dropObservers(lastCommitted);
            proposed.clear();
        }
        proposed.add(new QuorumPacket(LearnerWire.INFORM, zxid, txn));
    }

    /**
     * A COMMIT the follower received: its INFORM goes to every active observer and joins the window. Timed into
     * {@code om_commit_process_time_ms}, as Apache's Follower.processPacket times om.proposalCommitted.
     */
    void proposalCommitted(long zxid) {
        long started = System.nanoTime();
        synchronized (this) {
            QuorumPacket inform = removeProposed(zxid);
            if (inform != null) send(inform);
        }
        figures.learnerMasterCommit((System.nanoTime() - started) / 1_000_000);
    }

    /** A COMMITANDACTIVATE: INFORMANDACTIVATE (the designated leader, then the transaction) to the observers. */
    synchronized void informAndActivate(long zxid, long designatedLeader) {
        QuorumPacket inform = removeProposed(zxid);
        if (inform == null) return;
        byte[] txn = inform.data();
        send(new QuorumPacket(LearnerWire.INFORMANDACTIVATE, zxid,
                ByteBuffer.allocate(8 + txn.length).putLong(designatedLeader).put(txn).array()));
    }

    /**
     * Under the monitor: the waiting proposal {@code zxid} commits. The follower checks the leader's order itself, so
     * a commit of anything else than the oldest proposal means this master lost track of one (more than
     * {@link #PROPOSALS_MAX} waited): its observers, which would miss it, start over, and so does the window.
     */
    private QuorumPacket removeProposed(long zxid) {
        QuorumPacket oldest = proposed.peek();
        if (oldest != null && oldest.zxid() == zxid) return proposed.poll();
        LOG.log(Level.WARNING, "server {0}: commit 0x{1} but the oldest proposal is {2}: observers re-sync", myId,
                Long.toHexString(zxid), oldest == null ? "none" : "0x" + Long.toHexString(oldest.zxid()));
        dropObservers(zxid);
        return null;
    }

    /** Under the monitor: every observer goes and the committed window starts over after {@code committedZxid}. */
    private void dropObservers(long committedZxid) {
        for (ApacheLearnerHandler handler : new ArrayList<>(connections)) {
            handler.close();
        }
        active.clear();
        committed.clear();
        committedBytes = 0;
        windowStart = Math.max(lastCommitted, committedZxid);
        lastCommitted = windowStart;
        lastSent = windowStart;
        proposed.removeIf(proposal -> proposal.zxid() <= committedZxid);
    }

    /** Under the monitor: Apache's cacheCommittedPacket and sendPacket. */
    private void send(QuorumPacket inform) {
        committed.add(inform);
        committedBytes += ApacheLearnerHandler.packetBytes(inform);
        lastCommitted = inform.zxid();
        for (int i = 0; i < 5 && committedBytes > WINDOW_BYTES_MAX * 0.8 && committed.size() > 1; i++) {
            trimOldest();
        }
        while (committedBytes > WINDOW_BYTES_MAX && committed.size() > 1) {
            trimOldest();
        }
        for (ApacheLearnerHandler handler : active) {
            handler.queue(inform);
        }
        lastSent = inform.zxid();
    }

    private void trimOldest() {
        QuorumPacket oldest = committed.poll();
        committedBytes -= ApacheLearnerHandler.packetBytes(oldest);
        windowStart = oldest.zxid();
    }

    /**
     * The sessions the observers touched since the last call, merged into {@code local} (the follower's own, which
     * win): the follower's PING answer carries them to the leader, as Apache's ObserverMaster.touch does through the
     * follower's session tracker.
     */
    Map<Long, Integer> withTouches(Map<Long, Integer> local) {
        synchronized (this) {
            if (touched.isEmpty()) return local;
            Map<Long, Integer> all = new HashMap<>(touched);
            touched.clear();
            all.putAll(local);
            return all;
        }
    }

    /**
     * The leader's REVALIDATE answer reached the follower: when it answers the oldest revalidation an observer asked
     * for, it goes to that observer (a valid session is touched, as Apache's) and true is returned; otherwise it is
     * the follower's own.
     */
    boolean revalidated(QuorumPacket answer) {
        byte[] data = answer.data();
        if (data == null || data.length < 9) return false;
        ByteBuffer buffer = ByteBuffer.wrap(data);
        long sessionId = buffer.getLong();
        boolean valid = buffer.get() != 0;
        Revalidation asked;
        synchronized (revalidations) {
            asked = revalidations.peek();
            if (asked == null || asked.sessionId() != sessionId) return false;
            revalidations.poll();
        }
        asked.handler().queue(answer);
        if (valid) touch(sessionId, asked.timeoutMs());
        return true;
    }

    /** The active observers' LearnerHandler figures (Apache's ObserverMaster.getActiveObservers). */
    synchronized List<Map<String, Object>> observersInfo() {
        List<Map<String, Object>> info = new ArrayList<>(active.size());
        for (ApacheLearnerHandler handler : active) {
            info.add(handler.info());
        }
        return info;
    }

    /** Apache's ObserverMaster.resetObserverConnectionStats: each active observer's counters start over. */
    synchronized void resetObserverStats() {
        for (ApacheLearnerHandler handler : active) {
            handler.resetStats();
        }
    }

    @Override
    public void close() {
        List<ApacheLearnerHandler> toClose;
        synchronized (this) {
            if (closed) return;
            closed = true;
            toClose = new ArrayList<>(connections);
            active.clear();
        }
        ServerSocket ss = serverSocket;
        if (ss != null) {
            try {
                ss.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (ApacheLearnerHandler handler : toClose) {
            handler.close();
        }
    }

    // ---------------------------------------------------------------- the observers' handler threads

    /** Apache's ObserverMaster.getEpochToPropose: the follower's current epoch, whatever the observer accepted. */
    @Override
    public long followerInfo(long sid, long acceptedEpoch) {
        return closed ? -1 : epoch;
    }

    /** Nothing waits for a quorum here (Apache's waitForEpochAck does nothing on an ObserverMaster). */
    @Override
    public boolean epochAcked(long sid, int learnerCurrentEpoch, long learnerLastZxid) {
        return !closed;
    }

    /**
     * DIFF when the observer's zxid is a point of the committed window, TRUNC when it is beyond what this follower
     * committed (Apache's syncFollower), SNAP of the follower's tree otherwise; then the window's INFORMs after the
     * sync point and NEWLEADER, the observer active from here on, all under the monitor so that no commit is missed
     * or sent twice.
     */
    @Override
    public int syncLearner(ApacheLearnerHandler handler, long peerLastZxid) throws IOException, InterruptedException {
        LeaderApplication.SyncSnapshot snapshot = null;
        for (int attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
            synchronized (this) {
                if (closed) return -1;
                if (!handler.isObserver()) {
                    throw new IOException("server " + handler.sid() + " registered as a follower with a learner "
                            + "master, which serves observers only");
                }
                if (canDiffFrom(peerLastZxid)) {
                    handler.queue(new QuorumPacket(LearnerWire.DIFF, lastCommitted, null));
                    return startForwarding(handler, peerLastZxid, LearnerWire.DIFF);
                }
                if (peerLastZxid > lastCommitted) {
                    handler.queue(new QuorumPacket(LearnerWire.TRUNC, lastCommitted, null));
                    return startForwarding(handler, lastCommitted, LearnerWire.TRUNC);
                }
                if (snapshot != null && snapshot.zxid() >= windowStart && snapshot.zxid() <= lastCommitted) {
                    handler.queue(new QuorumPacket(LearnerWire.SNAP, snapshot.zxid(), null));
                    handler.queueBody(snapshot.body());
                    return startForwarding(handler, snapshot.zxid(), LearnerWire.SNAP);
                }
            }
            // The tree is behind the window's start while the commit thread applies what the follower handed it.
            if (snapshot != null) Thread.sleep(SNAPSHOT_RETRY_MS);
            snapshot = settings.snapshots().snapshot();
        }
        throw new IOException("no snapshot of the tree joined the committed window after " + SNAPSHOT_ATTEMPTS
                + " tries");
    }

    private boolean canDiffFrom(long zxid) {
        if (zxid == windowStart || zxid == lastCommitted) return true;
        for (QuorumPacket inform : committed) {
            if (inform.zxid() == zxid) return true;
        }
        return false;
    }

    /** Under the monitor: the window's commits after {@code from}, NEWLEADER, and the observer is active. */
    private int startForwarding(ApacheLearnerHandler handler, long from, int kind) {
        for (QuorumPacket inform : committed) {
            if (inform.zxid() > from) handler.queue(inform);
        }
        active.add(handler);
        handler.queue(new QuorumPacket(LearnerWire.NEWLEADER, epoch << 32,
                settings.lastSeen().get().text().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        figures.learnerSynced(kind);
        return kind;
    }

    /** Apache's waitForNewLeaderAck on an ObserverMaster waits for nothing. */
    @Override
    public boolean newLeaderAcked(long sid) {
        return !closed;
    }

    /** The ACK after UPTODATE is ignored; any other is refused, as Apache's ObserverMaster refuses it. */
    @Override
    public void ack(long sid, long zxid) throws IOException {
        if ((zxid & 0xffff_ffffL) != 0) {
            throw new IOException("observer " + sid + " acknowledged 0x" + Long.toHexString(zxid)
                    + ": observers send no ACKs");
        }
    }

    @Override
    public void touches(Map<Long, Integer> touches) {
        touches.forEach(this::touch);
    }

    private synchronized void touch(long sessionId, int timeoutMs) {
        if (touched.size() < TOUCHES_MAX || touched.containsKey(sessionId)) touched.put(sessionId, timeoutMs);
    }

    /** Relayed to the leader; its answer is matched back in order ({@link #revalidated}). */
    @Override
    public void revalidate(ApacheLearnerHandler handler, long sessionId, int timeoutMs, QuorumPacket packet)
            throws IOException {
        synchronized (revalidations) {
            if (revalidations.size() >= REVALIDATIONS_MAX) {
                throw new IOException(revalidations.size() + " revalidations wait for the leader, at most "
                        + REVALIDATIONS_MAX);
            }
            revalidations.add(new Revalidation(sessionId, timeoutMs, handler));
            follower.relay(packet, null);
        }
    }

    /**
     * Relayed to the leader as it came (Apache's submitLearnerRequest through the follower's request processor); a
     * sync's SYNC goes back to this observer when the leader's SYNC for it reaches the follower.
     */
    @Override
    public void request(ApacheLearnerHandler handler, QuorumPacket packet, long sessionId, int cxid, int type,
                        byte[] body, List<LearnerWire.Id> auth) throws IOException {
        if (type == OpCode.SYNC) {
            follower.relay(packet, () -> handler.queue(new QuorumPacket(LearnerWire.SYNC, 0, null)));
        } else {
            follower.relay(packet, null);
        }
    }

    @Override
    public synchronized void learnerGone(ApacheLearnerHandler handler) {
        // Its revalidations stay queued: the leader answers each in order, and a closed handler drops the answer.
        connections.remove(handler);
        active.remove(handler);
    }
}
