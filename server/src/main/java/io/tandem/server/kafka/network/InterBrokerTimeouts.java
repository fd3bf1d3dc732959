package io.tandem.server.kafka.network;

import io.tandem.server.TandemConfig;

/**
 * The timeouts of the broker's inter-broker clients, read from Kafka 3.9's keys and applied where its broker applies
 * each: replica.socket.timeout.ms is a follower fetcher's request timeout (ReplicaFetcherBlockingSend),
 * controller.socket.timeout.ms that of the controller's channels to brokers (ControllerChannelManager) and of a
 * broker's channel to the controller (NodeToControllerChannelManager); socket.connection.setup.timeout.ms and its max
 * bound the set-up of every inter-broker connection (each of those and the request.timeout.ms channels: transaction
 * markers, AddPartitionsToTxn, share state). Values are checked by BrokerConfigPolicy before this reads them.
 */
public record InterBrokerTimeouts(int replicaSocketTimeoutMs, int controllerSocketTimeoutMs,
                                  int connectionSetupTimeoutMs, long connectionSetupTimeoutMaxMs) {
    public static final String REPLICA_SOCKET_TIMEOUT_MS = "replica.socket.timeout.ms";
    public static final String CONTROLLER_SOCKET_TIMEOUT_MS = "controller.socket.timeout.ms";
    public static final String CONNECTION_SETUP_TIMEOUT_MS = "socket.connection.setup.timeout.ms";
    public static final String CONNECTION_SETUP_TIMEOUT_MAX_MS = "socket.connection.setup.timeout.max.ms";
    /** Kafka's defaults of the four keys. */
    public static final InterBrokerTimeouts KAFKA_DEFAULTS = new InterBrokerTimeouts(
            InterBrokerClient.Settings.KAFKA_REQUEST_TIMEOUT_MS, InterBrokerClient.Settings.KAFKA_REQUEST_TIMEOUT_MS,
            InterBrokerClient.Settings.KAFKA_CONNECTION_SETUP_TIMEOUT_MS,
            InterBrokerClient.Settings.KAFKA_CONNECTION_SETUP_TIMEOUT_MAX_MS);

    public static InterBrokerTimeouts from(TandemConfig config) {
        // socket.connection.setup.timeout.ms is a LONG in Kafka; beyond an int's 24 days it makes no difference.
        long setupMs = config.getLong(CONNECTION_SETUP_TIMEOUT_MS, KAFKA_DEFAULTS.connectionSetupTimeoutMs);
        return new InterBrokerTimeouts(
                config.getInt(REPLICA_SOCKET_TIMEOUT_MS, KAFKA_DEFAULTS.replicaSocketTimeoutMs),
                config.getInt(CONTROLLER_SOCKET_TIMEOUT_MS, KAFKA_DEFAULTS.controllerSocketTimeoutMs),
                (int) Math.min(Integer.MAX_VALUE, setupMs),
                config.getLong(CONNECTION_SETUP_TIMEOUT_MAX_MS, KAFKA_DEFAULTS.connectionSetupTimeoutMaxMs));
    }

    /** A follower's fetcher: Kafka's ReplicaFetcherBlockingSend, replica.socket.timeout.ms per request. */
    public InterBrokerClient.Settings replicaFetcher(String clientId) {
        return InterBrokerClient.Settings.kafkaBlocking(clientId, replicaSocketTimeoutMs)
                .withConnectionSetupTimeout(connectionSetupTimeoutMs, connectionSetupTimeoutMaxMs);
    }

    /** The controller's channel to a broker: Kafka's ControllerChannelManager, controller.socket.timeout.ms. */
    public InterBrokerClient.Settings controllerToBroker(String clientId) {
        return InterBrokerClient.Settings.kafkaBlocking(clientId, controllerSocketTimeoutMs)
                .withConnectionSetupTimeout(connectionSetupTimeoutMs, connectionSetupTimeoutMaxMs);
    }

    /** A broker's channel to the controller: Kafka's NodeToControllerChannelManager, controller.socket.timeout.ms. */
    public InterBrokerClient.Settings brokerToController(String clientId) {
        return InterBrokerClient.Settings.kafka(clientId, InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT,
                controllerSocketTimeoutMs).withConnectionSetupTimeout(connectionSetupTimeoutMs,
                connectionSetupTimeoutMaxMs);
    }

    /**
     * {@code settings} with these set-up bounds: the channels Kafka builds with its request.timeout.ms (transaction
     * markers, AddPartitionsToTxn, share state; NetworkUtils.buildNetworkClient) keep their own request timeout.
     */
    public InterBrokerClient.Settings setUp(InterBrokerClient.Settings settings) {
        return settings.withConnectionSetupTimeout(connectionSetupTimeoutMs, connectionSetupTimeoutMaxMs);
    }
}
