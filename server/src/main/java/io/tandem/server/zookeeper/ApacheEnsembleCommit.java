package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.server.zab.DurableState;
import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.LogEntry;
import io.tandem.server.zab.QuorumTransport;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.ApacheElection;
import io.tandem.server.zab.apache.ApacheFollower;
import io.tandem.server.zab.apache.ApacheQuorumPeer;
import io.tandem.server.zab.apache.LearnerWire;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The commit path of a member speaking Apache's quorum protocol ({@code tandem.quorumProtocol=apache}): an
 * {@link ApacheQuorumPeer} elects with the Apache servers and follows their leader, which prepares and orders every
 * write. This member applies what the leader commits (with {@link ZkServer#applyTxn}, in zxid order, as
 * {@link EnsembleCommit} does), installs a SNAP through {@link ApacheTreeFormat}, and forwards its own clients' writes
 * as Apache's REQUEST packets, new sessions as createSession requests with their timeout, reconnects as REVALIDATE
 * and syncs as sync requests answered when the leader's SYNC arrives. PING answers carry the sessions of this
 * member's live connections. Durability is the follower's: each proposal is fsynced before its ACK.
 *
 * <p>Everything the quorum peer reports (on its own thread) is queued onto the commit thread as a task, so the tree
 * has one writer and replies leave in each connection's arrival order. Forwarding writes to the leader's socket from
 * the commit thread, as Apache's learner does from its request thread; it never blocks a Netty event loop.
 */
final class ApacheEnsembleCommit implements CommitPath, ApacheFollower.Application {
    private static final Logger LOG = Logger.getLogger(ApacheEnsembleCommit.class.getName());

    /** Longest string or buffer in a SNAP's database: a znode's data is bounded by jute.maxbuffer on Apache's side. */
    private static final int SNAPSHOT_FIELD_BYTES_MAX = ApacheFollower.PACKET_DATA_BYTES_MAX;

    /** What a local request waits for before its turn to be answered comes. */
    private enum Wait { NONE, COMMIT, SYNC, REVALIDATE }

    private record Key(long sessionId, int cxid) {
    }

    private static final class Pending {
        final Request request;
        Wait wait;
        boolean lost;
        DataTree.Result result;

        Pending(Request request, Wait wait) {
            this.request = request;
            this.wait = wait;
        }
    }

    private final ZkServer server;
    private final FileZabDisk disk;
    private final ApacheQuorumPeer peer;
    private final EnsembleConfig staticConfig;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final Map<Key, Pending> awaitingCommit = new HashMap<>();
    /** Forwarded syncs in forwarding order: the leader's SYNC packets answer them oldest first. */
    private final ArrayDeque<Pending> awaitingSync = new ArrayDeque<>();
    /** Re-attaches asked of the leader, per session in asking order (its answers come in that order). */
    private final Map<Long, ArrayDeque<Pending>> awaitingRevalidation = new HashMap<>();
    private final long lostAfterNanos;
    /** Written on the commit thread; read by srvr/mntr from any thread. */
    private volatile boolean serving;
    private volatile long leaderId = -1;
    private long nextTouchNanos;
    /** The live local sessions and their timeouts, refreshed on the commit thread, read by PING answers. */
    private volatile Map<Long, Integer> touches = Map.of();

    ApacheEnsembleCommit(ZkServer server, int myId, Map<String, String> settings, Path quorumDir) throws IOException {
        this.server = server;
        this.staticConfig = EnsembleConfig.fromSettings(settings);
        int tickTimeMs = server.config.tickTimeMs();
        int initLimit = Integer.parseInt(settings.getOrDefault("initLimit", "10").trim());
        int syncLimit = Integer.parseInt(settings.getOrDefault("syncLimit", "5").trim());
        // A leader that is alive answers within syncLimit ticks or the follower leaves it; a forwarded write still
        // waiting after twice that was lost without the session ending (its client is told to retry).
        this.lostAfterNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(2_000, 2L * tickTimeMs * syncLimit));
        Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(settings);
        Map<Long, ApacheElection.Member> members = new TreeMap<>();
        peers.forEach((id, p) -> members.put((long) id,
                new ApacheElection.Member(id, p.host(), p.quorumPort(), p.electionPort(), 0)));
        int[] voters = peers.keySet().stream().mapToInt(Integer::intValue).toArray();
        this.disk = FileZabDisk.open(ZabConfig.of(myId, voters).withLimits(initLimit, syncLimit), quorumDir,
                server.config.preAllocBytes());
        try {
            DurableState loaded = disk.loaded();
            if (loaded.recovering()) {
                // The Apache follower has no recovering state: it would vote with an empty history it never had.
                throw new IOException("the Apache-protocol data in " + quorumDir + " is damaged (set aside as "
                        + "FileZabDisk logged); move " + quorumDir + " away to re-sync this member from the leader");
            }
            List<LearnerWire.QuorumPacket> logged = recover(loaded);
            long lastLogged = logged.isEmpty() ? loaded.snapshotZxid() : logged.get(logged.size() - 1).zxid();
            initConfigNode();
            this.peer = new ApacheQuorumPeer(myId, members, disk, loaded.acceptedEpoch(), loaded.currentEpoch(),
                    lastLogged, this, tickTimeMs, initLimit, syncLimit);
            peer.follower().restoreLogged(loaded.snapshotZxid(), logged);
        } catch (IOException | RuntimeException e) {
            disk.close();
            throw e;
        }
    }

    /**
     * Rebuilds the tree from what the follower wrote: the last SNAP (Apache's database body). The proposals logged
     * after it are returned, not applied: some may never have committed, and the next leader's DIFF (all of them are
     * in its history) or TRUNC (those above its zxid are not) decides, before this member serves. Runs before the
     * commit thread starts.
     */
    private List<LearnerWire.QuorumPacket> recover(DurableState loaded) throws IOException {
        long snapshotZxid = loaded.snapshotZxid();
        if (loaded.snapshot() != null) {
            try (InputStream in = loaded.snapshot().open()) {
                installSnapshotBody(snapshotZxid, in);
            }
        }
        List<LearnerWire.QuorumPacket> logged = new ArrayList<>();
        for (LogEntry entry : loaded.log()) {
            if (entry.zxid() > snapshotZxid) {
                logged.add(new LearnerWire.QuorumPacket(LearnerWire.PROPOSAL, entry.zxid(), entry.txn()));
            }
        }
        if (snapshotZxid > 0 || !logged.isEmpty()) {
            LOG.info(() -> "Recovered the Apache-protocol state: snapshot at zxid 0x" + Long.toHexString(snapshotZxid)
                    + ", " + logged.size() + " logged proposals after it, applied once the leader confirms them");
        }
        return logged;
    }

    /** Starts electing and following; the commit thread must already run (the peer's callbacks queue onto it). */
    void start() throws IOException {
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

    /** Apache's ZKDatabase.initConfigInZKDatabase: {@code /zookeeper/config} holds the static configuration. */
    private void initConfigNode() {
        DataNode node = server.tree.getNode(Reconfig.CONFIG_PATH);
        if (node == null || node.dataLength() > 0) {
            return;
        }
        try {
            server.tree.setData(Reconfig.CONFIG_PATH, staticConfig.bytes(), -1, staticConfig.version(),
                    System.currentTimeMillis());
        } catch (ZkException e) {
            throw new IllegalStateException("the tree has no " + Reconfig.CONFIG_PATH, e);
        }
    }

    // ---------------------------------------------------------------- quorum peer callbacks (its thread)

    @Override
    public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        enqueue(() -> {
            try {
                installSnapshotBody(zxid, new ByteArrayInputStream(apacheSnapshot));
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
            ArrayDeque<Pending> waiting = awaitingRevalidation.get(sessionId);
            Pending entry = waiting == null ? null : waiting.poll();
            if (waiting != null && waiting.isEmpty()) {
                awaitingRevalidation.remove(sessionId);
            }
            if (entry != null) {
                entry.request.handshakeValid = valid;
                entry.wait = Wait.NONE;
                drainPending();
                server.responder.flushMarked();
            }
        });
    }

    @Override
    public void onSync() {
        enqueue(() -> {
            Pending entry = awaitingSync.poll();
            if (entry != null) {
                entry.wait = Wait.NONE; // answered as a read: every commit sent before the SYNC is applied
                drainPending();
                server.responder.flushMarked();
            }
        });
    }

    private void enqueue(Runnable task) {
        try {
            server.runOnCommitThread(task);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the commit thread

    @Override
    public void processBatch(List<Request> batch) {
        for (Request request : batch) {
            if (request.connection != null && request.type != Request.KIND_CONNECT) {
                request.sessionId = request.connection.sessionId;
            }
            if (request.type == Request.KIND_TASK) {
                server.finish(request);
                continue;
            }
            if (request.connection == null) {
                continue; // expiry and container clean-up are the Apache leader's
            }
            if (!serving) {
                request.connection.closeNow(); // no leader or still syncing: the client fails over
                continue;
            }
            if (request.type == Request.KIND_CONNECT) {
                connect(request);
            } else if (request.isWrite() && request.sessionId != 0) {
                forward(request, request.type, Forwarding.requestBody(request), Wait.COMMIT);
            } else if (request.type == OpCode.SYNC && request.sessionId != 0) {
                forward(request, OpCode.SYNC, Forwarding.requestBody(request), Wait.SYNC);
            } else {
                pending.add(new Pending(request, Wait.NONE));
            }
        }
        drainPending();
        server.responder.flushMarked();
    }

    /** A handshake: a new session is created by the leader; a re-attach is checked here, then revalidated there. */
    private void connect(Request request) {
        if (server.sessions.prepareConnect(request)) {
            // Apache's learner forwards createSession with cxid 0 and the negotiated timeout as the body.
            byte[] timeout = ByteBuffer.allocate(4).putInt(request.negotiatedTimeout).array();
            forward(request, OpCode.CREATE_SESSION, timeout, Wait.COMMIT);
            return;
        }
        if (request.type == Request.KIND_TASK) {
            return; // refused: the client has seen a newer zxid than this member
        }
        if (!request.handshakeValid) {
            pending.add(new Pending(request, Wait.NONE)); // wrong password or unknown here: refused in order
            return;
        }
        // The leader owns sessions: it says whether this one is alive and moves it to this member.
        Pending entry = new Pending(request, Wait.REVALIDATE);
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
        pending.add(entry);
        awaitingRevalidation.computeIfAbsent(request.sessionId, id -> new ArrayDeque<>()).add(entry);
    }

    private void forward(Request request, int type, byte[] body, Wait wait) {
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
            LOG.warning(() -> "Closing connection of session 0x" + Long.toHexString(request.sessionId)
                    + ": the request could not be forwarded to the leader");
            request.connection.closeNow();
            return;
        }
        Pending entry = new Pending(request, wait);
        pending.add(entry);
        if (wait == Wait.SYNC) {
            awaitingSync.add(entry);
        } else {
            awaitingCommit.put(new Key(request.sessionId, request.xid), entry);
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
        Pending entry = awaitingCommit.remove(new Key(header.clientId(), header.cxid()));
        if (entry != null) {
            entry.request.header = header; // the reply is built from what was committed
            entry.request.txn = txn;
            entry.result = result;
            entry.wait = Wait.NONE;
            dropLostBefore(entry);
        } else if (header.type() == OpCode.CLOSE_SESSION) {
            // Expired by the leader, or closed through another member.
            server.listener.closeOwnerOf(header.clientId(), null);
        }
    }

    /**
     * Forwarded writes reach the leader in this member's order and commit in that order, so writes still waiting ahead
     * of one that committed were dropped (the leader refused them with its session gone): their clients retry.
     */
    private void dropLostBefore(Pending committed) {
        for (Pending entry : pending) {
            if (entry == committed) {
                return;
            }
            if (entry.wait == Wait.COMMIT) {
                loseEntry(entry);
            }
        }
    }

    private void loseEntry(Pending entry) {
        entry.wait = Wait.NONE;
        entry.lost = true;
        awaitingCommit.values().remove(entry);
        awaitingSync.remove(entry);
        entry.request.connection.closeNow();
    }

    private void drainPending() {
        while (!pending.isEmpty() && pending.peek().wait == Wait.NONE) {
            Pending entry = pending.poll();
            if (entry.lost) {
                continue;
            }
            try {
                if (entry.request.type == Request.KIND_CONNECT) {
                    server.finish(entry.request); // re-attach, with the leader's verdict
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

    private void installSnapshotBody(long zxid, InputStream body) throws IOException {
        server.tree.clearForSnapshot();
        server.sessions.byId().clear();
        DataInputStream in = new DataInputStream(new BufferedInputStream(body, 64 << 10));
        ApacheTreeFormat.read(in, server.tree, server.sessions.byId(), SNAPSHOT_FIELD_BYTES_MAX);
        server.tree.setLastProcessedZxid(zxid);
        server.recovered();
        initConfigNode();
        LOG.info(() -> "Installed the leader's snapshot at zxid 0x" + Long.toHexString(zxid) + ": "
                + server.tree.nodeCount() + " znodes, " + server.sessions.byId().size() + " sessions");
    }

    private void changeServing(boolean nowServing, long newLeaderId) {
        if (nowServing == serving && newLeaderId == leaderId) {
            return;
        }
        if (serving) {
            // Requests in flight may be lost with the old leader; clients reconnect (anywhere) and retry.
            for (ServerConnection connection : server.listener.connections()) {
                connection.closeNow();
            }
            pending.clear();
            awaitingCommit.clear();
            awaitingSync.clear();
            awaitingRevalidation.clear();
        }
        serving = nowServing;
        leaderId = nowServing ? newLeaderId : -1;
        if (serving) {
            // A new leader gives every session a full timeout, as Apache's does; this member tracks none itself.
            for (Session session : server.sessions.byId().values()) {
                session.touch();
            }
        }
        LOG.info(() -> "ZooKeeper ensemble member (Apache protocol): "
                + (nowServing ? "following leader " + newLeaderId : "looking"));
    }

    @Override
    public void tick() {
        long now = System.nanoTime();
        closeLostWrites(now);
        if (now - nextTouchNanos < 0) {
            return;
        }
        nextTouchNanos = now + TimeUnit.MILLISECONDS.toNanos(Math.max(50, server.config.tickTimeMs() / 2));
        Map<Long, Integer> alive = new HashMap<>();
        for (ServerConnection connection : server.listener.connections()) {
            Session session = connection.session;
            if (session != null && !session.isExpired(now)) {
                alive.put(session.id, session.timeoutMs);
            }
        }
        touches = Map.copyOf(alive);
    }

    /**
     * The oldest forwarded write tells whether the leader dropped something without ending the session: once it has
     * waited past the limit, every client still waiting on a write or sync is disconnected (ConnectionLoss: they
     * retry, as after a leader change); their requests may still commit, as in Apache.
     */
    private void closeLostWrites(long now) {
        Pending oldest = null;
        for (Pending entry : pending) {
            if (entry.wait != Wait.NONE) {
                oldest = entry;
                break;
            }
        }
        if (oldest == null || now - oldest.request.receivedNanos < lostAfterNanos) {
            return;
        }
        LOG.warning(() -> "A request waited over " + TimeUnit.NANOSECONDS.toMillis(lostAfterNanos)
                + " ms for the leader; disconnecting the clients whose requests are still waiting");
        for (Pending entry : pending) {
            if (entry.wait != Wait.NONE) {
                loseEntry(entry);
            }
        }
        awaitingRevalidation.clear();
        drainPending();
        server.responder.flushMarked();
    }

    @Override
    public boolean decidesExpiry() {
        return false; // the Apache leader expires sessions and removes containers; this member applies its commits
    }

    @Override
    public String mode() {
        return serving ? "follower" : "looking";
    }

    @Override
    public int leaderId() {
        return (int) leaderId;
    }

    @Override
    public void reportStats(BiConsumer<String, Object> line) {
        // The follower's fsyncs are not counted separately yet; nothing is reported rather than a made-up figure.
    }

    @Override
    public void stopIntake() {
        try {
            peer.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing the Apache quorum peer failed", e);
        }
    }

    @Override
    public void onCommitThreadExit() {
        // Nothing to finish: every acknowledged proposal is in the follower's log; a waiting client retries elsewhere.
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
