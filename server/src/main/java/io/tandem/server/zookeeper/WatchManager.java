package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EventType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Watches of one kind (data or child) keyed by path, with Apache's three modes per (watcher, path): one-shot standard,
 * persistent and persistent-recursive. Triggering a path fires watchers on that path (removing one-shot ones) and
 * persistent-recursive watchers on any ancestor; each watcher gets one event per trigger. Commit thread only.
 */
final class WatchManager {
    static final int STANDARD = 1;
    static final int PERSISTENT = 2;
    static final int PERSISTENT_RECURSIVE = 4;

    /**
     * Per path, the one watcher (the common case, held directly) or a LinkedHashSet of them: a set per watched path
     * would cost over 100 bytes even when, as usual, a single session watches it.
     */
    private final Map<String, Object> watchTable = new HashMap<>();
    private final Map<Watcher, Map<String, Integer>> watch2Paths = new HashMap<>();
    private int recursiveWatchCount;
    /** Each watcher's (path) entries are charged here when made and refunded when gone (shared by both managers). */
    private final WatchBytes bytes;

    WatchManager(WatchBytes bytes) {
        this.bytes = bytes;
    }

    /** Adds a watch; returns false if this watcher already had that mode on the path. */
    boolean addWatch(String path, Watcher watcher, int mode) {
        Map<String, Integer> paths = watch2Paths.computeIfAbsent(watcher, w -> new HashMap<>());
        int modes = paths.getOrDefault(path, 0);
        if ((modes & mode) != 0) {
            return false;
        }
        paths.put(path, modes | mode);
        if (modes == 0) {
            bytes.charge(watcher, path);
        }
        addToTable(path, watcher);
        if (mode == PERSISTENT_RECURSIVE) {
            recursiveWatchCount++;
        }
        return true;
    }

    /** Whether any watch is set (recursive ones included): false lets a caller skip building a path to trigger. */
    boolean watchesAnything() {
        return !watchTable.isEmpty();
    }

    /** Fires {@code type} for {@code path}; returns the watchers that fired (to suppress duplicates in a second manager). */
    Set<Watcher> trigger(String path, EventType type, long zxid, Set<Watcher> suppress) {
        return trigger(path, type, zxid, null, suppress);
    }

    Set<Watcher> trigger(String path, EventType type, long zxid, List<io.tandem.zk.wire.data.ACL> nodeAcl,
                         Set<Watcher> suppress) {
        if (watchTable.isEmpty()) {
            return Set.of(); // no watch anywhere (recursive ones are in the table too): not even a hash of the path
        }
        // Most writes fire nothing: the set and the event are made only once a watcher fires.
        Set<Watcher> fired = null;
        String current = path;
        boolean atParent = false;
        while (current != null) {
            List<Watcher> watchers = watchersOf(current);
            if (!watchers.isEmpty()) {
                for (Watcher watcher : watchers) {
                    Map<String, Integer> paths = watch2Paths.get(watcher);
                    int modes = paths == null ? 0 : paths.getOrDefault(current, 0);
                    if (modes == 0) {
                        continue;
                    }
                    if (fired == null) {
                        fired = new LinkedHashSet<>();
                    }
                    if (!atParent) {
                        fired.add(watcher);
                        int remaining = modes & ~STANDARD;
                        if (remaining == 0) {
                            removeFromTable(current, watcher);
                            paths.remove(current);
                            bytes.refund(watcher, current);
                            if (paths.isEmpty()) {
                                watch2Paths.remove(watcher);
                            }
                        } else {
                            paths.put(current, remaining);
                        }
                    } else if ((modes & PERSISTENT_RECURSIVE) != 0) {
                        fired.add(watcher);
                    }
                }
            }
            if (recursiveWatchCount == 0) {
                break;
            }
            current = parentOf(current);
            atParent = true;
        }
        if (fired == null) {
            return Set.of();
        }
        WatchedEvent event = WatchedEvent.of(type, path, zxid);
        for (Watcher watcher : fired) {
            if (suppress == null || !suppress.contains(watcher)) {
                watcher.process(event, nodeAcl);
            }
        }
        return fired;
    }

