package io.tandem.server.zab.apache;

import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabDisk;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a learner ({@link ApacheFollower}) logged and applied, and the rules that move it: a SNAP replaces both, a
 * TRUNC cuts the log and never below what was applied (ZOOKEEPER-1154/1156), a COMMIT applies the next proposal in
 * zxid order, an INFORM logs and applies a transaction the leader says committed. The learner's sessions (discovery,
 * sync, broadcast) and its epochs live in the follower; this is the history they leave behind, which outlives each
 * session and a leadership of this member. All calls on the quorum peer's thread.
 */
final class LearnerHistory {
    private static final Logger LOG = System.getLogger(LearnerHistory.class.getName());

    private final long myId;
    private final ZabDisk disk;
    private final LearnerApplication application;
    private long lastLoggedZxid;
    /**
     * Proposals logged and not yet applied, oldest first (the leader bounds how many it has outstanding). They
     * outlive a session: the next leader's DIFF says they are in its history (they are applied then, as Apache's
     * follower applies its whole log when it reloads), its TRUNC says which of them are not.
     */
    private ArrayDeque<QuorumPacket> pendingProposals = new ArrayDeque<>();
    /** The newest zxid handed to the application (commit or SNAP): no TRUNC may go below it. */
    private long appliedZxid;

    LearnerHistory(long myId, ZabDisk disk, LearnerApplication application, long lastLoggedZxid) {
        this.myId = myId;
        this.disk = disk;
        this.application = application;
        this.lastLoggedZxid = lastLoggedZxid;
    }

    long lastLoggedZxid() {
        return lastLoggedZxid;
    }

    long appliedZxid() {
        return appliedZxid;
    }

    /** The proposals logged and not applied, oldest first: the broadcast phase commits from these. */
    ArrayDeque<QuorumPacket> pending() {
        return pendingProposals;
    }

    /** After a sync: the proposals it logged without their commit wait for them in broadcast. */
    void pending(ArrayDeque<QuorumPacket> uncommitted) {
        pendingProposals = uncommitted;
    }

    /** See {@link ApacheFollower#restoreLogged}. */
    void restoreLogged(long applied, List<QuorumPacket> logged) {
        this.appliedZxid = applied;
        this.pendingProposals = new ArrayDeque<>(logged);
    }

    /** Applies every logged proposal (a leader's history holds them all) and returns them. */
    List<QuorumPacket> applyAllLogged() {
        List<QuorumPacket> logged = new ArrayList<>(pendingProposals);
        applyLoggedUpTo(Long.MAX_VALUE);
        return logged;
    }

    /** The log a leadership of this member left: its uncommitted proposals wait for the next leader's sync. */
    void afterLeading(LeadershipOutcome outcome) {
        lastLoggedZxid = outcome.lastLoggedZxid();
        appliedZxid = outcome.committedZxid();
        pendingProposals = new ArrayDeque<>(outcome.uncommitted());
    }

    /**
     * A SNAP: the leader's database at {@code zxid} is written as this member's snapshot before anything is
     * acknowledged, and any history of its own beyond it goes.
     */
    void snapshot(long zxid, byte[] snapshot) throws IOException {
        // Apache's SNAP is read whole (bounded by SNAPSHOT_BYTES_MAX). The application's own snapshots go into the
        // same store from its snapshot thread, under the disk's monitor too.
        synchronized (disk) {
            disk.writeSnapshot(zxid, SnapshotData.of(snapshot));
        }
        // A history of its own beyond the snapshot is not the leader's: it must not be replayed at restart.
        disk.truncateAfter(zxid);
        pendingProposals.clear();
        application.onSnapshot(zxid, snapshot);
        appliedZxid = zxid;
        lastLoggedZxid = zxid;
    }

    /**
     * TRUNC: this member logged proposals the leader's history does not hold. They were never applied (only commits
     * are), so dropping them from the log is the whole rollback; those at or below {@code zxid} are the leader's and
     * are applied now. A TRUNC below what was applied would drop a committed transaction (ZOOKEEPER-1154/1156) or
     * need applied state rolled back: refused, and the session ends.
     */
    void truncate(long zxid) throws IOException {
        if (zxid < appliedZxid) {
            throw new IOException("TRUNC to 0x" + Long.toHexString(zxid) + " from the leader is below the applied "
                    + "zxid 0x" + Long.toHexString(appliedZxid) + ": it would drop a committed transaction");
        }
        LOG.log(Level.INFO, "server {0}: TRUNC from the leader to 0x{1} (logged up to 0x{2})", myId,
                Long.toHexString(zxid), Long.toHexString(lastLoggedZxid));
        disk.truncateAfter(zxid);
        applyLoggedUpTo(zxid);
        pendingProposals.clear(); // the rest are gone from the log
        lastLoggedZxid = Math.min(lastLoggedZxid, zxid);
    }

