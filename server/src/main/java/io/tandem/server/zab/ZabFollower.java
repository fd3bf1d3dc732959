package io.tandem.server.zab;

import io.tandem.server.zab.ZabMessage.Ack;
import io.tandem.server.zab.ZabMessage.AckEpoch;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.Commit;
import io.tandem.server.zab.ZabMessage.FollowerInfo;
import io.tandem.server.zab.ZabMessage.LeaderInfo;
import io.tandem.server.zab.ZabMessage.NewLeader;
import io.tandem.server.zab.ZabMessage.Ping;
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabMessage.Request;
import io.tandem.server.zab.ZabMessage.SessionMessage;
import io.tandem.server.zab.ZabMessage.Sync;
import io.tandem.server.zab.ZabMessage.UpToDate;
import io.tandem.server.zab.ZabStateMachine.FollowerPhase;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A follower's (or observer's) session with its leader, the FOLLOWING part of {@link ZabStateMachine}: discovery
 * (FOLLOWERINFO, LEADERINFO, ACKEPOCH), synchronization (DIFF, TRUNC, SNAP, NEWLEADER), and broadcast (PROPOSAL, ACK,
 * COMMIT). Any message out of place ends the session and sends the machine back to LOOKING.
 */
final class ZabFollower {
    private static final Logger LOG = System.getLogger(ZabFollower.class.getName());

    private final ZabStateMachine m;
    final int leaderId;
    private long session;
    private long nextSendSeq;
    private long expectedSeq;
    private long lastHeardTick;
    long epoch = -1;
    FollowerPhase phase = FollowerPhase.DISCOVERY;

    ZabFollower(ZabStateMachine machine, int leaderId, long now) {
        this.m = machine;
        this.leaderId = leaderId;
        this.lastHeardTick = now;
    }

    /** Nothing heard from the leader in the current session yet (its FOLLOWERINFO is unanswered). */
    boolean awaitingLeader() {
        return expectedSeq == 0;
    }

    /** Opens a fresh session (a higher id supersedes the old one) with FOLLOWERINFO. */
    void open() {
        session = m.newSessionId();
        nextSendSeq = 0;
        expectedSeq = 0;
        send(new FollowerInfo(session, nextSendSeq++, m.acceptedEpoch(), m.lastZxid(), m.isRecovering()));
    }

    /** Forwards a local write to the leader; only in broadcast. */
    void forward(byte[] txn) {
        send(new Request(session, nextSendSeq++, txn));
    }

    void tick(long now, ZabConfig config) {
        long limit = phase == FollowerPhase.BROADCAST ? config.syncLimit() : config.initLimit();
        if (now - lastHeardTick > limit) {
            m.startLooking("leader " + leaderId + " silent for " + (now - lastHeardTick) + " ticks");
        } else if (awaitingLeader()) {
            // Nothing back yet: the leader may not have finished its election when FOLLOWERINFO arrived. Like
            // ZooKeeper's connect retries, open a fresh session (a higher id supersedes the old one) and ask again.
            open();
        }
    }

    private void send(SessionMessage message) {
        m.pending.send(leaderId, message);
    }

    void receive(int from, SessionMessage message, long now) {
        if (from != leaderId || message.session() != session) {
            LOG.log(Level.DEBUG, "server {0}: dropping {1} from {2}: not the current leader session", m.myId(),
                    message, from);
            return;
        }
        if (message.seq() < expectedSeq) {
            LOG.log(Level.DEBUG, "server {0}: dropping duplicate {1}", m.myId(), message);
            return;
        }
        if (message.seq() > expectedSeq) {
            m.startLooking("lost message in session with leader " + leaderId + " (expected seq " + expectedSeq
                    + ", got " + message.seq() + ")");
            return;
        }
        expectedSeq++;
        lastHeardTick = now;
        String error = handle(message);
        if (error != null) {
            LOG.log(Level.INFO, "server {0}: leaving leader {1}: {2}", m.myId(), leaderId, error);
            m.startLooking(error);
        }
    }

