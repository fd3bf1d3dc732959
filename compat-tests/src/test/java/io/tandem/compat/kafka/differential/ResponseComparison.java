package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.apache.kafka.common.protocol.ApiMessage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a decoded response into a JSON tree with kafka-clients' own generated JsonConverter (every field at its
 * version, nulls kept), replaces the values that legitimately differ between two servers (ids, hosts, ports, paths,
 * disk sizes, member ids) by placeholders, orders lists whose order carries no meaning, and lists the field-level
 * differences between two such trees.
 */
final class ResponseComparison {
    private static final String ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";
    /** Keys that identify an element of a list, in order of preference: lists of such elements are compared by key. */
    private static final List<String> ELEMENT_KEYS = List.of("name", "groupId", "key", "partitionIndex", "index",
            "partition", "resourceName", "apiKey", "brokerId", "logDir");

    private ResponseComparison() {
    }

    /** One side's running map from real member ids to stable placeholders, so that both sides read alike. */
    static final class Placeholders {
        private final Map<String, String> memberIds = new HashMap<>();

        String member(String id) {
            if (id.isEmpty()) return id;
            return memberIds.computeIfAbsent(id, k -> "<member " + (memberIds.size() + 1) + ">");
        }
    }

    static JsonNode normalized(ApiMessage response, short version, Placeholders placeholders) throws Exception {
        Class<?> converter = Class.forName(response.getClass().getName() + "JsonConverter");
        JsonNode json = (JsonNode) converter.getMethod("write", response.getClass(), short.class, boolean.class)
                .invoke(null, response, version, true);
        return normalize(json, placeholders);
    }

    private static JsonNode normalize(JsonNode node, Placeholders placeholders) {
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                out.set(f.getKey(), normalizeField(f.getKey(), f.getValue(), placeholders));
            }
            return out;
        }
        if (node.isArray()) {
            List<JsonNode> elements = new ArrayList<>();
            node.forEach(e -> elements.add(normalize(e, placeholders)));
            String key = elementKey(elements);
            if (key != null) elements.sort(Comparator.comparing(e -> e.get(key).asText()));
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            elements.forEach(out::add);
            return out;
        }
        return node;
    }

    private static JsonNode normalizeField(String name, JsonNode value, Placeholders placeholders) {
        switch (name) {
            case "topicId":
                return value.isTextual() && !value.asText().equals(ZERO_UUID) ? TextNode.valueOf("<topic id>") : value;
            case "clusterId":
                return value.isTextual() && !value.asText().isEmpty() ? TextNode.valueOf("<cluster id>") : value;
            case "host":
                return value.isTextual() && !value.asText().isEmpty() ? TextNode.valueOf("<host>") : value;
            case "port":
                return value.isInt() && value.asInt() > 0 ? TextNode.valueOf("<port>") : value;
            case "logDir":
                return TextNode.valueOf("<log dir>");
            case "totalBytes", "usableBytes":
                return value.asLong() >= 0 ? TextNode.valueOf("<bytes>") : value;
            case "producerId":
                return value.asLong() >= 0 ? TextNode.valueOf("<producer id>") : value;
            case "transactionStartTimeMs", "lastTimestamp":
                // Each broker's clock (a transaction's start, a producer's last batch or marker).
                return value.asLong() > 0 ? TextNode.valueOf("<time>") : value;
            case "memberId", "leader":
                return value.isTextual() ? TextNode.valueOf(placeholders.member(value.asText())) : value;
            default:
                return normalize(value, placeholders);
        }
    }

    /** The field that identifies the elements of a list of objects, if every element has the same one. */
    private static String elementKey(List<JsonNode> elements) {
        if (elements.isEmpty() || !elements.get(0).isObject()) return null;
        for (String key : ELEMENT_KEYS) {
            if (elements.stream().allMatch(e -> e.has(key) && e.get(key).isValueNode())) return key;
        }
        return null;
    }

    /** Every path where the two trees differ, as "path: apache=X tandem=Y". */
    static List<String> differences(JsonNode apache, JsonNode tandem) {
        List<String> out = new ArrayList<>();
        diff("", apache, tandem, out);
        return out;
    }

    private static void diff(String path, JsonNode a, JsonNode t, List<String> out) {
        if (a == null || t == null || a.getNodeType() != t.getNodeType()) {
            if (!(a == null && t == null)) out.add(path + ": apache=" + a + " tandem=" + t);
            return;
        }
        if (a.isObject()) {
            Set<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            t.fieldNames().forEachRemaining(names::add);
            for (String name : names) diff(path + "." + name, a.get(name), t.get(name), out);
        } else if (a.isArray()) {
            List<JsonNode> as = new ArrayList<>();
            a.forEach(as::add);
            List<JsonNode> ts = new ArrayList<>();
            t.forEach(ts::add);
            String key = elementKey(as.isEmpty() ? ts : as);
            if (key != null && (ts.isEmpty() || key.equals(elementKey(ts)))) {
                Map<String, JsonNode> byKeyA = byKey(as, key);
                Map<String, JsonNode> byKeyT = byKey(ts, key);
                Set<String> keys = new TreeSet<>(byKeyA.keySet());
                keys.addAll(byKeyT.keySet());
                for (String k : keys) diff(path + "[" + k + "]", byKeyA.get(k), byKeyT.get(k), out);
            } else if (as.size() != ts.size()) {
                out.add(path + ": apache=" + a + " tandem=" + t);
            } else {
                for (int i = 0; i < as.size(); i++) diff(path + "[" + i + "]", as.get(i), ts.get(i), out);
            }
        } else if (!a.equals(t)) {
            out.add(path + ": apache=" + a + " tandem=" + t);
        }
    }

    private static Map<String, JsonNode> byKey(List<JsonNode> elements, String key) {
        Map<String, JsonNode> map = new LinkedHashMap<>();
        for (JsonNode e : elements) {
            String k = e.get(key).asText();
            // Repeated keys (the same topic twice in a request) stay apart.
            while (map.containsKey(k)) k = k + "'";
            map.put(k, e);
        }
        return map;
    }
}
