package io.tandem.server.zab;

import java.util.ArrayList;
import java.util.List;

/** The effects {@link ZabStateMachine} accumulates between two {@link ZabStateMachine#ready()} calls. */
final class ReadyBuilder {
    Ready.Snapshot snapshotToInstall;
    long truncateAfterZxid = Ready.NONE;
    final List<LogEntry> appends = new ArrayList<>();
    long acceptedEpoch = Ready.NONE;
    long currentEpoch = Ready.NONE;
    final List<Ready.Outbound> messages = new ArrayList<>();
    final List<LogEntry> commits = new ArrayList<>();
    final List<byte[]> forwardedRequests = new ArrayList<>();
    long purgeBeforeZxid = Ready.NONE;
    boolean recoveryComplete;
    Ready.AdoptedConfig configAdopted;

    /** How many of the first {@code messages} promise nothing durable, so may leave before the fsync. */
    int messagesBeforeSync;

    void send(int to, ZabMessage message) {
        if (messagesBeforeSync == messages.size() && promisesNothingDurable(message)) {
            messagesBeforeSync++;
        }
        messages.add(new Ready.Outbound(to, message));
    }

    /**
     * A PROPOSAL carries the leader's intent, a COMMIT a decision a durable quorum already made, a PING nothing:
     * none vouches for this member's own disk, unlike ACK, ACKEPOCH, the NEWLEADER ack or a vote.
     */
    private static boolean promisesNothingDurable(ZabMessage message) {
        return message instanceof ZabMessage.Proposal || message instanceof ZabMessage.Commit
                || message instanceof ZabMessage.Ping;
    }

    boolean isEmpty() {
        return snapshotToInstall == null && truncateAfterZxid == Ready.NONE && appends.isEmpty()
                && acceptedEpoch == Ready.NONE && currentEpoch == Ready.NONE && messages.isEmpty()
                && commits.isEmpty() && forwardedRequests.isEmpty() && purgeBeforeZxid == Ready.NONE
                && !recoveryComplete && configAdopted == null;
    }

    Ready build() {
        return new Ready(snapshotToInstall, truncateAfterZxid, appends, acceptedEpoch, currentEpoch, messages,
                messagesBeforeSync, commits, forwardedRequests, purgeBeforeZxid, recoveryComplete,
                configAdopted);
    }
}
