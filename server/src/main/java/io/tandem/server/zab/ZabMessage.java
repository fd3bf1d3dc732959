package io.tandem.server.zab;

import java.util.List;

/**
 * Every message Zab peers exchange. Election notifications stand alone and tolerate loss, duplication and reordering
 * (they are resent every tick and ordered by round). Everything else belongs to one leader-follower session: the
 * follower opens it with a fresh id, and each direction numbers its messages from 0. A receiver accepts only the next
 * number of the current session, so stale sessions and duplicates are dropped and a gap (a lost message) ends the
 * session, exactly as a broken TCP connection ends a ZooKeeper learner connection.
 */
public sealed interface ZabMessage {

    /**
     * Fast leader election: "I, in state {@code senderState} and election round {@code round}, vote for ...". A
     * {@code recovering} sender lost its history to disk damage: its vote counts for nobody (see ZabStateMachine).
     * {@code config} is the sender's active configuration, committed at zxid (version) {@code configVersion}, or null
     * while it runs zoo.cfg's (version 0, older than any other): a looking member adopts a newer one, as Apache's
     * FastLeaderElection does with the QuorumVerifier in its notifications.
     */
    record Notification(int leader, long zxid, long peerEpoch, long round, Role senderState, boolean recovering,
                        long configVersion, Members config) implements ZabMessage {
        public Notification {
            Checks.require(config == null ? configVersion == 0 : configVersion > 0,
                    "a configuration needs a positive version, none has version 0: %d", configVersion);
        }

        public Notification(int leader, long zxid, long peerEpoch, long round, Role senderState, boolean recovering) {
            this(leader, zxid, peerEpoch, round, senderState, recovering, 0, null);
        }

        public Notification(int leader, long zxid, long peerEpoch, long round, Role senderState) {
            this(leader, zxid, peerEpoch, round, senderState, false);
        }
    }

    /** A message inside one leader-follower session. */
    sealed interface SessionMessage extends ZabMessage {
        long session();

        long seq();
    }

    /**
     * Discovery, follower to leader: opens the session and reports the follower's acceptedEpoch. A {@code recovering}
     * follower lost its log to disk damage: it is synced in full and does not count towards discovery's quorum.
     */
    record FollowerInfo(long session, long seq, long acceptedEpoch, long lastZxid, boolean recovering)
            implements SessionMessage {
        public FollowerInfo(long session, long seq, long acceptedEpoch, long lastZxid) {
            this(session, seq, acceptedEpoch, lastZxid, false);
        }
    }

    /** Discovery, leader to follower: the epoch the leader proposes to establish. */
    record LeaderInfo(long session, long seq, long epoch) implements SessionMessage {}

    /**
     * Discovery, follower to leader. {@code fresh} is true when this follower newly accepted the epoch (durably); an
     * epoch already accepted earlier, possibly from another would-be leader, must not count twice towards a quorum.
     */
    record AckEpoch(long session, long seq, boolean fresh, long currentEpoch, long lastZxid) implements SessionMessage {}

    /** How the leader brings a follower's log in line with its own. */
    enum SyncMode { DIFF, TRUNC, SNAP }

    /**
     * Synchronization, leader to follower: for TRUNC, drop everything after {@code truncateZxid}; for SNAP, replace the
     * state with {@code snapshot} taken at {@code snapshotZxid}; then append {@code entries}.
     */
    record Sync(long session, long seq, SyncMode mode, long truncateZxid, long snapshotZxid, SnapshotData snapshot,
                List<LogEntry> entries) implements SessionMessage {
        public Sync {
            entries = List.copyOf(entries);
        }
    }

    /** Synchronization: the follower's log now equals the leader's up to {@code zxid}; adopt {@code epoch}. */
    record NewLeader(long session, long seq, long epoch, long zxid) implements SessionMessage {}

    /** Sent only once the follower's log and currentEpoch are durable (ZOOKEEPER-3023, -4643, -4646, -4785). */
    record AckNewLeader(long session, long seq, long zxid) implements SessionMessage {}

    /** Everything up to {@code commitZxid} is committed; the follower starts serving. */
    record UpToDate(long session, long seq, long commitZxid) implements SessionMessage {}

    record Proposal(long session, long seq, long zxid, byte[] txn) implements SessionMessage {}

    /** The proposal and every earlier one are durable on the follower. */
    record Ack(long session, long seq, long zxid) implements SessionMessage {}

    /**
     * Everything up to {@code zxid} is committed. {@code designatedLeader} is -1, or, when a reconfig among those
     * commits makes another server the leader (Apache's COMMITANDACTIVATE with Leader.getDesignatedLeader), that
     * server: the learner goes straight to it (leads when it is the one) without an election, as Apache's
     * QuorumPeer.updateVote with its reconfigFlag.
     */
    record Commit(long session, long seq, long zxid, int designatedLeader) implements SessionMessage {
        public Commit {
            Checks.require(designatedLeader >= -1, "designated leader %d is no server id", designatedLeader);
        }

        public Commit(long session, long seq, long zxid) {
            this(session, seq, zxid, -1);
        }
    }

    /** Heartbeat in both directions: the leader pings every tick, the follower answers. */
    record Ping(long session, long seq) implements SessionMessage {}

    /** A write submitted at a follower, forwarded to the leader to be proposed. */
    record Request(long session, long seq, byte[] txn) implements SessionMessage {}
}
