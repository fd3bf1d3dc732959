package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.RequestContext;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Shared by the config APIs: resource types, the checks Kafka makes on every resource of an alter request before
 * looking at its type, and reading and writing a resource's settings (a topic's overrides; a broker's dynamic
 * settings through {@link io.tandem.server.kafka.DynamicBrokerConfig}; a group's configs through
 * {@link io.tandem.server.kafka.group.share.GroupConfigs}).
 */
final class ConfigResources {
    static final byte TOPIC = 2;
    static final byte BROKER = 4;
    static final byte BROKER_LOGGER = 8;
    /** Group configs (KIP-848, KIP-932): Kafka 4.x's GroupConfig keys, of which Tandem serves the share ones. */
    static final byte GROUP = 32;
    /** Kafka answers every copy of a resource named twice in one request with this error. */
    static final String DUPLICATE_RESOURCE = "Each resource must appear at most once.";

    private ConfigResources() {
    }

    /** Kafka's ConfigEntry.ConfigType codes for DescribeConfigs v3+. */
    static byte configType(String type) {
        return switch (type) {
            case "BOOLEAN" -> 1;
            case "STRING" -> 2;
            case "INT" -> 3;
            case "SHORT" -> 4;
            case "LONG" -> 5;
            case "DOUBLE" -> 6;
            case "LIST" -> 7;
            case "CLASS" -> 8;
            case "PASSWORD" -> 9;
            default -> 0;
        };
    }

    static TopicInfo topic(KafkaBroker broker, String name) {
        TopicInfo topic = broker.metadata().knownTopic(name);
        if (topic == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " does not exist.");
        return topic;
    }

    /** DescribeConfigs accepts this broker's id or "" (the cluster default). */
    static void checkBroker(KafkaBroker broker, String name) {
        if (!name.isEmpty() && !name.equals(Integer.toString(broker.config().brokerId()))) {
            throw new ApiException(INVALID_REQUEST, "Unexpected broker id, expected " + broker.config().brokerId()
                    + " or empty string, but received " + name);
        }
    }

    /** Validates overrides and writes them as the resource's complete set. */
    static void write(KafkaBroker broker, byte type, String name, Map<String, String> overrides, boolean validateOnly)
            throws Exception {
        if (type == TOPIC) {
            TopicInfo topic = topic(broker, name);
            for (Map.Entry<String, String> e : overrides.entrySet()) {
                String reason = TopicConfigs.invalidReason(e.getKey(), e.getValue());
                if (reason != null) throw new ApiException(INVALID_CONFIG, reason);
            }
            String conflict = broker.topicConfigs().conflict(overrides);
            if (conflict != null) throw new ApiException(INVALID_CONFIG, conflict);
            if (validateOnly) return;
            TopicInfo updated = broker.metadata().configOverrides().setTopicConfig(topic.name(),
                    new LinkedHashMap<>(overrides));
            broker.topics().topicConfigChanged(updated);
        } else if (type == BROKER) {
            broker.dynamicConfig().alter(name, overrides, validateOnly);
        } else if (type == GROUP) {
            broker.groupConfigs().set(name, overrides, validateOnly);
        } else {
            throw new ApiException(INVALID_REQUEST, "Unsupported resource type " + type);
        }
    }

    /**
     * Kafka's checks of one resource's entries before its type is looked at: each name at most once, and a value for
     * every entry (but a DELETE's), naming the offenders as Kafka does.
     */
    static void checkEntries(List<String> names, List<String> namesWithoutValue) {
        if (new HashSet<>(names).size() != names.size()) {
            throw new ApiException(INVALID_REQUEST, "Error due to duplicate config keys");
        }
        if (!namesWithoutValue.isEmpty()) {
            throw new ApiException(INVALID_REQUEST, "Null value not supported for : " + String.join(", ", namesWithoutValue));
        }
    }

    /** What altering one resource does once it may: its overrides computed and written (or only validated). */
    @FunctionalInterface
    interface Alteration {
        void apply() throws Exception;
    }

    /**
     * One resource of an AlterConfigs or IncrementalAlterConfigs, as both answer it: ALTER_CONFIGS checked on the
     * resource, a resource named twice in the request refused, then {@code alteration}; its error code and message
     * (none on success, where Kafka sends null rather than the codec's "").
     */
    static ApiError alter(KafkaBroker broker, RequestContext context, byte type, String name,
                          Set<List<Object>> duplicates, Alteration alteration) {
        try {
            authorize(broker, context, type, name, AclOperation.ALTER_CONFIGS);
            if (duplicates.contains(List.of(type, name))) {
                throw new ApiException(INVALID_REQUEST, DUPLICATE_RESOURCE);
            }
            alteration.apply();
            return ApiError.NONE;
        } catch (ApiException e) {
            return new ApiError(e.error(), e.getMessage());
        } catch (Exception e) {
            return new ApiError(UNKNOWN_SERVER_ERROR, e.toString());
        }
    }

    /** The resources named more than once in a request, as (type, name) pairs. */
    static Set<List<Object>> duplicates(List<List<Object>> resources) {
        Set<List<Object>> seen = new HashSet<>();
        Set<List<Object>> duplicates = new HashSet<>();
        for (List<Object> resource : resources) {
            if (!seen.add(resource)) duplicates.add(resource);
        }
        return duplicates;
    }

    static Map<String, String> current(KafkaBroker broker, byte type, String name) {
        if (type == TOPIC) return new LinkedHashMap<>(topic(broker, name).configs());
        if (type == BROKER) return broker.dynamicConfig().current(name);
        if (type == GROUP) return broker.groupConfigs().overrides(name);
        throw new ApiException(INVALID_REQUEST, "Unsupported resource type " + type);
    }

    /**
     * Kafka's check of a config resource: a topic needs the operation on the topic (TOPIC_AUTHORIZATION_FAILED),
     * a broker or broker logger on the cluster (CLUSTER_AUTHORIZATION_FAILED), both answered without a message.
     */
    static void authorize(KafkaBroker broker, RequestContext context, byte resourceType, String resourceName,
                          AclOperation operation) {
        if (resourceType == TOPIC) {
            if (!broker.authorization().topic(context, operation, resourceName)) {
                throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
            }
        } else if (resourceType == GROUP) {
            if (!broker.authorization().group(context, operation, resourceName)) {
                throw new ApiException(GROUP_AUTHORIZATION_FAILED, null);
            }
        } else if (!broker.authorization().allowedOnCluster(context, operation)) {
            throw new ApiException(CLUSTER_AUTHORIZATION_FAILED, null);
        }
    }
}
