package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.CheckVersionTxn;
import io.tandem.zk.wire.txn.CloseSessionTxn;
import io.tandem.zk.wire.txn.CreateContainerTxn;
import io.tandem.zk.wire.txn.CreateSessionTxn;
import io.tandem.zk.wire.txn.CreateTTLTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.MultiTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.SetDataTxn;

/** Byte-array helpers around zk-wire's records, for transactions that are logged, proposed and nested in MultiTxn. */
final class Jute {
    static byte[] bytes(JuteRecord record) {
        ByteBuf buf = Unpooled.buffer(64);
        try {
            record.write(new JuteOutput(buf));
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** Header then body, the layout of one transaction in the log (as Apache's SerializeUtils writes it). */
    static byte[] txnBytes(JuteRecord header, JuteRecord body) {
        // 256: a header and a write of 100-byte data and a short path (the common case) fit without the buffer
        // growing (one more array and a copy).
        ByteBuf buf = Unpooled.buffer(256);
        try {
            JuteOutput out = new JuteOutput(buf);
            header.write(out);
            if (body != null) {
                body.write(out);
            }
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** The txn record after a logged or proposed {@code TxnHeader} of this type. */
    static JuteRecord txnBody(int type, JuteInput in) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2 -> CreateTxn.read(in);
            case OpCode.CREATE_TTL -> CreateTTLTxn.read(in);
            case OpCode.CREATE_CONTAINER -> CreateContainerTxn.read(in);
            case OpCode.DELETE, OpCode.DELETE_CONTAINER -> DeleteTxn.read(in);
            case OpCode.SET_DATA, OpCode.RECONFIG -> SetDataTxn.read(in);
            case OpCode.SET_ACL -> SetACLTxn.read(in);
            case OpCode.CHECK -> CheckVersionTxn.read(in);
            case OpCode.ERROR -> ErrorTxn.read(in);
            case OpCode.MULTI -> MultiTxn.read(in);
            case OpCode.CREATE_SESSION -> CreateSessionTxn.read(in);
            case OpCode.CLOSE_SESSION -> in.hasRemaining() ? CloseSessionTxn.read(in) : null;
            default -> throw new IllegalStateException("unknown transaction type " + type + " in the log");
        };
    }

    /** One operation of a logged or proposed MultiTxn, from its type and bytes. */
    static JuteRecord subTxn(int type, byte[] data) {
        return switch (type) {
            case OpCode.CREATE, OpCode.CREATE2 -> JuteInput.decode(data, CreateTxn::read);
            case OpCode.CREATE_TTL -> JuteInput.decode(data, CreateTTLTxn::read);
            case OpCode.CREATE_CONTAINER -> JuteInput.decode(data, CreateContainerTxn::read);
            case OpCode.DELETE, OpCode.DELETE_CONTAINER -> JuteInput.decode(data, DeleteTxn::read);
            case OpCode.SET_DATA -> JuteInput.decode(data, SetDataTxn::read);
            case OpCode.CHECK -> JuteInput.decode(data, CheckVersionTxn::read);
            case OpCode.ERROR -> JuteInput.decode(data, ErrorTxn::read);
            default -> throw new IllegalArgumentException("invalid op in multi: " + type);
        };
    }

    private Jute() {
    }
}
