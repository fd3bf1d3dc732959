package io.tandem.server.kafka.group.consumer;

/**
 * Where a member stands in reconciling towards its target assignment (Kafka's MemberState; the names are what
 * Kafka's records and logs call them).
 */
public enum MemberState {
    /** The member owns its whole target assignment at the target assignment epoch. */
    STABLE,
    /** The member must first give up partitions (revoke them) before it gets a new epoch. */
    UNREVOKED_PARTITIONS,
    /** The member has its new epoch but waits for partitions that other members still have to release. */
    UNRELEASED_PARTITIONS
}
