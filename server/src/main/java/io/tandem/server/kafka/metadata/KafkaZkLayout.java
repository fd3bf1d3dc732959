package io.tandem.server.kafka.metadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tandem.kafka.wire.Features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Kafka 3.9's ZooKeeper layout: the znode paths and the JSON in them, byte-compatible with what a Kafka broker in
 * ZooKeeper mode writes (its {@code ZkData.scala}), so Kafka's own tools can read a Tandem cluster and vice versa.
 */
public final class KafkaZkLayout {
    public static final String CONTROLLER = "/controller";
    public static final String CONTROLLER_EPOCH = "/controller_epoch";
    public static final String BROKERS = "/brokers";
    public static final String BROKER_IDS = "/brokers/ids";
    public static final String BROKER_TOPICS = "/brokers/topics";
    public static final String BROKER_SEQID = "/brokers/seqid";
    public static final String CONFIG = "/config";
    public static final String CONFIG_TOPICS = "/config/topics";
    public static final String CONFIG_CHANGES = "/config/changes";
    /** The sequential node prefix under {@link #CONFIG_CHANGES}. */
    public static final String CONFIG_CHANGE_PREFIX = "config_change_";
    /** Delegation tokens: one node per token id, and a notification per change (Kafka's DelegationTokenAuthZNode). */
    public static final String DELEGATION_TOKENS = "/delegation_token/tokens";
    public static final String DELEGATION_TOKEN_CHANGES = "/delegation_token/token_changes";
    /** The sequential node prefix under {@link #DELEGATION_TOKEN_CHANGES}. */
    public static final String DELEGATION_TOKEN_CHANGE_PREFIX = "token_change_";
    public static final String ADMIN = "/admin";
    public static final String DELETE_TOPICS = "/admin/delete_topics";
    public static final String PREFERRED_REPLICA_ELECTION = "/admin/preferred_replica_election";
    public static final String REASSIGN_PARTITIONS = "/admin/reassign_partitions";
    public static final String ISR_CHANGE_NOTIFICATION = "/isr_change_notification";
    public static final String CLUSTER = "/cluster";
    public static final String CLUSTER_ID = "/cluster/id";
    public static final String LATEST_PRODUCER_ID_BLOCK = "/latest_producer_id_block";
    public static final String FEATURE = "/feature";
    /** Kafka 3.9's ACL stores: LITERAL patterns under /kafka-acl/<ResourceType>/<name>, PREFIXED ones under
     *  /kafka-acl-extended/prefixed/<ResourceType>/<name>, each with its own change-notification directory. */
    public static final String ACL_LITERAL = "/kafka-acl";
    public static final String ACL_EXTENDED = "/kafka-acl-extended";
    public static final String ACL_PREFIXED = ACL_EXTENDED + "/prefixed";
    public static final String ACL_LITERAL_CHANGES = "/kafka-acl-changes";
    public static final String ACL_EXTENDED_CHANGES = "/kafka-acl-extended-changes";
    /** The sequential node prefix under both ACL change directories. */
    public static final String ACL_CHANGE_PREFIX = "acl_changes_";

