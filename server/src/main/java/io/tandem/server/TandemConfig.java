package io.tandem.server;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Everything a Tandem node is started with. Keys are the ones users already know: {@code zoo.cfg} keys for the
 * ZooKeeper side and Kafka's {@code server.properties} keys for the broker side, kept as strings so that a key this
 * class has no typed accessor for still reaches the component that reads it.
 */
public final class TandemConfig {
    /** Which halves of the node run in this process. */
    public enum Role { ZOOKEEPER, KAFKA }

    private final Map<String, String> settings = new LinkedHashMap<>();
    private Path dataDir = Path.of("tandem-data");
    private int zookeeperPort = 2181;
    private int kafkaPort = 9092;
    private Set<Role> roles = EnumSet.allOf(Role.class);

    /** The defaults of {@code ./tandem start}: ZooKeeper on 2181, Kafka on 9092, data in ./tandem-data. */
    public static TandemConfig defaults() {
        return new TandemConfig();
    }

    /** Free ports chosen by the OS and the given data directory: what tests and embedders want. */
    public static TandemConfig forTests(Path dataDir) {
        return new TandemConfig().dataDir(dataDir).zookeeperPort(0).kafkaPort(0);
    }

    public TandemConfig dataDir(Path dir) { this.dataDir = dir; return this; }
    public TandemConfig zookeeperPort(int port) { this.zookeeperPort = port; return this; }
    public TandemConfig kafkaPort(int port) { this.kafkaPort = port; return this; }
    public TandemConfig roles(Set<Role> roles) { this.roles = EnumSet.copyOf(roles); return this; }
    /** Sets any zoo.cfg or server.properties key, e.g. {@code set("tickTime", "2000")}. */
    public TandemConfig set(String key, String value) { settings.put(key, value); return this; }

    public Path dataDir() { return dataDir; }
    public int zookeeperPort() { return zookeeperPort; }
    public int kafkaPort() { return kafkaPort; }
    public Set<Role> roles() { return EnumSet.copyOf(roles); }
    public boolean has(Role role) { return roles.contains(role); }
    public String get(String key) { return settings.get(key); }
    public String get(String key, String fallback) { return settings.getOrDefault(key, fallback); }
    public int getInt(String key, int fallback) { String v = settings.get(key); return v == null ? fallback : Integer.parseInt(v.trim()); }
    public long getLong(String key, long fallback) { String v = settings.get(key); return v == null ? fallback : Long.parseLong(v.trim()); }
    public Map<String, String> settings() { return Map.copyOf(settings); }
}
