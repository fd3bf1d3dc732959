package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The preparer's outstanding change records as an ensemble leader uses them: prepared ahead of commits, dropped as
 * each prepare's transaction is applied (not only when nothing is in flight), and taken back when a proposal is refused.
 */
class PreparerTest {
    private static final long SESSION = 0x100L;

    private final DataTree tree = new DataTree();
    private final Map<Long, Session> sessions = new HashMap<>();
    private final Preparer preparer = new Preparer(tree, sessions);
    private long zxid;
    private int xid;

    PreparerTest() {
        sessions.put(SESSION, new Session(SESSION, 30_000));
    }

    private Request create(String path) {
        return new Request(null, SESSION, ++xid, OpCodes.CREATE,
                new CreateRequest(path, new byte[0], DataTree.OPEN_ACL_UNSAFE, 0));
    }

    private Request setData(String path, int version) {
        return new Request(null, SESSION, ++xid, OpCodes.SET_DATA, new SetDataRequest(path, new byte[] {1}, version));
    }

    private void apply(Request prepared) {
        tree.processTxn(new io.tandem.zk.wire.txn.TxnHeader(SESSION, prepared.xid, ++zxid, 1, prepared.header.type()),
                prepared.txn);
    }

    @Test
    void recordsStayBoundedWhileProposalsAreAlwaysInFlight() {
        // A leader under continuous load: there is never a moment with nothing outstanding.
        Request first = create("/n0");
        long firstStamp = preparer.prepare(first, 0, 1, List.of());
        Request previous = first;
        long previousStamp = firstStamp;
        for (int i = 1; i < 10_000; i++) {
            Request next = create("/n" + i);
            long stamp = preparer.prepare(next, 0, 1, List.of());
            apply(previous);
            preparer.appliedThrough(previousStamp);
            previous = next;
            previousStamp = stamp;
        }
        // Only the one still in flight is outstanding: its node and the root's child count.
        assertEquals(2, preparer.outstandingCount());
        apply(previous);
        preparer.appliedThrough(previousStamp);
        assertEquals(0, preparer.outstandingCount());
    }

    @Test
    void aLaterChangeOfThePathOutlivesTheCommitOfAnEarlierOne() {
        Request created = create("/a");
        long createdStamp = preparer.prepare(created, 0, 1, List.of());
        Request firstSet = setData("/a", 0);
        preparer.prepare(firstSet, 0, 1, List.of());
        apply(created);
        preparer.appliedThrough(createdStamp);
        // The tree has /a at version 0, but the prepared set to version 1 is still outstanding.
        Request conflicting = setData("/a", 0);
        preparer.prepare(conflicting, 0, 1, List.of());
        assertEquals(OpCodes.ERROR, conflicting.header.type());
        assertEquals(ZkException.BAD_VERSION, ((ErrorTxn) conflicting.txn).err());
        Request following = setData("/a", 1);
        preparer.prepare(following, 0, 1, List.of());
        assertEquals(2, ((SetDataTxn) following.txn).version());
    }

    @Test
    void aWithdrawnPrepareLeavesNoTrace() {
        Request created = create("/b");
        preparer.prepare(created, 0, 1, List.of());
        Request set = setData("/b", 0);
        long setStamp = preparer.prepare(set, 0, 1, List.of());
        preparer.withdraw(setStamp); // the proposal was refused: /b is as the create left it
        Request again = setData("/b", 0);
        preparer.prepare(again, 0, 1, List.of());
        assertEquals(1, ((SetDataTxn) again.txn).version());

        Request other = create("/c");
        long otherStamp = preparer.prepare(other, 0, 1, List.of());
        preparer.withdraw(otherStamp);
        Request setMissing = setData("/c", -1);
        preparer.prepare(setMissing, 0, 1, List.of());
        assertEquals(ZkException.NO_NODE, ((ErrorTxn) setMissing.txn).err());
    }
}
