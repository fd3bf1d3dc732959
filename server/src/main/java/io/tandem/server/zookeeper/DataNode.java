package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * One znode: its place in the tree (parent and own name, not the full path), data, an interned ACL list and the
 * persisted stat fields as primitives. A tree of a million znodes is dominated by per-node overhead, so a node holds no
 * path string, no Stat object, no per-child entry objects, no ACL copy, and its name and data share one array (see
 * docs/profiles/zk-memory.md). Ephemeral, container and TTL nodes are {@link Owned}: the owner never changes after
 * creation, and the other nodes do not pay for the field.
 *
 * <p>Like Apache's DataNode, {@code cversion} counts child creations only; the cversion clients see is derived in
 * {@link #stat()} as {@code creations * 2 - children}, i.e. creations plus deletions. Only the commit thread changes
 * nodes, holding the node's monitor once it is in the tree, so the background snapshot writer, which reads under the
 * same monitor, sees each node whole (see {@link DataTree}).
 */
class DataNode {
    /** Null for the root and for a node read from a snapshot until it is attached. */
    DataNode parent;
    /**
     * A header, the name, then the data. The header is a varint of {@code nameBytes << 1 | dataIsNull}; the name is the
     * last path component in UTF-8 (lossless: valid znode paths hold no lone surrogates).
     */
    private byte[] payload;
    /** Null until the first child is added. */
    ChildTable children;
    /** Interned by the tree's {@link AclCache}: nodes with equal ACL lists share one list. */
    List<ACL> acl;
    /** Insertion order among the parent's children (see {@link ChildTable}); {@link #REMOVED} once deleted. */
    int seq;
    long czxid;
    long mzxid;
    long ctime;
    long mtime;
    int version;
    int aversion;

    /** The {@link #seq} of a node deleted from the tree (it never comes back: a new node is made instead). */
    static final int REMOVED = -1;

    /** An ephemeral, container or TTL node. */
    static final class Owned extends DataNode {
        private final long ephemeralOwner;

        private Owned(long ephemeralOwner) {
            this.ephemeralOwner = ephemeralOwner;
        }

        @Override
        long ephemeralOwner() {
            return ephemeralOwner;
        }
    }

    private DataNode() {
    }

    /** A node named {@code path.substring(nameFrom)}, created at {@code zxid}. */
    static DataNode of(String path, int nameFrom, byte[] data, List<ACL> acl, long zxid, long time,
                       long ephemeralOwner) {
        DataNode node = ephemeralOwner == 0 ? new DataNode() : new Owned(ephemeralOwner);
        byte[] name = path.substring(nameFrom).getBytes(StandardCharsets.UTF_8);
        node.payload = payload(name, 0, name.length, data);
        node.acl = acl;
        node.czxid = zxid;
        node.mzxid = zxid;
        node.ctime = time;
        node.mtime = time;
        return node;
    }

    /** The session that owns an ephemeral, or the container/TTL marker (see {@link EphemeralOwner}); 0 otherwise. */
    long ephemeralOwner() {
        return 0;
    }

    private static byte[] payload(byte[] name, int nameFrom, int nameLength, byte[] data) {
        int header = nameLength << 1 | (data == null ? 1 : 0);
        int headerBytes = varintLength(header);
        byte[] payload = new byte[headerBytes + nameLength + (data == null ? 0 : data.length)];
        int at = 0;
        while ((header & ~0x7f) != 0) {
            payload[at++] = (byte) (header & 0x7f | 0x80);
            header >>>= 7;
        }
        payload[at++] = (byte) header;
        System.arraycopy(name, nameFrom, payload, at, nameLength);
        if (data != null) {
            System.arraycopy(data, 0, payload, at + nameLength, data.length);
        }
        return payload;
    }

    private static int varintLength(int value) {
        int length = 1;
        while ((value & ~0x7f) != 0) {
            value >>>= 7;
            length++;
        }
        return length;
    }

    private int header() {
        byte first = payload[0];
        if (first >= 0) {
            return first; // a name under 64 bytes: every lookup of a usual tree takes this branch
        }
        int value = 0;
        for (int shift = 0, at = 0; ; shift += 7, at++) {
            byte b = payload[at];
            value |= (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
    }

    private int nameOffset() {
        return varintLength(header());
    }

    private int nameLength() {
        return header() >>> 1;
    }

    /** Feeds the data (nothing when null) to {@code crc} where it is kept, without the copy {@link #data} makes. */
    void digestData(CRC32 crc) {
        int header = header();
        if ((header & 1) != 0) {
            return;
        }
        int from = varintLength(header) + (header >>> 1);
        crc.update(payload, from, payload.length - from);
    }

    /** A copy of the data (null when created with null), as clients read it. */
    byte[] data() {
        int header = header();
        if ((header & 1) != 0) {
            return null;
        }
        return Arrays.copyOfRange(payload, varintLength(header) + (header >>> 1), payload.length);
    }

    void setData(byte[] data) {
        payload = payload(payload, nameOffset(), nameLength(), data);
    }

    int dataLength() {
        int header = header();
        return payload.length - varintLength(header) - (header >>> 1);
    }

    /** {@code name().hashCode()}, computed from the bytes (the child table key and Apache's HashSet bucket). */
    int nameHash() {
        int from = nameOffset();
        int to = from + nameLength();
        int hash = 0;
        for (int i = from; i < to; i++) {
            byte b = payload[i];
            if (b < 0) {
                return name().hashCode();
            }
            hash = 31 * hash + b;
        }
        return hash;
    }

    /**
     * Whether this node's name equals {@code path.substring(from, to)}, without building that substring. Most calls
     * are a child table's probes past other names, so a difference is found at the first differing character, and the
     * header is read once: on a set or delete this is the hottest loop of the commit thread
     * (docs/profiles/zk-writes.md, "Set and delete").
     */
    boolean nameEquals(String path, int from, int to) {
        byte[] bytes = payload;
        int header = header();
        int offset = varintLength(header);
        int length = header >>> 1;
        int chars = to - from;
        if (length < chars) {
            return false; // UTF-8 takes at least one byte per char
        }
        for (int i = 0; i < chars; i++) {
            char c = path.charAt(from + i);
            if (c >= 0x80) {
                byte[] name = path.substring(from, to).getBytes(StandardCharsets.UTF_8);
                return Arrays.equals(bytes, offset, offset + length, name, 0, name.length);
            }
            if (bytes[offset + i] != c) {
                return false; // the chars before were ASCII, so the UTF-8 bytes up to here are exactly those
            }
        }
        return length == chars; // all ASCII: one byte per char
    }

    String name() {
        return new String(payload, nameOffset(), nameLength(), StandardCharsets.UTF_8);
    }

    /** The full path, rebuilt from the names up to the root (nodes do not keep it). */
    String path() {
        if (parent == null) {
            return "/";
        }
        StringBuilder path = new StringBuilder();
        appendPath(path);
        return path.toString();
    }

    private void appendPath(StringBuilder path) {
        if (parent != null) {
            parent.appendPath(path);
            path.append('/').append(name());
        }
    }

    /**
     * The zxid of the last child change. Kept with the children (a node that never had a child has its creation zxid),
     * so a leaf does not pay for it.
     */
    long pzxid() {
        return children == null ? czxid : children.pzxid;
    }

    void setPzxid(long pzxid) {
        if (children != null || pzxid != czxid) {
            childTable().pzxid = pzxid;
        }
    }

    /** Child creations (see the class comment); 0 for a node that never had a child, kept with the children. */
    int cversion() {
        return children == null ? 0 : children.cversion;
    }

    void setCversion(int cversion) {
        if (children != null || cversion != 0) {
            childTable().cversion = cversion;
        }
    }

    ChildTable childTable() {
        if (children == null) {
            children = new ChildTable(czxid);
        }
        return children;
    }

    /** Children names in the order Apache's getChildren returns them. */
    List<String> children() {
        return children == null ? List.of() : children.namesInApacheOrder();
    }

    int childCount() {
        return children == null ? 0 : children.size();
    }

    /** The Stat a client sees: container and TTL owners read as 0, cversion counts creations and deletions. */
    Stat stat() {
        int numChildren = childCount();
        long owner = ephemeralOwner();
        long clientOwner = EphemeralOwner.isSession(owner) ? owner : 0;
        return new Stat(czxid, mzxid, ctime, mtime, version, cversion() * 2 - numChildren, aversion, clientOwner,
                dataLength(), numChildren, pzxid());
    }
}
