package io.tandem.server.kafka.network;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.client.KafkaAuthenticationException;
import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A connection to another broker for the threads that talk to one broker at a time, as Kafka's do (the controller's
 * send thread per broker, a follower's fetcher per leader): kafka-wire's blocking {@link KafkaConnection}, opened
 * lazily with the inter-broker listener's security (TLS, SASL), opened again after a failure, and pointed elsewhere
 * when the broker registers a new address. A failed authentication is logged as a warning naming the peer and why
 * (once per distinct reason, then at most every {@link #AUTH_FAILURE_LOG_INTERVAL_MS}), since it does not heal by
 * retrying. Never used from a Netty event loop. Senders that must not hold a thread per broker (share state,
 * transaction markers, AddPartitionsToTxn) use the non-blocking {@link InterBrokerClient} instead.
 */
public final class BrokerChannel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BrokerChannel.class.getName());
    /** Largest answer accepted from a broker: a replica fetch answer is bounded by its request's max bytes. */
    static final int RESPONSE_BYTES_MAX = 100 * 1024 * 1024;
    /** A retrying thread repeats the same authentication failure every backoff; the log hears it this often. */
    static final long AUTH_FAILURE_LOG_INTERVAL_MS = 30_000;
    private final String clientId;
    private final Duration timeout;
    private final InterBrokerSecurity security;
    private volatile int brokerId = -1;
    /** Null when the broker has no endpoint on the inter-broker listener. */
    private volatile InetSocketAddress address;
    private volatile KafkaConnection connection;
    private volatile boolean closed;
    private String lastAuthFailure;
    private long lastAuthFailureLoggedMs;

    /** A plaintext channel to a fixed address. */
    public BrokerChannel(String host, int port, String clientId, int timeoutMs) {
        this.address = InetSocketAddress.createUnresolved(host, port);
        this.clientId = clientId;
        this.timeout = Duration.ofMillis(timeoutMs);
        this.security = InterBrokerSecurity.PLAINTEXT;
    }

    /** A channel to {@code peer}'s endpoint on the inter-broker listener, with that listener's security. */
    public BrokerChannel(BrokerRegistration peer, InterBrokerSecurity security, String clientId, int timeoutMs) {
        this.clientId = clientId;
        this.timeout = Duration.ofMillis(timeoutMs);
        this.security = security;
        this.brokerId = peer.brokerId();
        this.address = address(peer);
    }

    private InetSocketAddress address(BrokerRegistration peer) {
        ListenerEndpoint endpoint = security.endpoint(peer);
        return endpoint == null ? null : InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port());
    }

    /** Points later requests at a new address (the broker registered again elsewhere). */
    public void retarget(String host, int port) {
        retarget(InetSocketAddress.createUnresolved(host, port));
    }

    /** Points later requests at the broker's endpoint in its (new) registration. */
    public void retarget(BrokerRegistration peer) {
        brokerId = peer.brokerId();
        retarget(address(peer));
    }

    private void retarget(InetSocketAddress next) {
        // Unchanged (the usual case: every UpdateMetadata names every broker): no need to wait for a request in
        // flight, which for a fetcher is a long poll.
        InetSocketAddress current = address;
        if (next == null ? current == null : current != null && next.getHostString().equals(current.getHostString())
                && next.getPort() == current.getPort()) {
            return;
        }
        synchronized (this) {
            address = next;
            disconnect();
        }
    }

    /** Sends one request at {@code version} and waits for its answer; a failure drops the connection. */
    public synchronized ApiMessage send(ApiKey key, short version, ApiMessage request) throws IOException {
        InetSocketAddress target = address;
        if (closed) throw new IOException("channel to " + target + " is closed");
        if (target == null) {
            String reason = "broker " + brokerId + " has no endpoint on the inter-broker listener "
                    + security.listenerName();
            logAuthFailure(reason);
            throw new IOException(reason);
        }
        try {
            if (connection == null || !connection.isUsable()) {
                ClientSecurity client = security.client();
                connection = KafkaConnection.open(target, clientId, timeout, RESPONSE_BYTES_MAX, client);
                lastAuthFailure = null;
            }
            return connection.send(request, version, timeout);
        } catch (KafkaAuthenticationException e) {
            disconnect();
            logAuthFailure("cannot authenticate to broker " + brokerId + " at " + target.getHostString() + ":"
                    + target.getPort() + " on listener " + security.listenerName() + " (" + security.protocol()
                    + (security.saslUser() == null ? "" : ", as " + security.saslUser()) + "): " + e.getMessage());
            throw new IOException(e.getMessage(), e);
        } catch (RuntimeException e) {
            disconnect();
            throw e instanceof KafkaNetworkException ? new IOException(e.getMessage(), e)
                    : new IOException("bad answer from " + target + ": " + e, e);
        }
    }

    private void logAuthFailure(String reason) {
        long now = System.currentTimeMillis();
        if (reason.equals(lastAuthFailure) && now - lastAuthFailureLoggedMs < AUTH_FAILURE_LOG_INTERVAL_MS) return;
        lastAuthFailure = reason;
        lastAuthFailureLoggedMs = now;
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}", clientId, reason);
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