    /** The persistent paths a Kafka 3.9 broker creates at start-up if missing (its ZkData.PersistentZkPaths). */
    public static final List<String> PERSISTENT_PATHS = List.of("/consumers", BROKER_IDS, BROKER_TOPICS,
            CONFIG_CHANGES, "/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips",
            DELETE_TOPICS, "/brokers/seqid", ISR_CHANGE_NOTIFICATION, "/latest_producer_id_block",
            "/log_dir_event_notification");

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The keys of a supported feature range in a broker znode (Kafka's SupportedVersionRange labels). */
    private static final String MIN_VERSION = "min_version";
    private static final String MAX_VERSION = "max_version";

    private KafkaZkLayout() {
    }

    public static String brokerPath(int brokerId) {
        return BROKER_IDS + "/" + brokerId;
    }

    public static String topicPath(String topic) {
        return BROKER_TOPICS + "/" + topic;
    }

    public static String partitionsPath(String topic) {
        return topicPath(topic) + "/partitions";
    }

    public static String partitionPath(String topic, int partition) {
        return partitionsPath(topic) + "/" + partition;
    }

    public static String partitionStatePath(String topic, int partition) {
        return partitionPath(topic, partition) + "/state";
    }

    public static String topicConfigPath(String topic) {
        return CONFIG_TOPICS + "/" + topic;
    }

    public static String deleteTopicPath(String topic) {
        return DELETE_TOPICS + "/" + topic;
    }

    /** One listener of a broker: its name, security protocol and advertised address. */
    public record ListenerEndpoint(String listenerName, String securityProtocol, String host, int port) {
        /** Kafka's SecurityProtocol ids, as UpdateMetadata carries them. */
        public static final List<String> PROTOCOLS = List.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");

        public short securityProtocolId() {
            int id = PROTOCOLS.indexOf(securityProtocol);
            return (short) Math.max(id, 0);
        }

        public static String protocolName(short id) {
            return id >= 0 && id < PROTOCOLS.size() ? PROTOCOLS.get(id) : "PLAINTEXT";
        }
    }

    /**
     * A broker's registration: what {@code /brokers/ids/N} holds. {@code host}, {@code port} and
     * {@code listenerName} are the listener other brokers reach it on (the first endpoint); {@code endpoints} lists
     * every listener, that one first, for clients, who are told the endpoint of the listener they came in on.
     */
    public record BrokerRegistration(int brokerId, String host, int port, String listenerName, String rack,
                                     long timestampMs, List<ListenerEndpoint> endpoints) {
        public BrokerRegistration {
            endpoints = endpoints == null || endpoints.isEmpty()
                    ? List.of(new ListenerEndpoint(listenerName, "PLAINTEXT", host, port)) : List.copyOf(endpoints);
        }

        /** One PLAINTEXT listener. */
        public BrokerRegistration(int brokerId, String host, int port, String listenerName, String rack,
                                  long timestampMs) {
            this(brokerId, host, port, listenerName, rack, timestampMs, null);
        }

        /** The broker's endpoint on the named listener, or null when it has none. */
        public ListenerEndpoint endpoint(String listener) {
            for (ListenerEndpoint e : endpoints) {
                if (e.listenerName().equalsIgnoreCase(listener)) return e;
            }
            return null;
        }
    }

    /**
     * Version 5 of the broker znode (Kafka 3.x), every listener with its security protocol, and the feature levels
     * the broker supports ({@link Features#SUPPORTED}, as Kafka's SupportedVersionRange writes them), which
     * UpdateFeatures checks before finalizing a level.
     */
    public static byte[] encodeBroker(BrokerRegistration broker) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode features = root.putObject("features");
        Features.SUPPORTED.forEach((name, range) -> features.putObject(name)
                .put(MIN_VERSION, range.min()).put(MAX_VERSION, range.max()));
        ObjectNode protocolMap = root.putObject("listener_security_protocol_map");
        ArrayNode endpoints = root.putArray("endpoints");
        for (ListenerEndpoint e : broker.endpoints()) {
            protocolMap.put(e.listenerName(), e.securityProtocol());
            String host = e.host().contains(":") ? "[" + e.host() + "]" : e.host();
            endpoints.add(e.listenerName() + "://" + host + ":" + e.port());
        }
        if (broker.rack() != null) root.put("rack", broker.rack());
        root.put("jmx_port", -1);
        root.put("port", broker.port());
        root.put("host", broker.host());
        root.put("version", 5);
        root.put("timestamp", Long.toString(broker.timestampMs()));
        return bytes(root);
    }

    /** The feature levels a broker znode says its broker supports (none in a registration before version 5). */
    public static Map<String, Features.Range> decodeBrokerFeatures(byte[] data) {
        Map<String, Features.Range> supported = new LinkedHashMap<>();
        parse(data).path("features").fields().forEachRemaining(e -> supported.put(e.getKey(), new Features.Range(
                (short) e.getValue().path(MIN_VERSION).asInt(0), (short) e.getValue().path(MAX_VERSION).asInt(0))));
        return supported;
    }

