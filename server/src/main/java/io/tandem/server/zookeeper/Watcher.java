package io.tandem.server.zookeeper;

/** Receives watch notifications; a client connection. Watches belong to the connection, as in Apache. */
interface Watcher {
    void process(WatchedEvent event);

    /**
     * Delivers an event caused by a change to a node with ACL {@code nodeAcl}. Apache 3.9 drops events the watcher
     * may not READ (a recursive watch must not leak changes under a protected node); null means no check.
     */
    default void process(WatchedEvent event, java.util.List<io.tandem.zk.wire.data.ACL> nodeAcl) {
        process(event);
    }
}
