package io.tandem.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Compares two JSON answers by shape: the same keys, nested the same way, values of the same JSON types. */
public final class JsonShapes {
    private JsonShapes() {
    }

    /** Adds each difference to {@code out}; arrays are compared by their first elements when both have one. */
    public static void compare(String path, JsonNode apache, JsonNode ours, List<String> out) {
        if (apache.getNodeType() != ours.getNodeType()) {
            out.add(path + ": " + apache.getNodeType() + " vs " + ours.getNodeType());
            return;
        }
        if (apache.isArray()) {
            if (apache.size() > 0 && ours.size() > 0) compare(path + "[0]", apache.get(0), ours.get(0), out);
            return;
        }
        if (!apache.isObject()) return;
        Set<String> keys = new TreeSet<>();
        apache.fieldNames().forEachRemaining(keys::add);
        ours.fieldNames().forEachRemaining(keys::add);
        for (String key : keys) {
            String at = path.isEmpty() ? key : path + "." + key;
            if (!ours.has(key)) {
                out.add("missing " + at);
            } else if (!apache.has(key)) {
                out.add("extra " + at);
            } else {
                compare(at, apache.get(key), ours.get(key), out);
            }
        }
    }
}
