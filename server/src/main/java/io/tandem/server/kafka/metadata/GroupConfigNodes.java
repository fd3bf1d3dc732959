package io.tandem.server.kafka.metadata;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Group config overrides in the store, {@code /config/groups/<group id, URL-encoded>}: Kafka 3.9's ZooKeeper layout
 * has no group configs (KRaft keeps them in its metadata log), so this layout is Tandem's, kept beside the other
 * entity configs and announced through the same change notifications.
 */
public final class GroupConfigNodes {
    /** The entity type of group config change notifications (Tandem's: Kafka 3.9 has no group configs). */
    public static final String ENTITY_TYPE = "groups";
    private static final String ROOT = KafkaZkLayout.CONFIG + "/" + ENTITY_TYPE;

    private final ZnodeStore store;

    public GroupConfigNodes(ZnodeStore store) {
        this.store = store;
    }

    /** The group's config overrides; empty when none. */
    public Map<String, String> read(String groupId) throws Exception {
        byte[] data = store.getData(path(groupId));
        return data == null ? Map.of() : KafkaZkLayout.decodeEntityConfig(data);
    }

    /**
     * Every group's config overrides, by group id: a broker reads them all when it starts, as Kafka's brokers do,
     * the nodes asked for together (one round trip's wait, not one per group, where the store pipelines).
     */
    public Map<String, Map<String, String>> readAll() throws Exception {
        List<String> paths = new ArrayList<>();
        for (String node : store.getChildren(ROOT)) paths.add(ROOT + "/" + node);
        Map<String, Map<String, String>> result = new LinkedHashMap<>();
        for (Map.Entry<String, ZnodeStore.Versioned> e : store.getVersionedAll(paths).entrySet()) {
            if (e.getValue() == null) continue; // deleted since listed
            String node = e.getKey().substring(ROOT.length() + 1);
            result.put(groupIdOfNode(node), KafkaZkLayout.decodeEntityConfig(e.getValue().data()));
        }
        return result;
    }

    /**
     * Replaces the group's config overrides and leaves a change notification naming them ({@code groups/<node>},
     * the node's URL-encoded name, as Kafka's notifications name users and clients by their sanitized names), so
     * every broker applies the change at once ({@link ConfigChangeListener}).
     */
    public void write(String groupId, Map<String, String> configs) throws Exception {
        store.setData(path(groupId), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange(ENTITY_TYPE + "/" + node(groupId)));
    }

    /** The group id a {@code /config/groups} node (or a notification's entity name) stands for. */
    public static String groupIdOfNode(String node) {
        return java.net.URLDecoder.decode(node, StandardCharsets.UTF_8);
    }

    private static String path(String groupId) {
        return ROOT + "/" + node(groupId);
    }

    /** A group id may hold '/' or be empty: the node name is its URL encoding, never a path of its own. */
    private static String node(String groupId) {
        return java.net.URLEncoder.encode(groupId, StandardCharsets.UTF_8).replace(".", "%2E");
    }
}
