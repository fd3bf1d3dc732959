package io.tandem.server;

import io.tandem.server.fault.FaultController;
import io.tandem.server.fault.FaultHttp;
import io.tandem.server.console.ConsoleServer;
import io.tandem.server.http.ZooKeeperAdminServer;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.logging.Logging;
import io.tandem.server.metrics.NodeMetrics;
import io.tandem.server.zookeeper.ZooKeeperRole;
import java.io.IOException;

/**
 * The embedding API: {@code try (Tandem t = Tandem.start(TandemConfig.forTests(dir))) { ... t.zookeeperConnect() ... }}
 * starts a node in-process on the configured (or free) ports and {@link #close()} stops everything it started.
 */
public final class Tandem implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Tandem.class.getName());
    private final TandemConfig config;
    private ZooKeeperRole zookeeper;
    private KafkaBroker kafka;
    private NodeMetrics metrics;
    private ZooKeeperAdminServer admin;
    /** This node's fault rules: its own, or its cluster's shared controller ({@link TandemCluster}). */
    private final FaultController faults;
    private final boolean ownsFaults;
    private final String nodeName;
    private FaultHttp faultHttp;
    private NodeReset reset;
    private ConsoleServer console;

    private Tandem(TandemConfig config, FaultController faults, String nodeName) {
        this.config = config;
        this.ownsFaults = faults == null;
        this.faults = faults == null ? new FaultController() : faults;
        this.nodeName = nodeName;
    }

    /**
     * Starts the configured roles. Every key is checked first ({@link ConfigKeys}): ignored ones are logged, one warning
     * per key; refused ones throw {@link ConfigException} before anything binds or writes.
     */
    public static Tandem start(TandemConfig config) throws IOException {
        return start(config, null, NODE_NAME);
    }

    /** The name of a node started alone, in its fault rules ({@link FaultController.Builder#on}, pause). */
    public static final String NODE_NAME = "node";

    /** Starts a node whose fault rules are {@code faults} (null: its own) under {@code nodeName}. */
    static Tandem start(TandemConfig config, FaultController faults, String nodeName) throws IOException {
        Logging.installDefault();
        // zoo.cfg's dynamicConfigFile: its member lines join the settings before anything is checked.
        config = io.tandem.server.zookeeper.DynamicConfigFile.expand(config);
        ConfigKeys.validate(config.settings());
        Tandem tandem = new Tandem(config, faults, nodeName);
        if (config.has(TandemConfig.Role.KAFKA)) preloadKafkaMetadata();
        try {
            if (config.has(TandemConfig.Role.ZOOKEEPER)) {
                tandem.zookeeper = ZooKeeperRole.start(config);
                tandem.zookeeper.faults(tandem.faults.zooKeeperHook(nodeName));
                if (tandem.zookeeper.myId() > 0) {
                    tandem.zookeeper.quorumFaults(tandem.faults.quorumHook(nodeName, tandem.zookeeper.myId()));
                }
            }
            if (config.has(TandemConfig.Role.KAFKA)) {
                // The broker keeps its metadata in zookeeper.connect if set, else in this node's own ZooKeeper.
                String zookeeperConnect = config.get("zookeeper.connect");
                if (zookeeperConnect == null && tandem.zookeeper != null) zookeeperConnect = tandem.zookeeperConnect();
                tandem.kafka = KafkaBroker.start(config, zookeeperConnect);
                tandem.kafka.apiRegistry().faults(tandem.faults.kafkaHook(nodeName));
            }
            tandem.startOperations();
        } catch (IOException | RuntimeException e) {
            tandem.close();
            throw e;
        }
        return tandem;
    }

    /**
     * Initialises the broker's znode layout (and with it Jackson, ~100 ms of class loading and set-up) on another
     * thread while the ZooKeeper server and the broker's session start, instead of on the start-up path when the
     * broker first reads its settings. Class initialisation is thread-safe: a user that comes first simply waits.
     */
    private static void preloadKafkaMetadata() {
        Thread preload = new Thread(() -> {
            try {
                Class.forName("io.tandem.server.kafka.metadata.KafkaZkLayout", true, Tandem.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // The start-up path initialises it again and reports the failure there.
            }
        }, "tandem-preload");
        preload.setDaemon(true);
        preload.start();
    }

    /**
     * The HTTP endpoints, each only when configured: Prometheus on metrics.port, the ZooKeeper AdminServer as Apache's
     * admin.* keys ask. Both bind the configured address, else the ZooKeeper client address (loopback for test nodes).
     */
    private void startOperations() throws IOException {
        String defaultHost = config.get("clientPortAddress");
        if (config.get(ConfigKeys.METRICS_PORT) != null) {
            metrics = NodeMetrics.start(config.get(ConfigKeys.METRICS_ADDRESS, defaultHost),
                    config.getInt(ConfigKeys.METRICS_PORT, 0), zookeeper, kafka);
        }
        if (config.get(ConfigKeys.FAULT_PORT) != null) {
            faultHttp = FaultHttp.start(config.get(ConfigKeys.FAULT_ADDRESS, defaultHost),
                    config.getInt(ConfigKeys.FAULT_PORT, 0), faults);
        }
        if (ZooKeeperAdminServer.wanted(config)) {
            if (zookeeper == null) {
                LOG.log(System.Logger.Level.WARNING, "The ZooKeeper AdminServer is configured (admin.*) but the"
                        + " ZooKeeper role does not run here: it is not started");
            } else {
                admin = ZooKeeperAdminServer.start(config, defaultHost, zookeeper.adminCommands());
            }
        }
        if (config.get(ConfigKeys.CONSOLE_PORT) != null) {
            // The console reads this node over its own ports, as any client would (the broker's inter-broker
            // listener, with its TLS and SASL); the znode pages read the broker's ZooKeeper when this node runs none.
            console = ConsoleServer.start(config, defaultHost, kafka == null ? null : bootstrapServers(),
                    kafka == null ? null : kafka.interBrokerSecurity().client(), zookeeper != null ? zookeeperConnect() : config.get("zookeeper.connect"));
        }
    }

    /** The Prometheus endpoint's port ({@code metrics.port}; the real one when 0 was asked for), or -1 if off. */
    public int metricsPort() { return metrics == null ? -1 : metrics.port(); }

    /** The fault injection HTTP endpoint's port ({@code fault.port}; the real one when 0 was asked for), or -1 if off. */
    public int faultPort() { return faultHttp == null ? -1 : faultHttp.port(); }

    /**
     * The fault rules of this node (for a node of a {@link TandemCluster}, the cluster's, shared by every node): delay,
     * fail or drop its requests, pause it.
     */
    public FaultController faults() { return faults; }

    /** This node's name in fault rules: {@link #NODE_NAME} alone, "brokerN" / "zookeeperN" in a cluster. */
    public String nodeName() { return nodeName; }

    /**
     * Empties the node between tests: deletes every topic but Kafka's internal ones, every consumer group with its
     * offsets, and every znode but {@code /zookeeper} and the brokers' own layout, through the protocols, with
     * connections kept from one call to the next. Groups with members left are kept (Kafka refuses to delete them).
     */
    public synchronized void reset() throws Exception {
        if (reset == null) {
            reset = new NodeReset(kafka == null ? null : bootstrapServers(),
                    kafka == null ? null : kafka.interBrokerSecurity().client(), zookeeper == null ? null : zookeeperConnect(),
                    kafka != null && zookeeper != null && config.get("zookeeper.connect") == null);
        }
        reset.reset();
    }

    /** The ZooKeeper AdminServer's port (the real one when 0 was asked for), or -1 if off. */
    public int adminPort() { return admin == null ? -1 : admin.port(); }

    /** The web console's port ({@code console.port}; the real one when 0 was asked for), or -1 if off. */
    public int consolePort() { return console == null ? -1 : console.port(); }

    /** Where the ZooKeeper server keeps its data, or null if that role is off. */
    public java.nio.file.Path zookeeperDataDir() { return zookeeper == null ? null : zookeeper.dataDir(); }

    /** Where the Kafka broker keeps its logs, or null if that role is off. */
    public java.nio.file.Path kafkaLogDir() { return kafka == null ? null : kafka.config().logDir(); }

    /** The bound ZooKeeper client port (the real one when 0 was asked for), or -1 if that role is off. */
    public int zookeeperPort() { return zookeeper == null ? -1 : zookeeper.port(); }

    /** The ZooKeeper secure (TLS) client port (secureClientPort), or -1 when there is none. */
    public int zookeeperSecurePort() { return zookeeper == null ? -1 : zookeeper.securePort(); }

    /** The bound Kafka port (the real one when 0 was asked for), or -1 if that role is off. */
    public int kafkaPort() { return kafka == null ? -1 : kafka.port(); }

    /** The bound port of the named Kafka listener, or -1 if there is none (or the Kafka role is off). */
    public int kafkaPort(String listenerName) { return kafka == null ? -1 : kafka.port(listenerName); }

    /** {@code host:port} for a ZooKeeper client's connect string: the bound address, 127.0.0.1 when bound to all. */
    public String zookeeperConnect() { return connectHost(config.get("clientPortAddress")) + ":" + zookeeperPort(); }

    /** {@code host:port} for a Kafka client's bootstrap.servers: the listener's address, 127.0.0.1 when bound to all. */
    public String bootstrapServers() {
        return connectHost(kafka == null ? null : kafka.config().bindHost()) + ":" + kafkaPort();
    }

    private static String connectHost(String bindHost) {
        if (bindHost == null || bindHost.isBlank() || bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
            return "127.0.0.1";
        }
        return bindHost.contains(":") ? "[" + bindHost.trim() + "]" : bindHost.trim();
    }

    public TandemConfig config() { return config; }

    /**
     * Completes with the reason when this node's Kafka broker stopped itself where a Kafka broker exits its process
     * (the cluster's {@code /feature} finalized a level it does not support): the broker left the cluster and serves
     * no more, the rest of the node runs on, and the embedder decides ({@code tandem start} exits non-zero). Never
     * completes while the broker serves, after a plain {@link #close()}, or when the Kafka role is off.
     */
    public java.util.concurrent.CompletionStage<String> kafkaFailure() {
        KafkaBroker broker = kafka;
        return broker == null ? new java.util.concurrent.CompletableFuture<String>().minimalCompletionStage()
                : broker.failure();
    }

    /** The ZooKeeper server, for {@link TandemCluster}'s readiness checks; null if that role is off or closed. */
    ZooKeeperRole zooKeeperRole() { return zookeeper; }

    /** The broker itself, for {@link TandemCluster}'s readiness checks; null if the Kafka role is off or closed. */
    KafkaBroker kafkaBroker() { return kafka; }

    @Override
    public void close() {
        if (console != null) {
            console.close();
            console = null;
        }
        synchronized (this) {
            if (reset != null) reset.close();
            reset = null;
        }
        if (faultHttp != null) {
            faultHttp.close();
            faultHttp = null;
        }
        // Requests a fault still holds are let go, so the listeners can close.
        if (ownsFaults) faults.close();
        if (admin != null) {
            admin.close();
            admin = null;
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
        if (zookeeper != null) {
            zookeeper.close();
            zookeeper = null;
        }
    }
}