    public static BrokerRegistration decodeBroker(int brokerId, byte[] data) {
        JsonNode root = parse(data);
        JsonNode endpoints = root.path("endpoints");
        if (endpoints.isArray() && endpoints.size() > 0) {
            // "LISTENER://host:port"; the first endpoint is the one other brokers use.
            JsonNode protocols = root.path("listener_security_protocol_map");
            List<ListenerEndpoint> listeners = new ArrayList<>();
            for (JsonNode node : endpoints) {
                String endpoint = node.asText();
                int scheme = endpoint.indexOf("://");
                int colon = endpoint.lastIndexOf(':');
                String host = endpoint.substring(scheme + 3, colon);
                if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
                String name = endpoint.substring(0, scheme);
                String protocol = protocols.path(name).asText(ListenerEndpoint.PROTOCOLS.contains(name) ? name : "PLAINTEXT");
                listeners.add(new ListenerEndpoint(name, protocol, host, Integer.parseInt(endpoint.substring(colon + 1))));
            }
            ListenerEndpoint first = listeners.get(0);
            return new BrokerRegistration(brokerId, first.host(), first.port(), first.listenerName(),
                    textOrNull(root, "rack"), root.path("timestamp").asLong(), listeners);
        }
        return new BrokerRegistration(brokerId, root.path("host").asText(), root.path("port").asInt(),
                "PLAINTEXT", textOrNull(root, "rack"), root.path("timestamp").asLong());
    }

