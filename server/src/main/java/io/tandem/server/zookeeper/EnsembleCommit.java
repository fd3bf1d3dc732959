package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.server.zab.LogSyncStats;
import io.tandem.server.zab.ProposalSizes;
import io.tandem.server.zab.QuorumFaults;
import io.tandem.server.zab.Role;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabServer;
import io.tandem.server.zab.Members;
import io.tandem.server.zab.MembershipReader;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The replicated commit path of an ensemble member, run on the ZooKeeper commit thread. The leader prepares writes
 * (its own clients' and those its followers forward) against its newest state, outstanding proposals included, and
 * proposes the transaction bytes through Zab; a follower forwards the request unprepared. Every member applies
 * committed transactions in zxid order, and the member holding the client's connection answers. Requests of this
 * member's clients are answered strictly in arrival order, so replies stay in xid order per session and a read waits
 * for its session's earlier writes. Everything Zab reports (commits, snapshots, role changes, forwarded requests)
 * is queued onto the commit thread as a task, so the tree has exactly one writer.
 */
final class EnsembleCommit implements CommitPath, ZabServer.Application {
    private static final Logger LOG = System.getLogger(EnsembleCommit.class.getName());

    /** Apache's server state (srvr, mntr) of a member in read-only mode. */
    static final String READ_ONLY_MODE = "read-only";

    private final ZkServer server;
    private volatile EnsembleZab zab;
    private final CommitClock clock;
    private final BackgroundSnapshots snapshots;
    /** Local requests in arrival order, answered in that order. */
    private final PendingAnswers answers;
    /** On the leader: transactions proposed, in order; as each commits, the preparer drops the records it made. */
    private final LeaderProposals proposed = new LeaderProposals();
    private volatile boolean leading;
    private boolean serving;
    private int leaderId = -1;
    private final SessionTouches sessionTouches;
    private long appliedSinceCompact;
    private final ReadOnlyMode readOnly;
    /** The configurations this member applies, and who is in the ensemble as they change it. */
    private final ReconfigMembership membership;
    /** Where the leader's proposal-to-commit times go (the metrics), also for a Zab started later; null: nowhere. */
    private volatile java.util.function.LongConsumer zabCommitObserver;
    private final EnsembleMembers members;
    /** mntr's looking_count and election_time, from the roles Zab reports. */
    private final ElectionFigures elections;
    /** On the leader: the configuration's version needs no establishing, or the transaction doing it is proposed. */
    private boolean configVersionProposed;
    /** Zab's role as last reported to {@link #changeRole}. */
    private Role zabRole = Role.LOOKING;
    /**
     * Test hook, run right before the leader prepares a write. The simulator's mutation test sets it to forget the
     * outstanding changes ({@link Preparer#clear}), so writes are checked against the applied tree only: the
     * linearizability checker must catch that.
     */
    Runnable beforeLeaderPrepare = () -> {};

    EnsembleCommit(ZkServer server, Map<String, String> settings) {
        this(server, settings, CommitClock.SYSTEM, false);
    }

    /**
     * With {@code inlineSnapshots} a snapshot is written on the commit thread when it is due instead of on its own
     * thread (the simulator: one thread, deterministic); production writes them in the background.
     */
    EnsembleCommit(ZkServer server, Map<String, String> settings, CommitClock clock, boolean inlineSnapshots) {
        this.server = server;
        this.clock = clock;
        this.elections = new ElectionFigures(clock.nanoTime());
        // A leader that is alive answers within syncLimit ticks or is abandoned by Zab; a write still waiting after
        // that was dropped (e.g. refused by a leader with too many proposals in flight) without a role change.
        long syncLimitMillis = Long.parseLong(settings.getOrDefault("tickTime", "2000").trim())
                * Long.parseLong(settings.getOrDefault("syncLimit", "5").trim());
        this.answers = new PendingAnswers(server,
                TimeUnit.MILLISECONDS.toNanos(Math.max(2_000, 2 * syncLimitMillis)), entry -> {});
        this.readOnly = new ReadOnlyMode(server, ZkServerConfig.readOnlyModeEnabled(settings::get), clock::nanoTime);
        // It fills /zookeeper/config now: the commit thread starts after this constructor.
        this.membership = new ReconfigMembership(server, settings, clock, () -> zab);
        this.members = membership.members;
        this.sessionTouches = new SessionTouches(server);
        this.snapshots = inlineSnapshots ? BackgroundSnapshots.inline(this::writeToZab, server.tree, server.database)
                : new BackgroundSnapshots(this::writeToZab, server.tree, server.database);
    }

    /** Starts Zab; its callbacks are queued onto the commit thread, which must already run. */
    void startZab(int myId, Map<String, String> settings, Path zabDir) throws IOException {
        members.myId(myId);
        try {
            server.database.memberLoadStarted();
            ZabServer started = ZabServer.start(myId, settings, server.config.dirs().below(zabDir), this);
            // Queued behind the start-up snapshot's installation (ZabServer.start hands it over): mntr's start-up load.
            enqueue(server.database::memberLoadEnded);
            if (zabCommitObserver != null) started.observeCommitLatency(zabCommitObserver);
            started.logStats().fsyncWarningThresholdMs(server.config.fsyncWarningThresholdMs());
            zab = EnsembleZab.of(started);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting Zab", e);
        }
    }

    /** The leader's proposal-to-commit times go to {@code observer} (the metrics); see ZabDriver#observeCommitLatency. */
    void observeZabCommits(java.util.function.LongConsumer observer) {
        zabCommitObserver = observer;
        ZabServer running = zab();
        if (running != null) running.observeCommitLatency(observer);
    }

    /** Cuts quorum links for fault injection (see {@code QuorumFaults}); none are cut before this is called. */
    void quorumFaults(QuorumFaults faults) {
        ZabServer running = zab();
        if (running != null) running.faults(faults);
    }

    /** Runs over {@code simulated} instead of a {@link ZabServer} ({@link #startZab}); before Zab reports anything. */
    void attachZab(EnsembleZab simulated, int myId) {
        members.myId(myId);
        zab = simulated;
    }

    @Override
    public boolean decidesExpiry() {
        return leading;
    }

    @Override
    public void stopIntake() {
        EnsembleZab running = zab;
        if (running != null) {
            try {
                running.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "closing Zab failed", e);
            }
        }
    }

    @Override
    public void onCommitThreadExit() {
        // Nothing to finish: Zab holds every transaction durably; a waiting client retries elsewhere. A snapshot being
        // written is abandoned (Zab is closed already; its log covers everything the snapshot would).
        snapshots.cancelAndAwait();
    }

    @Override
    public void close() {
        // Zab was closed by stopIntake, before the commit thread stopped.
    }

    @Override
    public LogSyncStats logStats() {
        EnsembleZab running = zab;
        return running == null ? null : running.logStats();
    }

    @Override
    public void reportStats(BiConsumer<String, Object> line) {
        EnsembleZab running = zab;
        LogSyncStats log = running == null ? null : running.logStats();
        // Before Zab runs nothing has been logged: Apache's keys with nothing counted yet.
        (log == null ? new LogSyncStats() : log).report(line);
        // Apache's quorum figures (QuorumZooKeeperServer's quorum_size gauge, ServerMetrics' election and broadcast
        // counters), which its members print whatever their role.
        line.accept("zk_quorum_size", members.size());
        elections.report(line);
        io.tandem.server.zab.QuorumFigures broadcast = running == null ? null : running.quorumFigures();
        if (broadcast != null) broadcast.report(line);
        if (running != null) running.reportLeader(proposed.pendingSyncs(), line);
    }

    @Override
    public void reportOwnStats(BiConsumer<String, Object> line) {
        EnsembleZab running = zab;
        ZabServer.Stats.report(running == null ? null : running.stats(), line);
    }

    @Override
    public ProposalSizes proposalSizes() {
        EnsembleZab running = zab;
        return running == null ? null : running.proposalSizes();
    }

    @Override
    public java.util.List<java.util.Map<String, Object>> syncedObservers() {
        EnsembleZab running = zab;
        return running == null ? null : running.syncedObservers();
    }

    @Override
    public void resetObserverStats() {
        EnsembleZab running = zab;
        if (running != null) running.resetObserverStats();
    }

    @Override
    public String confTail() {
        return membership.confTail();
    }

    // ---------------------------------------------------------------- Zab callbacks (Zab thread -> commit thread)

    @Override
    public void onCommit(long zxid, byte[] txn) {
        enqueue(() -> applyCommitted(zxid, txn));
    }

    @Override
    public void onSnapshot(long zxid, SnapshotData snapshot) {
        enqueue(() -> installSnapshot(zxid, snapshot));
    }

    @Override
    public MembershipReader membershipReader() {
        return Reconfig::membersOf;
    }

    @Override
    public void onConfigAdopted(long version, Members adopted) {
        enqueue(() -> membership.adopted(version, adopted.text()));
    }

    @Override
    public byte[] prepareForwarded(byte[] request) {
        // The leader prepares on the commit thread, against the tree plus its outstanding changes, and proposes there.
        enqueue(() -> handleForwarded(request));
        return null;
    }

    @Override
    public void onRoleChange(Role role, int newLeaderId, long epoch) {
        boolean nowServing = zab != null ? zab.isServing() : false;
        enqueue(() -> changeRole(role, newLeaderId, nowServing));
    }

    private void enqueue(Runnable task) {
        server.runOnCommitThread(task);
    }

    // ---------------------------------------------------------------- the commit thread

    @Override
    public void processBatch(List<Request> batch) {
        long time = clock.currentTimeMillis();
        for (Request request : batch) {
            if (CommitTasks.runIfTask(server, request)) {
                continue;
            }
            if (request.connection != null && !serving) {
                if (readOnly.active()) {
                    readOnly.handle(request);
                } else {
                    // No leader or still syncing: drop the client so it fails over to a member that serves.
                    request.connection.closeNow();
                }
                continue;
            }
            if (request.type == Request.KIND_CONNECT) {
                if (server.sessions.prepareConnect(request)) {
                    // Zab numbers the txn when it commits; the prepared header's zxid is a placeholder.
                    server.preparer.prepare(request, 0, time, List.of());
                }
                if (request.type == Request.KIND_TASK) {
                    continue; // refused: the client has seen a newer zxid than this member
                }
                if (request.header != null) {
                    propose(request, time);
                } else {
                    answers.answerInTurn(request, clock.nanoTime()); // re-attach, answered in order
                }
            } else if (request.isWrite() && (request.connection == null || request.sessionId != 0)) {
                if (request.connection == null && !leading) {
                    continue; // expiry or container clean-up decided under a leadership that has ended
                }
                propose(request, time);
            } else if (request.type == OpCode.SYNC && request.sessionId != 0) {
                // A marker through the leader: once it is applied here, so is everything the leader had before it.
                request.header = new TxnHeader(request.sessionId, request.xid, 0, time, OpCode.SYNC);
                propose(request, time);
                request.header = null; // answered as a read once the marker is back
            } else if (request.connection != null) {
                answers.answerInTurn(request, clock.nanoTime());
            }
        }
        answers.drain();
        server.responder.flushMarked();
    }

    private void propose(Request request, long time) {
        boolean local = request.connection != null;
        boolean submitted;
        byte[] txn = null;
        if (leading) {
            long stamp = 0;
            if (request.header == null) {
                beforeLeaderPrepare.run();
                server.preparer.prepare(request, 0, time, request.authInfo());
                stamp = request.prepareSequence;
            }
            txn = Jute.txnBytes(request.header, request.txn);
            submitted = proposeAsLeader(txn, stamp);
        } else {
            byte[] envelope = request.header != null
                    ? Forwarding.txn(Jute.txnBytes(request.header, request.txn))
                    : Forwarding.write(request);
            submitted = zab.submit(envelope);
        }
        if (!local) {
            return;
        }
        if (!submitted) {
            LOG.log(Level.WARNING, () -> "Closing connection of session 0x" + Long.toHexString(request.sessionId)
                    + ": the write could not be handed to Zab");
            request.connection.closeNow();
            return;
        }
        answers.awaitCommit(request, request.header != null ? request.header.clientId() : request.sessionId,
                request.xid, clock.nanoTime());
    }

    /**
     * Hands a transaction to Zab on the leader. A refused one will never commit, so the change records its prepare
     * made are taken back at once; later writes are checked as if it had never been prepared.
     */
    private boolean proposeAsLeader(byte[] txn, long stamp) {
        if (proposed.hasRoom() && zab.submit(txn)) {
            proposed.add(txn, stamp);
            return true;
        }
        if (stamp != 0) {
            server.preparer.withdraw(stamp);
        }
        return false;
    }

    private void applyCommitted(long zxid, byte[] bytes) {
        readOnly.leave(); // a leader syncs this member: its fake sessions must not reach the tree or a snapshot
        JuteInput in = new JuteInput(Unpooled.wrappedBuffer(bytes), Integer.MAX_VALUE);
        TxnHeader logged = TxnHeader.read(in);
        // Zab, not the preparer, numbers transactions: the header gets the zxid it was committed under.
        TxnHeader header = new TxnHeader(logged.clientId(), logged.cxid(), zxid, logged.time(), logged.type());
        DataTree.Result result = null;
        JuteRecord txn = null;
        if (logged.type() == OpCode.SYNC) {
            server.tree.setLastProcessedZxid(zxid);
        } else {
            txn = Jute.txnBody(logged.type(), in);
            if (logged.type() == OpCode.RECONFIG) {
                txn = Reconfig.stamped((SetDataTxn) txn, zxid);
                LOG.log(Level.INFO, () -> "Committed reconfig at zxid 0x" + Long.toHexString(zxid));
            }
            result = server.applyTxn(header, txn);
            if (logged.type() == OpCode.RECONFIG) {
                membership.applied((SetDataTxn) txn, zxid, serving);
            }
        }
        long stamp = proposed.committed(bytes);
        if (stamp > 0) {
            server.preparer.applied(stamp); // its changes (and earlier ones) are in the tree now
        }
        answers.answerCommitted(header, txn, result);
        // Answered and flushed once per batch of the commit thread (processBatch), not once per commit: a Ready's
        // commits arrive together, and one flush per connection per batch saves a syscall per reply.
        maybeCompact();
    }

    private void installSnapshot(long zxid, SnapshotData snapshot) {
        readOnly.leave();
        // The snapshot thread must not walk the tree while it is replaced (nor store a mix of the two).
        snapshots.cancelAndAwait();
        server.tree.clearForSnapshot();
        server.sessions.byId().clear();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(snapshot.open(), 64 << 10))) {
            SnapshotFormat.read(in, server.tree, server.sessions.byId());
            server.sessions.sessionsRestored(); // timed on the commit path's clock, each with a full timeout
        } catch (IOException e) {
            throw new UncheckedIOException("snapshot at zxid 0x" + Long.toHexString(zxid) + " is unreadable", e);
        }
        server.tree.setLastProcessedZxid(zxid);
        membership.snapshotInstalled(zxid, serving);
        server.preparer.clear();
        proposed.clear();
        appliedSinceCompact = 0;
        LOG.log(Level.INFO, () -> "Installed snapshot at zxid 0x" + Long.toHexString(zxid) + ": " + server.tree.nodeCount()
                + " znodes, " + server.sessions.byId().size() + " sessions");
    }

    /**
     * Every snapCount transactions, starts a snapshot on the snapshot thread ({@link BackgroundSnapshots}, fuzzy as the
     * standalone server's): this thread only notes the zxid and copies the sessions, so a large tree never stalls
     * commits. The writer stores it in Zab's snapshot store and hands it to Zab, which then forgets the log it covers
     * (kept in memory after the snapshot) and streams it to followers too far behind for a DIFF. Replaying the log
     * after its zxid over it is safe for the same reasons as on the standalone server ({@link SnapshotFormat}): a
     * restarted member and a follower synced by SNAP both do exactly that.
     */
    private void maybeCompact() {
        if (++appliedSinceCompact < server.config.snapCount()) {
            return;
        }
        appliedSinceCompact = 0; // counted from this attempt even when skipped, so a slow writer is not asked each commit
        snapshots.start(server.tree.lastProcessedZxid(), SnapshotFormat.sessionTimeouts(server.sessions.byId()));
    }

    /** The snapshot thread's writer: into Zab's store, then Zab may compact up to it. */
    private void writeToZab(long zxid, ZkStore.SnapshotWriter body) throws IOException {
        EnsembleZab running = zab;
        if (running == null) {
            throw new IOException("Zab is not running");
        }
        SnapshotData stored = running.writeSnapshot(zxid, body::write);
        if (!running.compact(zxid, stored)) {
            LOG.log(Level.INFO, () -> "Zab did not take the snapshot at zxid 0x" + Long.toHexString(zxid)
                    + " (busy or stopping); the next one will do");
        }
    }

    ReadOnlyMode readOnlyMode() {
        return readOnly;
    }

    BackgroundSnapshots snapshots() {
        return snapshots;
    }

    /** The running Zab server, or null before it starts or under the simulator (tests). */
    ZabServer zab() {
        return zab instanceof EnsembleZab.Production production ? production.server() : null;
    }

    private void changeRole(Role role, int newLeaderId, boolean zabServing) {
        boolean nowServing = zabServing;
        boolean wasServing = serving;
        boolean wasLeading = leading;
        boolean nowLeading = nowServing && role == Role.LEADING;
        if (role != Role.LOOKING) {
            readOnly.leave(); // Apache stops its read-only server as soon as the member leaves LOOKING
        } else if (zabRole != Role.LOOKING) {
            readOnly.notServingSince(clock.nanoTime()); // and waits afresh in each LOOKING spell
        }
        zabRole = role;
        EnsembleZab runningZab = zab;
        elections.role(role, runningZab != null && runningZab.isObserver(), clock.nanoTime());
        if (nowServing == wasServing && newLeaderId == leaderId && nowLeading == wasLeading) {
            return; // already seen (the periodic check in tick() may have got here first)
        }
        if (wasServing && (!nowServing || newLeaderId != leaderId)) {
            // Proposals in flight may be lost with the old leader; clients reconnect (anywhere) and retry.
            server.listener.closeAll();
            answers.clear();
        }
        if (nowServing && (!wasServing || newLeaderId != leaderId)) {
            EnsembleZab running = zab;
            members.startedServing(running == null ? Long.MAX_VALUE : running.committedZxid());
        }
        serving = nowServing;
        leaderId = newLeaderId;
        leading = nowLeading;
        proposed.clear();
        server.preparer.clear();
        if (leading != wasLeading) {
            // Closes this member prepared as leader may never commit; only the tree says a session is gone. A new
            // leader also gives every session a full timeout, as Apache's does.
            for (Session session : server.sessions.byId().values()) {
                session.closing = false;
                if (leading) {
                    session.touch();
                }
            }
        }
        LOG.log(Level.INFO, () -> "ZooKeeper ensemble member: " + role + ", leader " + newLeaderId
                + (nowServing ? ", serving" : ", not serving"));
        configVersionProposed = false;
        establishConfigVersion();
    }

    /**
     * On a new leader: a configuration still at version 0 gets its established version (see
     * {@link Reconfig#establishing}), once every transaction committed before is applied. Retried each tick until Zab
     * takes the proposal.
     */
    private void establishConfigVersion() {
        if (!leading || configVersionProposed) {
            return;
        }
        EnsembleZab running = zab;
        if (running == null || server.tree.lastProcessedZxid() < running.committedZxid()) {
            // A restarted leader learns what of its log is committed only once it leads: until that is applied,
            // the tree may still show the static version 0 that an earlier leader already established.
            return;
        }
        byte[] txn = Reconfig.establishingTxn(server.tree, clock.currentTimeMillis());
        if (txn == null) {
            configVersionProposed = true;
            return;
        }
        configVersionProposed = proposeAsLeader(txn, 0);
    }

    /** On a follower: tells the leader, every half tick, which sessions are alive here so they do not expire. */
    @Override
    public void tick() {
        EnsembleZab running = zab;
        if (running != null && (running.isServing() != serving
                || running.leaderId() != leaderId)) {
            // A role change reported while start() had not yet returned saw no ZabServer; catch up from its state.
            changeRole(running.role(), running.leaderId(), running.isServing());
        }
        long now = clock.nanoTime();
        answers.closeLost(now);
        establishConfigVersion();
        members.handTo(running);
        if (!serving && running != null) {
            if (running.role() == Role.LOOKING) {
                readOnly.maybeEnter(now, running::isRecovering);
            }
            readOnly.tick();
        }
        if (!serving || leading) {
            return;
        }
        Map<Long, Integer> alive = sessionTouches.due(now);
        if (alive != null && !alive.isEmpty()) {
            zab.submit(Forwarding.touch(new ArrayList<>(alive.keySet())));
        }
    }

    // ---------------------------------------------------------------- forwarded to the leader

    private void handleForwarded(byte[] envelope) {
        if (!leading) {
            return; // leadership ended after Zab handed this over; the follower's client will retry
        }
        try {
            Forwarding.Forwarded forwarded = Forwarding.decode(envelope);
            if (forwarded instanceof Forwarding.Txn txn) {
                proposeAsLeader(txn.bytes(), 0);
            } else if (forwarded instanceof Forwarding.Write write) {
                Request request = write.request();
                beforeLeaderPrepare.run();
                server.preparer.prepare(request, 0, clock.currentTimeMillis(), write.auth());
                proposeAsLeader(Jute.txnBytes(request.header, request.txn), request.prepareSequence);
            } else if (forwarded instanceof Forwarding.Touch touch) {
                for (long id : touch.sessionIds()) {
                    Session session = server.sessions.byId().get(id);
                    if (session != null) {
                        session.touch();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, () -> "Dropping a malformed forwarded request: " + e);
        }
    }

    @Override
    public int leaderId() {
        return leaderId;
    }

    /** Apache's names: leader, follower or observer while serving, read-only or looking otherwise. */
    @Override
    public String mode() {
        EnsembleZab running = zab;
        if (running == null || !running.isServing()) {
            return readOnly.active() ? READ_ONLY_MODE : "looking";
        }
        if (running.isObserver()) {
            return "observer";
        }
        return running.role() == Role.LEADING ? "leader" : "follower";
    }
}
