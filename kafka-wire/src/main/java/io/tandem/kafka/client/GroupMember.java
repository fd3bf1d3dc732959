package io.tandem.kafka.client;

import java.util.List;

/** A member of a classic group; {@code assignment} is empty unless the group uses the consumer protocol. */
public record GroupMember(String memberId, String groupInstanceId, String clientId, String clientHost,
                          List<TopicPartition> assignment) {
}
