package io.tandem.server.zookeeper;

import io.tandem.storage.zk.apache.ApacheSnapshotReader;
import io.tandem.storage.zk.SnapshotBody;
import io.tandem.storage.zk.apache.ApacheSnapshotWriter;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of Apache ZooKeeper's snapshot ({@code SerializeUtils.serializeSnapshot}), read into and written from
 * Tandem's {@link DataTree} and sessions; storage's ApacheSnapshotReader/Writer frame and checksum it.
 * <pre>
 * body     := sessionCount:int32 (id:int64 timeoutMs:int32)*  aclCache  node* "/"
 * aclCache := count:int32 (key:int64 aclCount:int32 (perms:int32 scheme:string id:string)*)*
 * node     := path:string data:buffer aclKey:int64 stat
 * stat     := czxid mzxid ctime mtime:int64 version cversion aversion:int32 ephemeralOwner pzxid:int64
 * </pre>
 * Nodes come parents first (depth first); the root's path is "" and "/" ends the list. ACL key -1 is Apache's
 * {@code OPEN_UNSAFE_ACL_ID} (world:anyone, all permissions) and is never in the cache. Apache's persisted cversion
 * counts child creations, as {@link DataNode}'s does, so it is copied as it is.
 */
final class ApacheTreeFormat {
    /** {@code ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID}. */
    static final long OPEN_UNSAFE_ACL_KEY = -1;
    private static final String END_OF_NODES = "/";

    /** Where the body's fields come from: a snapshot file (checksummed) or a leader's SNAP stream. */
    private interface Fields {
        DataInputStream in();

        String readString(int bytesMax) throws IOException;

        byte[] readBuffer(int bytesMax) throws IOException;
    }

    /** Fills an empty tree and session map from the body; the caller then checks the seal. */
    static void read(ApacheSnapshotReader reader, DataTree tree, Map<Long, Session> sessions, int fieldBytesMax)
            throws IOException {
        read(new Fields() {
            @Override
            public DataInputStream in() {
                return reader.body();
            }

            @Override
            public String readString(int bytesMax) throws IOException {
                return reader.readString(bytesMax);
            }

            @Override
            public byte[] readBuffer(int bytesMax) throws IOException {
                return reader.readBuffer(bytesMax);
            }
        }, tree, sessions, fieldBytesMax);
    }

    /**
     * Fills an empty tree and session map from a body without file framing: the database an Apache leader streams
     * after SNAP (the same layout, no header or seal).
     */
    static void read(DataInputStream in, DataTree tree, Map<Long, Session> sessions, int fieldBytesMax)
            throws IOException {
        read(new Fields() {
            @Override
            public DataInputStream in() {
                return in;
            }

            @Override
            public String readString(int bytesMax) throws IOException {
                byte[] bytes = readBuffer(bytesMax);
                return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
            }

            @Override
            public byte[] readBuffer(int bytesMax) throws IOException {
                int length = in.readInt();
                if (length < 0) {
                    return null;
                }
                if (length > bytesMax) {
                    throw new IOException("damaged snapshot: a field of " + length + " bytes exceeds the limit of "
                            + bytesMax);
                }
                byte[] bytes = new byte[length];
                in.readFully(bytes);
                return bytes;
            }
        }, tree, sessions, fieldBytesMax);
    }

