package io.tandem.server.zab.apache;

import io.tandem.server.zab.ZabDisk;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import io.tandem.zk.wire.OpCode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Tandem member following (or observing) an Apache ZooKeeper 3.9 leader over Apache's learner protocol ({@link LearnerWire}):
 * discovery (FOLLOWERINFO, LEADERINFO, ACKEPOCH), synchronization (DIFF or SNAP, the proposals and commits that
 * follow, NEWLEADER, UPTODATE) and broadcast (PROPOSAL, COMMIT, PING). One session per {@link #followLeader} call, on
 * the caller's thread with a blocking socket, as Apache's learner does; it returns or throws when the session ends
 * and the caller goes back to the election.
 *
 * <p>Durability follows Zab and Apache's fixes: the accepted epoch is written before ACKEPOCH; a SNAP's state is
 * written before anything is acknowledged; the proposals received while syncing are appended and fsynced, and
 * currentEpoch written, before NEWLEADER is acknowledged (ZOOKEEPER-3023/-4643/-4646); each broadcast proposal is
 * fsynced before its ACK. Only committed proposals are applied, so a TRUNC (this member logged proposals the leader's
 * history lacks) only cuts the log; one below the applied zxid is refused and the session ends.
 *
 * <p>As an observer (Apache's Observer, the same Learner code paths) it registers with OBSERVERINFO and acknowledges
 * only NEWLEADER and UPTODATE: the leader sends it no proposal to vote on, but each commit as INFORM (the transaction
 * itself) and a reconfig's as INFORMANDACTIVATE (the designated leader, then the transaction), in the sync and after.
 * An informed transaction is committed: it is logged and applied at once, and the log is fsynced whenever no further
 * packet is waiting (nothing waits on an observer's fsync; the log only spares a restart its replay by SNAP).
 *
 * <p>This class holds the sessions (the socket, the three phases, the epochs); what they log and apply, and the rules
 * for it (SNAP, TRUNC, COMMIT, INFORM), is {@link LearnerHistory}'s, which outlives each session.
 */
public final class ApacheFollower implements Closeable {
    private static final Logger LOG = System.getLogger(ApacheFollower.class.getName());

    /** Largest packet data accepted from the leader: a proposal carries at most jute.maxbuffer plus headers. */
    public static final int PACKET_DATA_BYTES_MAX = 16 << 20;
    /** Largest snapshot a SNAP may carry. */
    public static final long SNAPSHOT_BYTES_MAX = 1L << 31;
    /** Apache's learner tries this many times to reach its leader (or learner master). */
    static final int CONNECT_ATTEMPTS = 5;
    /** The pause between two tries at the leader's quorum port. */
    static final long LEADER_CONNECT_RETRY_MS = 1_000;
    /**
     * The pause between two tries at a learner master's observerMasterPort: Apache 3.9's Learner waits
     * {@code zookeeper.leaderConnectDelayDuringRetryMs} (100 ms). An observer tries every voter there, the leader too,
     * which does not listen on it; a short pause keeps that detour short before the next one is tried.
     */
    public static final long LEARNER_MASTER_CONNECT_RETRY_MS = 100;

    private final long myId;
    /**
     * Apache's LearnerType.OBSERVER: registers with OBSERVERINFO and learns commits by INFORM. Set between sessions
     * ({@link #role}) when a reconfig changes this member's role.
     */
    private volatile boolean observer;
    private final ZabDisk disk;
    private final LearnerApplication application;
    private final int initTimeoutMs;
    private final int syncTimeoutMs;
    private long acceptedEpoch;
    private long currentEpoch;
    /** What this member logged and applied; it outlives each session. */
    private final LearnerHistory history;
    private volatile Socket socket;
    /** How the connection to the leader is secured ({@link #useSockets}). */
    private volatile QuorumSockets sockets = QuorumSockets.PLAIN;
    /** Synced (after UPTODATE) in the current session: requests may be forwarded. */
    private volatile boolean serving;
    private DataOutputStream out;
    /** mntr's quorum figures of this member, across its sessions (and leaderships: {@link ApacheQuorumPeer}'s). */
    private final ApacheQuorumFigures figures = new ApacheQuorumFigures();
    /** zoo.cfg's observerMasterPort on this member: while it follows (not observes) it serves observers there. */
    private volatile ObserverMaster.Settings observerMasterSettings;
    /** The learner master of the current session while synced, or null. */
    private volatile ObserverMaster observerMaster;
    /** Who asked each sync forwarded to the leader; recorded under this follower's lock as it is sent. */
    private final ForwardedSyncs syncs = new ForwardedSyncs();

    /**
     * @param initTimeoutMs initLimit x tickTime: the time allowed for discovery and synchronization
     * @param syncTimeoutMs syncLimit x tickTime: the longest silence from the leader once synced
     */
    public ApacheFollower(long myId, ZabDisk disk, long acceptedEpoch, long currentEpoch, long lastLoggedZxid,
                          LearnerApplication application, int initTimeoutMs, int syncTimeoutMs) {
        this(myId, false, disk, acceptedEpoch, currentEpoch, lastLoggedZxid, application, initTimeoutMs, syncTimeoutMs);
    }

    /** As above; with {@code observer} this member observes the leader (it never votes on a proposal). */
    public ApacheFollower(long myId, boolean observer, ZabDisk disk, long acceptedEpoch, long currentEpoch,
                          long lastLoggedZxid, LearnerApplication application, int initTimeoutMs, int syncTimeoutMs) {
        this.myId = myId;
        this.observer = observer;
        this.disk = disk;
        this.acceptedEpoch = acceptedEpoch;
        this.currentEpoch = currentEpoch;
        this.history = new LearnerHistory(myId, disk, application, lastLoggedZxid);
        this.application = application;
        this.initTimeoutMs = initTimeoutMs;
        this.syncTimeoutMs = syncTimeoutMs;
    }

    /** This member's quorum figures for mntr (Apache's ServerMetrics), counted across sessions. */
    public ApacheQuorumFigures figures() {
        return figures;
    }

    /** Before following: how the connection to the leader is secured (sslQuorum's TLS); plain unless called. */
    public void useSockets(QuorumSockets sockets) {
        this.sockets = sockets;
    }

    /** How this member's quorum connections are secured: a leadership of this member accepts learners the same way. */
    QuorumSockets sockets() {
        return sockets;
    }

    public long acceptedEpoch() {
        return acceptedEpoch;
    }

    public long currentEpoch() {
        return currentEpoch;
    }

    public long lastLoggedZxid() {
        return history.lastLoggedZxid();
    }

    /**
     * Before a session: while this member follows (not observes) a leader it serves observers as Apache's follower
     * with observerMasterPort does ({@link ObserverMaster}); null: it does not.
     */
    void serveObservers(ObserverMaster.Settings settings) {
        observerMasterSettings = settings;
    }

    /**
     * The learner master's observers, each with its LearnerHandler figures (Apache's Follower.getSyncedObserversInfo),
     * or null while this member runs none (Apache's getSyncedObserverSize is null then: no line in mntr).
     */
    public List<Map<String, Object>> observersInfo() {
        ObserverMaster master = observerMaster;
        return master == null ? null : master.observersInfo();
    }

    /** Apache's Follower.resetObserverConnectionStats: the learner master's observers' counters start over. */
    public void resetObserverStats() {
        ObserverMaster master = observerMaster;
        if (master != null) master.resetObserverStats();
    }

    /** Whether this learner observes (OBSERVERINFO) rather than follows. */
    public boolean observer() {
        return observer;
    }

    /**
     * Between sessions: the role the next one registers with (Apache's setLearnerType, applied when a reconfig's
     * activation ended the session).
     */
    void role(boolean nowObserver) {
        observer = nowObserver;
    }

    /**
     * Before the first session: the application's state is at {@code appliedZxid} (its last snapshot) and
     * {@code logged} are the proposals logged after it, in zxid order, applied only once a leader confirms them.
     */
    public void restoreLogged(long appliedZxid, List<QuorumPacket> logged) {
        history.restoreLogged(appliedZxid, logged);
    }

    /** The newest zxid handed to the application. */
    public long appliedZxid() {
        return history.appliedZxid();
    }

    /**
     * Before this member leads: its logged, unapplied proposals are part of the history it leads with (a quorum
     * elected it for that history), so they are applied now, as Apache's leader loads its whole log. Returns them.
     */
    List<QuorumPacket> applyLoggedForLeading() {
        return history.applyAllLogged();
    }

    /**
     * After leading: the epochs and the log the leadership left. Proposals it logged without committing wait, as
     * after a follower's session, for the next leader's sync to say whether they are in its history.
     */
    void afterLeading(LeadershipOutcome outcome) {
        acceptedEpoch = outcome.acceptedEpoch();
        currentEpoch = outcome.currentEpoch();
        history.afterLeading(outcome);
    }

    /** Follows the leader at {@code host:quorumPort} until the session ends (an IOException says why). */
    public void followLeader(String host, int quorumPort) throws IOException, InterruptedException {
        followLeader(host, quorumPort, LEADER_CONNECT_RETRY_MS);
    }

    /**
     * As {@link #followLeader(String, int)}, connecting to {@code host:port} with {@code retryDelayMs} between tries:
     * an observer's session with a follower's learner master (Apache's ObserverMaster) speaks the same protocol as
     * with the leader (OBSERVERINFO, LEADERINFO with the epoch the follower follows, the sync, INFORMs).
     */
    public void followLeader(String host, int port, long retryDelayMs) throws IOException, InterruptedException {
        Socket s = connect(host, port, retryDelayMs);
        socket = s;
        try {
            s.setSoTimeout(initTimeoutMs);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            long newEpoch = discover(in);
            long syncStarted = System.nanoTime();
            sync(in, newEpoch);
            // Apache's Follower.followLeader and Observer.observeLeader time syncWithLeader, each under its name.
            figures.synced(observer, (System.nanoTime() - syncStarted) / 1_000_000);
            s.setSoTimeout(syncTimeoutMs);
            serving = true;
            application.onServing(true);
            ObserverMaster.Settings masterSettings = observerMasterSettings;
            if (masterSettings != null && !observer) {
                // Apache's Follower.followLeader starts its ObserverMaster once synced, its window at what is
                // committed; a port it cannot bind throws and ends this session, as Apache's does.
                observerMaster = ObserverMaster.start(myId, masterSettings, this, figures, initTimeoutMs,
                        syncTimeoutMs, newEpoch, history.appliedZxid(), history.pending());
            }
            broadcast(in);
        } finally {
            ObserverMaster master = observerMaster;
            observerMaster = null;
            if (master != null) master.close();
            syncs.clear();
            serving = false;
            application.onServing(false);
            socket = null;
            s.close();
        }
    }

    private Socket connect(String host, int port, long retryDelayMs) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
            Socket s = sockets.learnerSocket();
            try {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(host, port), initTimeoutMs);
                // Apache's LeaderConnector: the TLS handshake right after the connect, within the same timeout.
                s.setSoTimeout(initTimeoutMs);
                sockets.handshake(s);
                return s;
            } catch (IOException e) {
                s.close();
                last = e;
                Thread.sleep(retryDelayMs);
            }
        }
        throw last;
    }

    /** FOLLOWERINFO, LEADERINFO, ACKEPOCH; returns the leader's new epoch. */
    private long discover(DataInputStream in) throws IOException {
        // Apache's registerWithLeader: the same discovery for both kinds, the packet type says which.
        send(new QuorumPacket(observer ? LearnerWire.OBSERVERINFO : LearnerWire.FOLLOWERINFO, acceptedEpoch << 32,
                LearnerWire.learnerInfo(myId, application.configVersion())));
        QuorumPacket info = read(in);
        if (info.type() != LearnerWire.LEADERINFO) {
            throw new IOException("expected LEADERINFO from the leader, got " + info);
        }
        long newEpoch = info.zxid() >>> 32;
        int ackedEpoch;
        if (newEpoch > acceptedEpoch) {
            ackedEpoch = (int) currentEpoch;
            disk.writeAcceptedEpoch(newEpoch); // the promise is durable before it is made
            acceptedEpoch = newEpoch;
        } else if (newEpoch == acceptedEpoch) {
            ackedEpoch = -1; // accepted before: it cannot count again towards the epoch's quorum
        } else {
            throw new IOException("leader's epoch " + newEpoch + " is below the accepted epoch " + acceptedEpoch);
        }
        send(new QuorumPacket(LearnerWire.ACKEPOCH, history.lastLoggedZxid(), LearnerWire.epochBytes(ackedEpoch)));
        return newEpoch;
    }

    /** DIFF or SNAP, proposals and commits, NEWLEADER (acknowledged once durable), UPTODATE. */
    private void sync(DataInputStream in, long newEpoch) throws IOException {
        QuorumPacket first = read(in);
        switch (first.type()) {
            case LearnerWire.DIFF -> {
                LOG.log(Level.INFO, "server {0}: DIFF from the leader up to 0x{1}", myId,
                        Long.toHexString(first.zxid()));
                // The leader found this member's whole log in its committed history.
                history.applyLoggedUpTo(Long.MAX_VALUE);
            }
            case LearnerWire.SNAP -> {
                byte[] snapshot = LearnerWire.readSnapshot(in, PACKET_DATA_BYTES_MAX, SNAPSHOT_BYTES_MAX);
                LOG.log(Level.INFO, "server {0}: SNAP from the leader at 0x{1}, {2} bytes", myId,
                        Long.toHexString(first.zxid()), snapshot.length);
                history.snapshot(first.zxid(), snapshot);
            }
            case LearnerWire.TRUNC -> history.truncate(first.zxid());
            default -> throw new IOException("expected DIFF, SNAP or TRUNC from the leader, got " + first);
        }
        List<QuorumPacket> unlogged = new ArrayList<>();
        ArrayDeque<QuorumPacket> uncommitted = new ArrayDeque<>();
        byte[] newLeaderConfig = null;
        boolean newLeaderSeen = false;
        while (true) {
            QuorumPacket packet = read(in);
            switch (packet.type()) {
                case LearnerWire.INFORM, LearnerWire.INFORMANDACTIVATE -> {
                    // Apache's syncWithLeader: applied at once; logged with the sync's proposals at NEWLEADER, or
                    // straight away once NEWLEADER was acknowledged.
                    if (history.inform(packet, newLeaderSeen ? null : unlogged)) disk.sync();
                }
                case LearnerWire.PROPOSAL -> {
                    QuorumPacket proposal = LearnerTxns.withTxnZxid(packet);
                    history.proposedConfig(proposal);
                    unlogged.add(proposal);
                    uncommitted.add(proposal);
                }
                case LearnerWire.COMMIT -> history.commit(uncommitted, packet.zxid());
                case LearnerWire.COMMITANDACTIVATE -> history.commitAndActivate(uncommitted, packet);
                case LearnerWire.NEWLEADER -> {
                    // Apache's leader sends its last seen configuration with NEWLEADER; the learner activates it at
                    // UPTODATE (Learner.syncWithLeader), once the leader's history is its own.
                    if (packet.data() != null && packet.data().length > 1) {
                        newLeaderConfig = packet.data();
                        try {
                            application.onProposedConfig(ApacheConfig.parse(newLeaderConfig));
                        } catch (RuntimeException e) {
                            LOG.log(Level.WARNING, "server {0}: NEWLEADER''s configuration is unreadable: {1}", myId,
                                    e.toString());
                        }
                    }
                    for (QuorumPacket proposal : unlogged) {
                        if (observer && uncommitted.contains(proposal)) {
                            continue; // an observer logs only what committed (Apache's ObserverZooKeeperServer)
                        }
                        history.log(proposal);
                    }
                    unlogged.clear();
                    newLeaderSeen = true;
                    disk.sync();
                    disk.writeCurrentEpoch(newEpoch); // only after the history it vouches for (ZOOKEEPER-4643)
                    currentEpoch = newEpoch;
                    send(new QuorumPacket(LearnerWire.ACK, packet.zxid(), null));
                }
                case LearnerWire.UPTODATE -> {
                    if (!unlogged.isEmpty()) {
                        throw new IOException("UPTODATE before NEWLEADER: a pre-Zab-1.0 leader is not supported");
                    }
                    if (observer && !uncommitted.isEmpty()) {
                        // Apache's observer skips a proposal without its commit ("old leader send outstanding
                        // proposal to observer"): its commit, if any, comes as INFORM.
                        LOG.log(Level.WARNING, "server {0}: {1} proposals without a commit while syncing, skipped",
                                myId, uncommitted.size());
                        uncommitted.clear();
                    }
                    history.pending(uncommitted);
                    if (newLeaderConfig != null && application.onActivate(newLeaderConfig, -1)) {
                        throw new LearnerHistory.ReconfigEnded(-1);
                    }
                    send(new QuorumPacket(LearnerWire.ACK, newEpoch << 32, null));
                    LOG.log(Level.INFO, "server {0}: synced with the leader in epoch {1}, last zxid 0x{2}", myId,
                            newEpoch, Long.toHexString(history.lastLoggedZxid()));
                    return;
                }
                case LearnerWire.PING -> ping(packet);
                default -> LOG.log(Level.WARNING, "server {0}: unexpected {1} while syncing", myId, packet);
            }
        }
    }

    private void broadcast(DataInputStream in) throws IOException {
        boolean unsynced = false;
        while (true) {
            QuorumPacket packet = read(in);
            if (observer) {
                unsynced |= observe(packet);
                if (unsynced && in.available() == 0) {
                    disk.sync(); // nothing more waiting: the informed transactions logged so far go to disk together
                    unsynced = false;
                }
                continue;
            }
            switch (packet.type()) {
                case LearnerWire.PROPOSAL -> {
                    figures.proposalReceived();
                    QuorumPacket proposal = LearnerTxns.withTxnZxid(packet);
                    history.proposedConfig(proposal);
                    history.log(proposal);
                    figures.proposalLogged(proposal.data());
                    disk.sync(); // durable before the ACK counts towards a commit
                    history.pending().add(proposal);
                    send(new QuorumPacket(LearnerWire.ACK, proposal.zxid(), null));
                    ObserverMaster master = observerMaster;
                    if (master != null) master.proposalReceived(proposal.zxid(), proposal.data());
                }
                case LearnerWire.COMMIT -> {
                    figures.commitReceived();
                    QuorumPacket committed = history.pending().peek();
                    ObserverMaster master = observerMaster;
                    if (master != null && committed != null && committed.zxid() == packet.zxid()) {
                        // Before the application may apply it: a SNAP of the tree never gets ahead of the window.
                        master.proposalCommitted(packet.zxid());
                    }
                    history.commit(history.pending(), packet.zxid());
                    figures.commitPropagated(committed.data());
                }
                case LearnerWire.COMMITANDACTIVATE -> {
                    QuorumPacket committed = history.pending().peek();
                    ObserverMaster master = observerMaster;
                    if (master != null && committed != null && committed.zxid() == packet.zxid()
                            && packet.data() != null && packet.data().length >= 8) {
                        master.informAndActivate(packet.zxid(), ByteBuffer.wrap(packet.data()).getLong());
                    }
                    history.commitAndActivate(history.pending(), packet);
                    if (committed != null) figures.commitPropagated(committed.data());
                }
                case LearnerWire.PING -> ping(packet);
                case LearnerWire.REVALIDATE -> revalidated(packet);
                case LearnerWire.SYNC -> synced();
                case LearnerWire.UPTODATE -> LOG.log(Level.WARNING, "server {0}: UPTODATE after sync", myId);
                default -> LOG.log(Level.WARNING, "server {0}: unhandled {1} from the leader", myId, packet);
            }
        }
    }

    /**
     * One packet in an observer's broadcast (Apache's Observer.processPacket); returns whether a transaction was
     * logged and not yet fsynced.
     */
    private boolean observe(QuorumPacket packet) throws IOException {
        switch (packet.type()) {
            case LearnerWire.INFORM, LearnerWire.INFORMANDACTIVATE -> {
                // Apache's Observer counts an INFORM as a commit received, not an INFORMANDACTIVATE.
                if (packet.type() == LearnerWire.INFORM) figures.commitReceived();
                boolean unsynced = history.inform(packet, null);
                // Apache's Observer logs the latency of an INFORM's request, not of an INFORMANDACTIVATE's.
                if (packet.type() == LearnerWire.INFORM) figures.commitPropagated(packet.data());
                return unsynced;
            }
            case LearnerWire.PING -> ping(packet);
            case LearnerWire.REVALIDATE -> revalidated(packet);
            case LearnerWire.SYNC -> synced();
            case LearnerWire.PROPOSAL, LearnerWire.COMMIT, LearnerWire.UPTODATE ->
                    LOG.log(Level.WARNING, "server {0}: observing, ignored {1} from the leader", myId, packet);
            default -> LOG.log(Level.WARNING, "server {0}: unhandled {1} from the leader", myId, packet);
        }
        return false;
    }

    /**
     * Forwards a client's write (or sync, or createSession with its timeout as the body) to the leader as Apache's
     * REQUEST: {@code long sessionId, int cxid, int type} and the request body as the client sent it; the leader acts
     * under {@code authinfo}. Only while synced; returns false (nothing sent) otherwise.
     */
    public boolean forward(long sessionId, int cxid, int type, byte[] body, List<LearnerWire.Id> authinfo)
            throws IOException {
        if (!serving) {
            return false;
        }
        ByteBuffer data = ByteBuffer.allocate(16 + body.length).putLong(sessionId).putInt(cxid).putInt(type).put(body);
        QuorumPacket request = new QuorumPacket(LearnerWire.REQUEST, -1, data.array(), authinfo);
        if (type == OpCode.SYNC) {
            synchronized (this) {
                syncs.local();
                send(request);
            }
        } else {
            send(request);
        }
        return true;
    }

    /**
     * An observer's REQUEST or REVALIDATE, relayed to the leader as it came (its learner master's thread); for a sync
     * {@code syncAnswer} runs when the leader's SYNC for it arrives (null otherwise).
     */
    synchronized void relay(QuorumPacket packet, Runnable syncAnswer) throws IOException {
        if (!serving) throw new IOException("not synced with a leader: nothing relayed");
        if (syncAnswer != null) syncs.observer(syncAnswer);
        send(packet);
    }

    /**
     * The leader's SYNC answers the oldest sync forwarded (Apache's FollowerZooKeeperServer.sync): this member's
     * client's, or an observer's, which gets its SYNC now. A SYNC nobody here asked for goes to the application.
     */
    private void synced() {
        Runnable observers = syncs.answered();
        if (observers == null) {
            application.onSync();
        } else {
            observers.run();
        }
    }

    /** Asks the leader whether a session a client reconnects with is alive (answered via onRevalidated). */
    public boolean revalidate(long sessionId, int timeoutMs) throws IOException {
        if (!serving) {
            return false;
        }
        send(new QuorumPacket(LearnerWire.REVALIDATE, -1,
                ByteBuffer.allocate(12).putLong(sessionId).putInt(timeoutMs).array()));
        return true;
    }

    /** The leader's REVALIDATE answer: {@code long sessionId, boolean valid}. */
    private void revalidated(QuorumPacket packet) throws IOException {
        byte[] data = packet.data();
        if (data == null || data.length < 9) {
            throw new IOException("REVALIDATE answer of " + (data == null ? "no" : data.length) + " bytes");
        }
        ObserverMaster master = observerMaster;
        if (master != null && master.revalidated(packet)) return; // an observer's: gone back to it
        ByteBuffer buffer = ByteBuffer.wrap(data);
        application.onRevalidated(buffer.getLong(), buffer.get() != 0);
    }

    /** Answers a PING with the sessions this member's clients keep alive, as Apache's learner does. */
    private void ping(QuorumPacket packet) throws IOException {
        Map<Long, Integer> touches = application.touches();
        ObserverMaster master = observerMaster;
        if (master != null) touches = master.withTouches(touches);
        ByteBuffer data = ByteBuffer.allocate(12 * touches.size());
        touches.forEach((id, timeout) -> data.putLong(id).putInt(timeout));
        send(new QuorumPacket(LearnerWire.PING, packet.zxid(), data.array(), packet.authinfo()));
    }

    private QuorumPacket read(DataInputStream in) throws IOException {
        return LearnerWire.read(in, PACKET_DATA_BYTES_MAX);
    }

    private synchronized void send(QuorumPacket packet) throws IOException {
        LearnerWire.write(packet, out);
        out.flush();
    }

    /** Ends the current session (its {@link #followLeader} throws). */
    @Override
    public void close() throws IOException {
        Socket s = socket;
        if (s != null) {
            s.close();
        }
    }
}
