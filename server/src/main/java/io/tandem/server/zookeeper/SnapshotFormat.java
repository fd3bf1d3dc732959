package io.tandem.server.zookeeper;

import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Our serialization of the tree and the sessions inside a snapshot (storage frames and checksums it). Nodes are
 * written parents first, so reading can attach each node to an existing parent.
 */
final class SnapshotFormat {
    private static final int FORMAT_VERSION = 1;

    static void write(DataOutputStream out, DataTree tree, Map<Long, Session> sessions) throws IOException {
        out.writeInt(FORMAT_VERSION);
        out.writeLong(tree.lastProcessedZxid());
        out.writeInt(sessions.size());
        for (Session session : sessions.values()) {
            out.writeLong(session.id);
            out.writeInt(session.timeoutMs);
        }
        // Breadth first over the nodes themselves (not their paths, which a large tree would hold twice for the
        // length of the write), children in getChildren order so a restored tree lists them in the same order.
        out.writeInt(tree.nodeCount() - 1);
        Deque<DataNode> pending = new ArrayDeque<>();
        pending.add(tree.getNode("/"));
        while (!pending.isEmpty()) {
            DataNode node = pending.poll();
            if (node.children != null) {
                pending.addAll(node.children.inApacheOrder());
            }
            out.writeUTF(node.path());
            writeBytes(out, node.data());
            out.writeInt(node.acl.size());
            for (ACL acl : node.acl) {
                out.writeInt(acl.perms());
                out.writeUTF(acl.id().scheme());
                out.writeUTF(acl.id().id());
            }
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
    }

    /** Fills an empty tree and session map; returns the zxid the snapshot covers. */
    static long read(DataInputStream in, DataTree tree, Map<Long, Session> sessions) throws IOException {
        int version = in.readInt();
        if (version != FORMAT_VERSION) {
            throw new IOException("unknown snapshot format version " + version);
        }
        long zxid = in.readLong();
        int sessionCount = in.readInt();
        for (int i = 0; i < sessionCount; i++) {
            long id = in.readLong();
            sessions.put(id, new Session(id, in.readInt()));
        }
        int nodeCount = in.readInt();
        for (int i = 0; i < nodeCount; i++) {
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
        tree.setLastProcessedZxid(zxid);
        return zxid;
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
