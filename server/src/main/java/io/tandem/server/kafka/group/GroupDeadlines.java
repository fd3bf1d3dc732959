package io.tandem.server.kafka.group;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The deadlines of a coordinator's groups, one entry each in a {@link DeadlineQueue}: every member's (a classic
 * member's session expiry; a consumer group member's session, revocation, join or sync timeout) and every group's own
 * (a classic group's pending member ids, join phase and sync timeout). The coordinator's timer asks for the earliest
 * ({@link #nextDeadlineMs}) and the groups that have one due ({@link #due}) instead of scanning every group and
 * member under the lock, which every heartbeat and join paid before: with thousands of members (Kafka Streams
 * applications, large consumer fleets) a heartbeat now moves one entry, O(log n), as Kafka's coordinator re-arms one
 * timer-wheel task per heartbeat (its session timeout, cancelled and added again).
 *
 * <p>The entries follow the groups' data by refreshing: after any call that may change a group's deadlines the
 * coordinator refreshes that group ({@link #refresh}: O(its members), checked one by one, moved only if changed), and
 * a heartbeat refreshes only its member ({@link #heard}). A deadline pushed back without a refresh is harmless, the
 * group is merely looked at early (its expiry finds nothing due and the refresh after it re-arms the entry); a
 * deadline brought forward always comes with a refresh. Entries of members and groups that go are removed at their
 * group's refresh ({@link #forgetGone} for groups removed in bulk), so the queues hold at most one entry per live
 * member and group. Not thread-safe: every method runs under the coordinator's lock.
 */
public final class GroupDeadlines<G, M> {
    /** How the coordinator's groups look to the deadlines. */
    public interface Shape<G, M> {
        /** The live group under this id; null if there is none, or it is dead. */
        G live(String groupId);

        String groupId(G group);

        Collection<M> members(G group);

        /** Whether the member is still the group's (under the id it holds now). */
        boolean isMember(G group, M member);

        /** When the member is out unless heard from; Long.MAX_VALUE while it has no deadline. */
        long memberDeadlineMs(M member);

        /** The group's own earliest deadline; Long.MAX_VALUE if none, Long.MIN_VALUE if something is due now. */
        long groupDeadlineMs(G group);
    }

    private final Shape<G, M> shape;
    private final DeadlineQueue<M> memberDeadlines = new DeadlineQueue<>();
    private final DeadlineQueue<G> groupDeadlines = new DeadlineQueue<>();
    /** The group object whose entries are held under each id; one with no entry is not held. */
    private final Map<String, G> tracked = new HashMap<>();
    /** The members holding an entry, per group; they lose it when they leave the group. */
    private final Map<G, Set<M>> membersOf = new IdentityHashMap<>();
    /** Each member's group, to find the group to look at when the member's entry is due. */
    private final Map<M, G> groupOf = new IdentityHashMap<>();

    public GroupDeadlines(Shape<G, M> shape) {
        this.shape = shape;
    }

    /**
     * The group of this id changed (or went): its own deadline and its members' entries are brought up to date, and
     * the entries of members no longer in it, or of a group object no longer under the id, are removed.
     */
    public void refresh(String groupId) {
        G held = tracked.get(groupId);
        G group = shape.live(groupId);
        if (held != null && held != group) forget(held);
        if (group == null) return;
        groupDeadlines.schedule(group, shape.groupDeadlineMs(group));
        Set<M> scheduled = membersOf.get(group);
        if (scheduled != null) {
            List<M> gone = null;
            for (M m : scheduled) {
                if (!shape.isMember(group, m)) {
                    if (gone == null) gone = new ArrayList<>();
                    gone.add(m);
                }
            }
            if (gone != null) {
                for (M m : gone) untrack(group, m);
            }
        }
        for (M m : shape.members(group)) schedule(group, m);
        Set<M> withEntries = membersOf.get(group);
        if (groupDeadlines.deadlineOf(group) != Long.MAX_VALUE || (withEntries != null && !withEntries.isEmpty())) {
            tracked.put(groupId, group);
        } else {
            tracked.remove(groupId);
            membersOf.remove(group);
        }
    }

    /** A member of a live group was heard from (a heartbeat, an offset commit): only its session entry moves. */
    public void heard(G group, M member) {
        if (shape.live(shape.groupId(group)) != group || !shape.isMember(group, member)) return;
        schedule(group, member);
        tracked.put(shape.groupId(group), group);
    }

    /**
     * A member left a live group and nothing else of the group's deadlines changed (a consumer group member's leave
     * or fence one at a time): only its entry goes, O(log n), where {@link #refresh} would look at every member.
     */
    public void gone(G group, M member) {
        if (shape.live(shape.groupId(group)) != group || shape.isMember(group, member)) {
            refresh(shape.groupId(group));
            return;
        }
        untrack(group, member);
        Set<M> withEntries = membersOf.get(group);
        if ((withEntries == null || withEntries.isEmpty()) && groupDeadlines.deadlineOf(group) == Long.MAX_VALUE) {
            tracked.remove(shape.groupId(group), group);
            membersOf.remove(group);
        }
    }

    /** Drops the entries of groups removed from the coordinator (offset expiry, an offsets partition unloaded). */
    public void forgetGone() {
        for (String groupId : List.copyOf(tracked.keySet())) {
            if (shape.live(groupId) != tracked.get(groupId)) refresh(groupId);
        }
    }

    /** The earliest deadline of any group or member; Long.MAX_VALUE when none is pending. */
    public long nextDeadlineMs() {
        return Math.min(memberDeadlines.earliestMs(), groupDeadlines.earliestMs());
    }

    /**
     * Removes the entries due at {@code nowMs} and returns their groups, each once, earliest first; the caller fires
     * them and refreshes each (which re-arms whatever is still pending).
     */
    public Set<G> due(long nowMs) {
        Set<G> due = new LinkedHashSet<>();
        due.addAll(groupDeadlines.pollDue(nowMs));
        for (M m : memberDeadlines.pollDue(nowMs)) {
            G group = groupOf.remove(m);
            if (group == null) continue;
            Set<M> scheduled = membersOf.get(group);
            if (scheduled != null) scheduled.remove(m);
            due.add(group);
        }
        return due;
    }

    /** How many entries are held (for tests: bounded by the live members and groups). */
    public int size() {
        return memberDeadlines.size() + groupDeadlines.size();
    }

    private void schedule(G group, M member) {
        long deadlineMs = shape.memberDeadlineMs(member);
        if (deadlineMs == Long.MAX_VALUE) {
            untrack(group, member);
            return;
        }
        memberDeadlines.schedule(member, deadlineMs);
        if (groupOf.put(member, group) == null) {
            membersOf.computeIfAbsent(group, g -> Collections.newSetFromMap(new IdentityHashMap<>())).add(member);
        }
    }

    private void untrack(G group, M member) {
        memberDeadlines.cancel(member);
        groupOf.remove(member);
        Set<M> scheduled = membersOf.get(group);
        if (scheduled != null) scheduled.remove(member);
    }

    private void forget(G group) {
        groupDeadlines.cancel(group);
        Set<M> scheduled = membersOf.remove(group);
        if (scheduled != null) {
            for (M m : scheduled) {
                memberDeadlines.cancel(m);
                groupOf.remove(m);
            }
        }
        tracked.remove(shape.groupId(group), group);
    }
}
