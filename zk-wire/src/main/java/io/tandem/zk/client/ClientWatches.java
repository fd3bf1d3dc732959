package io.tandem.zk.client;

import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.WatcherType;
import io.tandem.zk.wire.proto.SetWatches;
import io.tandem.zk.wire.proto.SetWatches2;
import io.tandem.zk.wire.proto.WatcherEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The watches a {@link ZkClient} session holds on the server, by the server's paths, so that a reconnect can
 * re-register them with setWatches as Apache's client does. Confined to the client's event loop.
 */
final class ClientWatches {
    /** Apache's client sends SetWatches in chunks below this size so that no frame nears jute.maxbuffer. */
    private static final int SET_WATCHES_CHUNK_BYTES_MAX = 128 * 1024;

    /** What a read asked to watch, or the mode an addWatch asked for (those are not consumed by an event). */
    enum Kind { EXISTS, DATA, CHILDREN, PERSISTENT, PERSISTENT_RECURSIVE }

    /** One request that re-registers watches: setWatches, or setWatches2 once persistent watches are held. */
    record Registration(int opCode, JuteRecord request) {
    }

    private final Set<String> data = new HashSet<>();
    private final Set<String> exist = new HashSet<>();
    private final Set<String> child = new HashSet<>();
    private final Set<String> persistent = new HashSet<>();
    private final Set<String> persistentRecursive = new HashSet<>();

    /** The watch an answered request set, if it asked for one ({@link #register}). */
    void answered(PendingRequest pending, boolean nodeExists) {
        if (pending.watch != null) {
            register(pending.watch, pending.serverPath(), nodeExists);
        }
    }

    /**
     * A notification from the server: the watch it fired is gone, and the event to deliver is returned with the
     * client's path, or null (logged) for a type or state this client does not know.
     */
    WatchedEvent notified(WatcherEvent event, RequestPaths paths) {
        EventType type = EventType.fromCode(event.type());
        KeeperState state = KeeperState.fromCode(event.state());
        if (type == null || state == null) {
            System.getLogger(ZkClient.class.getName()).log(System.Logger.Level.WARNING,
                    "Ignoring watch event of unknown type {0} or state {1}", event.type(), event.state());
            return null;
        }
        fired(type, event.path());
        return new WatchedEvent(type, state, paths.toClient(event.path()));
    }

    /** Records the watch an answered read set; an exists on a missing node watches its creation. */
    void register(Kind kind, String path, boolean nodeExists) {
        switch (kind) {
            case EXISTS -> (nodeExists ? data : exist).add(path);
            case DATA -> data.add(path);
            case CHILDREN -> child.add(path);
            case PERSISTENT -> persistent.add(path);
            case PERSISTENT_RECURSIVE -> persistentRecursive.add(path);
        }
    }

    /**
     * Forgets the one-shot watches a notification of {@code type} on {@code path} has consumed. Persistent watches
     * stay: the server keeps them, even through the node's deletion, until removed (Apache's WatchManager).
     */
    void fired(EventType type, String path) {
        switch (type) {
            case NODE_CREATED, NODE_DATA_CHANGED -> {
                data.remove(path);
                exist.remove(path);
            }
            case NODE_DELETED -> {
                data.remove(path);
                exist.remove(path);
                child.remove(path);
            }
            case NODE_CHILDREN_CHANGED -> child.remove(path);
            default -> {
            }
        }
    }

    /** Whether this client holds a watch of {@code type} on {@code path} (Apache checks this before removeWatches). */
    boolean holds(String path, WatcherType type) {
        return switch (type) {
            case CHILDREN -> child.contains(path);
            case DATA -> data.contains(path) || exist.contains(path);
            case PERSISTENT -> persistent.contains(path);
            case PERSISTENT_RECURSIVE -> persistentRecursive.contains(path);
            case ANY -> child.contains(path) || data.contains(path) || exist.contains(path)
                    || persistent.contains(path) || persistentRecursive.contains(path);
        };
    }

    /**
     * Forgets the watches of {@code type} on {@code path} that removeWatches took away; returns the events that tell
     * the watcher so (ChildWatchRemoved, DataWatchRemoved, PersistentWatchRemoved), one per kind removed.
     */
    List<EventType> remove(String path, WatcherType type) {
        List<EventType> removed = new ArrayList<>();
        boolean any = type == WatcherType.ANY;
        if ((any || type == WatcherType.CHILDREN) && child.remove(path)) {
            removed.add(EventType.CHILD_WATCH_REMOVED);
        }
        if (any || type == WatcherType.DATA) {
            boolean dataRemoved = data.remove(path);
            if (exist.remove(path) || dataRemoved) {
                removed.add(EventType.DATA_WATCH_REMOVED);
            }
        }
        boolean persistentRemoved = (any || type == WatcherType.PERSISTENT) && persistent.remove(path);
        if ((any || type == WatcherType.PERSISTENT_RECURSIVE) && persistentRecursive.remove(path)) {
            persistentRemoved = true;
        }
        if (persistentRemoved) {
            removed.add(EventType.PERSISTENT_WATCH_REMOVED);
        }
        return removed;
    }

    /**
     * The requests that re-register every watch after {@code lastZxid}, each below the chunk size: setWatches, or
     * setWatches2 (which also carries persistent and persistent recursive watches) when any persistent watch is held,
     * as Apache's ClientCnxn chooses.
     */
    List<Registration> setWatches(long lastZxid) {
        List<Registration> requests = new ArrayList<>();
        boolean withPersistent = !persistent.isEmpty() || !persistentRecursive.isEmpty();
        List<Set<String>> sources = withPersistent ? List.of(data, exist, child, persistent, persistentRecursive)
                : List.of(data, exist, child);
        if (sources.stream().allMatch(Set::isEmpty)) {
            return requests;
        }
        List<List<String>> chunk = newChunk();
        int bytes = 0;
        for (int kind = 0; kind < sources.size(); kind++) {
            for (String path : sources.get(kind)) {
                // A path's worst-case UTF-8 length plus its length prefix.
                int pathBytes = path.length() * 3 + 4;
                if (bytes + pathBytes > SET_WATCHES_CHUNK_BYTES_MAX) {
                    requests.add(registration(lastZxid, chunk, withPersistent));
                    chunk = newChunk();
                    bytes = 0;
                }
                chunk.get(kind).add(path);
                bytes += pathBytes;
            }
        }
        requests.add(registration(lastZxid, chunk, withPersistent));
        return requests;
    }

    private static Registration registration(long lastZxid, List<List<String>> chunk, boolean withPersistent) {
        return withPersistent
                ? new Registration(OpCode.SET_WATCHES2, new SetWatches2(lastZxid, chunk.get(0), chunk.get(1),
                        chunk.get(2), chunk.get(3), chunk.get(4)))
                : new Registration(OpCode.SET_WATCHES, new SetWatches(lastZxid, chunk.get(0), chunk.get(1),
                        chunk.get(2)));
    }

    private static List<List<String>> newChunk() {
        return List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    }
}
