package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection quota keys of Kafka's SocketServer changed through IncrementalAlterConfigs, side by side on an
 * Apache Kafka 3.9.1 broker in ZooKeeper mode and on Tandem: {@code max.connections},
 * {@code listener.name.<listener>.max.connections}, {@code max.connections.per.ip} and
 * {@code max.connections.per.ip.overrides}, valid and invalid values, for this broker and as the cluster default; each
 * must get the same answer (error class and message). Validated only, so one broker takes every case. Then what a
 * lower {@code max.connections} does to connections already open: Kafka's processors close the least recently used
 * ones until the broker is back within the maximum, and so must Tandem.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ConnectionQuotaConfigDifferentialTest {
    private static final ConfigResource BROKER = new ConfigResource(ConfigResource.Type.BROKER, "0");
    private static final ConfigResource CLUSTER_DEFAULT = new ConfigResource(ConfigResource.Type.BROKER, "");

    /** Each case: the resource and its settings, validated only. */
    private record Case(ConfigResource resource, Map<String, String> settings) {
        @Override
        public String toString() {
            return (resource.name().isEmpty() ? "default" : "broker " + resource.name()) + " " + settings;
        }
    }

    private static final List<Case> CASES = List.of(
            new Case(BROKER, Map.of("max.connections", "100")),
            new Case(CLUSTER_DEFAULT, Map.of("max.connections", "100")),
            new Case(BROKER, Map.of("max.connections", "0")),
            new Case(BROKER, Map.of("max.connections", "-1")),
            new Case(BROKER, Map.of("listener.name.plaintext.max.connections", "10")),
            new Case(CLUSTER_DEFAULT, Map.of("listener.name.plaintext.max.connections", "10")),
            new Case(CLUSTER_DEFAULT, Map.of("listener.name.external.max.connections", "10")),
            new Case(BROKER, Map.of("listener.name.plaintext.max.connections", "0")),
            new Case(BROKER, Map.of("listener.name.plaintext.max.connections", "-1")),
            new Case(BROKER, Map.of("listener.name.plaintext.max.connections", "many")),
            new Case(BROKER, Map.of("max.connections.per.ip", "100")),
            new Case(CLUSTER_DEFAULT, Map.of("max.connections.per.ip", "0")),
            new Case(BROKER, Map.of("max.connections.per.ip", "-1")),
            new Case(BROKER, Map.of("max.connections.per.ip.overrides", "127.0.0.1:5,localhost:0")),
            new Case(CLUSTER_DEFAULT, Map.of("max.connections.per.ip.overrides", "127.0.0.1:5")),
            new Case(BROKER, Map.of("max.connections.per.ip.overrides", "hostName#:100")),
            new Case(BROKER, Map.of("max.connections.per.ip.overrides", "127.0.0.1")),
            new Case(BROKER, Map.of("max.connections.per.ip.overrides", "127.0.0.1:many")),
            new Case(BROKER, Map.of("max.connections.per.ip", "0", "max.connections.per.ip.overrides",
                    "127.0.0.1:5")),
            new Case(BROKER, Map.of("listener.name.plaintext.max.connection.creation.rate", "0")));

    @TempDir
    Path dir;

    @Test
    void shouldAnswerConnectionQuotaChangesAndCloseExcessConnectionsAsApacheKafka39() throws Exception {
        List<String> apacheAnswers;
        try (Tandem zooKeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zooKeeper.zookeeperConnect(),
                     Differential.SETTINGS)) {
            Differential.awaitReady(apache).close();
            apacheAnswers = run("127.0.0.1", apache.port());
        }
        List<String> tandemAnswers;
        TandemConfig config = TandemConfig.forTests(dir.resolve("tandem"));
        Differential.SETTINGS.forEach(config::set);
        try (Tandem tandem = Tandem.start(config)) {
            tandemAnswers = run("127.0.0.1", tandem.kafkaPort());
        }
        for (int i = 0; i < apacheAnswers.size(); i++) {
            System.out.println("Apache: " + apacheAnswers.get(i) + "\nTandem: " + tandemAnswers.get(i));
        }
        assertEquals(String.join("\n", apacheAnswers), String.join("\n", tandemAnswers));
    }

    private static List<String> run(String host, int port) throws Exception {
        List<String> answers = new ArrayList<>();
        Map<String, Object> adminConfig = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, host + ":" + port);
        try (Admin admin = Admin.create(adminConfig)) {
            for (Case c : CASES) {
                List<AlterConfigOp> ops = new ArrayList<>();
                c.settings().forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v),
                        AlterConfigOp.OpType.SET)));
                String answer;
                try {
                    admin.incrementalAlterConfigs(Map.of(c.resource(), ops),
                            new AlterConfigsOptions().validateOnly(true)).all().get(30, TimeUnit.SECONDS);
                    answer = "ok";
                } catch (ExecutionException e) {
                    answer = e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
                }
                answers.add(c + " -> " + answer);
            }
        }
        // Three idle connections, then max.connections 1: the broker closes the least recently used connections
        // until it is within it, the idle ones first (the Admin's, used last, are checked while it is open).
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) idle.add(new Socket(host, port));
            try (Admin admin = Admin.create(adminConfig)) {
                admin.incrementalAlterConfigs(Map.of(BROKER, List.of(new AlterConfigOp(
                        new ConfigEntry("max.connections", "1"), AlterConfigOp.OpType.SET))))
                        .all().get(30, TimeUnit.SECONDS);
                Map<Integer, Boolean> closed = new LinkedHashMap<>();
                for (int i = 0; i < idle.size(); i++) closed.put(i, closedWithin(idle.get(i), 10_000));
                answers.add("idle connections closed after max.connections=1: " + closed);
            }
        } finally {
            for (Socket s : idle) s.close();
        }
        return answers;
    }

    /** Whether the peer closed the socket within {@code ms} (it sends nothing to a client that asked nothing). */
    private static boolean closedWithin(Socket socket, int ms) throws IOException {
        socket.setSoTimeout(ms);
        InputStream in = socket.getInputStream();
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }
}
