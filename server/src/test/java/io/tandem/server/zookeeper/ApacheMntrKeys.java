package io.tandem.server.zookeeper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.admin.Commands;
import org.apache.zookeeper.server.admin.JsonOutputter;

/**
 * mntr's keys and value kinds as Apache ZooKeeper 3.9.5 prints them (its own server in this JVM, its monitor command
 * run after some traffic), and the same read from a Tandem server's mntr word, so tests can hold Tandem's lines to
 * Apache's key by key.
 */
public final class ApacheMntrKeys {
    /** A value's kind as mntr prints it: a whole number, a decimal or text. */
    public enum Kind { INTEGER, DECIMAL, TEXT }

    private static final Pattern INTEGER = Pattern.compile("-?\\d+");
    private static final Pattern DECIMAL = Pattern.compile("-?\\d+\\.\\d+(E-?\\d+)?");
    /**
     * A line of Apache's per-namespace summary sets: {@code zk_<stat>_<namespace>_write_per_namespace} (or read). The
     * namespaces are the test's own, so such a line is held to Apache's line for the namespace its traffic used.
     */
    private static final Pattern PER_NAMESPACE =
            Pattern.compile("zk_(avg|min|max|cnt|sum)_.+_(write|read)_per_namespace");
    /** The top-level znode {@link #apacheStandalone}'s traffic writes and reads under. */
    public static final String APACHE_NAMESPACE = "traffic";

    /**
     * Apache's leader lines (LeaderZooKeeperServer's gauges), which its standalone server has not: an ensemble's
     * leader may print them too.
     */
    public static final Map<String, Kind> LEADER_LINES = Map.of("zk_learners", Kind.INTEGER,
            "zk_synced_followers", Kind.INTEGER, "zk_synced_non_voting_followers", Kind.INTEGER,
            "zk_synced_observers", Kind.INTEGER, "zk_pending_syncs", Kind.INTEGER, "zk_leader_uptime", Kind.INTEGER,
            "zk_last_proposal_size", Kind.INTEGER, "zk_max_proposal_size", Kind.INTEGER,
            "zk_min_proposal_size", Kind.INTEGER);

    /**
     * Apache's lines of every quorum member, whatever its role, that its standalone server has not:
     * QuorumZooKeeperServer's {@code quorum_size} gauge (QuorumPeer.getQuorumSize, the members in its view).
     */
    public static final Map<String, Kind> QUORUM_LINES = Map.of("zk_quorum_size", Kind.INTEGER);

    /** A quorum member's lines beyond a standalone server's: {@link #QUORUM_LINES}, a leader's {@link #LEADER_LINES}. */
    public static Map<String, Kind> ensembleLines(boolean leader) {
        Map<String, Kind> lines = new HashMap<>(QUORUM_LINES);
        if (leader) lines.putAll(LEADER_LINES);
        return lines;
    }

    private ApacheMntrKeys() {
    }

    /** Apache 3.9.5's standalone mntr keys ({@code zk_} names) and kinds, after a create, a read and a set. */
    public static Map<String, Kind> apacheStandalone(Path dir) throws Exception {
        ZooKeeperServer apache = new ZooKeeperServer(dir.resolve("apache-snap").toFile(),
                dir.resolve("apache-log").toFile(), 2000);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
        try {
            factory.startup(apache);
            try (ZooKeeper zk = new ZooKeeper("127.0.0.1:" + factory.getLocalPort(), 10_000, event -> { })) {
                zk.create("/" + APACHE_NAMESPACE, new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.getData("/" + APACHE_NAMESPACE, false, null);
                zk.setData("/" + APACHE_NAMESPACE, new byte[] {2}, -1);
            }
            StringWriter out = new StringWriter();
            new JsonOutputter("127.0.0.1").output(Commands.getCommand("mntr").runGet(apache, new HashMap<>()),
                    new PrintWriter(out));
            JsonNode monitor = new ObjectMapper().readTree(out.toString());
            Map<String, Kind> kinds = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = monitor.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().equals("command") || field.getKey().equals("error")) continue;
                JsonNode value = field.getValue();
                kinds.put("zk_" + field.getKey(), value.isIntegralNumber() ? Kind.INTEGER
                        : value.isNumber() ? Kind.DECIMAL : Kind.TEXT);
            }
            return kinds;
        } finally {
            factory.shutdown();
            apache.shutdown();
        }
    }

    /** The mntr word's answer from the server on {@code clientPort}, its lines as key to value, in order. */
    public static Map<String, String> mntr(int clientPort) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("mntr".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            Map<String, String> lines = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                String[] kv = line.split("\t", 2);
                if (kv.length != 2) throw new AssertionError("not a mntr line: '" + line + "'");
                lines.put(kv[0], kv[1]);
            }
            return lines;
        }
    }

    /** How mntr's text shows {@code value}. */
    public static Kind kindOf(String value) {
        return INTEGER.matcher(value).matches() ? Kind.INTEGER : DECIMAL.matcher(value).matches() ? Kind.DECIMAL
                : Kind.TEXT;
    }

    /**
     * Every line of {@code tandem} that Apache has not ({@code apache}, plus {@code extra}), or has with another kind
     * of value: empty when Tandem's keys are a subset of Apache's with the same kinds.
     */
    public static List<String> notApaches(Map<String, String> tandem, Map<String, Kind> apache,
                                          Map<String, Kind> extra) {
        List<String> differences = new ArrayList<>();
        tandem.forEach((key, value) -> {
            java.util.regex.Matcher namespaced = PER_NAMESPACE.matcher(key);
            String apacheKey = namespaced.matches() ? "zk_" + namespaced.group(1) + "_" + APACHE_NAMESPACE + "_"
                    + namespaced.group(2) + "_per_namespace" : key;
            Kind expected = apache.containsKey(apacheKey) ? apache.get(apacheKey) : extra.get(key);
            if (expected == null) {
                differences.add(key + " (Apache has no such line)");
            } else if (expected != kindOf(value)) {
                differences.add(key + " = " + value + " (Apache's is " + expected + ")");
            }
        });
        return differences;
    }

    /** A line's whole-number value. */
    public static long number(Map<String, String> mntr, String key) {
        String value = mntr.get(key);
        if (value == null) throw new AssertionError("mntr has no " + key + ": " + mntr.keySet());
        return Long.parseLong(value);
    }
}
