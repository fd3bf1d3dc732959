package io.tandem.server.zookeeper;

import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.QuotaStats;
import io.tandem.zk.wire.SpecialPaths;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Apache's znode quotas, kept in the tree as Apache 3.9's DataTree keeps them: a client (zkCli's setquota) creates
 * {@code /zookeeper/quota/P/zookeeper_limits} and {@code .../zookeeper_stats}; from then on the server keeps the
 * stats node's {@code count} and {@code bytes} equal to the nodes and data bytes of the subtree at P (P included),
 * changing the node's data in place (no version or mzxid change, exactly as Apache does, so a client sees the same
 * Stat). A change is counted against the deepest quota path at or above it. With {@code enforceQuota}, a create or
 * set that would pass a hard limit is refused with QUOTA_EXCEEDED before it is proposed; passing a soft limit is
 * only logged, as Apache does.
 *
 * <p>Owned by the commit thread with the tree; {@link #check} runs on the preparing thread and reads the committed
 * limit and stats nodes, as Apache's ZooKeeperServer.checkQuota reads the committed tree.
 */
final class QuotaAccounting {
    private static final Logger LOG = System.getLogger(QuotaAccounting.class.getName());
    private static final String QUOTA_PREFIX = SpecialPaths.QUOTA;
    private static final String LIMIT_SUFFIX = "/" + QuotaStats.LIMIT_NODE;

    private final DataTree tree;
    /**
     * The paths with a quota (a limit node exists for each). Apache keeps them in a PathTrie; a set probed once per
     * ancestor of a changed path is as fast for real depths and simpler. Never larger than the number of limit znodes.
     * Written by the commit thread, read by {@link #check} on the preparing thread: hence concurrent.
     */
    private final Set<String> limited = ConcurrentHashMap.newKeySet();
    /** A snapshot brought quota nodes: their paths and counts are rebuilt once it is loaded (Apache's setupQuota). */
    private boolean setupPending;

    QuotaAccounting(DataTree tree) {
        this.tree = tree;
    }

    /** The tree was emptied for a snapshot. */
    void clear() {
        limited.clear();
        setupPending = false;
    }

    /**
     * The deepest path at or above {@code path} that has a quota, or null (never the root: Apache ignores a quota on
     * "/").
     */
    String limitedPrefix(String path) {
        if (limited.isEmpty()) {
            return null;
        }
        String candidate = path;
        while (!candidate.isEmpty()) {
            if (limited.contains(candidate)) {
                return candidate;
            }
            candidate = candidate.substring(0, candidate.lastIndexOf('/'));
        }
        return null;
    }

    /** After a node was created (Apache's handleQuotaAndWatchesOnCreate). */
    void created(String path, String parentPath, String name, int bytes) {
        if (parentPath.startsWith(QUOTA_PREFIX)) {
            String quotaOf = parentPath.substring(QUOTA_PREFIX.length());
            if (name.equals(QuotaStats.LIMIT_NODE) && !quotaOf.isEmpty()) {
                limited.add(quotaOf);
            }
            if (name.equals(QuotaStats.STAT_NODE)) {
                recount(quotaOf);
            }
        }
        String prefix = limitedPrefix(path);
        if (prefix != null) {
            add(prefix, bytes, 1);
        }
    }

    /** After a node was deleted. */
    void deleted(String path, String parentPath, String name, int bytes) {
        // Apache tests the parent against "/zookeeper" here, not "/zookeeper/quota": the same for every limit node.
        if (parentPath.startsWith(SpecialPaths.ZOOKEEPER) && name.equals(QuotaStats.LIMIT_NODE)
                && parentPath.startsWith(QUOTA_PREFIX)) {
            limited.remove(parentPath.substring(QUOTA_PREFIX.length()));
        }
        String prefix = limitedPrefix(path);
        if (prefix != null) {
            add(prefix, -bytes, -1);
        }
    }

    /** After a node's data changed from {@code oldBytes} to {@code newBytes} long. */
    void dataChanged(String path, int oldBytes, int newBytes) {
        String prefix = limitedPrefix(path);
        if (prefix != null) {
            add(prefix, newBytes - oldBytes, 0);
        }
    }

    /** A node read from a snapshot: quota nodes among them mean the counts are rebuilt once it is loaded. */
    void restored(String path) {
        if (path.startsWith(QUOTA_PREFIX) && path.endsWith(LIMIT_SUFFIX)) {
            setupPending = true;
        }
    }

    /**
     * A snapshot is loaded: find every limit node and recount its subtree (Apache's setupQuota, which trusts no
     * stats node a fuzzy snapshot wrote).
     */
    void snapshotLoaded() {
        if (!setupPending) {
            return;
        }
        setupPending = false;
        limited.clear();
        for (var entry : TreeWalks.entries(tree.getNode(QUOTA_PREFIX))) {
            String path = entry.getKey();
            if (path.endsWith(LIMIT_SUFFIX) && entry.getValue().childCount() == 0) {
                String quotaOf = path.substring(QUOTA_PREFIX.length(), path.length() - LIMIT_SUFFIX.length());
                if (!quotaOf.isEmpty()) {
                    limited.add(quotaOf);
                    recount(quotaOf);
                }
            }
        }
    }

    /** Sets the stats node of {@code quotaOf} to its subtree's node count and data bytes (updateQuotaForPath). */
    private void recount(String quotaOf) {
        DataNode top = quotaOf.isEmpty() ? null : tree.getNode(quotaOf);
        long count = 0;
        long bytes = 0;
        if (top != null) {
            ArrayDeque<DataNode> pending = new ArrayDeque<>();
            pending.push(top);
            while (!pending.isEmpty()) {
                DataNode node = pending.pop();
                count++;
                bytes += node.dataLength();
                if (node.children != null) {
                    node.children.forEach(pending::push);
                }
            }
        }
        write(QuotaStats.statPath(quotaOf), new QuotaStats().set(QuotaStats.COUNT, count)
                .set(QuotaStats.BYTES, bytes));
    }

    /** Adds to the stats node of {@code prefix} (Apache's updateQuotaStat). */
    private void add(String prefix, long bytesDiff, int countDiff) {
        String statPath = QuotaStats.statPath(prefix);
        DataNode node = tree.getNode(statPath);
        if (node == null) {
            LOG.log(Level.WARNING, () -> "Missing node for stat " + statPath);
            return;
        }
        QuotaStats stats = parseOrEmpty(statPath, node);
        stats.set(QuotaStats.COUNT, stats.count() + countDiff).set(QuotaStats.BYTES, stats.bytes() + bytesDiff);
        write(statPath, stats);
    }

    private void write(String statPath, QuotaStats stats) {
        DataNode node = tree.getNode(statPath);
        if (node == null) {
            LOG.log(Level.WARNING, () -> "Missing quota stat node " + statPath);
            return;
        }
        tree.replaceDataInPlace(statPath, node, stats.toBytes());
    }

    private static QuotaStats parseOrEmpty(String path, DataNode node) {
        try {
            return QuotaStats.parse(node.data());
        } catch (IllegalArgumentException e) {
            // Apache would throw inside its commit; counting on from zero keeps the tree applying transactions.
            LOG.log(Level.WARNING, () -> "Quota node " + path + " holds no quota text: " + e.getMessage());
            return new QuotaStats();
        }
    }

    /**
     * With enforcement on, whether a create ({@code countDiff} 1) or a set ({@code countDiff} 0) at {@code path}
     * changing the data by {@code bytesDiff} stays within its quota's hard limits (Apache's checkQuota).
     *
     * @throws ZkException QUOTA_EXCEEDED naming the quota's path when it would pass a hard limit
     */
    void check(String path, long bytesDiff, int countDiff) throws ZkException {
        String prefix = limitedPrefix(path);
        if (prefix == null) {
            return;
        }
        String limitPath = QuotaStats.limitPath(prefix);
        DataNode limitNode = tree.getNode(limitPath);
        if (limitNode == null) {
            return;
        }
        QuotaStats limits;
        synchronized (limitNode) {
            limits = parseOrEmpty(limitPath, limitNode);
        }
        boolean checkCount = countDiff != 0 && (limits.count() > -1 || limits.get(QuotaStats.COUNT_HARD_LIMIT) > -1);
        boolean checkBytes = bytesDiff != 0 && (limits.bytes() > -1 || limits.get(QuotaStats.BYTE_HARD_LIMIT) > -1);
        if (!checkCount && !checkBytes) {
            return;
        }
        String statPath = QuotaStats.statPath(prefix);
        DataNode statNode = tree.getNode(statPath);
        if (statNode == null) {
            return;
        }
        QuotaStats current;
        synchronized (statNode) {
            current = parseOrEmpty(statPath, statNode);
        }
        if (checkCount) {
            exceeds(prefix, "count", current.count() + countDiff, limits.get(QuotaStats.COUNT_HARD_LIMIT),
                    limits.count());
        }
        if (checkBytes) {
            exceeds(prefix, "bytes", current.bytes() + bytesDiff, limits.get(QuotaStats.BYTE_HARD_LIMIT),
                    limits.bytes());
        }
    }

    /** A hard limit (when set) is enforced; else the soft limit is only logged. */
    private static void exceeds(String prefix, String what, long next, long hard, long soft) throws ZkException {
        boolean isHard = hard > -1;
        long limit = isHard ? hard : soft;
        if (next > limit) {
            // Apache rate-limits this line; a client writing in a loop must not flood the log here either.
            LOG.log(isHard ? Level.INFO : Level.DEBUG, () -> "Quota exceeded: " + prefix + " [current " + what + "="
                    + next + ", " + (isHard ? "hard" : "soft") + ("count".equals(what) ? "Count" : "Byte") + "Limit="
                    + limit + "]");
            if (isHard) {
                throw new ZkException(KeeperCode.QUOTA_EXCEEDED, prefix);
            }
        }
    }
}