    /** Returns null when handled, else why the session must end. */
    private String handle(SessionMessage message) {
        if (message instanceof LeaderInfo info) {
            return onLeaderInfo(info);
        }
        if (message instanceof Sync sync) {
            if (phase != FollowerPhase.SYNCHRONIZATION) {
                return "unexpected " + message;
            }
            return applySync(sync);
        }
        if (message instanceof NewLeader newLeader) {
            return onNewLeader(newLeader);
        }
        if (message instanceof Proposal proposal) {
            if (phase.compareTo(FollowerPhase.AWAITING_UPTODATE) < 0) {
                return "proposal before NEWLEADER";
            }
            if (Zxid.epoch(proposal.zxid()) != epoch || proposal.zxid() <= m.lastZxid()) {
                return "proposal " + Zxid.toString(proposal.zxid()) + " out of order after "
                        + Zxid.toString(m.lastZxid()) + " in epoch " + epoch;
            }
            m.history.appendLocal(new LogEntry(proposal.zxid(), proposal.txn()));
            // The leader counts no observer's ack; one that a pending reconfig makes a voter counts for the new
            // configuration, from the reconfig on (the append above made it pending here).
            if (!m.isObserver() || m.membership.isPendingVoter(m.myId())) {
                send(new Ack(session, nextSendSeq++, proposal.zxid()));
            }
            return null;
        }
        if (message instanceof Commit commit) {
            if (phase.compareTo(FollowerPhase.AWAITING_UPTODATE) < 0 || commit.zxid() > m.lastZxid()) {
                return "commit " + Zxid.toString(commit.zxid()) + " not in the log";
            }
            m.history.commitUpTo(commit.zxid());
            if (commit.designatedLeader() >= 0) {
                m.membership.designate(commit.designatedLeader(), commit.zxid()); // acted on once the input settles
            }
            return null;
        }
        if (message instanceof UpToDate upToDate) {
            if (phase != FollowerPhase.AWAITING_UPTODATE || upToDate.commitZxid() > m.lastZxid()) {
                return "unexpected " + message;
            }
            m.history.commitUpTo(upToDate.commitZxid());
            phase = FollowerPhase.BROADCAST;
            return null;
        }
        if (message instanceof Ping) {
            send(new Ping(session, nextSendSeq++));
            return null;
        }
        return "unexpected " + message.getClass().getSimpleName() + " from the leader";
    }

    private String onLeaderInfo(LeaderInfo info) {
        if (phase != FollowerPhase.DISCOVERY) {
            return "unexpected " + info;
        }
        boolean fresh;
        if (m.isObserver()) {
            // An observer's promise binds no quorum, so it takes any epoch not older than the last one it was
            // synced in (an older one can only come from a deposed leader that a voter quorum left).
            if (info.epoch() < m.currentEpoch()) {
                return "stale epoch " + info.epoch() + " proposed, already synced in " + m.currentEpoch();
            }
            if (info.epoch() > m.acceptedEpoch()) {
                m.history.persistAcceptedEpoch(info.epoch());
            }
            fresh = false;
        } else if (info.epoch() > m.acceptedEpoch()) {
            m.history.persistAcceptedEpoch(info.epoch());
            fresh = true;
        } else if (info.epoch() == m.acceptedEpoch()) {
            fresh = false;
        } else {
            return "stale epoch " + info.epoch() + " proposed, already accepted " + m.acceptedEpoch();
        }
        epoch = info.epoch();
        phase = FollowerPhase.SYNCHRONIZATION;
        send(new AckEpoch(session, nextSendSeq++, fresh, m.currentEpoch(), m.lastZxid()));
        return null;
    }

    private String onNewLeader(NewLeader newLeader) {
        if (phase != FollowerPhase.SYNCHRONIZATION || newLeader.epoch() != epoch
                || (!m.isObserver() && newLeader.epoch() != m.acceptedEpoch())) {
            return "unexpected " + newLeader + " in phase " + phase + " epoch " + epoch;
        }
        if (m.lastZxid() != newLeader.zxid()) {
            return "log ends at " + Zxid.toString(m.lastZxid()) + " after sync, leader's at "
                    + Zxid.toString(newLeader.zxid());
        }
        // The Ready orders the log fsync and this epoch write before the ack leaves: the ack promises both.
        m.history.persistCurrentEpoch(epoch);
        // After a recovery, the leader's whole history (a SNAP or a DIFF from zero) and its epoch are durable before
        // the marker goes and before this ack: from here on this member counts like any other.
        m.recoveryComplete();
        phase = FollowerPhase.AWAITING_UPTODATE;
        send(new AckNewLeader(session, nextSendSeq++, newLeader.zxid()));
        return null;
    }

    private String applySync(Sync sync) {
        switch (sync.mode()) {
            case DIFF -> { }
            case TRUNC -> {
                if (sync.truncateZxid() < m.committedZxid()) {
                    // A correct leader never asks this; refusing keeps committed transactions (ZOOKEEPER-1154).
                    return "TRUNC to " + Zxid.toString(sync.truncateZxid()) + " below committed "
                            + Zxid.toString(m.committedZxid());
                }
                if (sync.truncateZxid() < m.snapshotZxid()) {
                    return "TRUNC below the local snapshot";
                }
                m.history.truncateLocal(sync.truncateZxid());
                if (m.lastZxid() != sync.truncateZxid()) {
                    return "TRUNC to " + Zxid.toString(sync.truncateZxid()) + " which this log does not hold";
                }
            }
            case SNAP -> m.history.installSnapshot(sync.snapshotZxid(), sync.snapshot());
        }
        for (LogEntry entry : sync.entries()) {
            if (entry.zxid() <= m.lastZxid()) {
                return "sync entry " + Zxid.toString(entry.zxid()) + " not after " + Zxid.toString(m.lastZxid());
            }
            m.history.appendLocal(entry);
        }
        return null;
    }
}
