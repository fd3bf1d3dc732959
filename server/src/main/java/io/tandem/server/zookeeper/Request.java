package io.tandem.server.zookeeper;

import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.List;

/**
 * One unit of work for the commit thread: a decoded client packet, a handshake, or an internal request (session
 * expiry, container clean-up) with no connection. Preparation fills in the transaction for writes.
 */
final class Request {
    /** Internal request kinds, outside every opcode: a ConnectRequest (a handshake)... */
    static final int KIND_CONNECT = Integer.MIN_VALUE;
    /** ...a task to run on the commit thread ({@code body} is the Runnable)... */
    static final int KIND_TASK = Integer.MIN_VALUE + 1;
    /** ...an opcode the server does not know (answered Unimplemented)... */
    static final int KIND_UNKNOWN = Integer.MIN_VALUE + 2;
    /** ...and the standalone log syncer's wake-up: more transactions are durable (nothing to answer). */
    static final int KIND_SYNCED = Integer.MIN_VALUE + 3;
    /** An injected fault: answered, in order, with the error that is its body ({@link ZkFaults}). */
    static final int KIND_FAULT = Integer.MIN_VALUE + 4;

    /** One operation inside a multi or multiRead. */
    record Op(int type, JuteRecord request) {
    }

    final ServerConnection connection;
    long sessionId;
    final int xid;
    int type;
    final Object body;
    final long receivedNanos = System.nanoTime();
    /** The frame's size, counted against its connection's queued bytes until it is answered. */
    int bytes;
    TxnHeader header;
    JuteRecord txn;
    /** Stamped by {@link Preparer#prepare}; handed back to {@link Preparer#applied} once the txn is applied. */
    long prepareSequence;
    /**
     * A set's or delete's node as preparation found it in the tree, and the tree's generation then; null when it read
     * an outstanding change instead. Lets the apply skip walking the path again ({@link DataTree#processTxn}).
     */
    DataNode node;
    int nodeGeneration;
    /** For handshakes answered without a transaction: the outcome to send. */
    boolean handshakeValid;
    int negotiatedTimeout;

    Request(ServerConnection connection, long sessionId, int xid, int type, Object body) {
        this.connection = connection;
        this.sessionId = sessionId;
        this.xid = xid;
        this.type = type;
        this.body = body;
    }

    boolean isWrite() {
        return OpCode.isWrite(type);
    }

    /** The ids the request acts as: its connection's, or super for internal requests (expiry, clean-up). */
    List<Id> authInfo() {
        return connection == null ? List.of(new Id("super", "")) : connection.authInfo;
    }
}
