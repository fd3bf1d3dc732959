package io.tandem.server.zookeeper;

/**
 * Finds nodes by path. Nodes hold their children by name (see {@link ChildTable}) and there is no map of full paths,
 * so a lookup walks down from the root one name at a time, hashing each name in place rather than cutting substrings.
 */
final class TreePaths {
    private TreePaths() {
    }

    /**
     * The node at {@code path.substring(0, end)} under {@code root}. As with Apache's node map, "" is the root too
     * (the parent of "/x"), and a path with an empty name ("/a//b", "/a/") is no node.
     */
    static DataNode lookup(DataNode root, String path, int end) {
        if (end == 0) {
            return root;
        }
        if (path.charAt(0) != '/') {
            return null;
        }
        if (end == 1) {
            return root;
        }
        DataNode node = root;
        int from = 1;
        while (true) {
            int slash = path.indexOf('/', from);
            if (slash < 0 || slash > end) {
                slash = end;
            }
            if (slash == from || node.children == null) {
                return null;
            }
            node = node.children.find(path, from, slash, hashOf(path, from, slash));
            if (node == null || slash == end) {
                return node;
            }
            from = slash + 1;
        }
    }

    /** The child of {@code parent} named by {@code path} from {@code nameFrom} to its end, or null. */
    static DataNode childOf(DataNode parent, String path, int nameFrom) {
        return parent.children == null ? null
                : parent.children.find(path, nameFrom, path.length(), hashOf(path, nameFrom, path.length()));
    }

    /** {@code path.substring(from, to).hashCode()} without the substring. */
    private static int hashOf(String path, int from, int to) {
        int hash = 0;
        for (int i = from; i < to; i++) {
            hash = 31 * hash + path.charAt(i);
        }
        return hash;
    }
}