    /** Removes the given modes (any mode when {@code mode} is 0) of a watcher on a path; true if something was removed. */
    boolean removeWatch(String path, Watcher watcher, int mode) {
        Map<String, Integer> paths = watch2Paths.get(watcher);
        if (paths == null) {
            return false;
        }
        int modes = paths.getOrDefault(path, 0);
        int toRemove = mode == 0 ? modes : modes & mode;
        if (toRemove == 0) {
            return false;
        }
        if ((toRemove & PERSISTENT_RECURSIVE) != 0) {
            recursiveWatchCount--;
        }
        int remaining = modes & ~toRemove;
        if (remaining == 0) {
            paths.remove(path);
            bytes.refund(watcher, path);
            if (paths.isEmpty()) {
                watch2Paths.remove(watcher);
            }
            removeFromTable(path, watcher);
        } else {
            paths.put(path, remaining);
        }
        return true;
    }

    boolean containsWatch(String path, Watcher watcher, int mode) {
        Map<String, Integer> paths = watch2Paths.get(watcher);
        int modes = paths == null ? 0 : paths.getOrDefault(path, 0);
        return mode == 0 ? modes != 0 : (modes & mode) != 0;
    }

    /** Drops every watch of a closed connection. */
    void removeWatcher(Watcher watcher) {
        Map<String, Integer> paths = watch2Paths.remove(watcher);
        if (paths == null) {
            return;
        }
        for (Map.Entry<String, Integer> entry : paths.entrySet()) {
            if ((entry.getValue() & PERSISTENT_RECURSIVE) != 0) {
                recursiveWatchCount--;
            }
            removeFromTable(entry.getKey(), watcher);
            bytes.refund(watcher, entry.getKey());
        }
    }

    /**
     * Drops every watch of every watcher, none fired (the admin restore's new tree has none, as Apache's); the caller
     * clears the shared {@link WatchBytes}.
     */
    void clear() {
        watchTable.clear();
        watch2Paths.clear();
        recursiveWatchCount = 0;
    }

    private void addToTable(String path, Watcher watcher) {
        Object current = watchTable.putIfAbsent(path, watcher);
        if (current == null || current == watcher) {
            return;
        }
        if (current instanceof Watcher single) {
            Set<Watcher> watchers = new LinkedHashSet<>(4);
            watchers.add(single);
            watchers.add(watcher);
            watchTable.put(path, watchers);
        } else {
            setOf(current).add(watcher);
        }
    }

    private void removeFromTable(String path, Watcher watcher) {
        Object current = watchTable.get(path);
        if (current == watcher) {
            watchTable.remove(path);
        } else if (current != null && !(current instanceof Watcher)) {
            Set<Watcher> watchers = setOf(current);
            watchers.remove(watcher);
            if (watchers.size() == 1) {
                watchTable.put(path, watchers.iterator().next());
            }
        }
    }

    /** The watchers of a path in the order they were added (a copy: triggering changes the table). */
    private List<Watcher> watchersOf(String path) {
        Object current = watchTable.get(path);
        if (current == null) {
            return List.of();
        }
        return current instanceof Watcher single ? List.of(single) : new ArrayList<>(setOf(current));
    }

    @SuppressWarnings("unchecked")
    private static Set<Watcher> setOf(Object tableValue) {
        return (Set<Watcher>) tableValue;
    }

    int watchCount() {
        int count = 0;
        for (Map<String, Integer> paths : watch2Paths.values()) {
            count += paths.size();
        }
        return count;
    }

    int pathCount() {
        return watchTable.size();
    }

    Map<String, List<Watcher>> byPath() {
        Map<String, List<Watcher>> result = new HashMap<>();
        watchTable.keySet().forEach(path -> result.put(path, watchersOf(path)));
        return result;
    }

    Map<Watcher, List<String>> byWatcher() {
        Map<Watcher, List<String>> result = new HashMap<>();
        watch2Paths.forEach((watcher, paths) -> result.put(watcher, new ArrayList<>(paths.keySet())));
        return result;
    }

    static String parentOf(String path) {
        if (path.equals("/")) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }
}
