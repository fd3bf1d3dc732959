package io.tandem.compat.kafka.differential;

import static io.tandem.compat.kafka.ApacheKafkaLauncher.freePort;
import static io.tandem.compat.kafka.ApacheKafkaLauncher.java;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real Apache Kafka broker run as a separate JVM: Apache's jars (Scala, ZooKeeper 3.8, kafka-clients of its own
 * version) cannot share the test class path with the kafka-clients 4.x the tests decode with. Either 3.9.1 in
 * ZooKeeper mode (broker id 0, on a ZooKeeper the caller runs) or 4.x in KRaft combined mode (node id 0, storage
 * formatted first). The jars are fetched once per version into {@code target/apache-kafka-VERSION-MODE/lib} by
 * {@link ApacheKafkaLauncher}.
 */
final class ApacheBroker extends BrokerProcess {
    static final String ZOOKEEPER_MODE_VERSION = "3.9.1";
    private final String version;
    private final int port;

    private ApacheBroker(String version, Path workDir, String zookeeperConnect, Map<String, String> settings,
                         List<String> jvmOptions) throws IOException {
        this(version, workDir, zookeeperConnect, settings, jvmOptions, freePort());
    }

    private ApacheBroker(String version, Path workDir, String zookeeperConnect, Map<String, String> settings,
                         List<String> jvmOptions, int port) throws IOException {
        this.version = version;
        boolean kraft = zookeeperConnect == null;
        Path lib = fetchJars(version, kraft);
        Files.createDirectories(workDir);
        Path log = workDir.resolve("kafka.log");
        this.port = port;
        List<String> lines = new ArrayList<>(List.of("log.dirs=" + workDir.resolve("data").toAbsolutePath()));
        if (kraft) {
            lines.addAll(ApacheKafkaLauncher.kraftCombined(0, port, freePort()));
        } else {
            lines.addAll(List.of("broker.id=0", "listeners=PLAINTEXT://127.0.0.1:" + port,
                    "zookeeper.connect=" + zookeeperConnect));
        }
        settings.forEach((k, v) -> lines.add(k + "=" + v));
        Path properties = workDir.resolve("server.properties");
        Files.writeString(properties, String.join("\n", lines) + "\n");
        if (kraft) {
            ApacheKafkaLauncher.formatStorage(lib, "MkU3OEVBNTcwNTJENDM2Qg", properties, log);
        }
        // A small heap: the machine is shared. Kafka's own start script would give 1 GB.
        List<String> args = new ArrayList<>(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        args.addAll(jvmOptions);
        args.addAll(List.of("kafka.Kafka", properties.toString()));
        launch(java(lib, args.toArray(String[]::new)), log, "apache-kafka");
    }

    /** Apache Kafka 3.9.1 in ZooKeeper mode on the given ZooKeeper. */
    static ApacheBroker zookeeperMode(Path workDir, String zookeeperConnect, Map<String, String> settings)
            throws IOException {
        return new ApacheBroker(ZOOKEEPER_MODE_VERSION, workDir, zookeeperConnect, settings, List.of());
    }

    /** As {@link #zookeeperMode(Path, String, Map)}, with JVM options (a JAAS file for its ZooKeeper client, say). */
    static ApacheBroker zookeeperMode(Path workDir, String zookeeperConnect, Map<String, String> settings,
                                      List<String> jvmOptions) throws IOException {
        return new ApacheBroker(ZOOKEEPER_MODE_VERSION, workDir, zookeeperConnect, settings, jvmOptions);
    }

    /**
     * Apache Kafka 3.9.1 in ZooKeeper mode listening on {@code port}, known before it starts (so that a proxy in front
     * of it can be named in its advertised.listeners).
     */
    static ApacheBroker zookeeperMode(Path workDir, String zookeeperConnect, Map<String, String> settings, int port)
            throws IOException {
        return new ApacheBroker(ZOOKEEPER_MODE_VERSION, workDir, zookeeperConnect, settings, List.of(), port);
    }

    /** Apache Kafka of the given 4.x version in KRaft combined mode (a fixed cluster id). */
    static ApacheBroker kraftMode(String version, Path workDir, Map<String, String> settings) throws IOException {
        return new ApacheBroker(version, workDir, null, settings, List.of());
    }

    String version() {
        return version;
    }

    int port() {
        return port;
    }

    /** Fetches kafka_2.13 (and for KRaft kafka-tools) of a version with dependencies, once; returns the lib dir. */
    private static Path fetchJars(String version, boolean kraft) throws IOException {
        List<String> artifacts = new ArrayList<>(List.of("org.apache.kafka:kafka_2.13:" + version,
                "org.slf4j:slf4j-simple:1.7.36"));
        if (kraft) artifacts.add("org.apache.kafka:kafka-tools:" + version);
        return ApacheKafkaLauncher.fetchJars("apache-kafka-" + version + (kraft ? "-kraft" : "-zk"), artifacts);
    }
}
