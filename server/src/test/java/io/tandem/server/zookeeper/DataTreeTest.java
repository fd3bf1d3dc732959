package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.txn.CreateContainerTxn;
import io.tandem.zk.wire.txn.CreateTTLTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.ErrorTxn;
import io.tandem.zk.wire.txn.MultiTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.Txn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Transactions applied to the tree directly: Stat fields, ephemerals, multi results and watch events. */
class DataTreeTest {
    private final DataTree tree = new DataTree();
    private long zxid;

    private DataTree.Result apply(int type, io.tandem.zk.wire.JuteRecord txn) {
        return apply(0, type, txn);
    }

    private DataTree.Result apply(long session, int type, io.tandem.zk.wire.JuteRecord txn) {
        return tree.processTxn(new TxnHeader(session, 1, ++zxid, 1000 + zxid, type), txn);
    }

    private static CreateTxn create(String path, int parentCVersion) {
        return new CreateTxn(path, new byte[] {1, 2}, io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE, false, parentCVersion);
    }

    @Test
    void shouldStartWithApacheBuiltInNodes() {
        assertEquals(5, tree.nodeCount(), "Apache counts '', '/', /zookeeper, /zookeeper/quota, /zookeeper/config");
        assertEquals(3, tree.allChildrenNumber("/"));
        assertEquals(io.tandem.zk.wire.Acls.READ_ACL_UNSAFE, tree.getNode("/zookeeper/config").acl);
        // Apache's addConfigNode sets that ACL with version -1, so its aversion reads -1 on every Apache server.
        assertEquals(-1, tree.getNode("/zookeeper/config").stat().aversion());
        assertEquals(0, tree.getNode("/zookeeper/quota").stat().aversion());
    }

    @Test
    void shouldSetStatFieldsOnCreateAndParentOnChildChanges() {
        DataTree.Result created = apply(OpCode.CREATE2, create("/a", 1));
        Stat stat = created.stat;
        assertEquals(1, stat.czxid());
        assertEquals(1, stat.mzxid());
        assertEquals(1, stat.pzxid());
        assertEquals(1001, stat.ctime());
        assertEquals(1001, stat.mtime());
        assertEquals(2, stat.dataLength());
        apply(OpCode.CREATE, create("/a/b", 1));
        apply(OpCode.CREATE, create("/a/c", 2));
        apply(OpCode.DELETE, new DeleteTxn("/a/b"));
        Stat parent = tree.getNode("/a").stat();
        assertEquals(3, parent.cversion(), "two creations and one deletion");
        assertEquals(1, parent.numChildren());
        assertEquals(4, parent.pzxid(), "pzxid follows the delete");
        assertEquals(1, parent.mzxid(), "child changes leave mzxid alone");
        Stat changed = apply(OpCode.SET_DATA, new SetDataTxn("/a", new byte[5], 1)).stat;
        assertEquals(1, changed.version());
        assertEquals(5, changed.mzxid());
        assertEquals(5, changed.dataLength());
    }

    @Test
    void shouldTrackEphemeralsAndDeleteThemWhenTheSessionCloses() {
        apply(7, OpCode.CREATE, new CreateTxn("/e", null, io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE, true, 1));
        assertEquals(7, tree.getNode("/e").stat().ephemeralOwner());
        assertEquals(java.util.Set.of("/e"), tree.ephemeralsOf(7));
        apply(7, OpCode.CLOSE_SESSION, new io.tandem.zk.wire.txn.CloseSessionTxn(List.of("/e")));
        assertNull(tree.getNode("/e"));
        assertTrue(tree.ephemeralsOf(7).isEmpty());
    }

    @Test
    void shouldHideContainerAndTtlOwnersFromClients() {
        apply(OpCode.CREATE_CONTAINER, new CreateContainerTxn("/c", null, io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE, 1));
        apply(OpCode.CREATE_TTL, new CreateTTLTxn("/t", null, io.tandem.zk.wire.Acls.OPEN_ACL_UNSAFE, 2, 500));
        assertEquals(0, tree.getNode("/c").stat().ephemeralOwner());
        assertEquals(0, tree.getNode("/t").stat().ephemeralOwner());
        assertEquals(Long.MIN_VALUE, tree.getNode("/c").ephemeralOwner());
        assertEquals(0xff00000000000000L | 500, tree.getNode("/t").ephemeralOwner());
        assertEquals(java.util.Set.of("/c"), tree.containers());
        assertEquals(java.util.Set.of("/t"), tree.ttls());
    }

