package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One znode: its place in the tree (parent and own name, not the full path), data, an interned ACL list and the
 * persisted stat fields as primitives. A tree of a million znodes is dominated by per-node overhead, so a node holds no
 * path string, no Stat object, no per-child entry objects and no ACL copy (see docs/profiles/zk-memory.md).
 *
 * <p>Like Apache's DataNode, {@code cversion} counts child creations only; the cversion clients see is derived in
 * {@link #stat()} as {@code creations * 2 - children}, i.e. creations plus deletions. Only the commit thread touches
 * nodes.
 */
final class DataNode {
    /** Null for the root and for a node read from a snapshot until it is attached. */
    DataNode parent;
    /**
     * The last path component: a byte[] of ISO-8859-1 chars when every char is below 0x100 (one byte a char, as the JDK's
     * compact strings do, and lossless), otherwise the String itself.
     */
    private Object name;
    /** {@code name.hashCode()} of the name as a String: the child table key and Apache's HashSet bucket. */
    int nameHash;
    /** Insertion order among the parent's children (see {@link ChildTable}). */
    int seq;
    /** Null until the first child is added. */
    ChildTable children;

    byte[] data;
    /** Interned by the tree's {@link AclCache}: nodes with equal ACL lists share one list. */
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

    DataNode(byte[] data, List<ACL> acl, long zxid, long time, long ephemeralOwner) {
        this.data = data;
        this.acl = acl;
        this.czxid = zxid;
        this.mzxid = zxid;
        this.pzxid = zxid;
        this.ctime = time;
        this.mtime = time;
        this.ephemeralOwner = ephemeralOwner;
    }

    /** Names this node {@code path.substring(from, to)}. */
    void setName(String path, int from, int to) {
        String text = path.substring(from, to);
        nameHash = text.hashCode();
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) > 0xff) {
                name = text;
                return;
            }
        }
        name = text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Whether this node's name equals {@code path.substring(from, to)}, without building that substring. */
    boolean nameEquals(String path, int from, int to) {
        if (name instanceof byte[] bytes) {
            if (bytes.length != to - from) {
                return false;
            }
            for (int i = 0; i < bytes.length; i++) {
                if (path.charAt(from + i) != (char) (bytes[i] & 0xff)) {
                    return false;
                }
            }
            return true;
        }
        String text = (String) name;
        return text.length() == to - from && path.regionMatches(from, text, 0, text.length());
    }

    String name() {
        if (name == null) {
            return "";
        }
        return name instanceof byte[] bytes ? new String(bytes, StandardCharsets.ISO_8859_1) : (String) name;
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

    /** Children names in the order Apache's getChildren returns them. */
    List<String> children() {
        return children == null ? List.of() : children.namesInApacheOrder();
    }

    int childCount() {
        return children == null ? 0 : children.size();
    }

    int dataLength() {
        return data == null ? 0 : data.length;
    }

    /** The Stat a client sees: container and TTL owners read as 0, cversion counts creations and deletions. */
    Stat stat() {
        int numChildren = childCount();
        long clientOwner = EphemeralOwner.isSession(ephemeralOwner) ? ephemeralOwner : 0;
        return new Stat(czxid, mzxid, ctime, mtime, version, cversion * 2 - numChildren, aversion, clientOwner,
                dataLength(), numChildren, pzxid);
    }
}
