package io.tandem.zk.client;

import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.proto.WatcherEvent;
import io.tandem.zk.wire.proto.SetWatches;
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

    /** What a read asked to watch. */
    enum Kind { EXISTS, DATA, CHILDREN }

    private final Set<String> data = new HashSet<>();
    private final Set<String> exist = new HashSet<>();
    private final Set<String> child = new HashSet<>();

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
        }
    }

    /** Forgets the one-shot watches a notification of {@code type} on {@code path} has consumed. */
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

    /** The setWatches requests that re-register every watch after {@code lastZxid}, each below the chunk size. */
    List<SetWatches> setWatches(long lastZxid) {
        List<SetWatches> requests = new ArrayList<>();
        if (data.isEmpty() && exist.isEmpty() && child.isEmpty()) {
            return requests;
        }
        List<List<String>> chunk = newChunk();
        int bytes = 0;
        List<Set<String>> sources = List.of(data, exist, child);
        for (int kind = 0; kind < sources.size(); kind++) {
            for (String path : sources.get(kind)) {
                // A path's worst-case UTF-8 length plus its length prefix.
                int pathBytes = path.length() * 3 + 4;
                if (bytes + pathBytes > SET_WATCHES_CHUNK_BYTES_MAX) {
                    requests.add(new SetWatches(lastZxid, chunk.get(0), chunk.get(1), chunk.get(2)));
                    chunk = newChunk();
                    bytes = 0;
                }
                chunk.get(kind).add(path);
                bytes += pathBytes;
            }
        }
        requests.add(new SetWatches(lastZxid, chunk.get(0), chunk.get(1), chunk.get(2)));
        return requests;
    }

    private static List<List<String>> newChunk() {
        return List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    }
}
