package io.tandem.server.kafka.group.consumer;

/**
 * The session timeout and heartbeat interval one consumer group's members run with: the group's own
 * {@code consumer.session.timeout.ms} / {@code consumer.heartbeat.interval.ms} (ConfigResource GROUP) when set, else
 * the broker's {@code group.consumer.*} keys, as Kafka's GroupMetadataManager reads them per group from its
 * GroupConfigManager. No relation between the two is enforced here: Kafka checks it when the configs are altered and
 * only warns when the broker's bounds later clamp them into one that does not hold.
 */
public record GroupTimeouts(int sessionTimeoutMs, int heartbeatIntervalMs) {
}
