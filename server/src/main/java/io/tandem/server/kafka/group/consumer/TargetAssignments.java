package io.tandem.server.kafka.group.consumer;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.tandem.server.kafka.ApiException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.INVALID_REGULAR_EXPRESSION;

/**
 * What a consumer group's target assignment is computed from, and its computation: the topics the members subscribe
 * to (by name or by RE2J regular expression), the server assignor the group uses (Kafka's preferred one: the most
 * asked for, else the first configured), and the assignor run for a new group epoch. Called by
 * {@link ConsumerGroupCoordinator} under its lock.
 */
final class TargetAssignments {
    /** Compiled regular expressions kept, bounded: a client can send any number of distinct ones. */
    private static final int REGEX_CACHE_MAX = 1024;

    private final ConsumerGroupStore store;
    private final TopicsView topics;
    private final Map<String, PartitionAssignor> assignors = new LinkedHashMap<>();
    private final Map<String, Pattern> regexCache = new HashMap<>();

    TargetAssignments(ConsumerGroupConfig config, ConsumerGroupStore store, TopicsView topics) {
        this.store = store;
        this.topics = topics;
        for (String name : config.assignors()) {
            assignors.put(name, name.equals(RangeAssignor.NAME) ? new RangeAssignor() : new UniformAssignor());
        }
    }

    /** The server assignors served, the default first. */
    Set<String> assignorNames() {
        return assignors.keySet();
    }

    /** RE2J, as Kafka: linear-time matching, and no back-references or look-around (refused as invalid). */
    Pattern compile(String regex) {
        Pattern pattern = regexCache.get(regex);
        if (pattern != null) return pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ApiException(INVALID_REGULAR_EXPRESSION, "SubscribedTopicRegex `" + regex
                    + "` is not a valid regular expression: " + e.getDescription() + ".");
        }
        if (regexCache.size() >= REGEX_CACHE_MAX) regexCache.clear();
        regexCache.put(regex, pattern);
        return pattern;
    }

    /**
     * The existing topics the members subscribe to, by name or by regular expression. The expressions are resolved
     * here, at every heartbeat: Kafka 4.4 resolves them in the background at most every 10 s per group (a constant)
     * and at least every group.consumer.regex.refresh.interval.ms, an internal key it keeps for its tests, so Tandem
     * neither takes that key nor waits; a new matching topic joins at the next heartbeat.
     */
    Map<String, TopicRef> subscribedTopics(ConsumerGroup group) {
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> regexes = new HashMap<>();
        for (ConsumerGroupMember m : group.members.values()) {
            for (String name : m.subscribedTopicNames) names.merge(name, 1, Integer::sum);
            if (m.subscribedTopicRegex != null) regexes.merge(m.subscribedTopicRegex, 1, Integer::sum);
        }
        group.subscribedNames = names;
        group.subscribedRegexes = regexes;
        group.subscribedMembers = group.members.size();
        return resolve(names.keySet(), regexes.keySet());
    }

    /**
     * As {@link #subscribedTopics}, after {@code gone} left the group (already removed from its members): its
     * subscription is taken off the counts, O(its topics), as Kafka's subscribed topic names count down on a leave.
     */
    Map<String, TopicRef> subscribedTopicsWithout(ConsumerGroup group, ConsumerGroupMember gone) {
        if (group.subscribedNames == null || group.subscribedMembers != group.members.size() + 1) {
            return subscribedTopics(group);
        }
        for (String name : gone.subscribedTopicNames) {
            group.subscribedNames.computeIfPresent(name, (k, n) -> n > 1 ? n - 1 : null);
        }
        if (gone.subscribedTopicRegex != null) {
            group.subscribedRegexes.computeIfPresent(gone.subscribedTopicRegex, (k, n) -> n > 1 ? n - 1 : null);
        }
        group.subscribedMembers = group.members.size();
        return resolve(group.subscribedNames.keySet(), group.subscribedRegexes.keySet());
    }

    /**
     * As {@link #subscribedTopics}, for a heartbeat that changed no member's subscription and the membership not:
     * the names and expressions gathered last are resolved again, in O(distinct topics) instead of O(members), as
     * Kafka keeps its subscribed topic names counted per group rather than gathering them at every heartbeat.
     */
    Map<String, TopicRef> subscribedTopicsUnchanged(ConsumerGroup group) {
        if (group.subscribedNames == null || group.subscribedMembers != group.members.size()) {
            return subscribedTopics(group);
        }
        return resolve(group.subscribedNames.keySet(), group.subscribedRegexes.keySet());
    }

    private Map<String, TopicRef> resolve(Set<String> names, Set<String> regexes) {
        Map<String, TopicRef> result = new TreeMap<>();
        for (String name : names) {
            TopicRef topic = topics.byName(name);
            if (topic != null) result.put(name, topic);
        }
        if (!regexes.isEmpty()) {
            for (String name : topics.names()) {
                if (result.containsKey(name)) continue;
                for (String regex : regexes) {
                    if (compile(regex).matches(name)) {
                        TopicRef topic = topics.byName(name);
                        if (topic != null) result.put(name, topic);
                        break;
                    }
                }
            }
        }
        return result;
    }

    /** The topic ids one member subscribes to among the group's subscribed topics. */
    private Set<UUID> memberTopicIds(ConsumerGroupMember m, Map<String, TopicRef> subscribed) {
        Set<UUID> ids = new LinkedHashSet<>();
        for (String name : m.subscribedTopicNames) {
            TopicRef t = subscribed.get(name);
            if (t != null) ids.add(t.id());
        }
        if (m.subscribedTopicRegex != null) {
            Pattern pattern = compile(m.subscribedTopicRegex);
            for (TopicRef t : subscribed.values()) if (pattern.matches(t.name())) ids.add(t.id());
        }
        return ids;
    }

    void computeTargetAssignment(ConsumerGroup group) {
        List<PartitionAssignor.MemberSubscription> specs = new ArrayList<>();
        for (ConsumerGroupMember m : group.members.values()) {
            specs.add(new PartitionAssignor.MemberSubscription(m.memberId, memberTopicIds(m, group.subscribedTopics)));
        }
        Map<UUID, TopicRef> byId = new LinkedHashMap<>();
        for (TopicRef t : group.subscribedTopics.values()) byId.put(t.id(), t);
        Map<String, Assignment> target = assignorFor(group).assign(specs, byId, group.targetAssignment);
        for (Map.Entry<String, Assignment> e : target.entrySet()) {
            if (!e.getValue().equals(group.targetAssignment.get(e.getKey()))) {
                store.targetAssignment(group.groupId, e.getKey(), e.getValue());
            }
        }
        group.targetAssignment.clear();
        group.targetAssignment.putAll(target);
        group.assignmentEpoch = group.groupEpoch;
        store.targetAssignmentEpoch(group.groupId, group.assignmentEpoch);
    }

    /** Kafka's preferred assignor: the one most members ask for, else the first configured. */
    PartitionAssignor assignorFor(ConsumerGroup group) {
        Map<String, Integer> votes = new TreeMap<>();
        for (ConsumerGroupMember m : group.members.values()) {
            if (m.serverAssignor != null) votes.merge(m.serverAssignor, 1, Integer::sum);
        }
        String best = null;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (best == null || e.getValue() > votes.get(best)) best = e.getKey();
        }
        return best != null ? assignors.get(best) : defaultAssignor();
    }

    private PartitionAssignor defaultAssignor() {
        return assignors.values().iterator().next();
    }
}
