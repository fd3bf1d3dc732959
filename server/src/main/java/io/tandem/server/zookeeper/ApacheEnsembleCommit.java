package io.tandem.server.zookeeper;

import io.tandem.zk.wire.SpecialPaths;
import io.netty.buffer.Unpooled;
import io.tandem.server.zab.DurableState;
import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.server.zab.QuorumTls;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.ApacheElection;
import io.tandem.server.zab.apache.ApacheLeader;
import io.tandem.server.zab.apache.ApacheQuorumPeer;
import io.tandem.server.zab.apache.LearnerApplication;
import io.tandem.server.zab.apache.LearnerWire;
import io.tandem.server.zab.apache.LeaderApplication;
import io.tandem.server.zab.apache.QuorumSockets;
import io.tandem.server.tls.StoreFileWatcher;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The commit path of a member speaking Apache's quorum protocol ({@code tandem.quorumProtocol=apache}): an
 * {@link ApacheQuorumPeer} elects with the Apache servers and follows their leader, which prepares and orders every
 * write. This member applies what the leader commits (with {@link ZkServer#applyTxn}, in zxid order, as
 * {@link EnsembleCommit} does), installs a SNAP through {@link ApacheTreeFormat}, and forwards its own clients' writes
 * as Apache's REQUEST packets, new sessions as createSession requests with their timeout, reconnects as REVALIDATE
 * and syncs as sync requests answered when the leader's SYNC arrives. PING answers carry the sessions of this
 * member's live connections. Durability is the follower's: each proposal is fsynced before its ACK. When the election
 * picks this member, it leads the Apache followers instead ({@link ApacheLeaderCommit}). A member whose own zoo.cfg
 * line says {@code :observer} observes: the same paths, except that the leader informs it of each commit (no
 * proposals, no ACKs) and it never leads.
 *
 * <p>Snapshots of its own, as Apache's SyncRequestProcessor takes them, and the restart's recovery are
 * {@link ApacheSnapshots}'; the configuration files Apache keeps beside zoo.cfg are {@link ApacheConfigFiles}'.
 *
 * <p>Everything the quorum peer reports (on its own thread) is queued onto the commit thread as a task, so the tree
 * has one writer and replies leave in each connection's arrival order. Forwarding writes to the leader's socket from
 * the commit thread, as Apache's learner does from its request thread; it never blocks a Netty event loop.
 */
final class ApacheEnsembleCommit implements CommitPath, LearnerApplication, LeaderApplication {
    private static final Logger LOG = System.getLogger(ApacheEnsembleCommit.class.getName());

    private final ZkServer server;
    private final FileZabDisk disk;
    private final ApacheQuorumPeer peer;
    private final EnsembleConfig staticConfig;
    /** Local requests in arrival order, answered in that order. */
    private final PendingAnswers answers;
    /** Forwarded syncs in forwarding order: the leader's SYNC packets answer them oldest first. */
    private final ArrayDeque<PendingAnswers.Entry> awaitingSync = new ArrayDeque<>();
    /** Re-attaches asked of the leader, per session in asking order (its answers come in that order). */
    private final Map<Long, ArrayDeque<PendingAnswers.Entry>> awaitingRevalidation = new HashMap<>();
    /** Written on the commit thread; read by srvr/mntr from any thread. */
    private volatile boolean serving;
    private volatile long leaderId = -1;
    private final SessionTouches sessionTouches;
    /** The live local sessions and their timeouts, refreshed on the commit thread, read by PING answers. */
    private volatile Map<Long, Integer> touches = Map.of();
    private final ApacheSnapshots snapshots;
    /** The leader's half, used while this member leads. */
    private final ApacheLeaderCommit leaderCommit;
    private final long myId;
    /** sslQuorum's stores, or null for plain connections. */
    private final QuorumTls quorumTls;
    /** Reloads them when their files change (sslQuorumReloadCertFiles), or null. */
    private StoreFileWatcher certificateWatcher;

    /** zoo.cfg, its dynamic files and the next file, as Apache's QuorumPeer keeps them. */
    private final ApacheConfigFiles configFiles;

    ApacheEnsembleCommit(ZkServer server, int myId, Map<String, String> settings, Path quorumDir,
                         ApacheConfigFiles configFiles) throws IOException {
        this.configFiles = configFiles;
        this.server = server;
        this.staticConfig = EnsembleConfig.fromSettings(settings);
        int tickTimeMs = server.config.tickTimeMs();
        int initLimit = Integer.parseInt(settings.getOrDefault("initLimit", "10").trim());
        int syncLimit = Integer.parseInt(settings.getOrDefault("syncLimit", "5").trim());
        // A leader that is alive answers within syncLimit ticks or the follower leaves it; a forwarded write still
        // waiting after twice that was lost without the session ending (its client is told to retry).
        this.answers = new PendingAnswers(server,
                TimeUnit.MILLISECONDS.toNanos(Math.max(2_000, 2L * tickTimeMs * syncLimit)), awaitingSync::remove);
        Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(settings);
        Map<Long, ApacheElection.Member> members = new TreeMap<>();
        peers.forEach((id, p) -> members.put((long) id,
                new ApacheElection.Member(id, p.host(), p.quorumPort(), p.electionPort(), 0)));
        int[] voters = peers.keySet().stream().mapToInt(Integer::intValue).toArray();
        server.database.memberLoadStarted(); // mntr's start-up load: the files opened, the snapshot installed
        this.disk = FileZabDisk.open(ZabConfig.of(myId, voters).withLimits(initLimit, syncLimit),
                server.config.dirs().below(quorumDir),
                server.config.preAllocBytes());
        disk.logStats().fsyncWarningThresholdMs(server.config.fsyncWarningThresholdMs());
        this.snapshots = new ApacheSnapshots(server, disk, this::initConfigNode);
        this.leaderCommit = new ApacheLeaderCommit(server, answers);
        // Only asked while this member leads: a follower forwards reconfig requests to the Apache leader.
        server.preparer.reconfig().syncedWithLeader(leaderCommit::isSynced);
        this.myId = myId;
        this.sessionTouches = new SessionTouches(server);
        try {
            DurableState loaded = disk.loaded();
            if (loaded.recovering()) {
                // The Apache follower has no recovering state: it would vote with an empty history it never had.
                throw new IOException("the Apache-protocol data in " + quorumDir + " is damaged (set aside as "
                        + "FileZabDisk logged); move " + quorumDir + " away to re-sync this member from the leader");
            }
            List<LearnerWire.QuorumPacket> logged = snapshots.recover(loaded);
            long lastLogged = logged.isEmpty() ? loaded.snapshotZxid() : logged.get(logged.size() - 1).zxid();
            server.database.memberLoadEnded(); // the logged proposals wait for the leader: none replayed here
            initConfigNode();
            Set<Long> observers = new TreeSet<>();
            peers.forEach((id, p) -> {
                if (p.observer()) observers.add((long) id);
            });
            this.peer = new ApacheQuorumPeer(myId, members, observers, disk, loaded.acceptedEpoch(),
                    loaded.currentEpoch(), lastLogged, this, this, tickTimeMs, initLimit, syncLimit);
            peer.follower().restoreLogged(loaded.snapshotZxid(), logged);
            // sslQuorum=true: TLS on the election and quorum ports as Apache 3.9.5 without portUnification.
            this.quorumTls = QuorumTls.from(settings);
            if (quorumTls != null) peer.useSockets(QuorumSockets.tls(quorumTls));
            int observerMasterPort = observerMasterPort(settings);
            if (observerMasterPort > 0) peer.observerMasterPort(observerMasterPort);
            // Apache's QuorumPeerMain: the configuration in force is the dynamic file's, at the version its name
            // carries (QuorumPeerConfig.parse), never an older one. The tree here is the last snapshot's without the
            // proposals logged after it (applied once a leader confirms them), so after a reconfig that committed
            // since that snapshot its /zookeeper/config is the configuration before it: taken first, it made a
            // restarted member elect with the old voters (a removed one counted) and send them in its votes.
            if (staticConfig.version() > 0) {
                peer.restoreConfig(staticConfig.bytes());
            }
            // The snapshot's configuration only when newer (the dynamic file was not written, or the member keeps
            // none: its configuration is what its data holds).
            EnsembleConfig restored = EnsembleConfig.parse(server.tree.getNode(SpecialPaths.CONFIG).data());
            if (restored != null && restored.version() > staticConfig.version()) {
                peer.restoreConfig(server.tree.getNode(SpecialPaths.CONFIG).data());
            }
            // Apache's start-up with zoo.cfg.dynamic.next: a newer pending configuration is the last seen one.
            io.tandem.server.zab.apache.ApacheConfig lastSeen = configFiles.startUp(peer.config().version());
            if (lastSeen != null) {
                peer.restoreLastSeen(lastSeen);
            }
        } catch (IOException | RuntimeException e) {
            disk.close();
            throw e;
        }
    }

    /**
     * zoo.cfg's observerMasterPort (0 when unset or 0, Apache's "none"). An observer syncs through a voter's learner
     * master on it (ApacheQuorumPeer.follow); a voter, while it follows, serves observers on it at its quorum host
     * (ObserverMaster, as Apache's follower does).
     */
    private static int observerMasterPort(Map<String, String> settings) {
        String value = settings.get("observerMasterPort");
        return value == null ? 0 : Integer.parseInt(value.trim());
    }

    /** Starts electing and following; the commit thread must already run (the peer's callbacks queue onto it). */
    void start() throws IOException {
        // As Apache's QuorumPeer.start: the watcher is set up before the election starts, and a failure fails the start.
        if (quorumTls != null) certificateWatcher = quorumTls.watchStores((int) myId);
        try {
            peer.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the Apache quorum peer", e);
        }
    }

    /** The election port (tests bind it from the server line). */
    int electionPort() {
        return peer.electionPort();
    }

    private void initConfigNode() {
        Reconfig.initConfigNode(server.tree, staticConfig, System.currentTimeMillis());
    }

    // ---------------------------------------------------------------- quorum peer callbacks (its thread)

    @Override
    public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        enqueue(() -> {
            try {
                snapshots.install(zxid, new ByteArrayInputStream(apacheSnapshot));
            } catch (IOException e) {
                throw new UncheckedIOException("the leader's SNAP at zxid 0x" + Long.toHexString(zxid)
                        + " is unreadable", e);
            }
        });
    }

    @Override
    public void onCommit(long zxid, byte[] txn) {
        enqueue(() -> applyCommitted(zxid, txn));
    }

    @Override
    public Map<Long, Integer> touches() {
        return touches;
    }

    @Override
    public void onServing(boolean nowServing) {
        long leader = peer == null ? -1 : peer.leaderId();
        enqueue(() -> changeServing(nowServing, leader));
    }

    @Override
    public void onRevalidated(long sessionId, boolean valid) {
        enqueue(() -> {
            ArrayDeque<PendingAnswers.Entry> waiting = awaitingRevalidation.get(sessionId);
            PendingAnswers.Entry entry = waiting == null ? null : waiting.poll();
            if (waiting != null && waiting.isEmpty()) {
                awaitingRevalidation.remove(sessionId);
            }
            if (entry != null) {
                entry.request.handshakeValid = valid;
                answers.resolve(entry, null);
                answers.drain();
                server.responder.flushMarked();
            }
        });
    }

    @Override
    public void onSync() {
        enqueue(() -> {
            PendingAnswers.Entry entry = awaitingSync.poll();
            if (entry != null) {
                answers.resolve(entry, null); // answered as a read: every commit sent before the SYNC is applied
                answers.drain();
                server.responder.flushMarked();
            }
        });
    }

    @Override
    public boolean reconfigEnabled() {
        return server.config.reconfigEnabled();
    }

    /**
     * Apache's initConfigInZKDatabase at each activation: the configuration in force is written into
     * {@code /zookeeper/config} (its version as the change's zxid), on the commit thread before the reconfig's own
     * commit, which the follower hands over after this.
     */
    @Override
    public void onConfig(io.tandem.server.zab.apache.ApacheConfig config) {
        byte[] text = config.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        enqueue(() -> {
            try {
                server.tree.setData(SpecialPaths.CONFIG, text, -1, config.version(), System.currentTimeMillis());
            } catch (ZkException e) {
                throw new IllegalStateException("the tree has no " + SpecialPaths.CONFIG, e);
            }
            // Apache's setQuorumVerifier(qv, true): a restart (ZkServer.startApacheEnsemble) elects with these.
            configFiles.activated(EnsembleConfig.parse(text));
        });
    }

    /** A reconfig about to be logged, or NEWLEADER's configuration: Apache's zoo.cfg.dynamic.next, written at once. */
    @Override
    public void onProposedConfig(io.tandem.server.zab.apache.ApacheConfig config) {
        configFiles.proposed(config);
    }

    /** The leader's last seen configuration (its start's, or its own reconfig's): the next file, written at once. */
    @Override
    public void onLastSeen(io.tandem.server.zab.apache.ApacheConfig config) {
        configFiles.proposed(config);
    }

    /**
     * The leader's activation (a reconfig it committed, or NEWLEADER's configuration once established): the znode as
     * on a follower, before the reconfig's own commit is applied.
     */
    @Override
    public void onActivate(io.tandem.server.zab.apache.ApacheConfig config, long designatedLeader) {
        onConfig(config);
    }

    // ---------------------------------------------------------------- leader callbacks (the leader's threads)

    @Override
    public void onLeading(ApacheLeader leader, boolean established) {
        enqueue(() -> changeLeading(leader, established));
    }

    @Override
    public void onRequest(long learnerSid, long sessionId, int cxid, int type, byte[] body,
                          List<LearnerWire.Id> auth) {
        enqueue(() -> {
            leaderCommit.forwarded(learnerSid, sessionId, cxid, type, body, auth);
            leaderCommit.flush();
        });
    }

    @Override
    public void onRevalidate(long learnerSid, long sessionId, int timeoutMs) {
        enqueue(() -> leaderCommit.revalidate(learnerSid, sessionId));
    }

    @Override
    public void onTouches(Map<Long, Integer> touches) {
        enqueue(() -> leaderCommit.touch(touches));
    }

    @Override
    public LeaderApplication.SyncSnapshot snapshot() throws IOException, InterruptedException {
        return leaderCommit.snapshot();
    }

    private void enqueue(Runnable task) {
        server.runOnCommitThread(task);
    }

    // ---------------------------------------------------------------- the commit thread

    @Override
    public void processBatch(List<Request> batch) {
        long time = System.currentTimeMillis();
        for (Request request : batch) {
            if (CommitTasks.runIfTask(server, request)) {
                continue;
            }
            if (leaderCommit.leading()) {
                leaderCommit.process(request, time);
                continue;
            }
            if (request.connection == null) {
                continue; // expiry and container clean-up are the leader's
            }
            if (!serving) {
                request.connection.closeNow(); // no leader or still syncing: the client fails over
                continue;
            }
            if (request.type == Request.KIND_CONNECT) {
                connect(request);
            } else if (request.isWrite() && request.sessionId != 0) {
                forward(request, request.type, Forwarding.requestBody(request), PendingAnswers.Wait.COMMIT);
            } else if (request.type == OpCode.SYNC && request.sessionId != 0) {
                forward(request, OpCode.SYNC, Forwarding.requestBody(request), PendingAnswers.Wait.SYNC);
            } else {
                answers.answerInTurn(request, request.receivedNanos);
            }
        }
        leaderCommit.flush();
        answers.drain();
        server.responder.flushMarked();
    }

    /** A handshake: a new session is created by the leader; a re-attach is checked here, then revalidated there. */
    private void connect(Request request) {
        if (server.sessions.prepareConnect(request)) {
            // Apache's learner forwards createSession with cxid 0 and the negotiated timeout as the body.
            byte[] timeout = ByteBuffer.allocate(4).putInt(request.negotiatedTimeout).array();
            forward(request, OpCode.CREATE_SESSION, timeout, PendingAnswers.Wait.COMMIT);
            return;
        }
        if (request.type == Request.KIND_TASK) {
            return; // refused: the client has seen a newer zxid than this member
        }
        if (!request.handshakeValid) {
            answers.answerInTurn(request, request.receivedNanos); // wrong password or unknown here: refused in order
            return;
        }
        // The leader owns sessions: it says whether this one is alive and moves it to this member.
        boolean sent;
        try {
            sent = peer.follower().revalidate(request.sessionId, request.negotiatedTimeout);
        } catch (IOException e) {
            sent = false;
        }
        if (!sent) {
            request.connection.closeNow();
            return;
        }
        PendingAnswers.Entry entry = answers.await(request, PendingAnswers.Wait.REVALIDATE, request.receivedNanos);
        awaitingRevalidation.computeIfAbsent(request.sessionId, id -> new ArrayDeque<>()).add(entry);
    }

    private void forward(Request request, int type, byte[] body, PendingAnswers.Wait wait) {
        List<LearnerWire.Id> auth = new ArrayList<>();
        for (Id id : request.authInfo()) {
            auth.add(new LearnerWire.Id(id.scheme(), id.id()));
        }
        boolean sent;
        try {
            sent = peer.follower().forward(request.sessionId, request.xid, type, body, auth);
        } catch (IOException e) {
            sent = false;
        }
        if (!sent) {
            LOG.log(Level.WARNING, () -> "Closing connection of session 0x" + Long.toHexString(request.sessionId)
                    + ": the request could not be forwarded to the leader");
            request.connection.closeNow();
            return;
        }
        if (wait == PendingAnswers.Wait.SYNC) {
            awaitingSync.add(answers.await(request, wait, request.receivedNanos));
        } else {
            answers.awaitCommit(request, request.sessionId, request.xid, request.receivedNanos);
        }
    }

    private void applyCommitted(long zxid, byte[] bytes) {
        JuteInput in = new JuteInput(Unpooled.wrappedBuffer(bytes), Integer.MAX_VALUE);
        TxnHeader header = TxnHeader.read(in);
        if (header.zxid() != zxid) {
            throw new IllegalStateException("commit 0x" + Long.toHexString(zxid) + " carries txn zxid 0x"
                    + Long.toHexString(header.zxid()));
        }
        JuteRecord txn = Jute.txnBody(header.type(), in);
        DataTree.Result result = server.applyTxn(header, txn);
        leaderCommit.applied(zxid);
        snapshots.applied();
        answers.answerCommitted(header, txn, result);
    }

    /** Snapshots this member wrote itself since it started (tests). */
    long ownSnapshots() {
        return snapshots.completed();
    }

    private void changeLeading(ApacheLeader leader, boolean established) {
        changeServing(established, established ? myId : -1);
        leaderCommit.leadership(established ? leader : null);
    }

    private void changeServing(boolean nowServing, long newLeaderId) {
        if (nowServing == serving && newLeaderId == leaderId) {
            return;
        }
        if (serving) {
            // What the old leader committed is answered first (a reconfig that changed the leader ends the session
            // right after its commit, which its client waits for); requests still in flight may be lost with the
            // old leader: clients reconnect (anywhere) and retry.
            answers.drain();
            server.responder.flushMarked();
            server.listener.closeAll();
            answers.clear();
            awaitingSync.clear();
            awaitingRevalidation.clear();
        }
        serving = nowServing;
        leaderId = nowServing ? newLeaderId : -1;
        if (serving && newLeaderId != myId) {
            // A new leader gives every session a full timeout, as Apache's does; this member tracks none itself.
            for (Session session : server.sessions.byId().values()) {
                session.touch();
            }
        }
        LOG.log(Level.INFO, () -> "ZooKeeper ensemble member (Apache protocol): " + (!nowServing ? "looking"
                : newLeaderId == myId ? "leading" : (peer.isObserver() ? "observing" : "following") + " leader "
                + newLeaderId));
    }

    @Override
    public void tick() {
        long now = System.nanoTime();
        if (answers.closeLost(now)) {
            awaitingRevalidation.clear();
        }
        Map<Long, Integer> alive = sessionTouches.due(now);
        if (alive != null) {
            touches = Map.copyOf(alive);
        }
    }

    @Override
    public boolean decidesExpiry() {
        // The leader expires sessions and removes containers; a follower applies its commits.
        return leaderCommit.leading();
    }

    @Override
    public String mode() {
        return !serving ? "looking" : leaderCommit.leading() ? "leader" : peer.isObserver() ? "observer" : "follower";
    }

    @Override
    public int leaderId() {
        return (int) leaderId;
    }

    /**
     * Apache's leader lists the observers it forwards to (Apache's observers, OBSERVERINFO), and a follower with
     * observerMasterPort those synced through its learner master (Follower.getSyncedObserversInfo).
     */
    @Override
    public java.util.List<java.util.Map<String, Object>> syncedObservers() {
        if (!serving) return null;
        return leaderCommit.leading() ? leaderCommit.observersInfo() : peer.follower().observersInfo();
    }

    @Override
    public void resetObserverStats() {
        leaderCommit.resetObserverStats();
        peer.follower().resetObserverStats();
    }

    @Override
    public ProposalSizes proposalSizes() {
        return leaderCommit.proposalSizes();
    }

    @Override
    public io.tandem.server.zab.LogSyncStats logStats() {
        return disk.logStats();
    }

    @Override
    public void reportStats(BiConsumer<String, Object> line) {
        leaderCommit.reportStats(line);
        // Apache's MonitorCommand on a follower running an ObserverMaster: its observers (no line without one).
        java.util.List<java.util.Map<String, Object>> learnerMasterObservers = peer.follower().observersInfo();
        if (serving && !leaderCommit.leading() && learnerMasterObservers != null) {
            line.accept("zk_synced_observers", learnerMasterObservers.size());
        }
        // The log's figures, leading or following, as Apache's SyncRequestProcessor and FileTxnLog report them.
        disk.logStats().report(line);
        // Apache's quorum figures, which its members print whatever their role: QuorumZooKeeperServer's quorum_size
        // gauge (the members of the configuration in force) and ServerMetrics' election, broadcast and sync ones.
        line.accept("zk_quorum_size", peer.config().members().size());
        peer.figures().report(line);
    }

    @Override
    public void stopIntake() {
        if (certificateWatcher != null) certificateWatcher.close();
        try {
            peer.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the Apache quorum peer failed", e);
        }
    }

    @Override
    public void onCommitThreadExit() {
        // Nothing to finish: every acknowledged proposal is in the follower's log; a waiting client retries elsewhere.
        // A snapshot being written is abandoned (the log covers everything it would).
        snapshots.cancelAndAwait();
    }

    @Override
    public void close() {
        try {
            disk.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the Apache-protocol data failed", e);
        }
    }
}