    /** Applies the logged, unapplied proposals at or below {@code zxid}, oldest first. */
    void applyLoggedUpTo(long zxid) {
        while (!pendingProposals.isEmpty() && pendingProposals.peek().zxid() <= zxid) {
            QuorumPacket proposal = pendingProposals.poll();
            application.onCommit(proposal.zxid(), proposal.data());
            appliedZxid = proposal.zxid();
        }
    }

    /** Appends {@code proposal} to the log (not fsynced: the caller decides when). */
    void log(QuorumPacket proposal) throws IOException {
        disk.append(proposal.zxid(), proposal.data());
        lastLoggedZxid = proposal.zxid();
    }

    /** A reconfig proposal's configuration goes to the application before the proposal is logged, as Apache's. */
    void proposedConfig(QuorumPacket proposal) {
        if (LearnerTxns.isReconfig(proposal.data())) {
            ApacheConfig config = LeaderConfigs.ofProposal(proposal);
            if (config != null) application.onProposedConfig(config);
        }
    }

    /**
     * INFORM (zxid, the committed transaction) or INFORMANDACTIVATE ({@code long designatedLeader}, then the
     * reconfig's transaction): the configuration is activated first, as Apache's Observer does before committing it;
     * the transaction goes into {@code unlogged} (logged at NEWLEADER) or, when that is null, into the log now (not
     * fsynced: returns true); then it is applied. A major change ends the session after the commit.
     */
    boolean inform(QuorumPacket packet, List<QuorumPacket> unlogged) throws IOException {
        byte[] data = packet.data();
        long designatedLeader = -1;
        if (packet.type() == LearnerWire.INFORMANDACTIVATE) {
            if (data == null || data.length < 8) {
                throw new IOException("INFORMANDACTIVATE without the designated leader: " + packet);
            }
            designatedLeader = ByteBuffer.wrap(data).getLong();
            data = Arrays.copyOfRange(data, 8, data.length);
        }
        QuorumPacket committed = LearnerTxns.withTxnZxid(new QuorumPacket(packet.type(), packet.zxid(), data));
        if (committed.zxid() <= appliedZxid) {
            throw new IOException("informed of 0x" + Long.toHexString(committed.zxid()) + " at or below the applied 0x"
                    + Long.toHexString(appliedZxid));
        }
        boolean major = packet.type() == LearnerWire.INFORMANDACTIVATE
                && application.onActivate(LearnerTxns.reconfigData(committed), designatedLeader);
        if (unlogged != null) {
            unlogged.add(committed);
        } else {
            log(committed);
        }
        application.onCommit(committed.zxid(), committed.data());
        appliedZxid = committed.zxid();
        if (major) {
            throw new ReconfigEnded(designatedLeader);
        }
        return unlogged == null;
    }

    /** COMMIT: the next of {@code uncommitted} must be {@code zxid}; it is applied. */
    void commit(ArrayDeque<QuorumPacket> uncommitted, long zxid) throws IOException {
        QuorumPacket next = uncommitted.peek();
        if (next == null || next.zxid() != zxid) {
            throw new IOException("COMMIT 0x" + Long.toHexString(zxid) + " but the next proposal is "
                    + (next == null ? "none" : "0x" + Long.toHexString(next.zxid())));
        }
        uncommitted.poll();
        application.onCommit(zxid, next.data());
        appliedZxid = zxid;
    }

    /**
     * COMMITANDACTIVATE (Apache's Follower.processPacket): the next proposal is a reconfig transaction, a SetDataTxn
     * of {@code /zookeeper/config} whose data is the new configuration; its data is the designated leader's sid. The
     * configuration is activated, then the transaction committed; a major change ends the session after the commit.
     */
    void commitAndActivate(ArrayDeque<QuorumPacket> uncommitted, QuorumPacket packet) throws IOException {
        QuorumPacket next = uncommitted.peek();
        if (next == null || next.zxid() != packet.zxid()) {
            throw new IOException("COMMITANDACTIVATE 0x" + Long.toHexString(packet.zxid())
                    + " but the next proposal is " + (next == null ? "none" : "0x" + Long.toHexString(next.zxid())));
        }
        if (packet.data() == null || packet.data().length < 8) {
            throw new IOException("COMMITANDACTIVATE without the designated leader: " + packet);
        }
        long designatedLeader = ByteBuffer.wrap(packet.data()).getLong();
        boolean major = application.onActivate(LearnerTxns.reconfigData(next), designatedLeader);
        commit(uncommitted, packet.zxid());
        if (major) {
            throw new ReconfigEnded(designatedLeader);
        }
    }

    /**
     * A session ended by an activated configuration that changes the leader to follow or this member's role
     * (Apache's "changes proposed in reconfig"), after the reconfig's commit was applied.
     */
    static final class ReconfigEnded extends IOException {
        ReconfigEnded(long designatedLeader) {
            super("changes proposed in reconfig" + (designatedLeader >= 0 ? " (designated leader "
                    + designatedLeader + ")" : ""));
        }
    }
}
