package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Kafka broker wrote into a ZooKeeper, read with the official ZooKeeper client, in a form two ZooKeepers can be
 * compared by: each znode's path with its data (JSON with timestamps, ports and generated ids replaced by
 * placeholders), its ACL and the Stat fields that follow from the writes alone (version, cversion, aversion,
 * numChildren, ephemeral or not). Zxids, times, session ids and data lengths (ports and times have varying digits)
 * are left out.
 */
final class ZnodeTree {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PORT = Pattern.compile(":(\\d{2,5})\\b");
    private static final Pattern UUID = Pattern.compile("\\b[A-Za-z0-9_-]{22}\\b");
    /** A SCRAM credential's parts that follow from the random salt the client picked. */
    private static final Pattern SCRAM_SALTED = Pattern.compile("\\b(salt|stored_key|server_key)=[^,]+");

    private ZnodeTree() {
    }

    /** Every znode under each of {@code roots} (the roots included; {@code /zookeeper} left out), by path. */
    static SortedMap<String, String> read(String connectString, List<String> roots) throws Exception {
        ZooKeeper zk = connect(connectString);
        try {
            SortedMap<String, String> tree = new TreeMap<>();
            Map<String, String> ids = new HashMap<>();
            for (String root : roots) walk(zk, root, tree, ids);
            return tree;
        } finally {
            zk.close();
        }
    }

    /** The official ZooKeeper client, connected. */
    static ZooKeeper connect(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            zk.close();
            throw new IOException("no connection to " + connectString);
        }
        return zk;
    }

    private static void walk(ZooKeeper zk, String path, SortedMap<String, String> tree, Map<String, String> ids)
            throws Exception {
        Stat stat = new Stat();
        byte[] data;
        List<String> children;
        List<ACL> acl;
        try {
            data = zk.getData(path, false, stat);
            children = new ArrayList<>(zk.getChildren(path, false));
            acl = zk.getACL(path, new Stat());
        } catch (KeeperException.NoNodeException gone) {
            tree.put(path, "(none)");
            return;
        }
        tree.put(path, "data=" + normalizedData(data, ids) + " acl=" + acl.stream().map(a -> a.getId().getScheme()
                + ":" + a.getId().getId() + ":" + a.getPerms()).toList() + " version=" + stat.getVersion()
                + " cversion=" + stat.getCversion() + " aversion=" + stat.getAversion() + " numChildren="
                + stat.getNumChildren() + (stat.getEphemeralOwner() != 0 ? " ephemeral" : ""));
        Collections.sort(children);
        for (String child : children) {
            String childPath = (path.equals("/") ? "" : path) + "/" + child;
            // ZooKeeper's own subtree (quotas, the ensemble config) is the server's, not what Kafka wrote.
            if (!childPath.equals("/zookeeper")) walk(zk, childPath, tree, ids);
        }
    }

    private static String normalizedData(byte[] data, Map<String, String> ids) {
        if (data == null) return "null";
        String text = new String(data, StandardCharsets.UTF_8);
        try {
            JsonNode json = JSON.readTree(text);
            if (json != null && json.isContainerNode()) return normalize(json, ids).toString();
        } catch (IOException notJson) {
            // compared as it is
        }
        return text;
    }

    private static JsonNode normalize(JsonNode node, Map<String, String> ids) {
        if (node.isObject()) {
            ObjectNode out = JSON.createObjectNode();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                out.set(f.getKey(), switch (f.getKey()) {
                    case "timestamp" -> TextNode.valueOf("<time>");
                    case "port" -> TextNode.valueOf("<port>");
                    default -> normalize(f.getValue(), ids);
                });
            }
            return out;
        }
        if (node.isArray()) {
            var out = JSON.createArrayNode();
            for (JsonNode element : node) out.add(normalize(element, ids));
            return out;
        }
        if (node.isTextual()) return TextNode.valueOf(placeholders(node.asText(), ids));
        return node;
    }

    /**
     * Ports in endpoints become {@code <port>}, a SCRAM credential's salt and keys {@code <salted>}, and a generated
     * id (22-character base64 uuid) the same placeholder each time.
     */
    private static String placeholders(String text, Map<String, String> ids) {
        String s = SCRAM_SALTED.matcher(text).replaceAll("$1=<salted>");
        s = PORT.matcher(s).replaceAll(":<port>");
        Matcher m = UUID.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String id = ids.computeIfAbsent(m.group(), k -> "<id " + (ids.size() + 1) + ">");
            m.appendReplacement(out, Matcher.quoteReplacement(id));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The lines where two trees differ, one per path. */
    static List<String> differences(SortedMap<String, String> expected, SortedMap<String, String> actual) {
        TreeMap<String, String> all = new TreeMap<>(expected);
        actual.forEach(all::putIfAbsent);
        List<String> lines = new ArrayList<>();
        for (String path : all.keySet()) {
            String e = expected.getOrDefault(path, "(absent)");
            String a = actual.getOrDefault(path, "(absent)");
            if (!e.equals(a)) lines.add(path + "\n   apache zk: " + e + "\n   tandem zk: " + a);
        }
        return lines;
    }
}