    /** {@code /brokers/topics/T}: version 3 with the topic id (Kafka 3.x). */
    public static byte[] encodeTopicAssignment(TopicAssignment assignment) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 3);
        ObjectNode partitions = root.putObject("partitions");
        for (Map.Entry<Integer, List<Integer>> e : assignment.replicas().entrySet()) {
            ArrayNode replicas = partitions.putArray(Integer.toString(e.getKey()));
            for (int r : e.getValue()) replicas.add(r);
        }
        root.put("topic_id", TopicId.toText(assignment.topicId()));
        writePartitionLists(root.putObject("adding_replicas"), assignment.adding());
        writePartitionLists(root.putObject("removing_replicas"), assignment.removing());
        return bytes(root);
    }

    /** Reads versions 1-3; a topic written without an id (version 1) gets {@code null} and must be given one. */
    public static TopicAssignment decodeTopicAssignment(byte[] data) {
        JsonNode root = parse(data);
        String id = textOrNull(root, "topic_id");
        return new TopicAssignment(id == null ? null : TopicId.fromText(id), readPartitionLists(root.path("partitions")),
                readPartitionLists(root.path("adding_replicas")), readPartitionLists(root.path("removing_replicas")));
    }

    private static SortedMap<Integer, List<Integer>> readPartitionLists(JsonNode node) {
        SortedMap<Integer, List<Integer>> lists = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            List<Integer> list = new ArrayList<>();
            for (JsonNode r : e.getValue()) list.add(r.asInt());
            lists.put(Integer.parseInt(e.getKey()), list);
        }
        return lists;
    }

    private static void writePartitionLists(ObjectNode node, SortedMap<Integer, List<Integer>> lists) {
        for (Map.Entry<Integer, List<Integer>> e : lists.entrySet()) {
            ArrayNode list = node.putArray(Integer.toString(e.getKey()));
            for (int r : e.getValue()) list.add(r);
        }
    }

    /**
     * {@code {"version":1,"partitions":[{"topic":"t","partition":0}]}}, as Kafka's admin znodes list partitions. Data
     * that is not JSON lists none, as Kafka's decoders of these znodes read it (Json.parseBytes gives None): the
     * controller then handles the request as an empty one and removes it instead of failing on it for ever.
     */
    public static List<io.tandem.server.kafka.TopicPartition> decodePartitionList(byte[] data) {
        List<io.tandem.server.kafka.TopicPartition> partitions = new ArrayList<>();
        JsonNode root;
        try {
            root = JSON.readTree(data);
        } catch (IOException e) {
            return partitions;
        }
        if (root == null) return partitions;
        for (JsonNode p : root.path("partitions")) {
            partitions.add(new io.tandem.server.kafka.TopicPartition(p.path("topic").asText(), p.path("partition").asInt()));
        }
        return partitions;
    }

    /**
     * {@code /admin/reassign_partitions} as Kafka's tools write it: {"version":1,"partitions":[{"topic":..,
     * "partition":..,"replicas":[..]}]} (an optional "log_dirs" per partition is ignored: one log dir per broker).
     */
    public static java.util.LinkedHashMap<io.tandem.server.kafka.TopicPartition, List<Integer>> decodeReassignment(byte[] data) {
        java.util.LinkedHashMap<io.tandem.server.kafka.TopicPartition, List<Integer>> targets = new java.util.LinkedHashMap<>();
        for (JsonNode p : parse(data).path("partitions")) {
            List<Integer> replicas = new ArrayList<>();
            for (JsonNode r : p.path("replicas")) replicas.add(r.asInt());
            targets.put(new io.tandem.server.kafka.TopicPartition(p.path("topic").asText(), p.path("partition").asInt()),
                    replicas);
        }
        return targets;
    }

    public static byte[] encodeReassignment(java.util.Map<io.tandem.server.kafka.TopicPartition, List<Integer>> targets) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ArrayNode partitions = root.putArray("partitions");
        targets.forEach((tp, replicas) -> {
            ObjectNode p = partitions.addObject();
            p.put("topic", tp.topic());
            p.put("partition", tp.partition());
            ArrayNode r = p.putArray("replicas");
            for (int b : replicas) r.add(b);
        });
        return bytes(root);
    }

    public static byte[] encodePartitionState(PartitionState state) {
        ObjectNode root = JSON.createObjectNode();
        root.put("controller_epoch", state.controllerEpoch());
        root.put("leader", state.leader());
        root.put("version", 1);
        root.put("leader_epoch", state.leaderEpoch());
        ArrayNode isr = root.putArray("isr");
        for (int b : state.isr()) isr.add(b);
        return bytes(root);
    }

    public static PartitionState decodePartitionState(byte[] data) {
        JsonNode root = parse(data);
        List<Integer> isr = new ArrayList<>();
        for (JsonNode b : root.path("isr")) isr.add(b.asInt());
        return new PartitionState(root.path("leader").asInt(-1), root.path("leader_epoch").asInt(0),
                root.path("controller_epoch").asInt(0), isr);
    }

    public static byte[] encodeController(int brokerId, long timestampMs) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        root.put("brokerid", brokerId);
        root.put("timestamp", Long.toString(timestampMs));
        return bytes(root);
    }

    public static int decodeControllerId(byte[] data) {
        return parse(data).path("brokerid").asInt(-1);
    }

    /** {@code /config/topics/T} and the other entity configs: {@code {"version":1,"config":{...}}}. */
    public static byte[] encodeEntityConfig(Map<String, String> config) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ObjectNode map = root.putObject("config");
        for (Map.Entry<String, String> e : config.entrySet()) map.put(e.getKey(), e.getValue());
        return bytes(root);
    }

    public static Map<String, String> decodeEntityConfig(byte[] data) {
        Map<String, String> config = new LinkedHashMap<>();
        if (data == null || data.length == 0) return config;
        for (Iterator<Map.Entry<String, JsonNode>> it = parse(data).path("config").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            config.put(e.getKey(), e.getValue().asText());
        }
        return config;
    }

    /** The notification a config change leaves under {@code /config/changes/config_change_NNN}. */
    public static byte[] encodeConfigChange(String entityPath) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 2);
        root.put("entity_path", entityPath);
        return bytes(root);
    }

    /** {@code /cluster/id}: note the version is a string here, as Kafka writes it. */
    public static byte[] encodeClusterId(String clusterId) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1");
        root.put("id", clusterId);
        return bytes(root);
    }

    public static String decodeClusterId(byte[] data) {
        return parse(data).path("id").asText();
    }

    /** {@code /latest_producer_id_block}: block bounds as strings, inclusive end, as Kafka writes them. */
    public static byte[] encodeProducerIdBlock(int brokerId, long blockStart, long blockEnd) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        root.put("broker", brokerId);
        root.put("block_start", Long.toString(blockStart));
        root.put("block_end", Long.toString(blockEnd));
        return bytes(root);
    }

    /** The inclusive end of the last reserved block, or -1 when none was reserved yet. */
    public static long decodeProducerIdBlockEnd(byte[] data) {
        if (data == null || data.length == 0) return -1;
        return Long.parseLong(parse(data).path("block_end").asText("-1"));
    }

    public static byte[] encodeControllerEpoch(int epoch) {
        return Integer.toString(epoch).getBytes(StandardCharsets.UTF_8);
    }

    public static int decodeControllerEpoch(byte[] data) {
        return Integer.parseInt(new String(data, StandardCharsets.UTF_8).trim());
    }

    /** A new cluster id in Kafka's form (a random topic-id-style base64 UUID). */
    public static String newClusterId() {
        return TopicId.toText(UUID.randomUUID());
    }

    private static String textOrNull(JsonNode root, String field) {
        JsonNode node = root.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    private static JsonNode parse(byte[] data) {
        try {
            return JSON.readTree(data);
        } catch (IOException e) {
            throw new IllegalArgumentException("znode does not hold valid JSON: " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
