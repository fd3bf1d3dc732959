package io.tandem.server.kafka.group.consumer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Kafka's server assignor {@code range}: topic by topic, the members subscribed to the topic (ordered by member id)
 * each get a contiguous range of its partitions, the first ones one more when the count does not divide. Members
 * subscribed to co-partitioned topics thus get the same partition numbers of each, which is what joins need.
 */
final class RangeAssignor implements PartitionAssignor {
    static final String NAME = "range";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Assignment> assign(Collection<MemberSubscription> members, Map<UUID, TopicRef> topics,
                                          Map<String, Assignment> previous) {
        Map<String, MemberSubscription> byId = new TreeMap<>();
        for (MemberSubscription m : members) byId.put(m.memberId(), m);
        Map<String, Assignment.Builder> builders = new LinkedHashMap<>();
        for (String id : byId.keySet()) builders.put(id, new Assignment.Builder());
        for (TopicRef topic : UniformAssignor.sorted(topics.values())) {
            List<String> subscribers = new ArrayList<>();
            for (MemberSubscription m : byId.values()) if (m.topicIds().contains(topic.id())) subscribers.add(m.memberId());
            if (subscribers.isEmpty()) continue;
            int per = topic.partitionCount() / subscribers.size();
            int extra = topic.partitionCount() % subscribers.size();
            int next = 0;
            for (int i = 0; i < subscribers.size(); i++) {
                int count = per + (i < extra ? 1 : 0);
                for (int p = next; p < next + count; p++) builders.get(subscribers.get(i)).add(topic.id(), p);
                next += count;
            }
        }
        Map<String, Assignment> result = new LinkedHashMap<>();
        builders.forEach((id, b) -> result.put(id, b.build()));
        return result;
    }
}
