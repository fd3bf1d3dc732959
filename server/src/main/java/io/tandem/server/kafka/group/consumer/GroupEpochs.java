package io.tandem.server.kafka.group.consumer;

import java.util.Map;

/**
 * The bookkeeping every path that changes a member shares (ConsumerGroupHeartbeat and classic JoinGroup alike): the
 * group epoch moves with the membership and the subscriptions, a new target assignment follows it, and after a member
 * reconciled its revocation deadline and stored assignment follow its state. Called under the coordinator's lock.
 */
final class GroupEpochs {
    private final TargetAssignments assignments;
    private final ConsumerGroupStore store;

    GroupEpochs(TargetAssignments assignments, ConsumerGroupStore store) {
        this.assignments = assignments;
        this.store = store;
    }

    /**
     * Bumps the group epoch when the membership or a subscription changed ({@code bump}) or the subscribed topics
     * did, and computes a new target assignment when the epoch moved past it.
     */
    void updateEpochAndTarget(ConsumerGroup group, boolean bump) {
        // No bump asked: neither the membership nor a subscription changed, so the members need no new pass.
        Map<String, TopicRef> subscribed = bump ? assignments.subscribedTopics(group)
                : assignments.subscribedTopicsUnchanged(group);
        if (!subscribed.equals(group.subscribedTopics)) {
            group.subscribedTopics = subscribed;
            bump = true;
        }
        if (bump) bumpEpoch(group);
        if (group.groupEpoch > group.assignmentEpoch) assignments.computeTargetAssignment(group);
    }

    /** After a member left: the subscribed topics are taken again and the epoch moves, so the rest rebalance. */
    void memberGone(ConsumerGroup group, ConsumerGroupMember gone) {
        group.subscribedTopics = assignments.subscribedTopicsWithout(group, gone);
        bumpEpoch(group);
    }

    private void bumpEpoch(ConsumerGroup group) {
        group.groupEpoch++;
        store.groupEpoch(group.groupId, group.groupEpoch);
    }

    /** After a reconciliation: the revocation deadline starts or stops, and a changed assignment is stored. */
    void afterReconcile(ConsumerGroup group, ConsumerGroupMember member, MemberState stateBefore, int epochBefore,
                        Assignment assignedBefore, long nowMs) {
        if (member.state == MemberState.UNREVOKED_PARTITIONS
                && (stateBefore != MemberState.UNREVOKED_PARTITIONS || epochBefore != member.memberEpoch)) {
            member.revocationDeadlineMs = nowMs + member.rebalanceTimeoutMs;
        } else if (member.state != MemberState.UNREVOKED_PARTITIONS) {
            member.revocationDeadlineMs = Long.MAX_VALUE;
        }
        if (stateBefore != member.state || epochBefore != member.memberEpoch || assignedBefore == null
                || !assignedBefore.equals(member.assigned)) {
            store.currentAssignment(group.groupId, member);
        }
        // Reconciliation sets both sets together: a new assigned object means the member may hold new partitions.
        if (assignedBefore != member.assigned) group.tookPartitions(member);
    }
}
