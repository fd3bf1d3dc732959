package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import org.junit.jupiter.api.Test;

/** The history checker's "committed twice" check on members' ZooKeeper transactions, entry by entry. */
class HistoryCheckerTest {
    private static final long TIME = 1_700_000_022_900L;

    @Test
    void shouldAcceptTwoFailedContainerDeletionsOfOneSweep() {
        // Seed 391: a sweep found /c2 and /c3 again while their deletions were still outstanding; both deleteContainer
        // requests (session 0, cxid 0, as Apache's ContainerManager posts them) failed with NONODE at one virtual
        // millisecond, so their error txns are equal byte for byte, yet they are two requests, each committed once.
        ZabSimulator sim = ZabSimulator.withMembers(391, false);
        try {
            SimulatedNode node = sim.nodes[0];
            byte[] failed = errorTxn(0, 0);
            apply(sim, node, 0x100000001L, failed);
            apply(sim, node, 0x100000002L, failed.clone());
            assertEquals(2, sim.checker().committed().size());
        } finally {
            sim.closeClientConnections();
        }
    }

    @Test
    void shouldStillCatchAClientRequestCommittedTwice() {
        // The same failed create of session 0x...5, cxid 7, committed at two zxids: one request proposed twice.
        ZabSimulator sim = ZabSimulator.withMembers(391, false);
        try {
            SimulatedNode node = sim.nodes[0];
            byte[] failed = errorTxn(0x28bcfe5afae0005L, 7);
            apply(sim, node, 0x100000001L, failed);
            AssertionError caught = assertThrows(AssertionError.class,
                    () -> apply(sim, node, 0x100000002L, failed.clone()));
            assertTrue(caught.getMessage().contains("committed twice, at 0x100000001 and 0x100000002"),
                    caught.getMessage());
        } finally {
            sim.closeClientConnections();
        }
    }

    private static void apply(ZabSimulator sim, SimulatedNode node, long zxid, byte[] txn) {
        LogEntry entry = new LogEntry(zxid, txn);
        sim.checker().onApply(node, entry);
        node.app.apply(entry);
    }

    /** A member's error txn as the Preparer makes it: the header (zxid a placeholder, Zab numbers it) and the code. */
    private static byte[] errorTxn(long sessionId, int cxid) {
        ByteBuf buf = Unpooled.buffer();
        JuteOutput out = new JuteOutput(buf);
        new TxnHeader(sessionId, cxid, 0, TIME, OpCode.ERROR).write(out);
        new ErrorTxn(KeeperCode.NO_NODE.code()).write(out);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }
}
