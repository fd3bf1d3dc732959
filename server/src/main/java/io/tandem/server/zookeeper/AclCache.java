package io.tandem.server.zookeeper;

import io.tandem.zk.wire.data.ACL;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interned ACL lists with reference counts, the role of Apache's ReferenceCountedACLCache: every create decodes its own
 * copy of the ACL (a list, ACL, Id and two strings, over 150 bytes), while a tree usually holds a handful of distinct
 * lists. Nodes keep the canonical list; it is dropped when the last node using it goes, so the cache is bounded by the
 * number of nodes. Commit thread only.
 */
final class AclCache {
    private static final class Entry {
        final List<ACL> acl;
        long references;

        Entry(List<ACL> acl) {
            this.acl = acl;
        }
    }

    private final Map<List<ACL>, Entry> entries = new HashMap<>();

    /** The canonical (immutable) list equal to {@code acl}, counted once more. */
    List<ACL> acquire(List<ACL> acl) {
        Entry entry = entries.computeIfAbsent(acl, key -> new Entry(List.copyOf(key)));
        entry.references++;
        return entry.acl;
    }

    /** One node less uses {@code acl} (a list this cache returned). */
    void release(List<ACL> acl) {
        Entry entry = entries.get(acl);
        if (entry != null && --entry.references <= 0) {
            entries.remove(acl);
        }
    }

    int size() {
        return entries.size();
    }

    void clear() {
        entries.clear();
    }
}
