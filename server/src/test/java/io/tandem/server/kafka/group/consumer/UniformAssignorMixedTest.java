package io.tandem.server.kafka.group.consumer;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;
import org.apache.kafka.coordinator.group.modern.GroupSpecImpl;
import org.apache.kafka.coordinator.group.modern.MemberSubscriptionAndAssignmentImpl;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The uniform assignor's general road (members subscribed to different topics), beside Kafka 4.4's own
 * {@code uniform} assignor (UniformHeterogeneousAssignmentBuilder, from kafka-group-coordinator in test scope) on the
 * same seeded groups: both must assign every subscribed partition once, to a subscriber of its topic; be balanced as
 * Kafka's builder documents it (no partition could move to another subscriber of its topic whose load is two or more
 * below its owner's); and be sticky (a member that stays, with the same subscription, keeps every partition it had
 * unless balance takes it). Tandem must be no less balanced and move no more partitions than Kafka's within a small
 * margin, since the two may settle on different assignments that are both balanced in that sense.
 */
class UniformAssignorMixedTest {
    private final UniformAssignor assignor = new UniformAssignor();
    private final org.apache.kafka.coordinator.group.assignor.UniformAssignor kafka =
            new org.apache.kafka.coordinator.group.assignor.UniformAssignor();

    /** A group: topics by id and each member's subscription, seeded. */
    private record Group(Map<UUID, TopicRef> topics, List<PartitionAssignor.MemberSubscription> members) {
        Group without(String memberId) {
            return new Group(topics, members.stream().filter(m -> !m.memberId().equals(memberId)).toList());
        }

        Group with(PartitionAssignor.MemberSubscription member) {
            List<PartitionAssignor.MemberSubscription> more = new ArrayList<>(members);
            more.add(member);
            return new Group(topics, more);
        }
    }

    private static Group group(long seed, int memberCount, int topicCount, int maxPartitions, int maxTopics) {
        Random random = new Random(seed);
        Map<UUID, TopicRef> topics = new LinkedHashMap<>();
        List<UUID> ids = new ArrayList<>();
        for (int t = 0; t < topicCount; t++) {
            String name = "t" + t;
            TopicRef topic = new TopicRef(name, UUID.nameUUIDFromBytes(name.getBytes()), 1 + random.nextInt(maxPartitions));
            topics.put(topic.id(), topic);
            ids.add(topic.id());
        }
        List<PartitionAssignor.MemberSubscription> members = new ArrayList<>();
        for (int m = 0; m < memberCount; m++) members.add(subscriber("m" + m, ids, random, maxTopics));
        return new Group(topics, members);
    }

    private static PartitionAssignor.MemberSubscription subscriber(String id, List<UUID> topicIds, Random random,
                                                                   int maxTopics) {
        List<UUID> shuffled = new ArrayList<>(topicIds);
        Collections.shuffle(shuffled, random);
        int count = 1 + random.nextInt(Math.min(maxTopics, shuffled.size()));
        return new PartitionAssignor.MemberSubscription(id, new LinkedHashSet<>(shuffled.subList(0, count)));
    }

