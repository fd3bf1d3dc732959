package io.tandem.server.zookeeper;

import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Our serialization of the tree and the sessions inside a snapshot (storage frames and checksums it). Nodes are
 * written parents first, so reading can attach each node to an existing parent.
 *
 * <p>A snapshot may be fuzzy, as Apache's are: the standalone server writes it on its own thread from the live tree
 * while commits go on ({@link BackgroundSnapshots}). Its recorded zxid is the tree's last applied zxid when the walk
 * starts, so every transaction after that zxid is replayed from the log over it on recovery, and replay tolerates
 * what the walk already saw: a create of a node that exists fails with NodeExists and only moves the parent's
 * cversion/pzxid forward, a delete of a missing node fails with NoNode and only moves the parent's pzxid forward,
 * setData and setACL write absolute versions (see {@link DataTree#processTxn}). Each node is copied whole under its
 * monitor (the commit thread changes nodes under it), so no node is ever seen half changed, and a node present for
 * the whole walk is always reached, because its parent's child list is copied under the parent's monitor.
 */
final class SnapshotFormat {
    /** Version 1: a node count, then the nodes; only a tree that cannot change during the write can be counted. */
    private static final int FORMAT_VERSION_COUNTED = 1;
    /** Version 2: each node is preceded by a 1 byte and a 0 byte ends them: a fuzzy walk's count is not known first. */
    private static final int FORMAT_VERSION = 2;

    /** Called after each node written (tests hold a snapshot half written with it; cancellation throws from it). */
    @FunctionalInterface
    interface Progress {
        void nodeWritten(long snapshotZxid, long nodesWritten) throws IOException;

        Progress NONE = (zxid, nodes) -> {
        };
    }

    /** A consistent snapshot, on the commit thread: nothing changes while it is written. */
    static void write(DataOutputStream out, DataTree tree, Map<Long, Session> sessions) throws IOException {
        write(out, tree.lastProcessedZxid(), sessionTimeouts(sessions), tree, Progress.NONE);
    }

    /** The sessions and their timeouts as they are now; taken on the commit thread together with the zxid. */
    static Map<Long, Integer> sessionTimeouts(Map<Long, Session> sessions) {
        Map<Long, Integer> copy = new LinkedHashMap<>();
        for (Session session : sessions.values()) {
            copy.put(session.id, session.timeoutMs);
        }
        return copy;
    }

    /**
     * Writes a snapshot covering {@code zxid}: {@code sessions} as they were at that zxid, and the tree walked from
     * any thread while the commit thread may go on changing it (see the class comment).
     */
    static void write(DataOutputStream out, long zxid, Map<Long, Integer> sessions, DataTree tree, Progress progress)
            throws IOException {
        out.writeInt(FORMAT_VERSION);
        out.writeLong(zxid);
        out.writeInt(sessions.size());
        for (Map.Entry<Long, Integer> session : sessions.entrySet()) {
            out.writeLong(session.getKey());
            out.writeInt(session.getValue());
        }
        long[] written = {0};
        walk(tree, (path, copy) -> {
            writeNode(out, path, copy);
            progress.nodeWritten(zxid, ++written[0]);
        });
        out.writeBoolean(false);
    }

    /** What {@link #walk} hands over: a node's path and its fields as copied (the copy is reused: read it at once). */
    @FunctionalInterface
    interface NodeVisitor {
        void visit(String path, NodeCopy node) throws IOException;
    }

    /**
     * Every node of a live tree, parents before children and children in getChildren order (so a restored tree
     * lists them in the same order), each copied under its monitor and visited outside it: the walk of a fuzzy
     * snapshot, ours and a leader's Apache SNAP ({@link ApacheTreeFormat#writeFuzzy}). The stack holds each open
     * level's copied child list and path, not every pending node's path.
     */
    static void walk(DataTree tree, NodeVisitor visitor) throws IOException {
        Deque<Level> open = new ArrayDeque<>();
        NodeCopy copy = new NodeCopy();
        copy.take(tree.root());
        visitor.visit("/", copy);
        open.push(new Level("/", copy.children));
        while (!open.isEmpty()) {
            Level level = open.peek();
            if (level.next == level.children.size()) {
                open.pop();
                continue;
            }
            copy.take(level.children.get(level.next++));
            String path = level.path.length() == 1 ? "/" + copy.name : level.path + "/" + copy.name;
            visitor.visit(path, copy);
            if (!copy.children.isEmpty()) {
                open.push(new Level(path, copy.children));
            }
        }
    }

    /** One level of the walk: a node's path and its children as copied under its monitor. */
    private static final class Level {
        final String path;
        final List<DataNode> children;
        int next;

        Level(String path, List<DataNode> children) {
            this.path = path;
            this.children = children;
        }
    }

    /**
     * One node's fields, copied under its monitor and written outside it (the commit thread never waits on I/O); also
     * the fuzzy walk of a leader's Apache SNAP ({@link ApacheTreeFormat#writeFuzzy}).
     */
    static final class NodeCopy {
        String name;
        byte[] data;
        List<ACL> acl;
        long czxid;
        long mzxid;
        long ctime;
        long mtime;
        int version;
        int cversion;
        int aversion;
        long ephemeralOwner;
        long pzxid;
        List<DataNode> children;

        void take(DataNode node) {
            synchronized (node) {
                name = node.name();
                data = node.data();
                acl = node.acl;
                czxid = node.czxid;
                mzxid = node.mzxid;
                ctime = node.ctime;
                mtime = node.mtime;
                version = node.version;
                cversion = node.cversion();
                aversion = node.aversion;
                ephemeralOwner = node.ephemeralOwner();
                pzxid = node.pzxid();
                children = node.children == null ? List.of() : node.children.inApacheOrder();
            }
        }

        /**
         * The persisted Stat fields in the order both formats keep them (Apache's StatPersisted, and ours). It mirrors
         * zk-wire's generated {@code StatPersisted.write} rather than calling it: that one writes to a {@code
         * JuteOutput} over a Netty buffer, while snapshots stream to a {@link DataOutputStream} of any size, so
         * sharing it would cost a record and a buffer per node of every walk and a copy of each into the stream.
         * SnapshotFormatStatTest keeps the two byte for byte equal.
         */
        void writeStat(DataOutputStream out) throws IOException {
            out.writeLong(czxid);
            out.writeLong(mzxid);
            out.writeLong(ctime);
            out.writeLong(mtime);
            out.writeInt(version);
            out.writeInt(cversion);
            out.writeInt(aversion);
            out.writeLong(ephemeralOwner);
            out.writeLong(pzxid);
        }
    }

    private static void writeNode(DataOutputStream out, String path, NodeCopy node) throws IOException {
        out.writeBoolean(true);
        out.writeUTF(path);
        writeBytes(out, node.data);
        out.writeInt(node.acl.size());
        for (ACL acl : node.acl) {
            out.writeInt(acl.perms());
            out.writeUTF(acl.id().scheme());
            out.writeUTF(acl.id().id());
        }
        node.writeStat(out);
    }

    /** Fills an empty tree and session map; returns the zxid the snapshot covers. Reads versions 1 and 2. */
    static long read(DataInputStream in, DataTree tree, Map<Long, Session> sessions) throws IOException {
        int version = in.readInt();
        if (version != FORMAT_VERSION && version != FORMAT_VERSION_COUNTED) {
            throw new IOException("unknown snapshot format version " + version);
        }
        long zxid = in.readLong();
        int sessionCount = in.readInt();
        for (int i = 0; i < sessionCount; i++) {
            long id = in.readLong();
            sessions.put(id, new Session(id, in.readInt()));
        }
        if (version == FORMAT_VERSION_COUNTED) {
            int nodeCount = in.readInt();
            for (int i = 0; i < nodeCount; i++) {
                readNode(in, tree);
            }
        } else {
            while (in.readBoolean()) {
                readNode(in, tree);
            }
        }
        tree.setLastProcessedZxid(zxid);
        return zxid;
    }

    private static void readNode(DataInputStream in, DataTree tree) throws IOException {
        String path = in.readUTF();
        byte[] data = readBytes(in);
        int aclCount = in.readInt();
        List<ACL> acl = new ArrayList<>(aclCount);
        for (int a = 0; a < aclCount; a++) {
            int perms = in.readInt();
            acl.add(new ACL(perms, new Id(in.readUTF(), in.readUTF())));
        }
        long czxid = in.readLong();
        long mzxid = in.readLong();
        long ctime = in.readLong();
        long mtime = in.readLong();
        int nodeVersion = in.readInt();
        int cversion = in.readInt();
        int aversion = in.readInt();
        long ephemeralOwner = in.readLong();
        DataNode node = DataNode.of(path, path.lastIndexOf('/') + 1, data, acl, czxid, ctime, ephemeralOwner);
        node.mzxid = mzxid;
        node.mtime = mtime;
        node.version = nodeVersion;
        node.setCversion(cversion);
        node.aversion = aversion;
        node.setPzxid(in.readLong());
        tree.restoreNode(path, node);
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        if (bytes == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(bytes.length);
            out.write(bytes);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    private SnapshotFormat() {
    }
}
