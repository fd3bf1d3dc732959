package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import org.junit.jupiter.api.Test;

/**
 * The leader's outstanding proposals: matched to their commits oldest first, bounded, and counting the sync markers
 * among them (mntr's pending_syncs) until each is committed or the leadership ends.
 */
class LeaderProposalsTest {
    private static byte[] sync(long session, int xid) {
        return Jute.txnBytes(new TxnHeader(session, xid, 0, 1_000, OpCode.SYNC), null);
    }

    private static byte[] setData(long session, int xid) {
        return Jute.txnBytes(new TxnHeader(session, xid, 0, 1_000, OpCode.SET_DATA),
                new SetDataTxn("/a", new byte[] {1}, 1));
    }

    @Test
    void shouldCountTheSyncMarkersUntilEachCommits() {
        LeaderProposals proposals = new LeaderProposals();
        assertEquals(0, proposals.pendingSyncs());
        proposals.add(setData(7, 1), 11);
        proposals.add(sync(7, 2), 0);
        proposals.add(sync(8, 1), 0);
        proposals.add(setData(8, 2), 12);
        assertEquals(2, proposals.pendingSyncs());

        assertEquals(-1, proposals.committed(sync(7, 2)), "not the oldest: an earlier leader's, say");
        assertEquals(2, proposals.pendingSyncs());
        assertEquals(11, proposals.committed(setData(7, 1)));
        assertEquals(0, proposals.committed(sync(7, 2)), "a marker has no prepare stamp");
        assertEquals(1, proposals.pendingSyncs());
        assertEquals(0, proposals.committed(sync(8, 1)));
        assertEquals(0, proposals.pendingSyncs());
        assertEquals(12, proposals.committed(setData(8, 2)));
        assertEquals(-1, proposals.committed(setData(8, 2)), "nothing left");
    }

    @Test
    void shouldForgetEverythingWhenTheLeadershipEnds() {
        LeaderProposals proposals = new LeaderProposals();
        proposals.add(sync(7, 1), 0);
        proposals.add(setData(7, 2), 3);
        proposals.clear();
        assertEquals(0, proposals.pendingSyncs());
        assertEquals(-1, proposals.committed(sync(7, 1)));
    }

    @Test
    void shouldRefuseMoreThanTheBound() {
        LeaderProposals proposals = new LeaderProposals();
        for (int i = 0; i < LeaderProposals.PROPOSED_MAX; i++) {
            assertTrue(proposals.hasRoom());
            proposals.add(sync(1, i), 0);
        }
        assertFalse(proposals.hasRoom());
        assertEquals(LeaderProposals.PROPOSED_MAX, proposals.pendingSyncs());
    }
}
