package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Stat;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One znode: data, ACL and the persisted stat fields. Like Apache's DataNode, {@code cversion} counts child creations
 * only; the cversion clients see is derived in {@link #stat()} as {@code creations * 2 - children}, i.e. creations plus
 * deletions. Only the commit thread touches nodes.
 */
final class DataNode {
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
    /** Created lazily with Apache's initial capacity, so children iterate in the same order as on Apache. */
    private HashSet<String> children;

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

    boolean addChild(String name) {
        if (children == null) {
            children = new HashSet<>(8);
        }
        return children.add(name);
    }

    boolean removeChild(String name) {
        return children != null && children.remove(name);
    }

    Set<String> children() {
        return children == null ? Set.of() : Collections.unmodifiableSet(children);
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
