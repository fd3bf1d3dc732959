package io.tandem.server.kafka.metadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kafka's FeatureZNode ({@code /feature}, KIP-584) as Kafka 3.9's ZkData encodes it: the node's format version, its
 * status (versioning enabled or not) and each finalized feature's {@code max_version_level}. Version 1 also has a
 * {@code min_version_level} (read, never written: Kafka writes version 2 from inter.broker.protocol.version 3.3,
 * and Tandem speaks 3.9's). Two nodes are equal as Kafka's case class is: same version, status and levels.
 *
 * @param features every feature the node lists with its level, level 0 included (see {@link #finalized()})
 */
public record FeatureZnode(int version, int status, Map<String, Short> features) {
    public static final int V1 = 1;
    public static final int V2 = 2;
    public static final int STATUS_DISABLED = 0;
    public static final int STATUS_ENABLED = 1;
    private static final String MAX_VERSION_LEVEL = "max_version_level";
    private static final ObjectMapper JSON = new ObjectMapper();

    public FeatureZnode {
        features = Map.copyOf(features);
    }

    /** Versioning enabled with these levels, in the format Kafka 3.9's controller writes (version 2). */
    public static FeatureZnode enabled(Map<String, Short> levels) {
        return new FeatureZnode(V2, STATUS_ENABLED, levels);
    }

    /** The levels in force: those above 0 of an enabled node; a disabled node finalizes nothing. */
    public Map<String, Short> finalized() {
        Map<String, Short> levels = new LinkedHashMap<>();
        if (status != STATUS_ENABLED) return levels;
        features.forEach((name, level) -> {
            if (level > 0) levels.put(name, level);
        });
        return levels;
    }

    /**
     * The bytes Kafka 3.9 writes, field for field in its order ({@code {"features":{...},"version":2,"status":1}}),
     * so a tree a Tandem controller wrote is the one an Apache controller would have.
     */
    public byte[] encode() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode levels = root.putObject("features");
        features.forEach((name, level) -> {
            ObjectNode feature = levels.putObject(name);
            feature.put(MAX_VERSION_LEVEL, level);
            if (version == V1) feature.put("min_version_level", level);
        });
        root.put("version", version);
        root.put("status", status);
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Either version of the node; missing fields read as Kafka's defaults would leave them (enabled, no features). */
    public static FeatureZnode decode(byte[] data) throws IOException {
        Map<String, Short> levels = new LinkedHashMap<>();
        if (data == null || data.length == 0) return new FeatureZnode(V2, STATUS_ENABLED, levels);
        JsonNode root = JSON.readTree(data);
        root.path("features").fields().forEachRemaining(e -> levels.put(e.getKey(),
                (short) e.getValue().path(MAX_VERSION_LEVEL).asInt(0)));
        return new FeatureZnode(root.path("version").asInt(V2), root.path("status").asInt(STATUS_ENABLED), levels);
    }
}
