package io.tandem.kafka.client;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaWireLimits;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A small Kafka client over kafka-wire's codecs: it connects to a bootstrap server, learns the brokers from Metadata,
 * keeps one {@link KafkaConnection} per broker, and routes requests to a broker by id. The operations themselves live
 * in {@link KafkaAdmin} (topics, configs, offsets, groups), {@link RecordSender} (Produce) and {@link RecordFetcher}
 * (Fetch).
 *
 * <p>Not thread-safe: one thread uses a client at a time, as a command-line tool does.
 */
public final class KafkaClient implements AutoCloseable {
    /** Pause between attempts of a request the broker answered with a retriable error. */
    private static final long RETRY_BACKOFF_MS = 100;

    private final List<InetSocketAddress> bootstrap;
    private final String clientId;
    private final Duration requestTimeout;
    private final int frameBytesMax;
    private final ClientSecurity security;
    private final Map<Integer, KafkaConnection> connections = new HashMap<>();
    private final Map<Integer, Broker> brokers = new HashMap<>();
    private KafkaConnection bootstrapConnection;

    private KafkaClient(Builder builder) {
        this.bootstrap = parseServers(builder.bootstrapServers);
        this.clientId = builder.clientId;
        this.requestTimeout = builder.requestTimeout;
        this.frameBytesMax = builder.frameBytesMax;
        this.security = builder.security;
    }

    public static Builder builder(String bootstrapServers) {
        return new Builder(bootstrapServers);
    }

    /** Parses {@code host:port[,host:port...]}; IPv6 hosts in brackets. */
    public static List<InetSocketAddress> parseServers(String servers) {
        List<InetSocketAddress> result = new ArrayList<>();
        for (String entry : servers.split(",")) {
            String server = entry.trim();
            if (server.isEmpty()) {
                continue;
            }
            int colon = server.lastIndexOf(':');
            if (colon <= 0 || colon == server.length() - 1 || server.indexOf(']') > colon) {
                throw new IllegalArgumentException("'" + server + "' is not host:port");
            }
            String host = server.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(server.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + server + "' has no numeric port");
            }
            result.add(InetSocketAddress.createUnresolved(host, port));
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException("no server in '" + servers + "'");
        }
        return List.copyOf(result);
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Metadata for the named topics, or for every topic when {@code topics} is null. Never asks the broker to create a
     * topic (from Metadata v4 on; older brokers decide that themselves).
     */
    public ClusterMetadata metadata(Collection<String> topics) {
        KafkaConnection connection = anyConnection();
        short version = connection.version(ApiKey.METADATA);
        MetadataRequest request = new MetadataRequest().setAllowAutoTopicCreation(false);
        if (topics == null) {
            // v0 has no null list: an empty one means every topic there.
            request.setTopics(version == 0 ? new ArrayList<>() : null);
        } else {
            List<MetadataRequest.MetadataRequestTopic> asked = new ArrayList<>();
            for (String topic : topics) {
                asked.add(new MetadataRequest.MetadataRequestTopic().setName(topic));
            }
            request.setTopics(asked);
        }
        MetadataResponse response = connection.send(request, version, requestTimeout);
        KafkaClientException.check(response.errorCode, "Metadata", null);
        Map<Integer, Broker> known = new TreeMap<>();
        for (MetadataResponse.MetadataResponseBroker broker : response.brokers) {
            known.put(broker.nodeId, new Broker(broker.nodeId, broker.host, broker.port, broker.rack));
        }
        updateBrokers(known);
        Map<String, TopicInfo> topicInfos = new TreeMap<>();
        Map<String, String> topicErrors = new TreeMap<>();
        for (MetadataResponse.MetadataResponseTopic topic : response.topics) {
            if (topic.errorCode != 0) {
                topicErrors.put(topic.name, Errors.forCode(topic.errorCode).name());
                continue;
            }
            List<PartitionInfo> partitions = new ArrayList<>();
            for (MetadataResponse.MetadataResponsePartition p : topic.partitions) {
                partitions.add(new PartitionInfo(p.partitionIndex, p.leaderId, p.leaderEpoch,
                        List.copyOf(p.replicaNodes), List.copyOf(p.isrNodes), List.copyOf(p.offlineReplicas),
                        p.errorCode == 0 ? null : Errors.forCode(p.errorCode).name()));
            }
            partitions.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
            boolean zeroUuid = topic.topicId == null
                    || (topic.topicId.getMostSignificantBits() == 0 && topic.topicId.getLeastSignificantBits() == 0);
            topicInfos.put(topic.name, new TopicInfo(topic.name, zeroUuid ? null : topic.topicId, topic.isInternal,
                    List.copyOf(partitions)));
        }
        return new ClusterMetadata(response.clusterId, response.controllerId, known, topicInfos, topicErrors);
    }

