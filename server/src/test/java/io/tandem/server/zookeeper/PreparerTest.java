package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
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
        return request.header.type() == OpCode.ERROR ? ((ErrorTxn) request.txn).err() : 0;
    }

    private static CreateRequest create(String path) {
        return new CreateRequest(path, new byte[0], io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE, 0);
    }

    @Test
    void shouldSeeUnappliedChangesOfEarlierPreparations() {
        Request created = prepare(OpCode.CREATE, create("/a"));
        Request set = prepare(OpCode.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        Request again = prepare(OpCode.CREATE, create("/a"));
        assertEquals(0, error(created));
        assertEquals(0, error(set), "the node created but not applied is visible, at version 0");
        assertEquals(KeeperCode.NODE_EXISTS.code(), error(again));
    }

    @Test
    void shouldKeepANewerRecordForAPathWhenAnOlderChangeIsApplied() {
        Request created = prepare(OpCode.CREATE, create("/a"));
        Request firstSet = prepare(OpCode.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        apply(created);
        // The set (version 0 -> 1) is still outstanding: a set expecting version 1 must pass although the tree says 0.
        Request secondSet = prepare(OpCode.SET_DATA, new SetDataRequest("/a", new byte[] {2}, 1));
        assertEquals(0, error(secondSet));
        apply(firstSet);
        apply(secondSet);
        assertEquals(0, preparer.outstandingCount(), "every change is applied, nothing may stay outstanding");
        assertEquals(2, tree.getNode("/a").version);
    }

    @Test
    void shouldDropEveryRecordOnceAllChangesAreApplied() {
        Request parent = prepare(OpCode.CREATE, create("/p"));
        Request child = prepare(OpCode.CREATE, create("/p/c"));
        Request delete = prepare(OpCode.DELETE, new DeleteRequest("/p/c", -1));
        assertEquals(3, preparer.outstandingCount(), "/, /p and /p/c");
        apply(parent);
        apply(child);
        assertEquals(2, preparer.outstandingCount(), "the deletion of /p/c and /p's child count are still pending");
        apply(delete);
        assertEquals(0, preparer.outstandingCount());
        TxnHeader header = prepare(OpCode.DELETE, new DeleteRequest("/p/c", -1)).header;
        assertEquals(OpCode.ERROR, header.type(), "the tree now says /p/c is gone");
    }

    @Test
    void shouldRollBackAFailedMultiWithoutLosingEarlierOutstandingRecords() {
        Request created = prepare(OpCode.CREATE, create("/a"));
        Request multi = prepare(OpCode.MULTI, List.of(
                new Request.Op(OpCode.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0)),
                new Request.Op(OpCode.CREATE, create("/b")),
                new Request.Op(OpCode.DELETE, new DeleteRequest("/missing", -1))));
        assertEquals(OpCode.MULTI, multi.header.type(), "a failed multi is still a multi txn of errors");
        Request set = prepare(OpCode.SET_DATA, new SetDataRequest("/a", new byte[] {1}, 0));
        assertEquals(0, error(set), "the multi's set of /a was rolled back, /a is still at version 0");
        assertEquals(0, error(prepare(OpCode.CREATE, create("/b"))), "the multi's create of /b was rolled back");
        apply(created);
        assertEquals(3, preparer.outstandingCount(), "/a's set, /b's create and / (its parent) are still outstanding");
    }

    @Test
    void shouldStayBoundedWhileProposalsAreAlwaysInFlight() {
        // An ensemble leader under continuous load: there is never a moment with nothing outstanding.
        Request previous = prepare(OpCode.CREATE, create("/n0"));
        for (int i = 1; i < 10_000; i++) {
            Request next = prepare(OpCode.CREATE, create("/n" + i));
            apply(previous);
            previous = next;
        }
        assertEquals(2, preparer.outstandingCount(), "only the create in flight: its node and the root's child count");
        apply(previous);
        assertEquals(0, preparer.outstandingCount());
    }

    @Test
    void shouldLeaveNoTraceOfAWithdrawnPreparation() {
        Request created = prepare(OpCode.CREATE, create("/b"));
        Request set = prepare(OpCode.SET_DATA, new SetDataRequest("/b", new byte[] {1}, 0));
        preparer.withdraw(set.prepareSequence); // Zab refused the proposal: /b is as the create left it
        assertEquals(0, error(prepare(OpCode.SET_DATA, new SetDataRequest("/b", new byte[] {1}, 0))));

        Request other = prepare(OpCode.CREATE, create("/c"));
        preparer.withdraw(other.prepareSequence);
        assertEquals(KeeperCode.NO_NODE.code(), error(prepare(OpCode.SET_DATA, new SetDataRequest("/c", new byte[] {1}, -1))));
        assertEquals(0, error(created));
    }
}
