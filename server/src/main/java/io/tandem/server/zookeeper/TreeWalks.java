package io.tandem.server.zookeeper;

import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Whole-tree walks for figures and dumps (data size, descendant counts, every path). Nodes do not keep their paths,
 * so these walk the tree with an explicit stack instead of scanning a map of paths; each is O(nodes).
 */
final class TreeWalks {
    /** Path length plus data length of every node, the root counted twice as in Apache's node map ("" and "/"). */
    static long approximateDataSize(DataNode root) {
        long size = root.dataLength();
        ArrayDeque<DataNode> pending = new ArrayDeque<>();
        ArrayDeque<Integer> pathLengths = new ArrayDeque<>();
        pending.push(root);
        pathLengths.push(1);
        while (!pending.isEmpty()) {
            DataNode node = pending.pop();
            int pathLength = pathLengths.pop();
            size += pathLength + node.dataLength();
            if (node.children != null) {
                int base = node == root ? 0 : pathLength;
                node.children.forEach(child -> {
                    pending.push(child);
                    pathLengths.push(base + 1 + child.name().length());
                });
            }
        }
        return size;
    }

    /** Every node with its path, parents before children. */
    static Iterable<Map.Entry<String, DataNode>> entries(DataNode root) {
        return () -> new Iterator<>() {
            private final ArrayDeque<DataNode> pending = new ArrayDeque<>(List.of(root));

            @Override
            public boolean hasNext() {
                return !pending.isEmpty();
            }

            @Override
            public Map.Entry<String, DataNode> next() {
                DataNode node = pending.pop();
                if (node.children != null) {
                    node.children.forEach(pending::push);
                }
                return new AbstractMap.SimpleImmutableEntry<>(node.path(), node);
            }
        };
    }

    /** Nodes below {@code top}, at any depth. */
    static int descendantCount(DataNode top) {
        if (top.children == null) {
            return 0;
        }
        int count = 0;
        ArrayDeque<DataNode> pending = new ArrayDeque<>();
        top.children.forEach(pending::push);
        while (!pending.isEmpty()) {
            DataNode node = pending.pop();
            count++;
            if (node.children != null) {
                node.children.forEach(pending::push);
            }
        }
        return count;
    }

    private TreeWalks() {
    }
}
