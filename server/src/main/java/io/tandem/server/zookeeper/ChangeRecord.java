package io.tandem.server.zookeeper;

import io.tandem.zk.wire.data.ACL;
import java.util.List;

/**
 * The state of a node as preparation sees it once the transactions prepared so far (not yet applied) take effect,
 * like Apache's ChangeRecord. {@code deleted} records mark nodes that a pending transaction removes.
 */
final class ChangeRecord {
    final String path;
    final boolean deleted;
    long ephemeralOwner;
    int version;
    /** Creations count, as persisted (not the client-facing cversion). */
    int cversion;
    int aversion;
    int childCount;
    List<ACL> acl;
    /** The preparation that made this record ({@link Preparer#applied} drops it once that change is applied). */
    long sequence;
    /** The record of the path this one replaced when it was made, while it is outstanding (see Preparer#withdraw). */
    ChangeRecord replaced;

    private ChangeRecord(String path, boolean deleted) {
        this.path = path;
        this.deleted = deleted;
    }

    static ChangeRecord of(String path, DataNode node) {
        ChangeRecord record = new ChangeRecord(path, false);
        record.ephemeralOwner = node.ephemeralOwner();
        record.version = node.version;
        record.cversion = node.cversion();
        record.aversion = node.aversion;
        record.childCount = node.childCount();
        record.acl = node.acl;
        return record;
    }

    static ChangeRecord created(String path, long ephemeralOwner, List<ACL> acl) {
        ChangeRecord record = new ChangeRecord(path, false);
        record.ephemeralOwner = ephemeralOwner;
        record.acl = acl;
        return record;
    }

    static ChangeRecord deletion(String path) {
        return new ChangeRecord(path, true);
    }

    ChangeRecord copy() {
        ChangeRecord copy = new ChangeRecord(path, deleted);
        copy.ephemeralOwner = ephemeralOwner;
        copy.version = version;
        copy.cversion = cversion;
        copy.aversion = aversion;
        copy.childCount = childCount;
        copy.acl = acl;
        return copy;
    }
}
