package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import io.tandem.zk.wire.OpCode;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What a learner reads inside the transactions its leader sends (PROPOSAL, INFORM, INFORMANDACTIVATE): the zxid of the
 * TxnHeader and a reconfig's configuration text. Shared by following and observing ({@link ApacheFollower}) and by the
 * leader's configurations ({@link LeaderConfigs}).
 */
final class LearnerTxns {
    private LearnerTxns() {
    }

    /**
     * The configuration text of a reconfig proposal: after the TxnHeader ({@code long clientId, int cxid, long zxid,
     * long time, int type}, type 16), the SetDataTxn's path and then its data.
     */
    static byte[] reconfigData(QuorumPacket proposal) throws IOException {
        ByteBuffer txn = ByteBuffer.wrap(proposal.data());
        try {
            txn.position(28);
            int type = txn.getInt();
            if (type != OpCode.RECONFIG) {
                throw new IOException("an activation with a transaction of type " + type + ", not a reconfig");
            }
            int pathLength = txn.getInt();
            txn.position(txn.position() + Math.max(0, pathLength));
            int dataLength = txn.getInt();
            if (dataLength < 0 || dataLength > txn.remaining()) {
                throw new IOException("reconfig transaction with " + dataLength + " bytes of configuration");
            }
            byte[] config = new byte[dataLength];
            txn.get(config);
            return config;
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new IOException("truncated reconfig transaction 0x" + Long.toHexString(proposal.zxid()), e);
        }
    }

    /**
     * A proposal's zxid as its TxnHeader says ({@code long clientId, int cxid, long zxid, ...}); Apache's packet zxid
     * is the same but the header is what gets applied.
     */
    static QuorumPacket withTxnZxid(QuorumPacket packet) throws IOException {
        byte[] data = packet.data();
        if (data == null || data.length < 20) {
            throw new IOException(packet + " has no transaction header");
        }
        long zxid = ByteBuffer.wrap(data, 12, 8).getLong();
        if (zxid != packet.zxid()) {
            throw new IOException(packet + " carries txn zxid 0x"
                    + Long.toHexString(zxid));
        }
        return packet;
    }

    /** Whether a transaction is a reconfig: the TxnHeader's type, after clientId, cxid, zxid and time. */
    static boolean isReconfig(byte[] txn) {
        return txn != null && txn.length >= 32 && ByteBuffer.wrap(txn).getInt(28) == OpCode.RECONFIG;
    }
}
