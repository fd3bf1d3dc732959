package io.tandem.server.zookeeper;

import io.tandem.server.zab.FigureSummary;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Apache ZooKeeper 3.9's per-namespace summary sets ({@code write_per_namespace} and {@code read_per_namespace},
 * ServerMetrics' SummarySets, BASIC): per top-level znode name, the bytes each write to a path under it and each read of
 * one carried, printed by mntr as a {@link FigureSummary} named {@code <namespace>_write_per_namespace} (and
 * {@code _read_}). Counted as Apache's DataTree counts them: a create or set adds the path's length plus the data's, a
 * delete the path's length; a getData adds the path's length, the data's and Apache's fixed Stat overhead (68 bytes), an
 * exists the path's length and the overhead, a getChildren the path's length, the children's names' lengths and the
 * overhead. The root has no namespace and counts nowhere. As Apache's DataTree, every transaction applied to the tree
 * counts, those replayed at start-up and those a follower applies included.
 *
 * <p>Bounded: Apache keeps one summary per namespace ever seen, and a client can create top-level znodes without end, so
 * each would grow mntr by ten lines and the server's memory with it. Tandem tracks the first {@link #NAMESPACES_MAX}
 * namespaces that see traffic (in practice the handful of applications sharing an ensemble: /kafka, /hbase,
 * /zookeeper, ...) and leaves the rest uncounted rather than folding them into a name Apache would not print; a
 * namespace's summaries stay once made, as Apache's do.
 *
 * <p>Thread-safe: the commit thread counts (writes are applied and reads run there); mntr reads on the same thread, and
 * the metrics endpoint goes through it too.
 */
final class NamespaceStats {
    /** Namespaces with their own summaries, writes and reads counted apart (each adds ten mntr lines at most). */
    static final int NAMESPACES_MAX = 64;
    /** Apache's DataTree.STAT_OVERHEAD_BYTES: a Stat's six longs and five ints, counted with every read. */
    static final long STAT_OVERHEAD_BYTES = 6 * 8 + 5 * 4;

    private final SummarySet writes = new SummarySet("write_per_namespace");
    private final SummarySet reads = new SummarySet("read_per_namespace");

    /** A create, set or delete of {@code path} with {@code dataBytes} of data (0 for a delete). */
    void written(String path, long dataBytes) {
        writes.add(path, path.length() + dataBytes);
    }

    /** A read of {@code path} that answered {@code bytes} (data, or the children's names; 0 for an exists). */
    void read(String path, long bytes) {
        reads.add(path, path.length() + bytes + STAT_OVERHEAD_BYTES);
    }

    /** mntr's lines, under Apache's names: each namespace's write summary, then each one's read summary. */
    void report(BiConsumer<String, Object> line) {
        writes.report(line);
        reads.report(line);
    }

    /** Apache's PathUtils.getTopNamespace: the first name of the path, null for the root. */
    static String topNamespace(String path) {
        int end = path.indexOf('/', 1);
        String name = end < 0 ? path.substring(1) : path.substring(1, end);
        return name.isEmpty() ? null : name;
    }

    /** One summary set: a summary per namespace, at most {@link #NAMESPACES_MAX}. */
    private static final class SummarySet {
        private final String name;
        private final Map<String, FigureSummary> byNamespace = new ConcurrentHashMap<>();

        SummarySet(String name) {
            this.name = name;
        }

        void add(String path, long bytes) {
            String namespace = topNamespace(path);
            if (namespace == null) return;
            FigureSummary summary = byNamespace.get(namespace);
            if (summary == null) {
                // Only the commit thread adds, so the size check and the put cannot race past the bound.
                if (byNamespace.size() >= NAMESPACES_MAX) return;
                summary = byNamespace.computeIfAbsent(namespace, key -> new FigureSummary(key + "_" + name));
            }
            summary.add(bytes);
        }

        void report(BiConsumer<String, Object> line) {
            new java.util.TreeMap<>(byNamespace).values().forEach(summary -> summary.report(line));
        }
    }
}
