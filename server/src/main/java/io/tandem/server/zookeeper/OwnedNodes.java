package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The nodes that a node's ephemeralOwner sets apart, by path: each session's ephemerals (closing the session deletes
 * them), and the containers and TTL nodes (the container sweeper checks them). Apache's DataTree keeps the same three
 * collections. Owned, like the tree, by the commit thread.
 */
final class OwnedNodes {
    private final Map<Long, Set<String>> ephemerals = new HashMap<>();
    private final Set<String> containers = new HashSet<>();
    private final Set<String> ttls = new HashSet<>();

    /** Records a node just put in the tree; an owner of 0 (a plain persistent node) records nothing. */
    void added(String path, long owner) {
        if (EphemeralOwner.isContainer(owner)) {
            containers.add(path);
        } else if (EphemeralOwner.isTtl(owner)) {
            ttls.add(path);
        } else if (owner != 0) {
            ephemerals.computeIfAbsent(owner, k -> new HashSet<>()).add(path);
        }
    }

    /** Forgets a node just taken out of the tree. */
    void removed(String path, long owner) {
        if (EphemeralOwner.isContainer(owner)) {
            containers.remove(path);
        } else if (EphemeralOwner.isTtl(owner)) {
            ttls.remove(path);
        } else if (owner != 0) {
            Set<String> paths = ephemerals.get(owner);
            if (paths != null) {
                paths.remove(path);
            }
        }
    }

    /** Takes a closing session's ephemerals out of the bookkeeping; null when it had none. */
    Set<String> removeSession(long sessionId) {
        return ephemerals.remove(sessionId);
    }

    void clear() {
        ephemerals.clear();
        containers.clear();
        ttls.clear();
    }

    /** A copy of the session's ephemeral paths. */
    Set<String> ephemeralsOf(long sessionId) {
        Set<String> paths = ephemerals.get(sessionId);
        return paths == null ? Set.of() : new HashSet<>(paths);
    }

    /** The live map (sessions to their ephemeral paths), for dumps on the commit thread. */
    Map<Long, Set<String>> allEphemerals() {
        return ephemerals;
    }

    int ephemeralCount() {
        int count = 0;
        for (Set<String> paths : ephemerals.values()) {
            count += paths.size();
        }
        return count;
    }

    Set<String> containers() {
        return new HashSet<>(containers);
    }

    Set<String> ttls() {
        return new HashSet<>(ttls);
    }
}
