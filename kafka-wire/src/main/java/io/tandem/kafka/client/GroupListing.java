package io.tandem.kafka.client;

/** A group as ListGroups names it; {@code state} is null from brokers before ListGroups v4. */
public record GroupListing(String groupId, String protocolType, String state) {
}
