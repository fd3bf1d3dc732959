package io.tandem.server.kafka.group.consumer;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** A server-side assignor (KIP-848): computes every member's target assignment from the subscriptions. */
interface PartitionAssignor {
    /** The name clients ask for in ServerAssignor and ConsumerGroupDescribe reports. */
    String name();

    /**
     * @param members  every member with the topic ids it subscribes to (existing topics only)
     * @param topics   the subscribed topics by id
     * @param previous the previous target assignment by member id, to stay sticky where the assignor is
     * @return the new target assignment of every member (members with nothing get an empty assignment)
     */
    Map<String, Assignment> assign(Collection<MemberSubscription> members, Map<UUID, TopicRef> topics,
                                   Map<String, Assignment> previous);

    /** A member as an assignor sees it. */
    record MemberSubscription(String memberId, Set<UUID> topicIds) {
    }
}
