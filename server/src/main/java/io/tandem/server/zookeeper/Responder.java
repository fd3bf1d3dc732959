package io.tandem.server.zookeeper;

import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.proto.Create2Response;
import io.tandem.zk.wire.proto.CreateResponse;
import io.tandem.zk.wire.proto.ErrorResponse;
import io.tandem.zk.wire.proto.MultiHeader;
import io.tandem.zk.wire.proto.SetACLResponse;
import io.tandem.zk.wire.proto.SetDataResponse;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Answers requests on the commit thread once their turn has come (Apache's FinalRequestProcessor): a write from the
 * result of applying its txn, anything else by running it now ({@link ReadExecutor}). Replies are written at once and
 * flushed once per connection per batch ({@link #flushMarked}), which saves a syscall per reply under load.
 */
final class Responder {
    private final DataTree tree;
    private final SessionTracker sessions;
    private final ReadExecutor reads;
    private final ClientListener listener;
    private final ServerStats stats;
    private final Set<ServerConnection> toFlush = new LinkedHashSet<>();

    Responder(DataTree tree, SessionTracker sessions, ReadExecutor reads, ClientListener listener, ServerStats stats) {
        this.tree = tree;
        this.sessions = sessions;
        this.reads = reads;
        this.listener = listener;
        this.stats = stats;
    }

    /** Answers a request whose transaction (if any) has been applied with {@code result}. */
    void reply(Request request, DataTree.Result result) {
        ServerConnection connection = request.connection;
        if (request.type == OpCode.CREATE_SESSION) {
            sessions.established(request);
            markForFlush(connection);
            return;
        }
        if (connection == null) {
            if (request.type == OpCode.CLOSE_SESSION) {
                listener.closeOwnerOf(request.sessionId, null);
            }
            return;
        }
        if (request.sessionId == 0) {
            return; // the handshake of this connection failed; it is being closed
        }
        if (result == null && connection.isClosed()) {
            return; // nobody to answer, and a watch set now would outlive its connection
        }
        long started = request.receivedNanos;
        int err = KeeperCode.OK.code();
        JuteRecord body = null;
        if (result != null) {
            if (request.header.type() == OpCode.ERROR) {
                err = result.err;
            } else {
                body = request.type == OpCode.RECONFIG
                        ? new GetDataResponse(((SetDataTxn) request.txn).data(), result.stat) // Apache's answer
                        : writeResponse(request.type, result);
            }
        } else {
            try {
                body = reads.execute(request);
            } catch (ZkException e) {
                err = e.code();
            } catch (WatchBytes.Exceeded overLimit) {
                // Not answered: closed, as Apache closes a connection it has no room for (see WatchBytes).
                connection.closeForWatchLimit(overLimit);
                connection.requestDone(request, tree.lastProcessedZxid());
                return;
            }
        }
        long zxid = request.type == OpCode.PING || result == null ? tree.lastProcessedZxid() : result.zxid;
        if (request.type == OpCode.PING) {
            connection.send(Xids.PING, tree.lastProcessedZxid(), 0, null);
        } else {
            connection.send(request.xid, request.type == Request.KIND_UNKNOWN ? -1 : tree.lastProcessedZxid(), err,
                    body);
        }
        connection.requestDone(request, zxid);
        stats.recordLatency(request.type, started, result != null);
        markForFlush(connection);
        if (request.type == OpCode.CLOSE_SESSION) {
            connection.closeAfterFlush();
        }
    }

    void markForFlush(ServerConnection connection) {
        toFlush.add(connection);
    }

    void flushMarked() {
        for (ServerConnection connection : toFlush) {
            connection.flush();
        }
        toFlush.clear();
    }

    private static JuteRecord writeResponse(int type, DataTree.Result result) {
        return switch (type) {
            case OpCode.CREATE -> new CreateResponse(result.path);
            case OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER ->
                    new Create2Response(result.path, result.stat);
            case OpCode.SET_DATA -> new SetDataResponse(result.stat);
            case OpCode.SET_ACL -> new SetACLResponse(result.stat);
            case OpCode.MULTI -> multiResponse(result.multiResult);
            default -> null; // delete, check, closeSession: header only
        };
    }

    private static JuteRecord multiResponse(List<DataTree.Result> results) {
        return out -> {
            for (DataTree.Result sub : results) {
                int type = switch (sub.type) {
                    case OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER -> OpCode.CREATE2;
                    case OpCode.DELETE_CONTAINER -> OpCode.DELETE;
                    default -> sub.type;
                };
                new MultiHeader(type, false, type == OpCode.ERROR ? sub.err : 0).write(out);
                switch (type) {
                    case OpCode.CREATE -> new CreateResponse(sub.path).write(out);
                    case OpCode.CREATE2 -> new Create2Response(sub.path, sub.stat).write(out);
                    case OpCode.SET_DATA -> new SetDataResponse(sub.stat).write(out);
                    case OpCode.ERROR -> new ErrorResponse(sub.err).write(out);
                    default -> {
                        // delete and check carry no body
                    }
                }
            }
            new MultiHeader(-1, true, -1).write(out);
        };
    }
}
