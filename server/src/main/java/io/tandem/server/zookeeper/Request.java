package io.tandem.server.zookeeper;

import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.TxnHeader;

/**
 * One unit of work for the commit thread: a decoded client packet, a handshake, or an internal request (session
 * expiry, container clean-up) with no connection. Preparation fills in the transaction for writes.
 */
final class Request {
    /** One operation inside a multi or multiRead. */
    record Op(int type, JuteRecord request) {
    }

    final ServerConnection connection;
    long sessionId;
    final int xid;
    int type;
    final Object body;
    final long receivedNanos = System.nanoTime();
    TxnHeader header;
    JuteRecord txn;
    /** Stamped by {@link Preparer#prepare}; handed back to {@link Preparer#applied} once the txn is applied. */
    long prepareSequence;
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
}
