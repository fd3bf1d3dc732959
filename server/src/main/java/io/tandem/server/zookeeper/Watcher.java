package io.tandem.server.zookeeper;

/** Receives watch notifications; a client connection. Watches belong to the connection, as in Apache. */
interface Watcher {
    void process(WatchedEvent event);
}
