package io.tandem.server.kafka.group.consumer;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/** The uniform assignor's homogeneous road (one subscription for all members): balanced, sticky, complete. */
class UniformAssignorTest {
    private final UniformAssignor assignor = new UniformAssignor();
    private final TopicRef t = new TopicRef("t", UUID.nameUUIDFromBytes("t".getBytes()), 7);
    private final TopicRef u = new TopicRef("u", UUID.nameUUIDFromBytes("u".getBytes()), 3);

    private Map<String, Assignment> assign(List<String> members, Set<UUID> topicIds, Map<String, Assignment> previous) {
        List<PartitionAssignor.MemberSubscription> specs = members.stream()
                .map(m -> new PartitionAssignor.MemberSubscription(m, topicIds)).toList();
        Map<UUID, TopicRef> topics = new LinkedHashMap<>();
        topics.put(t.id(), t);
        topics.put(u.id(), u);
        return assignor.assign(specs, topics, previous);
    }

    /** Every partition of the subscribed topics exactly once, and no two members more than one apart. */
    private static void assertBalancedAndComplete(Map<String, Assignment> result, int total) {
        Set<String> seen = new HashSet<>();
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (Assignment a : result.values()) {
            min = Math.min(min, a.size());
            max = Math.max(max, a.size());
            a.partitions().forEach((topic, set) -> set.forEach(p -> assertTrue(seen.add(topic + "-" + p))));
        }
        assertEquals(total, seen.size());
        assertTrue(max - min <= 1, "sizes from " + min + " to " + max);
    }

    @Test
    void shouldSpreadEveryPartitionEvenlyAndKeepPartitionsWhereTheyWere() {
        Map<String, Assignment> first = assign(List.of("a", "b", "c"), Set.of(t.id(), u.id()), Map.of());
        assertBalancedAndComplete(first, 10);

        Map<String, Assignment> second = assign(List.of("a", "b", "c", "d"), Set.of(t.id(), u.id()), first);
        assertBalancedAndComplete(second, 10);
        for (String m : List.of("a", "b", "c")) {
            for (var e : second.get(m).partitions().entrySet()) {
                assertTrue(first.get(m).get(e.getKey()).containsAll(e.getValue()), m + " got another's partition");
            }
        }
        // Sticky: only what d needs moves (10 over 4 members: d gets 2, the three others keep 8 of their 10).
        assertEquals(2, second.get("d").size());

        // Nothing changed: every member keeps its assignment object.
        Map<String, Assignment> third = assign(List.of("a", "b", "c", "d"), Set.of(t.id(), u.id()), second);
        for (String m : second.keySet()) assertSame(second.get(m), third.get(m));
    }

    @Test
    void shouldDropPartitionsOfTopicsNoLongerSubscribedOrGone() {
        Map<String, Assignment> first = assign(List.of("a", "b"), Set.of(t.id(), u.id()), Map.of());
        Map<String, Assignment> second = assign(List.of("a", "b"), Set.of(t.id()), first);
        assertBalancedAndComplete(second, 7);
        for (Assignment a : second.values()) assertTrue(a.get(u.id()).isEmpty());
    }

    @Test
    void shouldGiveEmptyAssignmentsWhenThereAreMoreMembersThanPartitions() {
        List<String> members = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k");
        Map<String, Assignment> result = assign(members, Set.of(t.id(), u.id()), Map.of());
        assertEquals(members.size(), result.size());
        assertBalancedAndComplete(result, 10);
    }
}
