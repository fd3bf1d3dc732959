package io.tandem.server.kafka.handlers;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/** Shared by the config APIs: resource types and reading and writing a resource's overrides. */
final class ConfigResources {
    static final byte TOPIC = 2;
    static final byte BROKER = 4;
    static final byte BROKER_LOGGER = 8;

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
            default -> 0;
        };
    }

    static TopicInfo topic(KafkaBroker broker, String name) {
        TopicInfo topic = broker.metadata().topic(name);
        if (topic == null) throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " does not exist.");
        return topic;
    }

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
            if (validateOnly) return;
            TopicInfo updated = broker.metadata().setTopicConfig(topic.name(), new LinkedHashMap<>(overrides));
            broker.topicConfigChanged(updated);
        } else if (type == BROKER) {
            checkBroker(broker, name);
            if (!validateOnly) broker.metadata().setBrokerConfigOverrides(overrides);
        } else {
            throw new ApiException(INVALID_REQUEST, "Unsupported resource type " + type);
        }
    }

    static Map<String, String> current(KafkaBroker broker, byte type, String name) {
        if (type == TOPIC) return new LinkedHashMap<>(topic(broker, name).configs());
        if (type == BROKER) {
            checkBroker(broker, name);
            return new LinkedHashMap<>(broker.metadata().brokerConfigOverrides());
        }
        throw new ApiException(INVALID_REQUEST, "Unsupported resource type " + type);
    }
}
