package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The broker's settings, read from Kafka's {@code server.properties} keys in the {@link TandemConfig}, with
 * Kafka's defaults except where noted.
 */
public record BrokerConfig(
        int brokerId,
        String bindHost,
        int port,
        String advertisedHost,
        Integer advertisedPort,
        String rack,
        io.tandem.server.kafka.replica.ReadReplicaSelector replicaSelector,
        Path logDir,
        int numPartitions,
        short defaultReplicationFactor,
        boolean autoCreateTopics,
        int offsetsTopicPartitions,
        short offsetsTopicReplicationFactor,
        int messageMaxBytes,
        int socketRequestMaxBytes,
        int ioThreads,
        int networkThreads,
        int queuedMaxRequests,
        String zookeeperConnect,
        int zookeeperSessionTimeoutMs,
        boolean zookeeperSetAcl,
        int groupMinSessionTimeoutMs,
        int groupMaxSessionTimeoutMs,
        int groupInitialRebalanceDelayMs,
        int groupMaxSize,
        int offsetMetadataMaxBytes,
        long logRetentionCheckIntervalMs,
        long logFlushOffsetCheckpointIntervalMs,
        long logInitialTaskDelayMs,
        boolean logCleanerEnable,
        int logCleanerThreads,
        long logCleanerBackoffMs,
        boolean deleteTopicEnable,
        long queuedMaxRequestBytes,
        int maxConnections,
        int maxConnectionsPerIp,
        long connectionsMaxIdleMs,
        int failedAuthenticationDelayMs,
        long producerIdExpirationMs,
        long producerIdExpirationCheckIntervalMs,
        int offsetsRetentionMinutes,
        long offsetsRetentionCheckIntervalMs,
        int fetchSessionCacheSlots,
        List<Listener> listeners,
        String interBrokerListener,
        io.tandem.server.kafka.network.InterBrokerTimeouts interBrokerTimeouts) {

    /**
     * One listener: its name (upper case, as Kafka's ListenerName), security protocol, where it binds (null host: all
     * interfaces; port 0: any free one) and what it advertises (null: the bound host or 127.0.0.1, the bound port).
     */
    public record Listener(String name, String securityProtocol, String bindHost, int port, String advertisedHost,
                           Integer advertisedPort) {
    }

    /**
     * The inter-broker listener's name: inter.broker.listener.name, else the listener named after
     * security.inter.broker.protocol (Kafka's default PLAINTEXT); with a single listener and neither key set, that
     * listener (Tandem is lenient here where Kafka would ask for a listener named PLAINTEXT).
     */
    public static String interBrokerListener(Map<String, String> settings) {
        String name = settings.get("inter.broker.listener.name");
        if (name != null) return name.trim().toUpperCase(Locale.ROOT);
        String protocol = settings.get("security.inter.broker.protocol");
        if (protocol != null) return protocol.trim().toUpperCase(Locale.ROOT);
        String listeners = settings.get("listeners");
        if (listeners != null && !listeners.contains(",")) {
            return Endpoint.parse(listeners).listenerName().toUpperCase(Locale.ROOT);
        }
        return "PLAINTEXT";
    }

    /** The listeners of the settings; a single listener takes the Tandem config's Kafka port. */
    private static List<Listener> listeners(TandemConfig config) {
        Map<String, String> settings = config.settings();
        Map<String, String> protocols = BrokerConfigPolicy.protocolMap(settings.get("listener.security.protocol.map"));
        String listenersValue = settings.get("listeners");
        List<Endpoint> bound = new ArrayList<>();
        if (listenersValue == null) {
            bound.add(new Endpoint("PLAINTEXT", null, config.kafkaPort()));
        } else {
            for (String part : listenersValue.split(",")) {
                if (!part.isBlank()) bound.add(Endpoint.parse(part));
            }
            if (bound.size() == 1) {
                Endpoint only = bound.get(0);
                bound.set(0, new Endpoint(only.listenerName(), only.host(), config.kafkaPort()));
            }
        }
        Map<String, Endpoint> advertised = new LinkedHashMap<>();
        String advertisedValue = settings.get("advertised.listeners");
        if (advertisedValue != null) {
            for (String part : advertisedValue.split(",")) {
                if (part.isBlank()) continue;
                Endpoint e = Endpoint.parse(part);
                advertised.put(e.listenerName().toUpperCase(Locale.ROOT), e);
            }
        }
        List<Listener> listeners = new ArrayList<>();
        for (Endpoint e : bound) {
            String name = e.listenerName().toUpperCase(Locale.ROOT);
            String protocol = protocols.get(name);
            if (protocol == null) throw new IllegalArgumentException("No security protocol defined for listener " + name);
            Endpoint a = advertised.get(name);
            listeners.add(new Listener(name, protocol, e.host(), Math.max(e.port(), 0), a == null ? null : a.host(),
                    a == null || a.port() <= 0 ? null : a.port()));
        }
        return List.copyOf(listeners);
    }

    /** The inter-broker listener (the first listener when none has its name; start-up refuses that). */
    public Listener interBroker() {
        for (Listener l : listeners) {
            if (l.name().equals(interBrokerListener)) return l;
        }
        return listeners.get(0);
    }

    /**
     * Tandem's default for queued.max.request.bytes (Kafka's is -1, unbounded): Kafka's default socket.request.max.bytes,
     * so request memory stays within about two largest frames (a frame may start while anything is left) instead of
     * growing with the number of connections. Raised to socket.request.max.bytes when that is set higher, since a
     * frame must fit into the pool.
     */
    public static final long QUEUED_MAX_REQUEST_BYTES_DEFAULT = 104857600;

    public static BrokerConfig from(TandemConfig config) {
        String logDirs = config.get("log.dirs", config.get("log.dir"));
        Path logDir = logDirs == null ? config.dataDir().resolve("kafka-logs") : Path.of(logDirs.split(",")[0].trim());
        List<Listener> listeners = listeners(config);
        String interBrokerListener = interBrokerListener(config.settings());
        Listener interBroker = listeners.stream().filter(l -> l.name().equals(interBrokerListener)).findFirst()
                .orElse(listeners.get(0));
        return new BrokerConfig(
                // Kafka in ZooKeeper mode reads broker.id; node.id (KRaft's name) must then be equal, else it is the id.
                config.getInt("broker.id", config.getInt("node.id", 0)),
                // The inter-broker listener's: what other brokers, and Tandem's own bootstrap address, use.
                interBroker.bindHost(),
                interBroker.port(),
                interBroker.advertisedHost(),
                interBroker.advertisedPort(),
                config.get("broker.rack"),
                // KIP-392: null (the default) names no replica to consumers; start-up refused any other class.
                io.tandem.server.kafka.replica.ReadReplicaSelector.forClassName(config.get("replica.selector.class")),
                logDir,
                config.getInt("num.partitions", 1),
                (short) config.getInt("default.replication.factor", 1),
                Boolean.parseBoolean(config.get("auto.create.topics.enable", "true")),
                config.getInt("offsets.topic.num.partitions", 50),
                // Kafka defaults to 3 and refuses to create the offsets topic on smaller clusters; Tandem's default
                // of 1 lets a single node work out of the box (it is capped by the live brokers anyway).
                (short) config.getInt("offsets.topic.replication.factor", 1),
                config.getInt("message.max.bytes", 1048588),
                config.getInt("socket.request.max.bytes", 104857600),
                config.getInt("num.io.threads", 8),
                config.getInt("num.network.threads", 3),
                config.getInt("queued.max.requests", 500),
                config.get("zookeeper.connect"),
                config.getInt("zookeeper.session.timeout.ms", 18000),
                Boolean.parseBoolean(config.get("zookeeper.set.acl", "false").trim()),
                config.getInt("group.min.session.timeout.ms", 6000),
                config.getInt("group.max.session.timeout.ms", 1800000),
                config.getInt("group.initial.rebalance.delay.ms", 3000),
                config.getInt("group.max.size", Integer.MAX_VALUE),
                config.getInt("offset.metadata.max.bytes", 4096),
                config.getLong("log.retention.check.interval.ms", 300000),
                config.getLong("log.flush.offset.checkpoint.interval.ms", 60000),
                config.getLong("log.initial.task.delay.ms", 30000),
                Boolean.parseBoolean(config.get("log.cleaner.enable", "true")),
                config.getInt("log.cleaner.threads", 1),
                config.getLong("log.cleaner.backoff.ms", 15000),
                Boolean.parseBoolean(config.get("delete.topic.enable", "true")),
                config.getLong("queued.max.request.bytes", Math.max(QUEUED_MAX_REQUEST_BYTES_DEFAULT,
                        config.getInt("socket.request.max.bytes", 104857600))),
                config.getInt("max.connections", Integer.MAX_VALUE),
                config.getInt("max.connections.per.ip", Integer.MAX_VALUE),
                config.getLong("connections.max.idle.ms", 600000),
                config.getInt("connection.failed.authentication.delay.ms", 100),
                config.getLong("producer.id.expiration.ms", 86400000),
                config.getLong("producer.id.expiration.check.interval.ms", 600000),
                config.getInt("offsets.retention.minutes", 10080),
                config.getLong("offsets.retention.check.interval.ms", 600000),
                config.getInt("max.incremental.fetch.session.cache.slots", 1000),
                listeners,
                interBrokerListener,
                io.tandem.server.kafka.network.InterBrokerTimeouts.from(config));
    }

    /** A listener as Kafka writes it: {@code NAME://host:port}, host may be empty (all interfaces). */
    public record Endpoint(String listenerName, String host, int port) {
        /** Parses one listener; a malformed one is an IllegalArgumentException naming it. */
        public static Endpoint parse(String text) {
            String t = text.trim();
            int scheme = t.indexOf("://");
            String name = scheme < 0 ? "PLAINTEXT" : t.substring(0, scheme);
            String hostPort = scheme < 0 ? t : t.substring(scheme + 3);
            int colon = hostPort.lastIndexOf(':');
            String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port;
            try {
                port = colon < 0 ? -1 : Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Unable to parse " + t + " to a broker endpoint");
            }
            if (port > 65_535 || port < -1) throw new IllegalArgumentException("port out of range in " + t);
            return new Endpoint(name, host.isEmpty() ? null : host, port);
        }

        /** The same endpoint on another port, written back as Kafka writes it. */
        public String withPort(int newPort) {
            String h = host == null ? "" : host.contains(":") ? "[" + host + "]" : host;
            return listenerName + "://" + h + ":" + newPort;
        }
    }
}
