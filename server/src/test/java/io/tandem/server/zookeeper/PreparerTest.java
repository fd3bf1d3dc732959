package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.DeleteRequest;
import io.tandem.zk.wire.proto.SetDataRequest;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The preparer's outstanding change records while transactions are prepared but not yet applied (the pipelined
 * commit path): preparation sees them, and each is dropped only once the change that made it is in the tree.
 */
class PreparerTest {
    private static final long SESSION = 0x100;
    private static final List<Id> AUTH = List.of(new Id("super", ""));

    private final DataTree tree = new DataTree();
    private final Map<Long, Session> sessions = new HashMap<>();
    private final Preparer preparer = new Preparer(tree, sessions);
    private long zxid;

    PreparerTest() {
        sessions.put(SESSION, new Session(SESSION, 10_000));
    }

    private Request prepare(int type, Object body) {
        Request request = new Request(null, SESSION, 1, type, body);
        preparer.prepare(request, ++zxid, 1000, AUTH);
        return request;
    }

    private void apply(Request request) {
        tree.processTxn(request.header, request.txn);
        preparer.applied(request.prepareSequence);
    }

    private static int error(Request request) {
        return request.header.type() == OpCodes.ERROR ? ((ErrorTxn) request.txn).err() : 0;
    }

    private static CreateRequest create(String path) {
        return new CreateRequest(path, new byte[0], DataTree.OPEN_ACL_UNSAFE, 0);
    }

    @Test
    void shouldSeeUnappliedChangesOfEarlierPreparations() {
        Request created = prepare(OpCodes.CREATE, create("/a"));
        Request set = prepare(OpCodes.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        Request again = prepare(OpCodes.CREATE, create("/a"));
        assertEquals(0, error(created));
        assertEquals(0, error(set), "the node created but not applied is visible, at version 0");
        assertEquals(ZkException.NODE_EXISTS, error(again));
    }

    @Test
    void shouldKeepANewerRecordForAPathWhenAnOlderChangeIsApplied() {
        Request created = prepare(OpCodes.CREATE, create("/a"));
        Request firstSet = prepare(OpCodes.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        apply(created);
        // The set (version 0 -> 1) is still outstanding: a set expecting version 1 must pass although the tree says 0.
        Request secondSet = prepare(OpCodes.SET_DATA, new SetDataRequest("/a", new byte[] {2}, 1));
        assertEquals(0, error(secondSet));
        apply(firstSet);
        apply(secondSet);
        assertEquals(0, preparer.outstandingCount(), "every change is applied, nothing may stay outstanding");
        assertEquals(2, tree.getNode("/a").version);
    }

    @Test
    void shouldDropEveryRecordOnceAllChangesAreApplied() {
        Request parent = prepare(OpCodes.CREATE, create("/p"));
        Request child = prepare(OpCodes.CREATE, create("/p/c"));
        Request delete = prepare(OpCodes.DELETE, new DeleteRequest("/p/c", -1));
        assertEquals(3, preparer.outstandingCount(), "/, /p and /p/c");
        apply(parent);
        apply(child);
        assertEquals(2, preparer.outstandingCount(), "the deletion of /p/c and /p's child count are still pending");
        apply(delete);
        assertEquals(0, preparer.outstandingCount());
        TxnHeader header = prepare(OpCodes.DELETE, new DeleteRequest("/p/c", -1)).header;
        assertEquals(OpCodes.ERROR, header.type(), "the tree now says /p/c is gone");
    }

    @Test
    void shouldRollBackAFailedMultiWithoutLosingEarlierOutstandingRecords() {
        Request created = prepare(OpCodes.CREATE, create("/a"));
        Request multi = prepare(OpCodes.MULTI, List.of(
                new Request.Op(OpCodes.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0)),
                new Request.Op(OpCodes.CREATE, create("/b")),
                new Request.Op(OpCodes.DELETE, new DeleteRequest("/missing", -1))));
        assertEquals(OpCodes.MULTI, multi.header.type(), "a failed multi is still a multi txn of errors");
        Request set = prepare(OpCodes.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        assertEquals(0, error(set), "the multi's set of /a was rolled back, /a is still at version 0");
        assertEquals(0, error(prepare(OpCodes.CREATE, create("/b"))), "the multi's create of /b was rolled back");
        apply(created);
        assertEquals(3, preparer.outstandingCount(), "/a's set, /b's create and / (its parent) are still outstanding");
    }

    @Test
    void shouldStayBoundedWhileProposalsAreAlwaysInFlight() {
        // An ensemble leader under continuous load: there is never a moment with nothing outstanding.
        Request previous = prepare(OpCodes.CREATE, create("/n0"));
        for (int i = 1; i < 10_000; i++) {
            Request next = prepare(OpCodes.CREATE, create("/n" + i));
            apply(previous);
            previous = next;
        }
        assertEquals(2, preparer.outstandingCount(), "only the create in flight: its node and the root's child count");
        apply(previous);
        assertEquals(0, preparer.outstandingCount());
    }

    @Test
    void shouldLeaveNoTraceOfAWithdrawnPreparation() {
        Request created = prepare(OpCodes.CREATE, create("/b"));
        Request set = prepare(OpCodes.SET_DATA, new SetDataRequest("/b", new byte[] {1}, 0));
        preparer.withdraw(set.prepareSequence); // Zab refused the proposal: /b is as the create left it
        assertEquals(0, error(prepare(OpCodes.SET_DATA, new SetDataRequest("/b", new byte[] {1}, 0))));

        Request other = prepare(OpCodes.CREATE, create("/c"));
        preparer.withdraw(other.prepareSequence);
        assertEquals(ZkException.NO_NODE, error(prepare(OpCodes.SET_DATA, new SetDataRequest("/c", new byte[] {1}, -1))));
        assertEquals(0, error(created));
    }
}