    private static Uuid kafkaId(UUID id) {
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    private static UUID ourId(Uuid id) {
        return new UUID(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    /** Kafka 4.4's uniform assignor on the same group and previous target assignment. */
    private Map<String, Assignment> kafka(Group group, Map<String, Assignment> previous) {
        Map<String, MemberSubscriptionAndAssignmentImpl> members = new LinkedHashMap<>();
        Map<Uuid, Map<Integer, String>> inverted = new HashMap<>();
        for (PartitionAssignor.MemberSubscription m : group.members()) {
            Set<Uuid> subscribed = new HashSet<>();
            for (UUID t : m.topicIds()) subscribed.add(kafkaId(t));
            Map<Uuid, Set<Integer>> before = new HashMap<>();
            Assignment a = previous.get(m.memberId());
            if (a != null) {
                a.partitions().forEach((t, ps) -> {
                    before.put(kafkaId(t), new HashSet<>(ps));
                    for (int p : ps) inverted.computeIfAbsent(kafkaId(t), k -> new HashMap<>()).put(p, m.memberId());
                });
            }
            members.put(m.memberId(), new MemberSubscriptionAndAssignmentImpl(Optional.empty(), Optional.empty(),
                    subscribed, new org.apache.kafka.coordinator.group.modern.Assignment(before)));
        }
        SubscribedTopicDescriber describer = new SubscribedTopicDescriber() {
            @Override
            public int numPartitions(Uuid topicId) {
                TopicRef t = group.topics().get(ourId(topicId));
                return t == null ? -1 : t.partitionCount();
            }

            @Override
            public Set<String> racksForPartition(Uuid topicId, int partition) {
                return Set.of();
            }
        };
        GroupAssignment assigned = kafka.assign(new GroupSpecImpl(members, SubscriptionType.HETEROGENEOUS, inverted),
                describer);
        Map<String, Assignment> result = new LinkedHashMap<>();
        for (Map.Entry<String, MemberAssignment> e : assigned.members().entrySet()) {
            Assignment.Builder b = new Assignment.Builder();
            e.getValue().partitions().forEach((t, ps) -> b.addAll(ourId(t), ps));
            result.put(e.getKey(), b.build());
        }
        return result;
    }

    private Map<String, Assignment> ours(Group group, Map<String, Assignment> previous) {
        return assignor.assign(group.members(), group.topics(), previous);
    }

    /** Every subscribed partition once, to a subscriber of its topic; every member listed. */
    private static void assertComplete(Group group, Map<String, Assignment> result, String who) {
        Map<String, Set<UUID>> subscriptions = new HashMap<>();
        Set<UUID> subscribed = new HashSet<>();
        for (PartitionAssignor.MemberSubscription m : group.members()) {
            subscriptions.put(m.memberId(), m.topicIds());
            subscribed.addAll(m.topicIds());
        }
        assertEquals(subscriptions.keySet(), result.keySet(), who + ": every member, and only members");
        Set<String> seen = new HashSet<>();
        result.forEach((m, a) -> a.partitions().forEach((t, ps) -> {
            assertTrue(subscriptions.get(m).contains(t), who + ": " + m + " got a topic it does not subscribe to");
            for (int p : ps) {
                assertTrue(p < group.topics().get(t).partitionCount(), who + ": no such partition");
                assertTrue(seen.add(t + ":" + p), who + ": " + t + ":" + p + " assigned twice");
            }
        }));
        int total = 0;
        for (UUID t : subscribed) total += group.topics().get(t).partitionCount();
        assertEquals(total, seen.size(), who + ": every subscribed partition assigned");
    }

    /** The largest (owner's load - lightest subscriber of that topic's load) over the assigned partitions. */
    private static int spread(Group group, Map<String, Assignment> result) {
        Map<UUID, Integer> lightest = new HashMap<>();
        for (PartitionAssignor.MemberSubscription m : group.members()) {
            int load = result.get(m.memberId()).size();
            for (UUID t : m.topicIds()) lightest.merge(t, load, Math::min);
        }
        int worst = 0;
        for (Assignment a : result.values()) {
            for (UUID t : a.partitions().keySet()) worst = Math.max(worst, a.size() - lightest.get(t));
        }
        return worst;
    }

    /** Partitions that changed owner between two assignments (among those assigned in both). */
    private static int moved(Map<String, Assignment> before, Map<String, Assignment> after) {
        Map<String, String> owner = new HashMap<>();
        before.forEach((m, a) -> a.partitions().forEach((t, ps) -> ps.forEach(p -> owner.put(t + ":" + p, m))));
        int[] moved = {0};
        after.forEach((m, a) -> a.partitions().forEach((t, ps) -> ps.forEach(p -> {
            String was = owner.get(t + ":" + p);
            if (was != null && !was.equals(m)) moved[0]++;
        })));
        return moved[0];
    }

    private static long squares(Map<String, Assignment> result) {
        long sum = 0;
        for (Assignment a : result.values()) sum += (long) a.size() * a.size();
        return sum;
    }

    @Test
    void mixedSubscriptionsShouldBeBalancedAndCompleteAsKafkasAssignorIs() {
        for (long seed = 1; seed <= 40; seed++) {
            Group group = group(seed, 2 + (int) (seed % 13), 1 + (int) (seed % 7), 12, 4);
            Map<String, Assignment> ours = ours(group, Map.of());
            Map<String, Assignment> theirs = kafka(group, Map.of());
            String where = "seed " + seed;
            assertComplete(group, ours, where + " Tandem");
            assertComplete(group, theirs, where + " Kafka");
            assertTrue(spread(group, ours) <= 1, where + ": Tandem's spread " + spread(group, ours));
            assertTrue(spread(group, ours) <= Math.max(1, spread(group, theirs)), where);
            assertTrue(squares(ours) <= squares(theirs) + group.members().size(),
                    where + ": Tandem " + squares(ours) + ", Kafka " + squares(theirs) + " (sum of squared loads)");
        }
    }

    @Test
    void aMemberJoiningOrLeavingShouldMoveAboutAsFewPartitionsAsKafkasAssignor() {
        int oursMoved = 0;
        int theirsMoved = 0;
        for (long seed = 100; seed < 130; seed++) {
            Group group = group(seed, 3 + (int) (seed % 11), 2 + (int) (seed % 6), 16, 5);
            Random random = new Random(seed);
            List<UUID> topicIds = new ArrayList<>(group.topics().keySet());
            Group joined = group.with(subscriber("joiner", topicIds, random, 5));
            String leaving = group.members().get(random.nextInt(group.members().size())).memberId();
            Group left = joined.without(leaving);

            Map<String, Assignment> ours = ours(group, Map.of());
            Map<String, Assignment> oursJoined = ours(joined, ours);
            Map<String, Assignment> oursLeft = ours(left, oursJoined);
            Map<String, Assignment> theirs = kafka(group, Map.of());
            Map<String, Assignment> theirsJoined = kafka(joined, theirs);
            Map<String, Assignment> theirsLeft = kafka(left, theirsJoined);
            String where = "seed " + seed;
            assertComplete(joined, oursJoined, where);
            assertComplete(left, oursLeft, where);
            assertTrue(spread(joined, oursJoined) <= 1, where);
            assertTrue(spread(left, oursLeft) <= 1, where);
            // Nothing changed: the same assignment again, nothing moves.
            assertEquals(oursLeft, ours(left, oursLeft), where);
            oursMoved += moved(ours, oursJoined) + moved(oursJoined, oursLeft);
            theirsMoved += moved(theirs, theirsJoined) + moved(theirsJoined, theirsLeft);
        }
        System.out.println("partitions moved by joins and leaves: Tandem " + oursMoved + ", Kafka " + theirsMoved);
        assertTrue(oursMoved <= theirsMoved + theirsMoved / 4 + 8,
                "Tandem moved " + oursMoved + " partitions where Kafka's assignor moved " + theirsMoved);
    }

    @Test
    void aMemberThatStaysShouldKeepItsPartitionsWhenBalanceAllows() {
        // a: t and u; b: u only. A new member c subscribes to t only: it takes from a only, b keeps all of u.
        TopicRef t = new TopicRef("t", UUID.nameUUIDFromBytes("t".getBytes()), 6);
        TopicRef u = new TopicRef("u", UUID.nameUUIDFromBytes("u".getBytes()), 4);
        Map<UUID, TopicRef> topics = new LinkedHashMap<>();
        topics.put(t.id(), t);
        topics.put(u.id(), u);
        Group group = new Group(topics, List.of(new PartitionAssignor.MemberSubscription("a", Set.of(t.id(), u.id())),
                new PartitionAssignor.MemberSubscription("b", Set.of(u.id()))));
        Map<String, Assignment> first = ours(group, Map.of());
        // t is a's alone, u all b's: a holds no partition b may take, so 6 against 4 is as balanced as it gets.
        assertEquals(6, first.get("a").size());
        assertEquals(4, first.get("b").size());
        Group joined = group.with(new PartitionAssignor.MemberSubscription("c", Set.of(t.id())));
        Map<String, Assignment> second = ours(joined, first);
        assertEquals(first.get("b"), second.get("b"), "b's topic is nobody else's concern");
        for (int p : second.get("a").get(t.id())) assertTrue(first.get("a").get(t.id()).contains(p));
        assertTrue(spread(joined, second) <= 1);
        assertEquals(Math.abs(first.get("a").size() - second.get("a").size()), second.get("c").size(),
                "c's partitions all came from a");
    }
}
