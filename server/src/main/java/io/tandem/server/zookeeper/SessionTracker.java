package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.ConnectRequest;
import io.tandem.zk.wire.txn.CreateSessionTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Sessions (Apache's SessionTracker plus the handshake half of ZooKeeperServer): handshakes, new session ids,
 * re-attach by id and password, and expiry. A session exists from its createSession transaction to its closeSession
 * transaction; connections come and go in between. Everything here runs on the commit thread except
 * {@link Session#touch}.
 */
final class SessionTracker {
    private static final Logger LOG = System.getLogger(SessionTracker.class.getName());

    /** How often the commit thread looks for expired sessions. */
    static final long CHECK_INTERVAL_MS = 100;

    private final ZkServerConfig config;
    private final DataTree tree;
    private final Map<Long, Session> sessions = new ConcurrentHashMap<>();
    private final ClientListener listener;
    private long nextSessionId;
    /**
     * The clock sessions are timed on: System.nanoTime in production; the deterministic simulator hands in its
     * virtual clock ({@link #useClock}), so expiry happens in a run and replays exactly.
     */
    private LongSupplier nanos = System::nanoTime;
    private long nextCheckNanos = System.nanoTime();
    /**
     * Test hook: a session counts as expired after its timeout divided by this. The simulator's mutation test sets it
     * above 1 (a leader that expires live sessions), which its session checker must catch; production leaves it at 1.
     */
    int expiryTimeoutDivisor = 1;

    SessionTracker(ZkServerConfig config, DataTree tree, ClientListener listener) {
        this.config = config;
        this.tree = tree;
        this.listener = listener;
    }

    /** Times sessions on {@code clock} from now on (the simulator, before anything is applied). */
    void useClock(LongSupplier clock) {
        this.nanos = clock;
        this.nextCheckNanos = clock.getAsLong();
    }

    /** A session on this tracker's clock, heard from now. */
    Session newSession(long id, int timeoutMs) {
        return new Session(id, timeoutMs, nanos);
    }

    /**
     * Sessions just read from a snapshot into {@link #byId()} (which made them on the system clock): they are made
     * again on this tracker's clock, each with a full timeout from now, as after any restart.
     */
    void sessionsRestored() {
        sessions.replaceAll((id, session) -> newSession(id, session.timeoutMs));
    }

    /** Live sessions by id: shared with the preparer, reads and snapshots. */
    Map<Long, Session> byId() {
        return sessions;
    }

    /**
     * Session ids start from the clock with the server id in the top byte, as Apache's do, so ids from before a
     * restart are never handed out again and members of an ensemble never hand out the same id.
     */
    void startIds(int serverId) {
        startIds(serverId, System.currentTimeMillis());
    }

    /** As {@link #startIds(int)} at {@code nowMillis} (the simulator's virtual clock, so a seed replays exactly). */
    void startIds(int serverId, long nowMillis) {
        nextSessionId = ((nowMillis << 24) >>> 8) | ((long) serverId << 56);
    }

    /**
     * Settles a handshake: refuses a client that has seen a newer zxid than this server (the request becomes a
     * finished task), checks a re-attach, or gives a new session its id and returns true: the request is now a
     * createSession for the preparer.
     */
    boolean prepareConnect(Request request) {
        ConnectRequest connect = (ConnectRequest) request.body;
        ServerConnection connection = request.connection;
        if (connect.lastZxidSeen() > tree.lastProcessedZxid()) {
            LOG.log(Level.INFO, () -> "Refusing session request for client " + connection.remoteAddress()
                    + " as it has seen zxid 0x" + Long.toHexString(connect.lastZxidSeen()) + " our last zxid is 0x"
                    + Long.toHexString(tree.lastProcessedZxid()) + " client must try another server");
            request.type = Request.KIND_TASK;
            request.txn = null;
            connection.closeNow();
            return false;
        }
        int timeout = Math.max(config.minSessionTimeoutMs(), Math.min(config.maxSessionTimeoutMs(), connect.timeOut()));
        request.negotiatedTimeout = timeout;
        if (connect.sessionId() == 0) {
            request.sessionId = nextSessionId++;
            if (request.sessionId == EphemeralOwner.CONTAINER) {
                request.sessionId = nextSessionId++;
            }
            request.type = OpCode.CREATE_SESSION;
            return true;
        }
        request.sessionId = connect.sessionId();
        Session session = sessions.get(connect.sessionId());
        request.handshakeValid = session != null && !session.closing
                && Arrays.equals(connect.passwd(), Session.password(connect.sessionId()));
        return false;
    }

    /** The session part of applying a txn: createSession adds the session, closeSession removes it. */
    void apply(TxnHeader header, Object txn) {
        if (header.type() == OpCode.CREATE_SESSION) {
            sessions.put(header.clientId(), newSession(header.clientId(), ((CreateSessionTxn) txn).timeOut()));
        } else if (header.type() == OpCode.CLOSE_SESSION) {
            sessions.remove(header.clientId());
        }
    }

    /** Answers a new session's handshake once its createSession txn is applied. */
    void established(Request request) {
        Session session = sessions.get(request.sessionId);
        session.owner = request.connection;
        request.connection.sessionEstablished(session, request);
    }

    /** Answers a re-attach by id and password, in its place among the connection's requests; true if it worked. */
    boolean reattach(Request request) {
        ServerConnection connection = request.connection;
        Session session = sessions.get(request.sessionId);
        // Apache (ZooKeeperServer.processConnectRequest) drops the connection holding the session before it checks
        // the password, so even a refused attach bounces the owner, who then reconnects and keeps the session.
        listener.closeOwnerOf(request.sessionId, connection);
        if (!request.handshakeValid || session == null || session.closing) {
            LOG.log(Level.INFO, () -> "Invalid session 0x" + Long.toHexString(request.sessionId) + " for client "
                    + connection.remoteAddress() + ", probably expired");
            connection.sessionRefused();
            return false;
        }
        session.owner = connection;
        session.timeoutMs = request.negotiatedTimeout;
        session.touch();
        connection.sessionEstablished(session, request);
        return true;
    }

    /** A connection is gone: its session (if it still held it) waits for the client to come back or to expire. */
    void detach(ServerConnection connection) {
        Session session = connection.session;
        if (session != null && session.owner == connection) {
            session.owner = null;
        }
    }

    /** Adds a closeSession request for every session silent past its timeout, at most every CHECK_INTERVAL_MS. */
    void addExpired(List<Request> batch) {
        long now = nanos.getAsLong();
        if (now - nextCheckNanos < 0) {
            return;
        }
        nextCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(CHECK_INTERVAL_MS);
        for (Session session : sessions.values()) {
            if (!session.closing && session.isExpired(now, expiryTimeoutDivisor)) {
                session.closing = true;
                LOG.log(Level.INFO, () -> "Expiring session 0x" + Long.toHexString(session.id) + ", timeout of "
                        + session.timeoutMs + "ms exceeded");
                batch.add(new Request(null, session.id, 0, OpCode.CLOSE_SESSION, null));
            }
        }
    }
}
