package io.tandem.zk.client;

/**
 * Receives watch notifications and connection state changes, one at a time and in order, on the client's callback
 * thread. It must not block waiting for another operation of the same client: that operation's future completes on
 * this same thread.
 */
@FunctionalInterface
public interface Watcher {
    void process(WatchedEvent event);
}
