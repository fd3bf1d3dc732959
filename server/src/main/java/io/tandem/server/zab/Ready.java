package io.tandem.server.zab;

import java.util.List;

/**
 * What the state machine asks its driver to do, collected since the previous {@link ZabStateMachine#ready()}. The
 * driver must execute it in this order, which is what makes the protocol safe:
 * <ol>
 *   <li>send the first {@code messagesBeforeSync} of {@code messages}: proposals, commits and pings, which promise
 *       nothing about this member's disk. A leader's proposals thus reach its followers while its own fsync runs, so
 *       the two overlap; the leader counts its own ack only once the driver reports the fsync through
 *       {@link ZabStateMachine#logSynced};</li>
 *   <li>write {@code snapshotToInstall} durably (it replaces the state up to its zxid);</li>
 *   <li>truncate the log after {@code truncateAfterZxid} (durably);</li>
 *   <li>append {@code appends}, then fsync the log and report it with {@link ZabStateMachine#logSynced} (the last
 *       append's zxid; the snapshot's when there are no appends);</li>
 *   <li>only then write {@code acceptedEpoch} / {@code currentEpoch} durably: an epoch must never be ahead of the log
 *       it vouches for (ZOOKEEPER-4643);</li>
 *   <li>if {@code recoveryComplete}, only then remove the durable "recovering" marker: the state a leader synced to this
 *       member after disk damage, and the epoch vouching for it, are durable, so it may count in quorums again;</li>
 *   <li>only then send the rest of {@code messages}: every ACK, ACKEPOCH and NEWLEADER ack promises durable state
 *       (ZOOKEEPER-3023, -4646);</li>
 *   <li>apply {@code snapshotToInstall} and then {@code commits} to the application, in order;</li>
 *   <li>turn each of {@code forwardedRequests} (writes followers sent this leader, in arrival order) into a
 *       transaction and {@link ZabStateMachine#submit submit} it; for ZooKeeper that is the prep step, which must run
 *       on the leader against its newest state;</li>
 *   <li>optionally purge log files holding only entries below {@code purgeBeforeZxid};</li>
 *   <li>tell the application of {@code configAdopted}, a configuration taken from a notification (its own quorum
 *       transport must reach the members it names, and it may have been named again after its removal).</li>
 * </ol>
 * A crash anywhere in this sequence is safe; skipping or reordering steps is not.
 */
public record Ready(Snapshot snapshotToInstall, long truncateAfterZxid, List<LogEntry> appends, long acceptedEpoch,
                    long currentEpoch, List<Outbound> messages, int messagesBeforeSync, List<LogEntry> commits,
                    List<byte[]> forwardedRequests, long purgeBeforeZxid, boolean recoveryComplete,
                    AdoptedConfig configAdopted) {

    /** Marks an absent number field (no truncation, no epoch change, no purge). */
    public static final long NONE = -1;

    /** An opaque application snapshot of the committed state up to {@code zxid}. */
    public record Snapshot(long zxid, SnapshotData data) {}

    /** A committed configuration a notification told this member of, as {@link ZabStateMachine#changeMembers} takes one. */
    public record AdoptedConfig(long version, Members members) {}

    /** A message for peer {@code to}. */
    public record Outbound(int to, ZabMessage message) {}

    public Ready {
        appends = List.copyOf(appends);
        messages = List.copyOf(messages);
        Checks.require(messagesBeforeSync >= 0 && messagesBeforeSync <= messages.size(),
                "messagesBeforeSync %d out of 0..%d", messagesBeforeSync, messages.size());
        commits = List.copyOf(commits);
        forwardedRequests = List.copyOf(forwardedRequests);
    }

    public boolean isEmpty() {
        return snapshotToInstall == null && truncateAfterZxid == NONE && appends.isEmpty() && acceptedEpoch == NONE
                && currentEpoch == NONE && messages.isEmpty() && commits.isEmpty() && forwardedRequests.isEmpty()
                && purgeBeforeZxid == NONE && !recoveryComplete && configAdopted == null;
    }

    /** True when the log must be fsynced before the epochs are written and the messages sent. */
    public boolean needsLogSync() {
        return !appends.isEmpty();
    }
}
