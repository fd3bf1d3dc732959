package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Apache's read-only mode ({@code readonlymode.enabled}, its ReadOnlyZooKeeperServer) for an ensemble member cut off
 * from its quorum. Once the member has not served for max(2 s, tickTime) it answers the clients that asked for a
 * read-only session ({@code canBeReadOnly}) from its tree as it is: reads, watches and pings work, every write and
 * {@code sync} is answered NOTREADONLY, and a client that did not ask is refused (its connection closed, as Apache
 * does).
 *
 * <p>A new session here is local and fake, as Apache's: it is never replicated, holds no ephemerals (writes are
 * refused) and ends with its connection, since the official client sends session id 0 again until it has seen a
 * read-write server. A real (replicated) session is refused, as Apache 3.9's validateSession refuses to renew one in
 * read-only mode; it lives on in the quorum and its client gets it back from a member that serves.
 *
 * <p>As soon as the member rejoins a quorum (a role other than looking, or a commit or snapshot from a leader)
 * read-only mode ends: every client connection is closed and the fake sessions are forgotten before anything is
 * applied, so they never reach the tree's snapshot. Everything here runs on the commit thread except
 * {@link #active()}.
 */
final class ReadOnlyMode {
    private static final Logger LOG = System.getLogger(ReadOnlyMode.class.getName());

    private final ZkServer server;
    private final boolean enabled;
    /** Apache's QuorumPeer waits max(2000, tickTime) ms in LOOKING before it starts the read-only server. */
    private final long delayNanos;
    /** The fake sessions this member handed out; they are in the session map only while read-only mode lasts. */
    private final Set<Long> localSessions = new HashSet<>();
    /** The commit path's clock (System.nanoTime, or the simulator's virtual clock). */
    private final LongSupplier nanos;
    private volatile boolean active;
    private long notServingSinceNanos;
    /**
     * Test hook: whether writes are refused. The simulator's mutation test clears it (writes are then answered OK and
     * nothing is written), which its read-only checker must catch; production never changes it.
     */
    boolean refusesWrites = true;

    ReadOnlyMode(ZkServer server, boolean enabled, LongSupplier nanos) {
        this.server = server;
        this.enabled = enabled;
        this.nanos = nanos;
        this.notServingSinceNanos = nanos.getAsLong();
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(2_000, server.config.tickTimeMs()));
    }

    /** Any thread: whether the member answers read-only clients now. */
    boolean active() {
        return active;
    }

    /** The member stopped serving (no quorum, or it has none yet) at {@code nanos}. */
    void notServingSince(long nanos) {
        notServingSinceNanos = nanos;
    }

    /**
     * Called while the member does not serve: enters read-only mode once it has not served for the delay. A member
     * whose history was set aside after damage ({@code recovering}) has nothing trustworthy to read and stays shut.
     */
    void maybeEnter(long nowNanos, java.util.function.BooleanSupplier recovering) {
        if (!enabled || active || nowNanos - notServingSinceNanos < delayNanos || recovering.getAsBoolean()) {
            return;
        }
        active = true;
        LOG.log(Level.INFO, () -> "No quorum for " + TimeUnit.NANOSECONDS.toMillis(nowNanos - notServingSinceNanos)
                + " ms: serving read-only clients (readonlymode.enabled) at zxid 0x"
                + Long.toHexString(server.tree.lastProcessedZxid()));
    }

    /** The member is back in a quorum: read-only clients are disconnected and the fake sessions forgotten. */
    void leave() {
        if (!active) {
            return;
        }
        active = false;
        notServingSinceNanos = nanos.getAsLong(); // should this quorum fail again, the wait starts over
        server.listener.closeAll();
        for (long id : localSessions) {
            server.sessions.byId().remove(id);
        }
        localSessions.clear();
        LOG.log(Level.INFO, "Read-only mode ended: this member has a quorum again; its clients reconnect");
    }

    /** Forgets the fake sessions whose connection has closed (the client never brings their id back). */
    void tick() {
        for (Iterator<Long> ids = localSessions.iterator(); ids.hasNext(); ) {
            long id = ids.next();
            Session session = server.sessions.byId().get(id);
            if (session == null || session.owner == null) {
                server.sessions.byId().remove(id);
                ids.remove();
            }
        }
    }

    /**
     * Answers one client request in read-only mode, at once and so in arrival order (nothing waits for a commit
     * here). The checks are Apache's ReadOnlyRequestProcessor's: writes, check, multi, reconfig and sync get
     * NOTREADONLY with the tree's zxid.
     */
    void handle(Request request) {
        ServerConnection connection = request.connection;
        if (request.type == Request.KIND_CONNECT) {
            connect(request);
            return;
        }
        if (request.sessionId == 0) {
            return; // the handshake of this connection failed; it is being closed
        }
        if (request.type == OpCode.CLOSE_SESSION) {
            // Only fake sessions are attached here; closing one just ends it.
            if (localSessions.remove(request.sessionId)) {
                server.sessions.byId().remove(request.sessionId);
            }
            answer(request, KeeperCode.OK.code());
            connection.closeAfterFlush();
            return;
        }
        if (request.isWrite() || request.type == OpCode.SYNC) {
            boolean refused = refusesWrites || request.type == OpCode.SYNC;
            answer(request, refused ? KeeperCode.NOT_READ_ONLY.code() : KeeperCode.OK.code());
            return;
        }
        server.responder.reply(request, null);
    }

    private void answer(Request request, int err) {
        long zxid = server.tree.lastProcessedZxid();
        request.connection.send(request.xid, zxid, err, null);
        request.connection.requestDone(request, zxid);
        server.stats.recordLatency(request.type, request.receivedNanos, false);
        server.responder.markForFlush(request.connection);
    }

    private void connect(Request request) {
        ServerConnection connection = request.connection;
        ConnectRequest connect = (ConnectRequest) request.body;
        if (!Boolean.TRUE.equals(connect.readOnly())) {
            LOG.log(Level.INFO, () -> "Refusing session request for not-read-only client " + connection.remoteAddress());
            connection.closeNow();
            return;
        }
        connection.readOnlyServer = true;
        if (server.sessions.prepareConnect(request)) {
            Session session = server.sessions.newSession(request.sessionId, request.negotiatedTimeout);
            server.sessions.byId().put(session.id, session);
            localSessions.add(session.id);
            server.sessions.established(request);
            server.responder.markForFlush(connection);
        } else if (request.type == Request.KIND_CONNECT) {
            if (!localSessions.contains(request.sessionId) && server.sessions.byId().containsKey(request.sessionId)) {
                // Apache 3.9's ReadOnlyZooKeeperServer.validateSession: a real session is not renewed here; the
                // client keeps it by reconnecting to a member of the quorum.
                LOG.log(Level.INFO, () -> "Refusing global session reconnection in RO mode " + connection.remoteAddress());
                connection.closeNow();
                return;
            }
            server.finish(request); // re-attach a fake session, or refuse an unknown one as expired (timeout 0)
        }
        // Otherwise refused: the client has seen a newer zxid than this member holds.
    }
}
