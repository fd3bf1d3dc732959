package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.CloseSessionTxn;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.SetDataTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The tree digest kept per applied change equals Apache's digest computed over the whole tree (every node's
 * DigestCalculator digest, summed) after every kind of change: creates (ephemeral ones too), replayed creates of an
 * existing node, setData, setACL, deletes (of missing nodes too), session closes, and a tree refilled from a snapshot.
 */
class TreeDigestTest {
    private final DataTree tree = new DataTree();
    private long zxid;

    @Test
    void shouldKeepTheDigestOfTheWholeTreeAsChangesAreApplied() throws Exception {
        assertEquals(fullDigest(tree), tree.digest.value());
        Random random = new Random(18);
        for (int i = 0; i < 400; i++) {
            String path = "/n" + random.nextInt(8) + (random.nextBoolean() ? "" : "/c" + random.nextInt(8));
            byte[] data = new byte[random.nextInt(20)];
            random.nextBytes(data);
            switch (random.nextInt(6)) {
                case 0, 1 -> apply(0, OpCode.CREATE, new CreateTxn(path, data, Acls.OPEN_ACL_UNSAFE, false,
                        random.nextInt(3) == 0 ? 1 : -1));
                case 2 -> apply(0, OpCode.SET_DATA, new SetDataTxn(path, data, random.nextInt(5)));
                case 3 -> apply(0, OpCode.SET_ACL, new SetACLTxn(path, random.nextBoolean() ? Acls.READ_ACL_UNSAFE
                        : Acls.OPEN_ACL_UNSAFE, random.nextInt(5)));
                // The preparer never deletes a node with children (NotEmpty), so neither does this.
                case 4 -> {
                    DataNode node = tree.getNode(path);
                    if (node == null || node.children == null || node.children.inApacheOrder().isEmpty()) {
                        apply(0, OpCode.DELETE, new DeleteTxn(path));
                    }
                }
                default -> apply(7, OpCode.CREATE, new CreateTxn(path + "e", data, Acls.OPEN_ACL_UNSAFE, true, -1));
            }
            assertEquals(fullDigest(tree), tree.digest.value(), "after change " + i + " at " + path);
            if (i % 50 == 49) {
                apply(7, OpCode.CLOSE_SESSION, new CloseSessionTxn(List.of()));
                assertEquals(fullDigest(tree), tree.digest.value(), "after a session close");
            }
        }
        long before = tree.digest.value();
        assertNotEquals(fullDigest(new DataTree()), before, "the changes moved the digest");

        // A tree refilled from a snapshot of this one has the same digest.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SnapshotFormat.write(new DataOutputStream(bytes), tree, new HashMap<>());
        DataTree copy = new DataTree();
        copy.clearForSnapshot();
        SnapshotFormat.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), copy, new HashMap<>());
        assertEquals(before, copy.digest.value());
        assertEquals(fullDigest(copy), copy.digest.value());
    }

    @Test
    void shouldDigestPathsBeyondAsciiNullDataAndLongPathsAsApacheDoes() {
        String longName = "/" + "l".repeat(300);
        for (String path : List.of("/caf\u00e9", "/caf\u00e9/\u65e5\u672c", "/\ud83d\ude00", longName,
                longName + "/" + "m".repeat(600), "/plain")) {
            apply(0, OpCode.CREATE, new CreateTxn(path, path.length() % 2 == 0 ? null : new byte[]{1, 2, 3},
                    Acls.OPEN_ACL_UNSAFE, false, -1));
            assertEquals(fullDigest(tree), tree.digest.value(), "after creating " + path);
        }
        apply(0, OpCode.SET_DATA, new SetDataTxn("/caf\u00e9/\u65e5\u672c", new byte[2000], 1));
        apply(7, OpCode.CREATE, new CreateTxn("/plain/\u00e9e", null, Acls.OPEN_ACL_UNSAFE, true, -1));
        apply(0, OpCode.DELETE, new DeleteTxn(longName + "/" + "m".repeat(600)));
        assertEquals(fullDigest(tree), tree.digest.value());
    }

    private void apply(long session, int type, io.tandem.zk.wire.JuteRecord txn) {
        tree.processTxn(new TxnHeader(session, 1, ++zxid, 1000 + zxid, type), txn);
    }

    /** Apache's digest of the whole tree: every node's, summed (the walk the hash command did before). */
    static long fullDigest(DataTree tree) {
        long sum = 0;
        Deque<DataNode> pending = new ArrayDeque<>();
        pending.push(tree.getNode("/"));
        while (!pending.isEmpty()) {
            DataNode node = pending.pop();
            sum += TreeDigest.nodeDigest(node.parent == null ? "/" : node.path(), node);
            if (node.children != null) {
                for (DataNode child : node.children.inApacheOrder()) pending.push(child);
            }
        }
        return sum;
    }
}
