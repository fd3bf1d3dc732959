package io.tandem.server.kafka.metadata;

import java.util.List;

/**
 * The few ZooKeeper operations the broker's metadata needs, so {@link ClusterMetadata} reads and writes Kafka's
 * ZooKeeper layout the same way whichever store holds it.
 */
public interface ZnodeStore extends AutoCloseable {
    /** The node's data, or {@code null} when it does not exist. */
    byte[] getData(String path) throws Exception;

    /** Child names, empty when the node does not exist. */
    List<String> getChildren(String path) throws Exception;

    /** Creates the node (and missing parents, persistent and empty); false when it already exists. */
    boolean create(String path, byte[] data, boolean ephemeral) throws Exception;

    /** Sets the node's data, creating it (persistent) when missing. */
    void setData(String path, byte[] data) throws Exception;

    /** Deletes the node and everything under it; nothing when it does not exist. */
    void deleteRecursive(String path) throws Exception;

    /**
     * Deletes each node and everything under it. Stores that can pipeline walk all the trees level by level together
     * and send every delete before waiting, so deleting several topics costs the depth of the tree in round trips,
     * not that times the number of paths.
     */
    default void deleteRecursive(List<String> paths) throws Exception {
        for (String path : paths) deleteRecursive(path);
    }

    /** Creates a persistent sequential node {@code prefix + 10-digit counter}; returns its path. */
    String createSequential(String prefix, byte[] data) throws Exception;

    /**
     * Writes every node (creating missing parents), in map order: parents before children. Stores that can
     * pipeline (ZooKeeper applies one session's requests in order) send them all before waiting, so a topic with
     * fifty partitions costs one round of group commits instead of a hundred and fifty.
     *
     * @param overwrite whether an existing node's data is replaced (false: existing nodes are left alone)
     */
    default void writeAll(java.util.LinkedHashMap<String, byte[]> nodes, boolean overwrite) throws Exception {
        for (java.util.Map.Entry<String, byte[]> e : nodes.entrySet()) {
            if (overwrite) {
                setData(e.getKey(), e.getValue());
            } else {
                create(e.getKey(), e.getValue(), false);
            }
        }
    }

    /**
     * Creates each missing node in map order (missing parents persistent and empty) and says, per path, whether this
     * call created it. Stores that can pipeline send them all before waiting, so their writes share one group commit.
     */
    default java.util.Map<String, Boolean> createAll(java.util.LinkedHashMap<String, byte[]> nodes, boolean ephemeral)
            throws Exception {
        java.util.Map<String, Boolean> created = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, byte[]> e : nodes.entrySet()) {
            created.put(e.getKey(), create(e.getKey(), e.getValue(), ephemeral));
        }
        return created;
    }

    /** A node's data with its version ({@code Stat.version}), for writes that must not overwrite a newer state. */
    record Versioned(byte[] data, int version) {
    }

    /** Thrown by {@link #writeFenced} when the fence or a node moved on since it was read: nothing was written. */
    final class FencedWriteException extends Exception {
        public FencedWriteException(String message) {
            super(message);
        }
    }

    /**
     * The zxid that created the node (-1 when missing, or for a store without zxids): Kafka's broker epoch is its
     * registration's czxid.
     */
    default long czxid(String path) throws Exception {
        return -1;
    }

    /** When the node was created (milliseconds since the epoch, as Stat's ctime), or -1 when missing or unknown. */
    default long ctime(String path) throws Exception {
        return -1;
    }

    /**
     * Whether {@link #getVersioned} reports each node's real version (ZooKeeper's Stat.version): false for a store
     * that reports 0 for every write (a local directory, written by one broker only).
     */
    default boolean keepsVersions() {
        return false;
    }

    /** The node's data and version, or {@code null} when it does not exist. */
    default Versioned getVersioned(String path) throws Exception {
        byte[] data = getData(path);
        return data == null ? null : new Versioned(data, 0);
    }

    /**
     * Sets the node's data only if it is still at {@code version} (as read by {@link #getVersioned}); false when
     * another writer got there first. A store with one writer by construction writes unconditionally.
     */
    default boolean setDataIfVersion(String path, byte[] data, int version) throws Exception {
        setData(path, data);
        return true;
    }

    /**
     * The controller's write, as Kafka's: in one multi, {@code fencePath} must still be at {@code fenceVersion} (the
     * controller epoch this controller wrote) and each node at its expected version (-1: the node must not exist
     * yet and is created, its parents first). Returns each node's new version. A store with one writer by
     * construction (a local directory) has nothing to fence and writes in order.
     */
    default java.util.Map<String, Integer> writeFenced(String fencePath, int fenceVersion,
                                                        java.util.LinkedHashMap<String, Versioned> writes) throws Exception {
        java.util.Map<String, Integer> versions = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, Versioned> e : writes.entrySet()) {
            setData(e.getKey(), e.getValue().data());
            versions.put(e.getKey(), e.getValue().version() + 1);
        }
        return versions;
    }

    /** Each node's data and version (null where it does not exist); stores that can pipeline ask them together. */
    default java.util.Map<String, Versioned> getVersionedAll(List<String> paths) throws Exception {
        java.util.Map<String, Versioned> read = new java.util.LinkedHashMap<>();
        for (String path : paths) read.put(path, getVersioned(path));
        return read;
    }

    /**
     * The controller's deletion, as Kafka's: in one multi, {@code fencePath} must still be at {@code fenceVersion}
     * and each node, deleted in map order (children first), at its expected version (-1: any). True when every node
     * went; false, with nothing deleted, when one was missing, had children or had another version (the caller then
     * reads what is there and deletes it the slow way). A store that cannot run a multi answers false.
     */
    default boolean deleteFenced(String fencePath, int fenceVersion, java.util.LinkedHashMap<String, Integer> nodes)
            throws Exception {
        return false;
    }

    /**
     * Calls {@code listener} whenever the children of {@code path} change (and once the node appears), until the
     * store closes; re-armed across sessions. It runs on the store's notification thread: hand work off, never wait
     * there for another store operation. Stores with one process (a local directory) never call it.
     * Several listeners may follow one path; one set again from the same code (the same lambda or method reference,
     * so the same class) replaces its earlier self, so code that sets its watch on every load is told once.
     */
    default void watchChildren(String path, Runnable listener) {
        watchChildren(path, listener.getClass(), listener);
    }

    /**
     * As {@link #watchChildren(String, Runnable)}, with the listener that replaces an earlier one named by
     * {@code owner} instead of by its code: two instances of one class (two config change listeners, say) that
     * follow one path each pass themselves, and both are told.
     */
    default void watchChildren(String path, Object owner, Runnable listener) {
    }

    /**
     * Whether this store calls the listeners of {@link #watchChildren} and {@link #watchNode}: then a change made
     * through it reaches every watcher by that path alone, and telling a watcher directly would tell it twice.
     */
    default boolean watches() {
        return false;
    }

    /** As {@link #watchChildren(String, Runnable)}, for the node's own creation, deletion and data changes. */
    default void watchNode(String path, Runnable listener) {
        watchNode(path, listener.getClass(), listener);
    }

    /** As {@link #watchChildren(String, Object, Runnable)}, for the node itself. */
    default void watchNode(String path, Object owner, Runnable listener) {
    }

    /**
     * {@code listener} runs after the store's ephemeral nodes were lost with an expired session and a new session is
     * open; it re-creates them. Stores without sessions never call it.
     */
    default void onSessionRenewed(Runnable listener) {
    }

    @Override
    void close();
}
