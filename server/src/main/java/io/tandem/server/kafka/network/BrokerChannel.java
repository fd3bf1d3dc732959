package io.tandem.server.kafka.network;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A connection to another broker for the threads that talk to one broker at a time, as Kafka's do (the controller's
 * send thread per broker, a follower's fetcher per leader): kafka-wire's blocking {@link KafkaConnection}, opened
 * lazily, opened again after a failure, and pointed elsewhere when the broker registers a new address. Never used
 * from a Netty event loop.
 */
public final class BrokerChannel implements AutoCloseable {
    /** Largest answer accepted from a broker: a replica fetch answer is bounded by its request's max bytes. */
    static final int RESPONSE_BYTES_MAX = 100 * 1024 * 1024;
    private final String clientId;
    private final Duration timeout;
    private volatile InetSocketAddress address;
    private volatile KafkaConnection connection;
    private volatile boolean closed;

    public BrokerChannel(String host, int port, String clientId, int timeoutMs) {
        this.address = InetSocketAddress.createUnresolved(host, port);
        this.clientId = clientId;
        this.timeout = Duration.ofMillis(timeoutMs);
    }

    /** Points later requests at a new address (the broker registered again elsewhere). */
    public void retarget(String host, int port) {
        // Unchanged (the usual case: every UpdateMetadata names every broker): no need to wait for a request in
        // flight, which for a fetcher is a long poll.
        if (host.equals(address.getHostString()) && port == address.getPort()) return;
        synchronized (this) {
            address = InetSocketAddress.createUnresolved(host, port);
            disconnect();
        }
    }

    /** Sends one request at {@code version} and waits for its answer; a failure drops the connection. */
    public synchronized ApiMessage send(ApiKey key, short version, ApiMessage request) throws IOException {
        if (closed) throw new IOException("channel to " + address + " is closed");
        try {
            if (connection == null || !connection.isUsable()) {
                connection = KafkaConnection.open(address, clientId, timeout, RESPONSE_BYTES_MAX);
            }
            return connection.send(request, version, timeout);
        } catch (RuntimeException e) {
            disconnect();
            throw e instanceof KafkaNetworkException ? new IOException(e.getMessage(), e)
                    : new IOException("bad answer from " + address + ": " + e, e);
        }
    }

    private void disconnect() {
        KafkaConnection c = connection;
        connection = null;
        if (c != null) c.close();
    }

    @Override
    public void close() {
        closed = true;
        // Closing the socket from another thread unblocks a read in progress.
        disconnect();
    }
}
