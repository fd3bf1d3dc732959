package io.tandem.server.kafka.group.consumer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Moves one member's current assignment towards its target, by KIP-848's reconciliation rules (the semantics of
 * Kafka's CurrentAssignmentBuilder):
 * <ul>
 *   <li>A partition leaves a member first: while the member still owns partitions it must give up, it stays at its
 *   epoch in UNREVOKED_PARTITIONS and is told to keep only the partitions that remain its own.</li>
 *   <li>Only once it reports (in ownedTopicPartitions) that it let them go does it move to the target epoch.</li>
 *   <li>A partition that another member still owns or still has to revoke is not handed over yet: the member moves
 *   to the new epoch in UNRELEASED_PARTITIONS and gets it on a later heartbeat, once it is free.</li>
 * </ul>
 * A partition is therefore never owned by two members at once.
 */
final class CurrentAssignmentBuilder {
    /** Tells whether a partition is owned (or being revoked) by a member other than the one reconciled. */
    interface PartitionOwnership {
        boolean isOwnedByOther(String memberId, UUID topicId, int partition);
    }

    private CurrentAssignmentBuilder() {
    }

    /**
     * Reconciles {@code member} in place.
     *
     * @param owned the partitions the member reported in this heartbeat, or null if it did not report them
     */
    static void reconcile(ConsumerGroupMember member, int targetEpoch, Assignment target, PartitionOwnership ownership,
                          List<OwnedPartitions> owned) {
        switch (member.state) {
            case STABLE -> {
                if (member.memberEpoch != targetEpoch) computeNext(member, targetEpoch, target, ownership, owned);
            }
            case UNREVOKED_PARTITIONS -> {
                if (!ownsAny(owned, member.pendingRevocation)) {
                    computeNext(member, targetEpoch, target, ownership, owned);
                }
            }
            case UNRELEASED_PARTITIONS -> computeNext(member, targetEpoch, target, ownership, owned);
        }
    }

    private static void computeNext(ConsumerGroupMember member, int targetEpoch, Assignment target,
                                    PartitionOwnership ownership, List<OwnedPartitions> owned) {
        Assignment.Builder kept = new Assignment.Builder();
        Assignment.Builder revoking = new Assignment.Builder();
        Assignment.Builder assignedNow = new Assignment.Builder();
        boolean unreleased = false;
        Set<UUID> topics = new HashSet<>(target.partitions().keySet());
        topics.addAll(member.assigned.partitions().keySet());
        for (UUID topic : topics) {
            Set<Integer> current = member.assigned.get(topic);
            Set<Integer> wanted = target.get(topic);
            for (int p : current) {
                if (wanted.contains(p)) {
                    kept.add(topic, p);
                    assignedNow.add(topic, p);
                } else {
                    revoking.add(topic, p);
                }
            }
            for (int p : wanted) {
                if (current.contains(p)) continue;
                if (ownership.isOwnedByOther(member.memberId, topic, p)) {
                    unreleased = true;
                } else {
                    assignedNow.add(topic, p);
                }
            }
        }
        Assignment toRevoke = revoking.build();
        if (!toRevoke.isEmpty() && ownsAny(owned, toRevoke)) {
            // Revocation first: keep the epoch, and tell the member to keep only what stays its own.
            member.state = MemberState.UNREVOKED_PARTITIONS;
            member.assigned = kept.build();
            member.pendingRevocation = toRevoke;
        } else {
            member.state = unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE;
            member.previousMemberEpoch = member.memberEpoch;
            member.memberEpoch = targetEpoch;
            member.assigned = assignedNow.build();
            member.pendingRevocation = Assignment.EMPTY;
        }
    }

    /**
     * Whether the member still owns any of {@code partitions}. A heartbeat that does not report its partitions (null)
     * is taken as still owning them: only an explicit report frees them.
     */
    static boolean ownsAny(List<OwnedPartitions> owned, Assignment partitions) {
        if (partitions.isEmpty()) return false;
        if (owned == null) return true;
        for (OwnedPartitions o : owned) {
            for (int p : o.partitions()) {
                if (partitions.contains(o.topicId(), p)) return true;
            }
        }
        return false;
    }
}
