package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.WatcherType;
import java.util.List;
import java.util.function.Function;

/**
 * The tree's watches: the data and child {@link WatchManager}s that {@link DataTree}'s changes trigger, and how reads,
 * addWatch, setWatches and removeWatches register and remove them (Apache keeps both managers in its DataTree; here
 * they are apart so the tree holds only nodes and their changes). Owned by the commit thread, like the tree.
 */
final class TreeWatches {
    /** The bytes the watches of each connection, and of all, hold, against their limits (see {@link WatchBytes}). */
    final WatchBytes bytes;
    /** Data watches (getData, exists, persistent and persistent recursive ones). */
    final WatchManager data;
    /** Child watches (getChildren and persistent ones). */
    final WatchManager child;
    /** The tree's node at a path, or null: setWatches fires at once for what changed while the client was away. */
    private final Function<String, DataNode> nodes;

    TreeWatches(Function<String, DataNode> nodes) {
        this(nodes, WatchBytes.configured());
    }

    TreeWatches(Function<String, DataNode> nodes, WatchBytes bytes) {
        this.nodes = nodes;
        this.bytes = bytes;
        this.data = new WatchManager(bytes);
        this.child = new WatchManager(bytes);
    }

    /** A one-shot data watch (getData, exists); {@link WatchBytes.Exceeded}, and none set, past the watch limits. */
    void addDataWatch(String path, Watcher watcher) {
        admit(path, watcher, cost(data, path, watcher));
        data.addWatch(path, watcher, WatchManager.STANDARD);
    }

    /** A one-shot child watch (getChildren); {@link WatchBytes.Exceeded}, and none set, past the watch limits. */
    void addChildWatch(String path, Watcher watcher) {
        admit(path, watcher, cost(child, path, watcher));
        child.addWatch(path, watcher, WatchManager.STANDARD);
    }

    /**
     * addWatch: persistent watches go to both managers, recursive ones to the data manager only, as in Apache;
     * {@link WatchBytes.Exceeded}, and neither set, past the watch limits.
     */
    void addPersistentWatch(String path, Watcher watcher, boolean recursive) {
        if (recursive) {
            admit(path, watcher, cost(data, path, watcher));
            data.addWatch(path, watcher, WatchManager.PERSISTENT_RECURSIVE);
        } else {
            admit(path, watcher, cost(data, path, watcher) + cost(child, path, watcher));
            data.addWatch(path, watcher, WatchManager.PERSISTENT);
            child.addWatch(path, watcher, WatchManager.PERSISTENT);
        }
    }

    /** What a watch on {@code path} adds: nothing when the watcher has an entry for it there already (another mode). */
    private static long cost(WatchManager manager, String path, Watcher watcher) {
        return manager.containsWatch(path, watcher, 0) ? 0 : WatchBytes.cost(path);
    }

    private void admit(String path, Watcher watcher, long cost) {
        if (!bytes.admits(watcher, cost)) {
            throw new WatchBytes.Exceeded(path, bytes.heldBy(watcher), bytes.perConnectionMax(), bytes.total(),
                    bytes.totalMax());
        }
    }

    /**
     * Re-registers a reconnecting client's watches, firing at once for what changed after {@code relativeZxid}.
     * {@link WatchBytes.Exceeded} when a watch would pass the limits (those before it are set; the connection closes,
     * which drops them).
     */
    void setWatches(long relativeZxid, List<String> data, List<String> exist, List<String> child,
                    List<String> persistent, List<String> persistentRecursive, Watcher watcher) {
        for (String path : nullToEmpty(data)) {
            DataNode node = nodes.apply(path);
            if (node == null) {
                watcher.process(WatchedEvent.of(EventType.NODE_DELETED, path, -1));
            } else if (node.mzxid > relativeZxid) {
                watcher.process(WatchedEvent.of(EventType.NODE_DATA_CHANGED, path, -1));
            } else {
                addDataWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(exist)) {
            if (nodes.apply(path) != null) {
                watcher.process(WatchedEvent.of(EventType.NODE_CREATED, path, -1));
            } else {
                addDataWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(child)) {
            DataNode node = nodes.apply(path);
            if (node == null) {
                watcher.process(WatchedEvent.of(EventType.NODE_DELETED, path, -1));
            } else if (node.pzxid() > relativeZxid) {
                watcher.process(WatchedEvent.of(EventType.NODE_CHILDREN_CHANGED, path, -1));
            } else {
                addChildWatch(path, watcher);
            }
        }
        for (String path : nullToEmpty(persistent)) {
            addPersistentWatch(path, watcher, false);
        }
        for (String path : nullToEmpty(persistentRecursive)) {
            addPersistentWatch(path, watcher, true);
        }
    }

    /** checkWatches/removeWatches of one watch kind; false when there was none (an unknown kind has none). */
    boolean removeWatch(String path, int watcherType, Watcher watcher, boolean dryRun) {
        WatcherType type = WatcherType.fromCode(watcherType);
        if (type == null) {
            return false;
        }
        return switch (type) {
            case CHILDREN -> apply(child, path, watcher, WatchManager.STANDARD, dryRun);
            case DATA -> apply(data, path, watcher, WatchManager.STANDARD, dryRun);
            case ANY -> apply(child, path, watcher, 0, dryRun) | apply(data, path, watcher, 0, dryRun);
            case PERSISTENT -> apply(child, path, watcher, WatchManager.PERSISTENT, dryRun)
                    | apply(data, path, watcher, WatchManager.PERSISTENT, dryRun);
            case PERSISTENT_RECURSIVE ->
                    apply(data, path, watcher, WatchManager.PERSISTENT_RECURSIVE, dryRun);
        };
    }

    private static boolean apply(WatchManager manager, String path, Watcher watcher, int mode, boolean dryRun) {
        return dryRun ? manager.containsWatch(path, watcher, mode) : manager.removeWatch(path, watcher, mode);
    }

    void removeWatcher(Watcher watcher) {
        data.removeWatcher(watcher);
        child.removeWatcher(watcher);
        bytes.forget(watcher);
    }

    /**
     * Drops every watch without firing it: Apache's admin restore replaces its ZKDatabase, whose new DataTree has
     * empty watch managers, so the watches clients set before it never fire.
     */
    void clear() {
        data.clear();
        child.clear();
        bytes.clear();
    }

    private static List<String> nullToEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }
}