    /** A connection to any reachable broker: the bootstrap one first. */
    public KafkaConnection anyConnection() {
        if (bootstrapConnection != null && bootstrapConnection.isUsable()) {
            return bootstrapConnection;
        }
        for (KafkaConnection connection : connections.values()) {
            if (connection.isUsable()) {
                return connection;
            }
        }
        List<String> failures = new ArrayList<>();
        for (InetSocketAddress address : bootstrap) {
            try {
                bootstrapConnection = KafkaConnection.open(address, clientId, requestTimeout, frameBytesMax, security);
                return bootstrapConnection;
            } catch (KafkaNetworkException e) {
                failures.add(e.getMessage());
            }
        }
        throw new KafkaNetworkException("cannot reach any bootstrap server: " + String.join("; ", failures));
    }

    /** The connection to broker {@code nodeId}, opened on first use from the addresses Metadata gave. */
    public KafkaConnection connection(int nodeId) {
        KafkaConnection connection = connections.get(nodeId);
        if (connection != null && connection.isUsable()) {
            return connection;
        }
        Broker broker = brokers.get(nodeId);
        if (broker == null) {
            metadata(List.of());
            broker = brokers.get(nodeId);
            if (broker == null) {
                throw new KafkaClientException(Errors.BROKER_NOT_AVAILABLE, "broker " + nodeId
                        + " is not in the cluster's metadata");
            }
        }
        connection = KafkaConnection.open(InetSocketAddress.createUnresolved(broker.host(), broker.port()), clientId,
                requestTimeout, frameBytesMax, security);
        connections.put(nodeId, connection);
        return connection;
    }

    /** The brokers the last Metadata answer named, by id. */
    public Map<Integer, Broker> brokers() {
        if (brokers.isEmpty()) {
            metadata(List.of());
        }
        return Map.copyOf(brokers);
    }

    /**
     * Runs {@code attempt} until it succeeds, a non-retriable error occurs, or the request timeout passes. Retriable
     * errors are Kafka's own retriable codes plus NOT_CONTROLLER and NOT_COORDINATOR, which mean "ask again after
     * refreshing where things are": the attempt is expected to look them up afresh.
     */
    public <T> T retrying(Supplier<T> attempt) {
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        while (true) {
            try {
                return attempt.get();
            } catch (KafkaClientException e) {
                if (!isRetriable(e) || System.nanoTime() + RETRY_BACKOFF_MS * 1_000_000 > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(RETRY_BACKOFF_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaNetworkException("interrupted");
            }
        }
    }

    @Override
    public void close() {
        if (bootstrapConnection != null) {
            bootstrapConnection.close();
        }
        for (KafkaConnection connection : connections.values()) {
            connection.close();
        }
        connections.clear();
    }

    private static boolean isRetriable(KafkaClientException e) {
        Errors error = e.error();
        if (error == null || e instanceof UnknownTopicException) {
            return false;
        }
        return error.isRetriable() || error == Errors.NOT_CONTROLLER || error == Errors.NOT_COORDINATOR;
    }

    private void updateBrokers(Map<Integer, Broker> known) {
        for (Map.Entry<Integer, Broker> entry : new LinkedHashMap<>(brokers).entrySet()) {
            Broker now = known.get(entry.getKey());
            if (now == null || !now.host().equals(entry.getValue().host()) || now.port() != entry.getValue().port()) {
                KafkaConnection stale = connections.remove(entry.getKey());
                if (stale != null) {
                    stale.close();
                }
            }
        }
        brokers.clear();
        brokers.putAll(known);
    }

    /** Sends {@code request} to broker {@code nodeId} at the highest common version. */
    public <T extends ApiMessage> T send(int nodeId, ApiMessage request) {
        return connection(nodeId).send(request, requestTimeout);
    }

    /** Settings of a client; nothing connects before the first request. */
    public static final class Builder {
        private final String bootstrapServers;
        private String clientId = "tandem-cli";
        private Duration requestTimeout = Duration.ofSeconds(30);
        private int frameBytesMax = KafkaWireLimits.FRAME_BYTES_MAX_DEFAULT;
        private ClientSecurity security = ClientSecurity.PLAINTEXT;

        private Builder(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
        }

        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** How long one request (and a retried operation as a whole) may take. */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        /** Largest response accepted; a larger length prefix closes the connection. */
        public Builder frameBytesMax(int max) {
            this.frameBytesMax = max;
            return this;
        }

        /** TLS and SASL as the listener asks (Kafka's security.protocol); PLAINTEXT by default. */
        public Builder security(ClientSecurity security) {
            this.security = java.util.Objects.requireNonNull(security, "security");
            return this;
        }

        public KafkaClient build() {
            return new KafkaClient(this);
        }
    }
}