    private static void read(Fields reader, DataTree tree, Map<Long, Session> sessions, int fieldBytesMax)
            throws IOException {
        DataInputStream in = reader.in();
        int sessionCount = in.readInt();
        for (int i = 0; i < sessionCount; i++) {
            long id = in.readLong();
            sessions.put(id, new Session(id, in.readInt()));
        }
        Map<Long, List<ACL>> acls = new HashMap<>();
        int aclLists = in.readInt();
        for (int i = 0; i < aclLists; i++) {
            long key = in.readLong();
            int count = in.readInt();
            if (count < 0) {
                throw new IOException("damaged snapshot: ACL list " + key + " has no entries vector");
            }
            List<ACL> acl = new ArrayList<>(Math.min(count, 64));
            for (int a = 0; a < count; a++) {
                int perms = in.readInt();
                acl.add(new ACL(perms, new Id(reader.readString(fieldBytesMax), reader.readString(fieldBytesMax))));
            }
            acls.put(key, List.copyOf(acl));
        }
        String path = reader.readString(fieldBytesMax);
        while (!END_OF_NODES.equals(path)) {
            if (path == null) {
                throw new IOException("damaged snapshot: a node without a path");
            }
            byte[] data = reader.readBuffer(fieldBytesMax);
            long aclKey = in.readLong();
            List<ACL> acl = aclKey == OPEN_UNSAFE_ACL_KEY ? Acls.OPEN_ACL_UNSAFE : acls.get(aclKey);
            if (acl == null) {
                throw new IOException("damaged snapshot: node " + path + " refers to ACL " + aclKey
                        + ", which is not in the ACL cache");
            }
            long czxid = in.readLong();
            long mzxid = in.readLong();
            long ctime = in.readLong();
            long mtime = in.readLong();
            int version = in.readInt();
            int cversion = in.readInt();
            int aversion = in.readInt();
            long ephemeralOwner = in.readLong();
            long pzxid = in.readLong();
            String tandemPath = path.isEmpty() ? "/" : path;
            DataNode node = DataNode.of(tandemPath, tandemPath.lastIndexOf('/') + 1, data, acl, czxid, ctime,
                    ephemeralOwner);
            node.mzxid = mzxid;
            node.mtime = mtime;
            node.version = version;
            node.setCversion(cversion);
            node.aversion = aversion;
            node.setPzxid(pzxid);
            try {
                tree.restoreNode(tandemPath, node);
            } catch (IllegalStateException e) {
                throw new IOException("damaged snapshot: " + e.getMessage(), e);
            }
            path = reader.readString(fieldBytesMax);
        }
    }

    static void write(DataOutputStream out, DataTree tree, Map<Long, Session> sessions) throws IOException {
        out.writeInt(sessions.size());
        for (Session session : sessions.values()) {
            out.writeLong(session.id);
            out.writeInt(session.timeoutMs);
        }
        // Nodes share interned ACL lists; Apache's cache keys each distinct list once.
        Map<List<ACL>, Long> aclKeys = new LinkedHashMap<>();
        for (DataNode node : depthFirst(tree)) {
            aclKeys.computeIfAbsent(node.acl, k -> (long) aclKeys.size() + 1);
        }
        writeAclCache(out, aclKeys);
        for (DataNode node : depthFirst(tree)) {
            ApacheSnapshotWriter.writeString(out, node.parent == null ? "" : node.path());
            ApacheSnapshotWriter.writeBuffer(out, node.data());
            out.writeLong(aclKeys.get(node.acl));
            out.writeLong(node.czxid);
            out.writeLong(node.mzxid);
            out.writeLong(node.ctime);
            out.writeLong(node.mtime);
            out.writeInt(node.version);
            out.writeInt(node.cversion());
            out.writeInt(node.aversion);
            out.writeLong(node.ephemeralOwner());
            out.writeLong(node.pzxid());
        }
        ApacheSnapshotWriter.writeString(out, END_OF_NODES);
    }

    /**
     * A leader's SNAP body, written from the live tree on any thread while the commit thread goes on changing it
     * (fuzzy, as Apache's LearnerHandler serializes its SNAP while its leader commits): each node is copied under its
     * monitor ({@link SnapshotFormat.NodeCopy}) and written outside it, straight to the stream, so the body is never
     * held in memory whole (a tree of gigabytes is sent through the stream's own buffer). The caller takes {@code
     * sessions} and {@code coveredZxid}, the zxid the SNAP covers, before the body is written (the tree's last applied
     * zxid then), and the learner replays the proposals after that zxid over what the walk saw, which is idempotent
     * (see {@link SnapshotFormat}; Apache's DataTree replays a fuzzy snapshot the same way).
     *
     * <p>The ACL cache precedes the nodes, so a first walk collects the ACL lists (distinct lists, few) and a second
     * writes the nodes. A node whose list the first walk did not see was changed after it began, so after {@code
     * coveredZxid}: one created since ({@code czxid} above it) is left out with its subtree, whose nodes were all
     * created after it, and the replayed creates bring them; one whose ACL was set since is written with a key of the
     * cache, and the replayed setACL gives it its own. Every key the body refers to is in its cache.
     */
    static SnapshotBody writeFuzzy(DataTree tree, Map<Long, Integer> sessions, long coveredZxid, String signature) {
        SnapshotBody body = writeFuzzy(tree, sessions, coveredZxid);
        return out -> {
            body.writeTo(out);
            ApacheSnapshotWriter.writeString(out, signature);
        };
    }

