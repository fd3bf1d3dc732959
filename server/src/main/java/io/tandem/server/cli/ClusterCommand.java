package io.tandem.server.cli;

import io.tandem.zk.wire.FourLetterWord;
import io.tandem.kafka.client.Broker;
import io.tandem.kafka.client.ClusterMetadata;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaNetworkException;
import io.tandem.zk.client.ConnectString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem cluster}: the Kafka cluster's brokers and controller (from Metadata), and for a ZooKeeper connect
 * string each member's {@code srvr} answer (its mode: leader, follower, standalone). Exits 2 if any server asked about
 * could not be reached, so a script can use it as a health check.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = {"Show Kafka brokers and the controller, and/or each ZooKeeper member's role (srvr).",
                "Without flags: the Kafka cluster at $TANDEM_BOOTSTRAP_SERVER or localhost:9092.",
                "Exits 2 if any server could not be reached."})
public final class ClusterCommand extends CliCommand {
    /** The srvr answer is a few hundred bytes; anything far larger is not a ZooKeeper server. */
    static final int FOUR_LETTER_ANSWER_BYTES_MAX = 64 * 1024;

    @Mixin OutputOption output;

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT[,...]",
            defaultValue = "${env:TANDEM_BOOTSTRAP_SERVER}", description = "Kafka broker(s) to ask.")
    String bootstrapServer;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]", defaultValue = "${env:TANDEM_ZOOKEEPER}",
            description = "ZooKeeper members to ask for their role with srvr (needs srvr in 4lw.commands.whitelist,"
                    + " the default).")
    String zookeeper;

    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "How long to wait for each server (default 10000).")
    long timeoutMs;

    @Override
    protected int execute() {
        if (bootstrapServer == null && zookeeper == null) {
            bootstrapServer = "localhost:9092";
        }
        Map<String, Object> json = new LinkedHashMap<>();
        boolean allReached = true;
        if (bootstrapServer != null) {
            allReached &= kafka(json);
        }
        if (zookeeper != null) {
            if (bootstrapServer != null && !output.json()) {
                out().println();
            }
            allReached &= zookeeper(json);
        }
        if (output.json()) {
            Json.print(out(), json);
        }
        return allReached ? ExitCodes.OK : ExitCodes.UNREACHABLE;
    }

    private boolean kafka(Map<String, Object> json) {
        ClusterMetadata metadata;
        try (KafkaClient client = KafkaClient.builder(bootstrapServer).requestTimeout(Duration.ofMillis(timeoutMs))
                .build()) {
            metadata = client.metadata(List.of());
        } catch (KafkaNetworkException e) {
            if (output.json()) {
                json.put("kafka", Map.of("error", e.getMessage()));
            } else {
                err().println("error: " + e.getMessage());
            }
            return false;
        }
        if (output.json()) {
            Map<String, Object> kafka = new LinkedHashMap<>();
            kafka.put("clusterId", metadata.clusterId());
            kafka.put("controllerId", metadata.controllerId());
            kafka.put("brokers", List.copyOf(metadata.brokers().values()));
            json.put("kafka", kafka);
            return true;
        }
        out().println("Kafka cluster " + (metadata.clusterId() == null ? "(no id)" : metadata.clusterId())
                + ", controller " + (metadata.controllerId() < 0 ? "unknown" : metadata.controllerId()));
        Table table = new Table("BROKER", "HOST", "PORT", "RACK", "ROLE");
        for (Broker broker : metadata.brokers().values()) {
            table.row(broker.id(), broker.host(), broker.port(), broker.rack(),
                    broker.id() == metadata.controllerId() ? "controller" : "broker");
        }
        table.print(out());
        return true;
    }

    private boolean zookeeper(Map<String, Object> json) {
        List<InetSocketAddress> members;
        try {
            members = ConnectString.parse(zookeeper).hosts();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad --zookeeper '" + zookeeper + "': " + e.getMessage());
        }
        boolean allReached = true;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (InetSocketAddress member : members) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("server", member.getHostString() + ":" + member.getPort());
            try {
                putSrvr(row, parse(ask(member, "srvr")));
            } catch (IOException e) {
                allReached = false;
                row.put("error", "unreachable: " + e.getMessage());
            }
            rows.add(row);
        }
        if (output.json()) {
            json.put("zookeeper", rows);
            return allReached;
        }
        Table table = new Table("ZOOKEEPER", "MODE", "VERSION", "ZXID", "ZNODES", "CONNECTIONS");
        for (Map<String, Object> row : rows) {
            if (row.containsKey("error")) {
                table.row(row.get("server"), row.get("error"), null, null, null, null);
            } else {
                table.row(row.get("server"), row.get("mode"), row.get("version"), row.get("zxid"),
                        row.get("nodeCount"), row.get("connections"));
            }
        }
        table.print(out());
        return allReached;
    }

    private String ask(InetSocketAddress member, String word) throws IOException {
        return fourLetterWord(member, word, timeoutMs);
    }

    /**
     * Sends a four-letter word and reads the answer until the server closes the connection (also used by the web
     * console's ensemble page).
     */
    public static String fourLetterWord(InetSocketAddress member, String word, long timeoutMs) throws IOException {
        try (Socket socket = new Socket()) {
            int timeout = Math.toIntExact(Math.min(Integer.MAX_VALUE, timeoutMs));
            socket.connect(new InetSocketAddress(member.getHostString(), member.getPort()), timeout);
            socket.setSoTimeout(timeout);
            socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            int read;
            while ((read = in.read(buffer)) >= 0) {
                answer.write(buffer, 0, read);
                if (answer.size() > FOUR_LETTER_ANSWER_BYTES_MAX) {
                    throw new IOException("answer longer than " + FOUR_LETTER_ANSWER_BYTES_MAX + " bytes");
                }
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * What the ensemble table shows of a member's srvr answer (also on the web console's ensemble page): its mode,
     * version, zxid, node count and connections, or why there are none.
     */
    public static void putSrvr(Map<String, Object> row, Map<String, String> srvr) {
        if (!srvr.containsKey("Mode")) {
            row.put("error", "no srvr answer (is srvr in 4lw.commands.whitelist?)");
            return;
        }
        row.put("mode", srvr.get("Mode"));
        row.put("version", srvr.getOrDefault("Zookeeper version", "").split(",")[0]);
        row.put("zxid", srvr.get("Zxid"));
        row.put("nodeCount", srvr.get("Node count"));
        row.put("connections", srvr.get("Connections"));
    }

    /**
     * "Key: value" lines of a srvr answer. A member without a leader (Apache's and Tandem's alike) answers only
     * {@link FourLetterWord#NOT_SERVING}: its mode shows as "not serving".
     */
    public static Map<String, String> parse(String answer) {
        Map<String, String> fields = new LinkedHashMap<>();
        if (answer.strip().equals(FourLetterWord.NOT_SERVING)) {
            fields.put("Mode", "not serving");
            return fields;
        }
        for (String line : answer.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return fields;
    }
}
