package io.tandem.server.kafka.group.share.state;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.group.share.ShareCoordinatorPersister;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * How a broker's share-partitions reach share coordinators on other brokers: the non-blocking
 * {@link InterBrokerClient} on the inter-broker listener (with its security), one connection per live broker, pointed
 * at the broker's current registration on every call. A broker that is not live fails its call at once (the
 * persister retries with Kafka's backoff, looking the coordinator up again).
 *
 * <p>As Kafka's persister NetworkClient (max.in.flight 1), a connection carries
 * {@link ShareCoordinatorPersister#REQUESTS_IN_FLIGHT_PER_NODE} request at a time: a node's reads, writes, summaries
 * and lookups take turns on one socket (the persister's sender hands over one at a time anyway, batching what waits).
 */
public final class ShareCoordinatorChannels implements ShareCoordinatorPersister.Transport, AutoCloseable {
    private final ClusterMetadata metadata;
    private final InterBrokerClient client;

    /**
     * @param writeTimeoutMs share.coordinator.write.timeout.ms (the cluster's brokers share one value): a request may
     *                       take as long again as the coordinator's wait for its records to be replicated
     */
    public ShareCoordinatorChannels(int localBrokerId, ClusterMetadata metadata, InterBrokerSecurity security,
                                    int writeTimeoutMs) {
        this(localBrokerId, metadata, security, writeTimeoutMs, InterBrokerTimeouts.KAFKA_DEFAULTS);
    }

    /** {@code timeouts}: the connections' set-up bounds (socket.connection.setup.timeout.ms and its max). */
    public ShareCoordinatorChannels(int localBrokerId, ClusterMetadata metadata, InterBrokerSecurity security,
                                    int writeTimeoutMs, InterBrokerTimeouts timeouts) {
        this.metadata = metadata;
        this.client = new InterBrokerClient(timeouts.setUp(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-share-state", ShareCoordinatorPersister.REQUESTS_IN_FLIGHT_PER_NODE, 2 * writeTimeoutMs)),
                security);
    }

    @Override
    public CompletableFuture<ApiMessage> send(int brokerId, ApiKey key, short minVersion, short maxVersion,
                                              ApiMessage request) {
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == brokerId)
                .findFirst().orElse(null);
        if (target == null) return CompletableFuture.failedFuture(new IOException("broker " + brokerId
                + " is not live"));
        return client.send(target, key, minVersion, maxVersion, request);
    }

    @Override
    public void close() {
        client.close();
    }
}
