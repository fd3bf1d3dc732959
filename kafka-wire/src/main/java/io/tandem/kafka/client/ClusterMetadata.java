package io.tandem.kafka.client;

import java.util.Map;

/**
 * A Metadata answer: the brokers by id, the controller (-1 if the broker does not know it) and the topics asked for by
 * name. Topics the broker answered with an error are in {@code topicErrors} instead of {@code topics}.
 */
public record ClusterMetadata(String clusterId, int controllerId, Map<Integer, Broker> brokers,
                              Map<String, TopicInfo> topics, Map<String, String> topicErrors) {
}
