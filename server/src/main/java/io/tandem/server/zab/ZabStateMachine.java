package io.tandem.server.zab;

import io.tandem.server.zab.ZabMessage.Notification;
import io.tandem.server.zab.ZabMessage.SessionMessage;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Zab as a pure state machine: fast leader election, discovery, synchronization and broadcast, with no sockets, disk,
 * clock or threads inside. Inputs are {@link #tick()}, {@link #receive(int, ZabMessage)}, {@link #submit(byte[])} and
 * {@link #compact(long, SnapshotData)}; the effects accumulate in a {@link Ready} that the driver takes with {@link #ready()}
 * and executes in the order that class documents. Every method is meant to be called from one thread.
 *
 * <p>The machine keeps the log after the latest snapshot in memory, so that DIFF synchronization needs no disk reads.
 * Its history (the durable epochs, the snapshot and the log) is a {@link ZabHistory}; each role is its own class on the
 * same thread and state: {@link ZabElection} (LOOKING), {@link ZabFollower} (FOLLOWING, observers included) and {@link ZabLeader} (LEADING).
 */
public final class ZabStateMachine {
    private static final Logger LOG = System.getLogger(ZabStateMachine.class.getName());

    /** Transaction bytes per SYNC message: a DIFF of any length travels as frames of bounded size. */
    public static final int SYNC_CHUNK_BYTES_MAX = 1 << 20;

    /** Where a follower is in its session with the leader. */
    public enum FollowerPhase { DISCOVERY, SYNCHRONIZATION, AWAITING_UPTODATE, BROADCAST }

    /** Where a leader is in establishing its epoch. */
    public enum LeaderPhase { DISCOVERY, SYNCHRONIZATION, BROADCAST }

    /**
     * The active configuration: replaced when a reconfig commits ({@link #commitUpTo}, Apache's COMMITANDACTIVATE) or
     * when the application hands a configuration over ({@link #changeMembers}, e.g. one a snapshot holds).
     */
    private ZabConfig config;
    /** The reconfigs in the log not active yet, and the joint quorum they ask for. */
    final ZabMembership membership = new ZabMembership();
    /** The durable epochs, the snapshot and log after it, how far they are durable and committed. */
    final ZabHistory history;
    private final int myId;
    private final long incarnation;
    private long sessionsOpened;


    /**
     * Disk damage cost this member its history (see {@link DurableState#recovering()}). The rule, and why it keeps every
     * acknowledged write:
     *
     * <p>A recovering member still holds its promise (acceptedEpoch is kept; a damaged one stops the driver) but not the
     * log it acknowledged, nor the currentEpoch vouching for it. Zab relies on history in exactly two places: the
     * election, which picks the newest (currentEpoch, lastZxid) among a quorum, and discovery, where a quorum reports
     * its history and the leader must not be behind any of them. So a recovering member's vote, candidacy,
     * FOLLOWERINFO and ACKEPOCH count towards no quorum, and it never leads. A committed transaction is durable on some
     * quorum C of members that acknowledged it; every election or discovery quorum Q counted here is made of members
     * that are not recovering, and Q meets C in at least one member. That member is not recovering, so it still holds
     * the transaction (acks follow fsync, truncation never drops a committed entry), and the leader chosen by Q holds
     * it too, even when the damaged member was part of C. Only after a leader's whole history and the epoch vouching
     * for it are durable here (the NEWLEADER ack, ordered by {@link Ready#recoveryComplete()}) does the member count
     * again, now as an exact replica of that leader, which by the same argument holds everything committed. Promises
     * are never lost, so an older leader cannot use this member to commit behind a newer epoch's back.
     */
    private boolean recovering;
    /**
     * This member is an observer ({@link ZabConfig#observers()}): like a recovering member it never votes, leads or
     * counts towards any quorum, and joins a leader only through others' FOLLOWING/LEADING notifications. Unlike one,
     * it keeps doing so for good, and its history needs no rebuilding. A leader sends it proposals and commits as to
     * a follower but takes no acks from it, so the quorum arithmetic of the voters is exactly what it is without it.
     * It follows the active configuration: a reconfig may make an observer a voter or a voter an observer.
     */
    private boolean observer;
    private long now;
    private Role role = Role.LOOKING;

    private final ZabElection election;
    /** The configurations notifications carry: adopting newer ones, answering strangers. */
    private final ZabConfigExchange configs = new ZabConfigExchange(this);
    /** The session with the leader while FOLLOWING, else null. */
    ZabFollower follower;
    /** The leader's state while LEADING, else null. */
    private ZabLeader leader;

    /** The effects since the last {@link #ready()}; the election, follower and leader parts add to it too. */
    ReadyBuilder pending = new ReadyBuilder();

    /**
     * @param incarnation a number larger than any this server used before (a restart count or the start time in
     *                    milliseconds), so that session ids never repeat across restarts
     */
    public ZabStateMachine(ZabConfig config, DurableState durable, long incarnation) {
        this.config = config;
        this.myId = config.myId();
        Checks.require(incarnation >= 0 && incarnation < 1L << 42, "incarnation out of range: %d", incarnation);
        this.incarnation = incarnation;
        this.history = new ZabHistory(this, durable);
        this.recovering = durable.recovering();
        this.observer = config.isObserver(myId);
        Checks.require(!recovering || config.voters().length > 1 || config.isObserver(myId),
                "a single server has nobody to re-sync from after losing its history");
        this.election = new ZabElection(this);
        startLooking("started");
    }

    // ---------------------------------------------------------------------------------------------------- queries

    public int myId() { return myId; }
    public Role role() { return role; }
    public long acceptedEpoch() { return history.acceptedEpoch(); }
    public long currentEpoch() { return history.currentEpoch(); }
    public long committedZxid() { return history.committedZxid(); }
    public long snapshotZxid() { return history.snapshotZxid(); }

    /** True until a leader has synced this member after its history was set aside (see the field's comment). */
    public boolean isRecovering() { return recovering; }

    /** True when this member is an observer: it follows and serves but never votes or leads. */
    public boolean isObserver() { return observer; }

    /** Whether a reconfig in this member's log waits to commit. */
    public boolean hasPendingConfig() {
        return membership.hasPending();
    }

    /** A joiner, following as a non-voter until a configuration names it ({@link ZabMembership#isJoining}). */
    public boolean isJoining() { return membership.isJoining(); }

    /** The active configuration (a committed reconfig replaces it). */
    public ZabConfig config() { return config; }

    /** An observer or a recovering member: its vote, candidacy and acknowledgements count for nothing. */
    boolean nonVoting() {
        return recovering || observer;
    }

    public long lastZxid() {
        return history.lastZxid();
    }

    /** The leader this node follows or is, or -1 while looking. */
    public int leaderId() {
        return switch (role) {
            case LEADING -> myId;
            case FOLLOWING -> follower.leaderId;
            case LOOKING -> -1;
        };
    }

    /** True when this node leads an epoch that a quorum has acknowledged (and so may propose). */
    public boolean isEstablishedLeader() {
        return role == Role.LEADING && leader.phase == LeaderPhase.BROADCAST;
    }

    /** The epoch this node leads or follows, or -1 while looking or not yet past discovery. */
    public long epoch() {
        if (role == Role.LEADING) {
            return leader.epoch;
        }
        if (role == Role.FOLLOWING) {
            return follower.epoch;
        }
        return -1;
    }

    /**
     * On an established leader: its own id and those of the learners synced with it (what Apache's
     * Leader.isQuorumSynced counts); empty otherwise.
     */
    public int[] syncedMembers() {
        return isEstablishedLeader() ? leader.syncedMembers() : new int[0];
    }

    /** On an established leader: its leadership's proposal sizes ({@link ProposalSizes}); null otherwise. */
    public ProposalSizes proposalSizes() {
        return isEstablishedLeader() ? leader.proposalSizes : null;
    }

    /** True when this node accepts writes: an established leader or a follower in broadcast. */
    public boolean isServing() {
        return isEstablishedLeader() || (role == Role.FOLLOWING && follower.phase == FollowerPhase.BROADCAST);
    }

    /** The follower's phase, or null when not following. */
    public FollowerPhase followerPhase() {
        return role == Role.FOLLOWING ? follower.phase : null;
    }

    public boolean hasReady() {
        return !pending.isEmpty();
    }

    /** Takes the effects accumulated since the last call. */
    public Ready ready() {
        Ready ready = pending.build();
        pending = new ReadyBuilder();
        return ready;
    }

    @Override
    public String toString() {
        return "zab[" + myId + " " + role + (recovering ? " recovering" : "") + (observer ? " observer" : "")
                + " epoch=" + epoch() + " accepted=" + acceptedEpoch() + " current="
                + currentEpoch() + " last=" + Zxid.toString(lastZxid()) + " committed=" + Zxid.toString(committedZxid())
                + "]";
    }

    long earlyDecisions() {
        return election.earlyDecisions();
    }

    ZabElection election() {
        return election;
    }

    /** Election internals, for diagnostics only. */
    String describeElection() {
        return election.toString();
    }

    // ---------------------------------------------------------------------------------------------------- inputs

    /** Advances logical time by one tick (tickTime milliseconds in the driver). */
    public void tick() {
        now++;
        switch (role) {
            case LOOKING -> election.tick(now);
            case FOLLOWING -> follower.tick(now, config);
            case LEADING -> leader.tick(now);
        }
        settle();
    }

    /**
     * Offers a write. Returns false when this node cannot take writes now (not serving, or the leader's proposal
     * pipeline is full); the caller may retry elsewhere. Accepted writes may still be lost if leadership changes before
     * they commit; only a commit means durable.
     */
    public boolean submit(byte[] txn) {
        Checks.require(txn != null, "txn must not be null");
        if (isEstablishedLeader()) {
            boolean taken = leader.propose(txn);
            settle();
            return taken;
        }
        if (role == Role.FOLLOWING && follower.phase == FollowerPhase.BROADCAST) {
            follower.forward(txn);
            return true;
        }
        return false;
    }

    /**
     * The application has durably written a snapshot of its state at {@code zxid} (a zxid it has applied); the machine
     * forgets log entries up to it and keeps the bytes to send to followers too far behind for a DIFF.
     */
    public void compact(long zxid, SnapshotData snapshotData) {
        history.compact(zxid, snapshotData);
    }

    /**
     * The driver stored the snapshot at {@code zxid} (one a leader sent) durably as {@code stored}: later SNAPs to other
     * followers stream that copy, since the one received may live in a temporary file.
     */
    public void snapshotStored(long zxid, SnapshotData stored) {
        history.snapshotStored(zxid, stored);
    }

    /**
     * The driver made this member's log durable up to {@code zxid} (the last append of a Ready it has fsynced). A leader
     * counts its own acknowledgement only from here on, and may now commit.
     */
    public void logSynced(long zxid) {
        if (!history.synced(zxid)) {
            return;
        }
        if (role == Role.LEADING && leader != null) {
            leader.tryCommit();
        }
        settle();
    }

    /** Handles one message from peer {@code from}. Messages from unknown ids or stale sessions are logged and dropped. */
    public void receive(int from, ZabMessage message) {
        if (from != myId && message instanceof Notification notification) {
            configs.adoptNewerConfig(from, notification);
            if (!config.isMember(from)) {
                configs.answerNonMember(from, notification);
                return;
            }
        }
        if (from != myId && !config.isMember(from) && role == Role.LEADING && message instanceof SessionMessage sm) {
            leader.receive(from, sm, now); // a joiner's learner session, as Apache's leader syncs any learner
            settle();
            return;
        }
        if (!config.isMember(from) || from == myId) {
            LOG.log(Level.WARNING, "server {0}: dropping {1} from unknown server id {2}", myId,
                    message.getClass().getSimpleName(), from);
            return;
        }
        election.peerReachable(from);
        if (message instanceof Notification notification) {
            election.onNotification(from, notification, now);
        } else if (message instanceof SessionMessage sessionMessage) {
            if (role == Role.FOLLOWING) {
                follower.receive(from, sessionMessage, now);
            } else if (role == Role.LEADING) {
                leader.receive(from, sessionMessage, now);
            } else {
                LOG.log(Level.DEBUG, "server {0}: looking, dropping {1} from {2}", myId, sessionMessage, from);
            }
        }
        settle();
    }

    /**
     * The transport lost its connection to {@code peer}. A follower whose leader's connection closed starts an
     * election at once, as Apache ZooKeeper's followers do, instead of waiting syncLimit ticks for the silence to
     * show; anything else is left to the tick timeouts (a connection may come back before they matter).
     */
    public void peerDisconnected(int peer) {
        if (config.isMember(peer) && peer != myId) {
            election.peerDisconnected(peer);
        }
        if (role == Role.FOLLOWING && follower != null && follower.leaderId == peer) {
            startLooking("connection to leader " + peer + " closed");
        }
    }

    /**
     * The transport has a connection with {@code peer} again (or for the first time). What was sent to it before was
     * dropped, so this node's vote, and a follower's FOLLOWERINFO still unanswered, go out now instead of at the next
     * tick: a member started after the others joins in one round trip rather than a tickTime later, as Apache's
     * queued sends let it.
     */
    public void peerConnected(int peer) {
        if (!config.isMember(peer) || peer == myId) {
            return;
        }
        election.peerConnected(peer);
        if (role == Role.FOLLOWING && follower.leaderId == peer && follower.awaitingLeader()) {
            follower.open();
        }
    }

    /**
     * How to tell reconfig transactions (the application's format): the log is read again for pending ones. Set once,
     * before the first input; without it the machine sees no reconfig and only {@link #changeMembers} changes members.
     */
    public void readMembersWith(MembershipReader reader) {
        membership.readWith(reader, history.log());
    }

    /**
     * The application applied a configuration this machine may not have activated itself: one a snapshot holds (a
     * SNAP, or the snapshot at start), or a reconfig committed while no {@link MembershipReader} was set. {@code zxid}
     * is the zxid it was committed at (or its version); an older one than the active configuration is ignored, since
     * the machine activates reconfigs as it commits them, ahead of the application applying them. A member absent
     * from the new configuration goes on as a non-voting follower ({@link ZabMembership#activate}).
     */
    public void changeMembers(long zxid, int[] voters, int[] observers) {
        activate(zxid, new Members(voters, observers));
        settle();
    }

    /** {@link ZabMembership#activate}: the machine's configuration is the one it returns. */
    void activate(long zxid, Members members) {
        config = membership.activate(zxid, members, config);
        observer = !config.isVoter(myId);
    }

    /** After an input: the consequences of a configuration it activated ({@link ZabMembership#settle}). */
    private void settle() {
        membership.settle(this);
    }

    ZabLeader leading() {
        return leader;
    }

    // ---------------------------------------------------------------------------------------------------- roles

    /** Becomes LOOKING and starts a new election round (see {@link ZabElection}). */
    void startLooking(String reason) {
        if (role != Role.LOOKING || !election.started()) {
            LOG.log(Level.DEBUG, "server {0}: looking ({1})", myId, reason);
        }
        role = Role.LOOKING;
        follower = null;
        leader = null;
        election.beginRound();
    }

    /**
     * While a quorum agrees on this node's vote and it waits for a better one before deciding: a number naming this
     * wait, for {@link #finalizeElection}; -1 otherwise.
     */
    public long finalizeWait() {
        return election.finalizeWait();
    }

    /**
     * The driver's clock says the finalize wait {@code wait} (from {@link #finalizeWait}) is over before the tick that
     * ends it: decide now if it is still the current wait and the quorum still agrees. Apache waits 200 ms
     * (finalizeWait) here; a whole tick (2 s by default) would make every election that long.
     */
    public void finalizeElection(long wait) {
        election.finalizeElection(wait);
    }

    /**
     * A committed reconfig designated {@code designated} as the leader (see {@link ZabMembership#designate}): this
     * member goes to it without an election round, as Apache's updateServerState with its reconfigFlag: it leads
     * when it is the one (discovery then picks a new epoch above every promise a quorum reports, as Apache's
     * Leader.lead does), else follows it, as a voter, an observer or a joiner as the configuration says. Its vote
     * becomes the designated leader at {@code zxid} in the epoch that committed the reconfig, the same on every
     * member that saw the commit, so the notifications it answers with back the new leader. A designated leader that
     * never establishes sends everyone to the election through the usual timeouts.
     */
    void handOver(int designated, long zxid, String reason) {
        long committedIn = epoch();
        LOG.log(Level.INFO, "server {0}: {1} server {2} without an election ({3})", myId,
                designated == myId ? "leading as the designated" : "following the designated leader", designated,
                reason);
        follower = null;
        leader = null;
        election.designate(designated, zxid, committedIn >= 0 ? committedIn : currentEpoch());
        if (designated == myId) {
            lead();
        } else {
            follow(designated);
        }
    }

    /** The election chose this node: lead, starting with discovery. */
    void lead() {
        role = Role.LEADING;
        leader = new ZabLeader(this, now);
        leader.maybeChooseEpoch();
    }

    /** The election chose {@code leaderId}: follow it, starting with FOLLOWERINFO. */
    void follow(int leaderId) {
        role = Role.FOLLOWING;
        follower = new ZabFollower(this, leaderId, now);
        follower.open();
    }

    /**
     * Session ids grow within a run and across runs (the incarnation leads), so a leader can tell a follower's newest
     * session from a stale duplicate. The low 21 bits count sessions; after two million in one run they wrap, which
     * at worst delays a reconnect until the leader forgets the old session.
     */
    long newSessionId() {
        return (incarnation << 21) | (++sessionsOpened & ((1L << 21) - 1));
    }


    /** A recovering follower's NEWLEADER ack is going out: from here on it counts like any other member. */
    void recoveryComplete() {
        if (recovering) {
            recovering = false;
            pending.recoveryComplete = true;
        }
    }
}