    /**
     * A snapshot file's body written fuzzily from the live tree (the AdminServer's snapshot: Apache's is fuzzy too),
     * the walk of {@link #writeFuzzy(DataTree, Map, long, String)} without the SNAP's signature.
     */
    static SnapshotBody writeFuzzy(DataTree tree, Map<Long, Integer> sessions, long coveredZxid) {
        return out -> {
            Map<List<ACL>, Long> aclKeys = new LinkedHashMap<>();
            SnapshotFormat.walk(tree, (path, copy) -> aclKeys.computeIfAbsent(copy.acl,
                    k -> (long) aclKeys.size() + 1));
            out.writeInt(sessions.size());
            for (Map.Entry<Long, Integer> session : sessions.entrySet()) {
                out.writeLong(session.getKey());
                out.writeInt(session.getValue());
            }
            writeAclCache(out, aclKeys);
            long anyKey = aclKeys.values().iterator().next(); // the root's: the first walk always copies it
            SnapshotFormat.walk(tree, (path, copy) -> {
                Long key = aclKeys.get(copy.acl);
                if (key == null && copy.czxid > coveredZxid) {
                    copy.children = List.of(); // the walk descends only into the children the visitor leaves
                    return;
                }
                // Apache names the root "" in a snapshot.
                writeNode(out, path.length() == 1 ? "" : path, copy, key == null ? anyKey : key);
                if (path.length() > 1) fuzzyNodeWritten.run();
            });
            ApacheSnapshotWriter.writeString(out, END_OF_NODES);
        };
    }

    /** Test hook: runs after each node {@link #writeFuzzy} wrote (a test holds the walk half way with it). */
    static volatile Runnable fuzzyNodeWritten = () -> { };

    private static void writeNode(DataOutputStream out, String path, SnapshotFormat.NodeCopy node, long aclKey)
            throws IOException {
        ApacheSnapshotWriter.writeString(out, path);
        ApacheSnapshotWriter.writeBuffer(out, node.data);
        out.writeLong(aclKey);
        node.writeStat(out);
    }

    private static void writeAclCache(DataOutputStream out, Map<List<ACL>, Long> aclKeys) throws IOException {
        out.writeInt(aclKeys.size());
        for (Map.Entry<List<ACL>, Long> entry : aclKeys.entrySet()) {
            out.writeLong(entry.getValue());
            out.writeInt(entry.getKey().size());
            for (ACL acl : entry.getKey()) {
                out.writeInt(acl.perms());
                ApacheSnapshotWriter.writeString(out, acl.id().scheme());
                ApacheSnapshotWriter.writeString(out, acl.id().id());
            }
        }
    }

    /** Every node, parents before children (Apache reads a child only after its parent). */
    private static Iterable<DataNode> depthFirst(DataTree tree) {
        return () -> new java.util.Iterator<>() {
            private final Deque<DataNode> pending = new ArrayDeque<>(List.of(tree.getNode("/")));

            @Override
            public boolean hasNext() {
                return !pending.isEmpty();
            }

            @Override
            public DataNode next() {
                DataNode node = pending.pop();
                if (node.children != null) {
                    List<DataNode> children = node.children.inApacheOrder();
                    for (int i = children.size() - 1; i >= 0; i--) {
                        pending.push(children.get(i));
                    }
                }
                return node;
            }
        };
    }

    private ApacheTreeFormat() {
    }
}