    @Test
    void shouldReportOkBeforeAndRuntimeInconsistencyAfterAFailedMultiOp() {
        List<Txn> txns = new ArrayList<>();
        txns.add(new Txn(OpCode.CREATE, Jute.bytes(create("/m1", 1))));
        txns.add(new Txn(OpCode.ERROR, Jute.bytes(new ErrorTxn(KeeperCode.NODE_EXISTS.code()))));
        txns.add(new Txn(OpCode.ERROR, Jute.bytes(new ErrorTxn(KeeperCode.RUNTIME_INCONSISTENCY.code()))));
        DataTree.Result result = apply(OpCode.MULTI, new MultiTxn(txns));
        assertEquals(List.of(0, KeeperCode.NODE_EXISTS.code(), KeeperCode.RUNTIME_INCONSISTENCY.code()),
                result.multiResult.stream().map(r -> r.err).toList());
        assertNull(tree.getNode("/m1"), "nothing of a failed multi is applied");
        assertEquals(KeeperCode.NODE_EXISTS.code(), result.err);
        assertEquals(1, tree.lastProcessedZxid(), "the failed multi still consumed its zxid");
    }

    @Test
    void shouldFireDataChildAndRecursiveWatchesWithTheChangedPath() throws ZkException {
        List<String> seen = new ArrayList<>();
        Watcher watcher = event -> seen.add(event.type().code() + " " + event.path() + " " + event.zxid());
        tree.watches.addDataWatch("/w", watcher);
        tree.watches.addChildWatch("/", watcher);
        apply(OpCode.CREATE, create("/w", 1));
        assertEquals(List.of("1 /w 1", "4 / 1"), seen);
        seen.clear();
        tree.watches.addPersistentWatch("/w", watcher, true);
        apply(OpCode.CREATE, create("/w/x", 1));
        apply(OpCode.SET_DATA, new SetDataTxn("/w/x", null, 1));
        apply(OpCode.DELETE, new DeleteTxn("/w/x"));
        assertEquals(List.of("1 /w/x 2", "3 /w/x 3", "2 /w/x 4"), seen);
    }

    /**
     * A set or delete applied with the node its preparation found (Request.node) uses it only while that node is still
     * in the tree: a node deleted and made again at the same path since, or a tree replaced by a snapshot since, is
     * looked up afresh, so the write lands on the node that is there now.
     */
    @Test
    void shouldApplyASetOrDeleteToTheNodeThatIsThereNowWhateverItsPreparationFound() {
        apply(OpCode.CREATE, create("/a", 1));
        DataNode first = tree.getNode("/a");
        int generation = tree.generation();
        apply(OpCode.DELETE, new DeleteTxn("/a"));
        apply(OpCode.CREATE, create("/a", 3));
        DataNode second = tree.getNode("/a");
        assertTrue(first != second);
        DataTree.Result set = tree.processTxn(new TxnHeader(0, 1, ++zxid, 1000 + zxid, OpCode.SET_DATA),
                new SetDataTxn("/a", new byte[] {7}, 1), first, generation);
        assertEquals(0, set.err);
        assertEquals(1, second.version, "the set went to the node at /a now, not to the deleted one");
        assertEquals(zxid, second.mzxid);
        assertEquals(1, set.stat.dataLength());

        // A hint that is still valid is used: the same outcome as a lookup.
        DataTree.Result again = tree.processTxn(new TxnHeader(0, 1, ++zxid, 1000 + zxid, OpCode.SET_DATA),
                new SetDataTxn("/a", new byte[] {8, 9}, 2), second, tree.generation());
        assertEquals(2, again.stat.version());
        assertEquals(2, tree.getNode("/a").dataLength());

        // Deleting with the stale node deletes the live one; its parent's pzxid moves as with a lookup.
        DataTree.Result deleted = tree.processTxn(new TxnHeader(0, 1, ++zxid, 1000 + zxid, OpCode.DELETE),
                new DeleteTxn("/a"), first, generation);
        assertEquals(0, deleted.err);
        assertNull(tree.getNode("/a"));
        assertEquals(zxid, tree.getNode("/").pzxid());

        // A node found before a snapshot replaced the tree is not used either.
        apply(OpCode.CREATE, create("/b", 5));
        DataNode beforeSnapshot = tree.getNode("/b");
        int oldGeneration = tree.generation();
        tree.clearForSnapshot();
        DataTree.Result missing = tree.processTxn(new TxnHeader(0, 1, ++zxid, 1000 + zxid, OpCode.SET_DATA),
                new SetDataTxn("/b", new byte[] {1}, 1), beforeSnapshot, oldGeneration);
        assertEquals(KeeperCode.NO_NODE.code(), missing.err);
        assertEquals(0, beforeSnapshot.version, "the detached node is left alone");
    }
}
