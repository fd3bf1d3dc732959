package io.tandem.server.zookeeper;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Apache 3.9's digest log (DataTree.digestLog, which its {@code hash} admin command answers): the tree digest after
 * each applied transaction whose zxid is a multiple of {@link #INTERVAL}, oldest first, at most {@link #ENTRIES_MAX}
 * entries. Apache logs a transaction's digest whatever its outcome (an error txn too), never a multi's sub-transaction,
 * and starts a new log with every new tree (a snapshot installed from the leader, an admin restore): so does
 * {@link DataTree}. Commit thread only, like the tree.
 */
final class DigestHistory {
    /** {@code DataTree.DIGEST_LOG_INTERVAL}: a digest is kept for every zxid that is a multiple of it. */
    static final int INTERVAL = 128;
    /** {@code DataTree.DIGEST_LOG_LIMIT}: the oldest entry goes when a new one would pass it. */
    static final int ENTRIES_MAX = 1024;

    /** One kept digest, as Apache's ZxidDigest. */
    record Entry(long zxid, int digestVersion, long digest) {
        /** Apache's JSON of a ZxidDigest (Jackson over its getters, snake case). */
        Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("zxid", zxid);
            json.put("digest_version", digestVersion);
            json.put("digest", digest);
            return json;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();

    /** A transaction at {@code zxid} was applied and left the tree with {@code digest}. */
    void applied(long zxid, long digest) {
        if (zxid % INTERVAL != 0) return;
        entries.addLast(new Entry(zxid, TreeDigest.DIGEST_VERSION, digest));
        if (entries.size() > ENTRIES_MAX) entries.removeFirst();
    }

    void clear() {
        entries.clear();
    }

    /** The kept entries, oldest first (a copy). */
    List<Entry> entries() {
        return new ArrayList<>(entries);
    }
}
