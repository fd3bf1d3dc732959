package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Perms;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.txn.CreateTxn;
import io.tandem.zk.wire.txn.DeleteTxn;
import io.tandem.zk.wire.txn.SetACLTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The compact tree (nodes without full paths, children in {@link ChildTable}, interned ACLs) must answer exactly as the
 * map of paths it replaced, and list children in the order of Apache's {@code HashSet<String>(8)}.
 */
class CompactTreeTest {
    private final DataTree tree = new DataTree();
    private long zxid;

    private void create(String path) {
        create(path, Acls.OPEN_ACL_UNSAFE);
    }

    private void create(String path, List<ACL> acl) {
        DataTree.Result result = tree.processTxn(new TxnHeader(0, 1, ++zxid, zxid, OpCode.CREATE),
                new CreateTxn(path, new byte[] {7}, new ArrayList<>(acl), false, -1));
        assertEquals(0, result.err, "create " + path);
    }

    private void delete(String path) {
        DataTree.Result result = tree.processTxn(new TxnHeader(0, 1, ++zxid, zxid, OpCode.DELETE), new DeleteTxn(path));
        assertEquals(0, result.err, "delete " + path);
    }

    /** Apache's DataNode: {@code new HashSet<>(8)} on the first child, never shrunk. */
    private static void assertApacheOrder(Set<String> apache, List<String> ours) {
        assertEquals(new ArrayList<>(apache), ours);
    }

    @Test
    void shouldListChildrenInApacheHashSetOrderThroughCreatesAndDeletes() {
        create("/p");
        Random random = new Random(15);
        Set<String> apache = new HashSet<>(8);
        List<String> present = new ArrayList<>();
        for (int step = 0; step < 20_000; step++) {
            if (present.isEmpty() || random.nextInt(3) > 0) {
                String name = random.nextBoolean() ? "n" + random.nextInt(5000) : "lock-" + Long.toHexString(random.nextLong());
                if (apache.add(name)) {
                    present.add(name);
                    create("/p/" + name);
                }
            } else {
                String name = present.remove(random.nextInt(present.size()));
                apache.remove(name);
                delete("/p/" + name);
            }
            if (step % 997 == 0) {
                assertApacheOrder(apache, tree.getNode("/p").children());
            }
        }
        assertApacheOrder(apache, tree.getNode("/p").children());
    }

    @Test
    void shouldFollowHashSetResizeOnALongBucketBelowSixtyFourBuckets() {
        // Names whose HashMap hashes agree on the low 5 bits: one bucket at 8, 16 and 32 buckets. HashMap grows its
        // table (instead of making a tree) when such a bucket already holds 8, so 16 of them end up in 64 buckets,
        // where the threshold rule alone would keep 32 and list them in insertion order.
        List<String> names = new ArrayList<>();
        int[] perHalf = new int[2];
        for (int i = 0; names.size() < 16; i++) {
            String name = "k" + i;
            int h = name.hashCode();
            int spread = h ^ (h >>> 16);
            int half = (spread & 32) >> 5;
            if ((spread & 31) == 0 && perHalf[half] < 8) {
                perHalf[half]++;
                names.add(name);
            }
        }
        create("/q");
        Set<String> apache = new HashSet<>(8);
        for (String name : names) {
            apache.add(name);
            create("/q/" + name);
            assertApacheOrder(apache, tree.getNode("/q").children());
        }
    }

    @Test
    void shouldKeepChildrenOrderThroughASnapshot() throws Exception {
        create("/s");
        Set<String> apache = new HashSet<>(8);
        for (int i = 0; i < 300; i++) {
            apache.add("c" + i);
            create("/s/c" + i);
        }
        for (int i = 0; i < 300; i += 3) {
            apache.remove("c" + i);
            delete("/s/c" + i);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SnapshotFormat.write(new DataOutputStream(bytes), tree, new HashMap<>());
        DataTree restored = new DataTree();
        SnapshotFormat.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), restored, new HashMap<>());
        // Apache restores by adding the children to a fresh set in the order its snapshot lists them.
        Set<String> apacheRestored = new HashSet<>(8);
        apacheRestored.addAll(new ArrayList<>(apache));
        assertApacheOrder(apacheRestored, restored.getNode("/s").children());
        assertEquals(tree.nodeCount(), restored.nodeCount());
        assertEquals(tree.approximateDataSize(), restored.approximateDataSize());
        assertEquals(tree.getNode("/s").stat(), restored.getNode("/s").stat());
        assertEquals(tree.getNode("/s/c1").stat(), restored.getNode("/s/c1").stat());
    }

    @Test
    void shouldShareOneAclListAmongNodesAndDropItWithTheLastNode() {
        List<ACL> digest = List.of(new ACL(Perms.ALL, new Id("digest", "u:hash")));
        create("/a", digest);
        create("/b", digest);
        assertSame(tree.getNode("/a").acl, tree.getNode("/b").acl);
        assertEquals(digest, tree.getNode("/a").acl);
        assertSame(tree.getNode("/zookeeper").acl, tree.getNode("/zookeeper/quota").acl);
        tree.processTxn(new TxnHeader(0, 1, ++zxid, zxid, OpCode.SET_ACL),
                new SetACLTxn("/a", new ArrayList<>(Acls.OPEN_ACL_UNSAFE), 1));
        assertSame(tree.getNode("/").acl, tree.getNode("/a").acl);
        assertEquals(3, tree.aclListCount(), "open, read-only, digest");
        delete("/b");
        assertEquals(2, tree.aclListCount(), "the digest list went with its last node");
    }

    @Test
    void shouldFindNodesByPathAsTheMapOfPathsDid() {
        create("/a");
        create("/a/b");
        create("/a/\u00e9t\u00e9");
        create("/a/\u4e2d\u6587");
        assertNotNull(tree.getNode("/a/b"));
        assertNotNull(tree.getNode("/a/\u00e9t\u00e9"));
        assertEquals("/a/\u4e2d\u6587", tree.getNode("/a/\u4e2d\u6587").path());
        assertSame(tree.getNode("/"), tree.getNode(""));
        assertNull(tree.getNode("/a/"));
        assertNull(tree.getNode("/a//b"));
        assertNull(tree.getNode("a/b"));
        assertNull(tree.getNode("/a/bb"));
        assertNull(tree.getNode("/a/b/c"));
        assertEquals(7, tree.allChildrenNumber("/"), "/zookeeper's three, /a and its three");
        assertEquals(3, tree.allChildrenNumber("/a"));
    }

    @Test
    void shouldKeepChildBookkeepingOfANodeWhoseChildrenAreGoneThroughASnapshot() throws Exception {
        create("/leaf");
        create("/emptied");
        create("/emptied/x");
        delete("/emptied/x");
        io.tandem.zk.wire.data.Stat leaf = tree.getNode("/leaf").stat();
        assertEquals(leaf.czxid(), leaf.pzxid(), "a node that never had a child has its creation zxid as pzxid");
        assertEquals(0, leaf.cversion());
        io.tandem.zk.wire.data.Stat emptied = tree.getNode("/emptied").stat();
        assertEquals(zxid, emptied.pzxid());
        assertEquals(2, emptied.cversion(), "one creation and one deletion");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SnapshotFormat.write(new DataOutputStream(bytes), tree, new HashMap<>());
        DataTree restored = new DataTree();
        SnapshotFormat.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), restored, new HashMap<>());
        assertEquals(emptied, restored.getNode("/emptied").stat());
        assertEquals(leaf, restored.getNode("/leaf").stat());
    }
}
