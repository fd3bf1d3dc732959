package io.tandem.kafka.client;

/**
 * A group as ListGroups names it; {@code state} is null from brokers before ListGroups v4, {@code type} (classic,
 * consumer, share, streams) null before v5.
 */
public record GroupListing(String groupId, String protocolType, String state, String type) {
}
