package io.tandem.server.kafka.network;

/**
 * Told that a Kafka connection closed (Kafka's ConnectionDisconnectListener), with the id its requests carried in
 * {@link RequestContext#connectionId}: state a client keeps on the broker per connection (share sessions) can go
 * with it instead of waiting for a timeout. Called on a request handler thread, never on the event loop, so it may
 * do what a request does; it runs after the connection's last request started, maybe before that one ended.
 */
@FunctionalInterface
public interface ConnectionCloseListener {
    void connectionClosed(String connectionId);
}
