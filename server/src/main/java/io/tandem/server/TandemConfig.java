package io.tandem.server;

import io.tandem.server.kafka.BrokerConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Everything a Tandem node is started with. Keys are the ones users already know: {@code zoo.cfg} keys for the
 * ZooKeeper side and Kafka's {@code server.properties} keys for the broker side, kept as strings so that a key this
 * class has no typed accessor for still reaches the component that reads it. The keys that also have a typed field
 * stay in step with it whichever way they are set: {@code clientPort} with {@link #zookeeperPort()}, the port of
 * {@code listeners} with {@link #kafkaPort()}, {@code roles} with {@link #roles()}.
 */
public final class TandemConfig {
    /** Which halves of the node run in this process. */
    public enum Role {
        ZOOKEEPER, KAFKA;

        /** A role by name, case-insensitive; an unknown name is an IllegalArgumentException saying which exist. */
        public static Role parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown role '" + name.trim() + "' (expected zookeeper or kafka)");
            }
        }
    }

    /** Where the embedding API's test configuration binds both listeners: this machine only. */
    public static final String LOOPBACK = "127.0.0.1";
    private static final String CLIENT_PORT = "clientPort";
    private static final String CLIENT_PORT_ADDRESS = "clientPortAddress";
    private static final String LISTENERS = "listeners";

    private final Map<String, String> settings = new LinkedHashMap<>();
    private Path dataDir = Path.of("tandem-data");
    private int zookeeperPort = 2181;
    private int kafkaPort = 9092;
    private Set<Role> roles = EnumSet.allOf(Role.class);
    /** The text the configuration was read from (see {@link #initialText()}), or null when built by the API. */
    private String initialText;
    /** zoo.cfg's path when the configuration came from one file (see {@link #configFile()}), else null. */
    private Path configFile;

    /** The defaults of {@code ./tandem start}: ZooKeeper on 2181, Kafka on 9092, data in ./tandem-data. */
    public static TandemConfig defaults() {
        return new TandemConfig();
    }

    /**
     * Free ports chosen by the OS, the given data directory, and both listeners bound to 127.0.0.1 only: what tests
     * and embedders want (a test node is not reachable from the network). {@code ./tandem start} binds all interfaces,
     * as Apache's servers do.
     */
    public static TandemConfig forTests(Path dataDir) {
        return new TandemConfig().dataDir(dataDir).zookeeperPort(0).kafkaPort(0)
                .set(CLIENT_PORT_ADDRESS, LOOPBACK).set(LISTENERS, "PLAINTEXT://" + LOOPBACK + ":0");
    }

    public TandemConfig dataDir(Path dir) { this.dataDir = dir; return this; }

    /** The ZooKeeper client port (0: any free one); a {@code clientPort} setting follows it. */
    public TandemConfig zookeeperPort(int port) {
        this.zookeeperPort = port;
        if (settings.containsKey(CLIENT_PORT)) settings.put(CLIENT_PORT, Integer.toString(port));
        return this;
    }

    /** The Kafka port (0: any free one); the port in a {@code listeners} setting follows it. */
    public TandemConfig kafkaPort(int port) {
        this.kafkaPort = port;
        String listeners = settings.get(LISTENERS);
        if (listeners != null && !listeners.contains(",")) {
            try {
                settings.put(LISTENERS, BrokerConfig.Endpoint.parse(listeners).withPort(port));
            } catch (IllegalArgumentException e) {
                // Left as it is: the start-up check refuses it with the reason.
            }
        }
        return this;
    }

    public TandemConfig roles(Set<Role> roles) { this.roles = EnumSet.copyOf(roles); return this; }

    /**
     * Sets any zoo.cfg or server.properties key, e.g. {@code set("tickTime", "2000")}. {@code clientPort}, the port of
     * {@code listeners} and {@code roles} also set their typed fields; a value those cannot read is refused here.
     */
    public TandemConfig set(String key, String value) {
        settings.put(key, value);
        try {
            switch (key) {
                case CLIENT_PORT -> zookeeperPort = Integer.parseInt(value.trim());
                case LISTENERS -> {
                    if (!value.contains(",")) {
                        int port = BrokerConfig.Endpoint.parse(value).port();
                        if (port >= 0) kafkaPort = port;
                    }
                }
                case ConfigKeys.ROLES -> {
                    Set<Role> parsed = EnumSet.noneOf(Role.class);
                    for (String name : value.split(",")) {
                        if (!name.isBlank()) parsed.add(Role.parse(name));
                    }
                    roles = parsed;
                }
                default -> { }
            }
        } catch (IllegalArgumentException e) {
            String reason = e instanceof NumberFormatException ? "not a number" : e.getMessage();
            throw new ConfigException(List.of("Configuration key '" + key + "' (value '" + value + "') cannot be read: "
                    + reason));
        }
        return this;
    }

    public Path dataDir() { return dataDir; }
    public int zookeeperPort() { return zookeeperPort; }
    public int kafkaPort() { return kafkaPort; }
    public Set<Role> roles() { return EnumSet.copyOf(roles); }
    public boolean has(Role role) { return roles.contains(role); }
    public String get(String key) { return settings.get(key); }
    public String get(String key, String fallback) { return settings.getOrDefault(key, fallback); }
    public int getInt(String key, int fallback) { String v = settings.get(key); return v == null ? fallback : Integer.parseInt(v.trim()); }
    public long getLong(String key, long fallback) { String v = settings.get(key); return v == null ? fallback : Long.parseLong(v.trim()); }
    /** Records the text this configuration was read from (the configuration files, then each --set line). */
    public TandemConfig initialText(String text) { this.initialText = text; return this; }

    /**
     * The text this configuration was read from at start, or null when it was built through this API: what a
     * standalone ZooKeeper's {@code initial_configuration} admin command answers (Apache's ZooKeeperServerMain answers
     * its zoo.cfg's text, an embedded ZooKeeperServer "").
     */
    public String initialText() { return initialText; }

    /** Records the command line's zoo.cfg (its one file, or the one of several naming the ensemble). */
    public TandemConfig configFile(Path file) { this.configFile = file; return this; }

    /**
     * zoo.cfg's path when the node was started on exactly one configuration file, or on several of which one names
     * the ensemble ({@code server.N} or {@code dynamicConfigFile}), else null: in Apache mode with reconfigEnabled its
     * dynamic configuration files go beside it and it is rewritten as Apache's QuorumPeer does
     * ({@code io.tandem.server.zookeeper.ApacheConfigFiles}); the embedding API names none.
     */
    public Path configFile() { return configFile; }

    /** Every key as set, in the order set. */
    public Map<String, String> settings() { return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings)); }
}
