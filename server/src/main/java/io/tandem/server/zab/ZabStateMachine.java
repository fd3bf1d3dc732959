package io.tandem.server.zab;

import io.tandem.server.zab.ZabMessage.Ack;
import io.tandem.server.zab.ZabMessage.AckEpoch;
import io.tandem.server.zab.ZabMessage.AckNewLeader;
import io.tandem.server.zab.ZabMessage.Commit;
import io.tandem.server.zab.ZabMessage.FollowerInfo;
import io.tandem.server.zab.ZabMessage.LeaderInfo;
import io.tandem.server.zab.ZabMessage.NewLeader;
import io.tandem.server.zab.ZabMessage.Notification;
import io.tandem.server.zab.ZabMessage.Ping;
import io.tandem.server.zab.ZabMessage.Proposal;
import io.tandem.server.zab.ZabMessage.Request;
import io.tandem.server.zab.ZabMessage.SessionMessage;
import io.tandem.server.zab.ZabMessage.Sync;
import io.tandem.server.zab.ZabMessage.SyncMode;
import io.tandem.server.zab.ZabMessage.UpToDate;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Zab as a pure state machine: fast leader election, discovery, synchronization and broadcast, with no sockets, disk,
 * clock or threads inside. Inputs are {@link #tick()}, {@link #receive(int, ZabMessage)}, {@link #submit(byte[])} and
 * {@link #compact(long, byte[])}; the effects accumulate in a {@link Ready} that the driver takes with {@link #ready()}
 * and executes in the order that class documents. Every method is meant to be called from one thread.
 *
 * <p>The machine keeps the log after the latest snapshot in memory, so that DIFF synchronization needs no disk reads.
 */
public final class ZabStateMachine {
    private static final Logger LOG = System.getLogger(ZabStateMachine.class.getName());

    /** Transaction bytes per SYNC message: a DIFF of any length travels as frames of bounded size. */
    public static final int SYNC_CHUNK_BYTES_MAX = 1 << 20;

    /** Where a follower is in its session with the leader. */
    public enum FollowerPhase { DISCOVERY, SYNCHRONIZATION, AWAITING_UPTODATE, BROADCAST }

    /** Where a leader is in establishing its epoch. */
    public enum LeaderPhase { DISCOVERY, SYNCHRONIZATION, BROADCAST }

    private record Vote(int leader, long zxid, long peerEpoch) {
        /** The total order of fast leader election: currentEpoch first, then last zxid, then server id. */
        boolean beats(Vote other) {
            if (peerEpoch != other.peerEpoch) {
                return peerEpoch > other.peerEpoch;
            }
            if (zxid != other.zxid) {
                return zxid > other.zxid;
            }
            return leader > other.leader;
        }
    }

    private record ReceivedVote(Vote vote, long round, Role state) {}

    private final ZabConfig config;
    private final int myId;
    private final long incarnation;
    private long sessionsOpened;

    // Durable state, mirrored: every change is also placed in the pending Ready.
    private long acceptedEpoch;
    private long currentEpoch;
    private long snapshotZxid;
    private SnapshotData snapshot;
    private final ArrayList<LogEntry> log = new ArrayList<>();
    /**
     * The highest zxid of this member's own log known to be durable: what the driver reported through
     * {@link #logSynced} (or what was on disk at start), never above {@link #lastZxid()}. A leader sends a proposal
     * before its own fsync (its Ready lists the proposals first, see {@link Ready#messagesBeforeSync()}), so that its
     * fsync and its followers' overlap; it therefore counts its own acknowledgement only up to this zxid, exactly as it
     * counts a follower's only after that follower's fsync. Counting {@code lastZxid()} instead would commit a
     * transaction that only a minority holds durably whenever acks arrive before the leader's own fsync ends.
     */
    private long durableZxid;

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
     */
    private final boolean observer;
    /** Peers whose latest notification said they are recovering: they will not vote, so no need to wait for them. */
    private final java.util.Set<Integer> recoveringPeers = new java.util.TreeSet<>();

    /** The highest zxid handed to the application (via commits or a snapshot); never moves past the log. */
    private long committedZxid;
    private long now;
    private Role role = Role.LOOKING;

    // Election.
    private long electionRound;
    private Vote proposal;
    private long decidedRound;
    private final Map<Integer, ReceivedVote> receivedVotes = new TreeMap<>();
    private final Map<Integer, ReceivedVote> outOfElection = new TreeMap<>();
    /** Peers whose connection the transport reported closed and that have not been heard from since. */
    private final java.util.Set<Integer> unreachable = new java.util.TreeSet<>();
    private long decideAtTick = -1;
    /** Counts the times a finalize wait began, so a driver's timer for an older one is ignored. */
    private long finalizeWaits;
    /** Elections decided without waiting because the voters that had not voted were unreachable (diagnostics). */
    private long earlyDecisions;

    private FollowerSession follower;
    private LeaderState leader;

    private ReadyBuilder pending = new ReadyBuilder();

    /**
     * @param incarnation a number larger than any this server used before (a restart count or the start time in
     *                    milliseconds), so that session ids never repeat across restarts
     */
    public ZabStateMachine(ZabConfig config, DurableState durable, long incarnation) {
        this.config = config;
        this.myId = config.myId();
        Checks.require(incarnation >= 0 && incarnation < 1L << 42, "incarnation out of range: %d", incarnation);
        this.incarnation = incarnation;
        this.acceptedEpoch = durable.acceptedEpoch();
        this.currentEpoch = durable.currentEpoch();
        this.snapshotZxid = durable.snapshotZxid();
        this.snapshot = durable.snapshot();
        this.committedZxid = snapshotZxid;
        this.recovering = durable.recovering();
        this.observer = config.isObserver(myId);
        Checks.require(!recovering || config.voters().length > 1 || config.isObserver(myId),
                "a single server has nobody to re-sync from after losing its history");
        for (LogEntry entry : durable.log()) {
            if (entry.zxid() <= snapshotZxid) {
                continue;
            }
            Checks.require(entry.zxid() > lastZxid(), "recovered log out of order at %s", Zxid.toString(entry.zxid()));
            log.add(entry);
        }
        this.durableZxid = lastZxid();
        startLooking("started");
    }

    // ---------------------------------------------------------------------------------------------------- queries

    public int myId() { return myId; }
    public Role role() { return role; }
    public long acceptedEpoch() { return acceptedEpoch; }
    public long currentEpoch() { return currentEpoch; }
    public long committedZxid() { return committedZxid; }
    public long snapshotZxid() { return snapshotZxid; }

    /** True until a leader has synced this member after its history was set aside (see the field's comment). */
    public boolean isRecovering() { return recovering; }

    /** True when this member is an observer: it follows and serves but never votes or leads. */
    public boolean isObserver() { return observer; }

    /** An observer or a recovering member: its vote, candidacy and acknowledgements count for nothing. */
    private boolean nonVoting() {
        return recovering || observer;
    }

    public long lastZxid() {
        return log.isEmpty() ? snapshotZxid : log.get(log.size() - 1).zxid();
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
                + " epoch=" + epoch() + " accepted=" + acceptedEpoch + " current="
                + currentEpoch + " last=" + Zxid.toString(lastZxid()) + " committed=" + Zxid.toString(committedZxid)
                + "]";
    }

    long earlyDecisions() {
        return earlyDecisions;
    }

    /** Election internals, for diagnostics only. */
    String describeElection() {
        return "round=" + electionRound + " decidedRound=" + decidedRound + " proposal=" + proposal + " received="
                + receivedVotes + " outOfElection=" + outOfElection;
    }

    // ---------------------------------------------------------------------------------------------------- inputs

    /** Advances logical time by one tick (tickTime milliseconds in the driver). */
    public void tick() {
        now++;
        switch (role) {
            case LOOKING -> tickLooking();
            case FOLLOWING -> tickFollowing();
            case LEADING -> tickLeading();
        }
    }

    /**
     * Offers a write. Returns false when this node cannot take writes now (not serving, or the leader's proposal
     * pipeline is full); the caller may retry elsewhere. Accepted writes may still be lost if leadership changes before
     * they commit; only a commit means durable.
     */
    public boolean submit(byte[] txn) {
        Checks.require(txn != null, "txn must not be null");
        if (isEstablishedLeader()) {
            return propose(txn);
        }
        if (role == Role.FOLLOWING && follower.phase == FollowerPhase.BROADCAST) {
            follower.send(new Request(follower.session, follower.nextSendSeq++, txn));
            return true;
        }
        return false;
    }

    /**
     * The application has durably written a snapshot of its state at {@code zxid} (a zxid it has applied); the machine
     * forgets log entries up to it and keeps the bytes to send to followers too far behind for a DIFF.
     */
    public void compact(long zxid, SnapshotData snapshotData) {
        Checks.require(zxid <= committedZxid, "snapshot at %s is ahead of the committed %s", Zxid.toString(zxid),
                Zxid.toString(committedZxid));
        if (zxid <= snapshotZxid) {
            return;
        }
        int index = indexOf(zxid);
        Checks.require(index >= 0, "snapshot zxid %s is not in the log", Zxid.toString(zxid));
        log.subList(0, index + 1).clear();
        snapshotZxid = zxid;
        snapshot = snapshotData;
        pending.purgeBeforeZxid = zxid;
    }

    /**
     * The driver stored the snapshot at {@code zxid} (one a leader sent) durably as {@code stored}: later SNAPs to other
     * followers stream that copy, since the one received may live in a temporary file.
     */
    public void snapshotStored(long zxid, SnapshotData stored) {
        if (zxid == snapshotZxid) {
            snapshot = stored;
        }
    }

    /**
     * The driver made this member's log durable up to {@code zxid} (the last append of a Ready it has fsynced). A leader
     * counts its own acknowledgement only from here on, and may now commit.
     */
    public void logSynced(long zxid) {
        Checks.require(zxid <= lastZxid(), "synced %s beyond the log's last %s", Zxid.toString(zxid),
                Zxid.toString(lastZxid()));
        if (zxid <= durableZxid) {
            return;
        }
        durableZxid = zxid;
        if (role == Role.LEADING && leader != null) {
            leader.tryCommit();
        }
    }

    /** Handles one message from peer {@code from}. Messages from unknown ids or stale sessions are logged and dropped. */
    public void receive(int from, ZabMessage message) {
        if (!config.isMember(from) || from == myId) {
            LOG.log(Level.WARNING, "server {0}: dropping {1} from unknown server id {2}", myId,
                    message.getClass().getSimpleName(), from);
            return;
        }
        unreachable.remove(from);
        if (message instanceof Notification notification) {
            onNotification(from, notification);
        } else if (message instanceof SessionMessage sessionMessage) {
            if (role == Role.FOLLOWING) {
                follower.receive(from, sessionMessage);
            } else if (role == Role.LEADING) {
                leader.receive(from, sessionMessage);
            } else {
                LOG.log(Level.DEBUG, "server {0}: looking, dropping {1} from {2}", myId, sessionMessage, from);
            }
        }
    }

    /**
     * The transport lost its connection to {@code peer}. A follower whose leader's connection closed starts an
     * election at once, as Apache ZooKeeper's followers do, instead of waiting syncLimit ticks for the silence to
     * show; anything else is left to the tick timeouts (a connection may come back before they matter).
     */
    public void peerDisconnected(int peer) {
        if (config.isMember(peer) && peer != myId) {
            unreachable.add(peer);
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
        unreachable.remove(peer);
        if (proposal != null) {
            pending.send(peer, ownNotification());
        }
        if (role == Role.FOLLOWING && follower.leaderId == peer && follower.expectedSeq == 0) {
            follower.open();
        }
    }

    // ---------------------------------------------------------------------------------------------------- election

    private Vote ownVote() {
        return new Vote(myId, lastZxid(), currentEpoch);
    }

    private void startLooking(String reason) {
        if (role != Role.LOOKING || proposal == null) {
            LOG.log(Level.DEBUG, "server {0}: looking ({1})", myId, reason);
        }
        role = Role.LOOKING;
        follower = null;
        leader = null;
        electionRound++;
        proposal = ownVote();
        receivedVotes.clear();
        outOfElection.clear();
        receivedVotes.put(myId, new ReceivedVote(proposal, electionRound, Role.LOOKING));
        decideAtTick = -1;
        broadcastNotification();
        if (config.voters().length == 1 && !nonVoting()) {
            decide(proposal);
        }
    }

    private Notification ownNotification() {
        if (role == Role.LOOKING) {
            return new Notification(proposal.leader, proposal.zxid, proposal.peerEpoch, electionRound, Role.LOOKING,
                    recovering);
        }
        // Out of election, advertise the epoch actually led or followed once known, so that every member of a running
        // ensemble advertises the same (leader, epoch) however and whenever it joined (ZOOKEEPER-1732).
        long epoch = epoch() >= 0 ? epoch() : proposal.peerEpoch;
        return new Notification(proposal.leader, proposal.zxid, epoch, decidedRound, role, recovering);
    }

    private void broadcastNotification() {
        Notification notification = ownNotification();
        // Only voters decide elections; an observer asks them (and they answer once they lead or follow).
        for (int peer : config.voters()) {
            if (peer != myId) {
                pending.send(peer, notification);
            }
        }
    }

    /**
     * While a quorum agrees on this node's vote and it waits for a better one before deciding: a number naming this
     * wait, for {@link #finalizeElection}; -1 otherwise.
     */
    public long finalizeWait() {
        return role == Role.LOOKING && decideAtTick >= 0 ? finalizeWaits : -1;
    }

    /**
     * The driver's clock says the finalize wait {@code wait} (from {@link #finalizeWait}) is over before the tick that
     * ends it: decide now if it is still the current wait and the quorum still agrees. Apache waits 200 ms
     * (finalizeWait) here; a whole tick (2 s by default) would make every election that long.
     */
    public void finalizeElection(long wait) {
        if (!nonVoting() && wait >= 0 && wait == finalizeWait() && agreeing(receivedVotes, proposal, Role.LOOKING) >= config.quorumSize()) {
            decide(proposal);
        }
    }

    private void tickLooking() {
        // Notifications travel over a lossy channel; resending each tick stands in for ZooKeeper's backoff resend.
        broadcastNotification();
        if (!nonVoting() && decideAtTick >= 0 && now >= decideAtTick && agreeing(receivedVotes, proposal, Role.LOOKING) >= config.quorumSize()) {
            decide(proposal);
        }
    }

    private void onNotification(int from, Notification n) {
        Vote vote = new Vote(n.leader(), n.zxid(), n.peerEpoch());
        // An observer's notification is only a question (whom do you follow?); its vote and state count for nobody.
        boolean nonVotingSender = n.recovering() || config.isObserver(from);
        if (nonVotingSender) {
            recoveringPeers.add(from);
        } else {
            recoveringPeers.remove(from);
        }
        if (role != Role.LOOKING) {
            if (role == Role.FOLLOWING && follower.leaderId == from && follower.expectedSeq == 0
                    && (n.senderState() == Role.FOLLOWING || n.senderState() == Role.LOOKING && n.leader() != from)) {
                // The member this one chose to follow says it backs another leader: it will never answer this
                // FOLLOWERINFO, so waiting initLimit ticks for it (20 s by default) would only delay the start. Seen
                // when three members start together and one decides just before a better vote changes the others'
                // minds. A vote only ever moves to a better one within a round, so a member that voted for someone
                // else cannot have decided to lead in that round; at worst this is one needless election.
                startLooking("member " + from + " it chose to follow backs " + n.leader() + " (" + n.senderState() + ")");
                return;
            }
            if (n.senderState() == Role.LOOKING) {
                pending.send(from, ownNotification()); // recovering members and observers learn the leader this way
            }
            return;
        }
        if (nonVotingSender) {
            return; // its vote counts for nobody (see the fields "recovering" and "observer")
        }
        if (n.senderState() == Role.LOOKING) {
            if (nonVoting()) {
                return; // takes no part in elections; it only joins a leader that others follow
            }
            if (n.round() > electionRound) {
                electionRound = n.round();
                receivedVotes.clear();
                Vote own = ownVote();
                proposal = vote.beats(own) ? vote : own;
                receivedVotes.put(myId, new ReceivedVote(proposal, electionRound, Role.LOOKING));
                decideAtTick = -1;
                broadcastNotification();
            } else if (n.round() < electionRound) {
                pending.send(from, ownNotification());
                return;
            } else if (vote.beats(proposal)) {
                proposal = vote;
                receivedVotes.put(myId, new ReceivedVote(proposal, electionRound, Role.LOOKING));
                decideAtTick = -1;
                broadcastNotification();
            }
            receivedVotes.put(from, new ReceivedVote(vote, n.round(), n.senderState()));
            int agreeing = agreeing(receivedVotes, proposal, Role.LOOKING);
            // Every voter agrees, or a quorum does and every voter that has not voted is known to be unreachable:
            // no better vote can still arrive, so waiting out the finalize ticks would only delay the failover.
            if (agreeing == config.voters().length
                    || agreeing >= config.quorumSize() && agreeing + unreachableNonVoters() >= config.voters().length) {
                earlyDecisions += agreeing < config.voters().length ? 1 : 0;
                decide(proposal);
            } else if (agreeing >= config.quorumSize() && decideAtTick < 0) {
                decideAtTick = now + config.electionFinalizeTicks();
                finalizeWaits++;
                if (config.electionFinalizeTicks() == 0) {
                    decide(proposal);
                }
            }
            return;
        }
        // The sender already follows or leads: join it if a quorum does and the leader has confirmed leading.
        ReceivedVote received = new ReceivedVote(vote, n.round(), n.senderState());
        if (n.round() == electionRound && !nonVoting()) { // receivedVotes holds our own vote, which may not count
            receivedVotes.put(from, received);
            if (agreeing(receivedVotes, vote, n.senderState()) >= config.quorumSize() && leaderConfirmed(receivedVotes, vote)) {
                proposal = vote;
                decide(vote);
                return;
            }
        }
        outOfElection.put(from, received);
        if (agreeing(outOfElection, vote, n.senderState()) >= config.quorumSize() && leaderConfirmed(outOfElection, vote)) {
            electionRound = n.round();
            proposal = vote;
            decide(vote);
        }
    }

    /** Voters that have not voted and will not: known unreachable, or recovering (their votes do not count). */
    private int unreachableNonVoters() {
        int count = 0;
        for (int peer : config.voters()) {
            if ((unreachable.contains(peer) || recoveringPeers.contains(peer)) && !receivedVotes.containsKey(peer)) {
                count++;
            }
        }
        return count;
    }

    private static int agreeing(Map<Integer, ReceivedVote> votes, Vote vote, Role state) {
        int count = 0;
        for (ReceivedVote received : votes.values()) {
            boolean same = received.state == Role.LOOKING && state == Role.LOOKING
                    ? received.vote.equals(vote)
                    : received.vote.leader == vote.leader && received.vote.peerEpoch == vote.peerEpoch;
            if (same) {
                count++;
            }
        }
        return count;
    }

    private boolean leaderConfirmed(Map<Integer, ReceivedVote> votes, Vote vote) {
        if (vote.leader == myId) {
            return false; // never take leadership on others' say-so; only a full election makes this node leader
        }
        ReceivedVote fromLeader = votes.get(vote.leader);
        return fromLeader != null && fromLeader.state == Role.LEADING;
    }

    private void decide(Vote vote) {
        Checks.require(!nonVoting() || vote.leader != myId, "server %d: a recovering member or observer must not lead",
                myId);
        decidedRound = electionRound;
        decideAtTick = -1;
        proposal = vote;
        if (vote.leader == myId) {
            role = Role.LEADING;
            leader = new LeaderState();
            LOG.log(Level.DEBUG, "server {0}: leading (round {1})", myId, electionRound);
            leader.maybeChooseEpoch();
        } else {
            role = Role.FOLLOWING;
            follower = new FollowerSession(vote.leader);
            LOG.log(Level.DEBUG, "server {0}: following {1} (round {2})", myId, vote.leader, electionRound);
            follower.open();
        }
        // Observers ask only when they tick; telling them now saves them up to a tick of not serving.
        Notification decided = ownNotification();
        for (int peer : config.observers()) {
            if (peer != myId) {
                pending.send(peer, decided);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- log

    private int indexOf(long zxid) {
        int low = 0;
        int high = log.size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            long found = log.get(mid).zxid();
            if (found < zxid) {
                low = mid + 1;
            } else if (found > zxid) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -(low + 1);
    }

    private boolean hasZxid(long zxid) {
        return zxid == snapshotZxid || indexOf(zxid) >= 0;
    }

    private void appendLocal(LogEntry entry) {
        Checks.requireZxids(entry.zxid() > lastZxid(), "append of %s after %s", entry.zxid(), lastZxid());
        log.add(entry);
        pending.appends.add(entry);
    }

    private void truncateLocal(long zxid) {
        // Truncation never drops a committed transaction (ZOOKEEPER-1154, -1156): a leader asking for that is a bug.
        Checks.require(zxid >= committedZxid, "server %d: truncation to %s would drop committed %s", myId,
                Zxid.toString(zxid), Zxid.toString(committedZxid));
        Checks.require(zxid >= snapshotZxid, "truncation to %s below the snapshot %s", Zxid.toString(zxid),
                Zxid.toString(snapshotZxid));
        int index = indexOf(zxid);
        int keep = index >= 0 ? index + 1 : -(index + 1);
        log.subList(keep, log.size()).clear();
        durableZxid = Math.min(durableZxid, zxid);
        pending.appends.removeIf(entry -> entry.zxid() > zxid);
        pending.truncateAfterZxid = pending.truncateAfterZxid == Ready.NONE ? zxid
                : Math.min(pending.truncateAfterZxid, zxid);
    }

    private void installSnapshot(long zxid, SnapshotData bytes) {
        Checks.require(bytes != null, "SNAP without snapshot bytes");
        log.clear();
        snapshotZxid = zxid;
        snapshot = bytes;
        committedZxid = zxid;
        durableZxid = zxid; // the Ready writes the snapshot durably before anything that depends on it
        pending.appends.clear();
        pending.commits.clear(); // the snapshot already contains whatever they would have applied
        pending.truncateAfterZxid = 0;
        pending.snapshotToInstall = new Ready.Snapshot(zxid, bytes);
    }

    /** Hands every entry up to {@code zxid} to the application, in zxid order. */
    private void commitUpTo(long zxid) {
        if (zxid <= committedZxid) {
            return;
        }
        Checks.requireZxids(zxid <= lastZxid(), "commit of %s beyond the log end %s", zxid, lastZxid());
        int index = indexOf(committedZxid);
        int from = index >= 0 ? index + 1 : -(index + 1);
        for (int i = from; i < log.size() && log.get(i).zxid() <= zxid; i++) {
            pending.commits.add(log.get(i));
        }
        committedZxid = zxid;
    }

    private void persistAcceptedEpoch(long epoch) {
        acceptedEpoch = epoch;
        pending.acceptedEpoch = epoch;
    }

    private void persistCurrentEpoch(long epoch) {
        currentEpoch = epoch;
        pending.currentEpoch = epoch;
    }

    /**
     * Session ids grow within a run and across runs (the incarnation leads), so a leader can tell a follower's newest
     * session from a stale duplicate. The low 21 bits count sessions; after two million in one run they wrap, which
     * at worst delays a reconnect until the leader forgets the old session.
     */
    private long newSessionId() {
        return (incarnation << 21) | (++sessionsOpened & ((1L << 21) - 1));
    }

    // ---------------------------------------------------------------------------------------------------- follower

    private void tickFollowing() {
        long limit = follower.phase == FollowerPhase.BROADCAST ? config.syncLimit() : config.initLimit();
        if (now - follower.lastHeardTick > limit) {
            startLooking("leader " + follower.leaderId + " silent for " + (now - follower.lastHeardTick) + " ticks");
        } else if (follower.expectedSeq == 0) {
            // Nothing back yet: the leader may not have finished its election when FOLLOWERINFO arrived. Like
            // ZooKeeper's connect retries, open a fresh session (a higher id supersedes the old one) and ask again.
            follower.open();
        }
    }

    private final class FollowerSession {
        final int leaderId;
        long session;
        long nextSendSeq;
        long expectedSeq;
        long lastHeardTick = now;
        long epoch = -1;
        FollowerPhase phase = FollowerPhase.DISCOVERY;

        FollowerSession(int leaderId) {
            this.leaderId = leaderId;
        }

        void open() {
            session = newSessionId();
            nextSendSeq = 0;
            expectedSeq = 0;
            send(new FollowerInfo(session, nextSendSeq++, acceptedEpoch, lastZxid(), recovering));
        }

        void send(SessionMessage message) {
            pending.send(leaderId, message);
        }

        void receive(int from, SessionMessage message) {
            if (from != leaderId || message.session() != session) {
                LOG.log(Level.DEBUG, "server {0}: dropping {1} from {2}: not the current leader session", myId,
                        message, from);
                return;
            }
            if (message.seq() < expectedSeq) {
                LOG.log(Level.DEBUG, "server {0}: dropping duplicate {1}", myId, message);
                return;
            }
            if (message.seq() > expectedSeq) {
                startLooking("lost message in session with leader " + leaderId + " (expected seq " + expectedSeq
                        + ", got " + message.seq() + ")");
                return;
            }
            expectedSeq++;
            lastHeardTick = now;
            String error = handle(message);
            if (error != null) {
                LOG.log(Level.INFO, "server {0}: leaving leader {1}: {2}", myId, leaderId, error);
                startLooking(error);
            }
        }

        /** Returns null when handled, else why the session must end. */
        private String handle(SessionMessage message) {
            if (message instanceof LeaderInfo info) {
                if (phase != FollowerPhase.DISCOVERY) {
                    return "unexpected " + message;
                }
                boolean fresh;
                if (observer) {
                    // An observer's promise binds no quorum, so it takes any epoch not older than the last one it
                    // was synced in (an older one can only come from a deposed leader that a voter quorum left).
                    if (info.epoch() < currentEpoch) {
                        return "stale epoch " + info.epoch() + " proposed, already synced in " + currentEpoch;
                    }
                    if (info.epoch() > acceptedEpoch) {
                        persistAcceptedEpoch(info.epoch());
                    }
                    fresh = false;
                } else if (info.epoch() > acceptedEpoch) {
                    persistAcceptedEpoch(info.epoch());
                    fresh = true;
                } else if (info.epoch() == acceptedEpoch) {
                    fresh = false;
                } else {
                    return "stale epoch " + info.epoch() + " proposed, already accepted " + acceptedEpoch;
                }
                epoch = info.epoch();
                phase = FollowerPhase.SYNCHRONIZATION;
                send(new AckEpoch(session, nextSendSeq++, fresh, currentEpoch, lastZxid()));
                return null;
            }
            if (message instanceof Sync sync) {
                if (phase != FollowerPhase.SYNCHRONIZATION) {
                    return "unexpected " + message;
                }
                return applySync(sync);
            }
            if (message instanceof NewLeader newLeader) {
                if (phase != FollowerPhase.SYNCHRONIZATION || newLeader.epoch() != epoch
                        || (!observer && newLeader.epoch() != acceptedEpoch)) {
                    return "unexpected " + message + " in phase " + phase + " epoch " + epoch;
                }
                if (lastZxid() != newLeader.zxid()) {
                    return "log ends at " + Zxid.toString(lastZxid()) + " after sync, leader's at "
                            + Zxid.toString(newLeader.zxid());
                }
                // The Ready orders the log fsync and this epoch write before the ack leaves: the ack promises both.
                persistCurrentEpoch(epoch);
                if (recovering) {
                    // The leader's whole history (a SNAP or a DIFF from zero) and its epoch are durable before the
                    // marker goes and before this ack: from here on this member counts like any other.
                    recovering = false;
                    pending.recoveryComplete = true;
                }
                phase = FollowerPhase.AWAITING_UPTODATE;
                send(new AckNewLeader(session, nextSendSeq++, newLeader.zxid()));
                return null;
            }
            if (message instanceof Proposal proposal) {
                if (phase.compareTo(FollowerPhase.AWAITING_UPTODATE) < 0) {
                    return "proposal before NEWLEADER";
                }
                if (Zxid.epoch(proposal.zxid()) != epoch || proposal.zxid() <= lastZxid()) {
                    return "proposal " + Zxid.toString(proposal.zxid()) + " out of order after "
                            + Zxid.toString(lastZxid()) + " in epoch " + epoch;
                }
                appendLocal(new LogEntry(proposal.zxid(), proposal.txn()));
                if (!observer) {
                    send(new Ack(session, nextSendSeq++, proposal.zxid())); // the leader counts no observer's ack
                }
                return null;
            }
            if (message instanceof Commit commit) {
                if (phase.compareTo(FollowerPhase.AWAITING_UPTODATE) < 0 || commit.zxid() > lastZxid()) {
                    return "commit " + Zxid.toString(commit.zxid()) + " not in the log";
                }
                commitUpTo(commit.zxid());
                return null;
            }
            if (message instanceof UpToDate upToDate) {
                if (phase != FollowerPhase.AWAITING_UPTODATE || upToDate.commitZxid() > lastZxid()) {
                    return "unexpected " + message;
                }
                commitUpTo(upToDate.commitZxid());
                phase = FollowerPhase.BROADCAST;
                return null;
            }
            if (message instanceof Ping) {
                send(new Ping(session, nextSendSeq++));
                return null;
            }
            return "unexpected " + message.getClass().getSimpleName() + " from the leader";
        }

        private String applySync(Sync sync) {
            switch (sync.mode()) {
                case DIFF -> { }
                case TRUNC -> {
                    if (sync.truncateZxid() < committedZxid) {
                        // A correct leader never asks this; refusing keeps committed transactions (ZOOKEEPER-1154).
                        return "TRUNC to " + Zxid.toString(sync.truncateZxid()) + " below committed "
                                + Zxid.toString(committedZxid);
                    }
                    if (sync.truncateZxid() < snapshotZxid) {
                        return "TRUNC below the local snapshot";
                    }
                    truncateLocal(sync.truncateZxid());
                    if (lastZxid() != sync.truncateZxid()) {
                        return "TRUNC to " + Zxid.toString(sync.truncateZxid()) + " which this log does not hold";
                    }
                }
                case SNAP -> installSnapshot(sync.snapshotZxid(), sync.snapshot());
            }
            for (LogEntry entry : sync.entries()) {
                if (entry.zxid() <= lastZxid()) {
                    return "sync entry " + Zxid.toString(entry.zxid()) + " not after " + Zxid.toString(lastZxid());
                }
                appendLocal(entry);
            }
            return null;
        }
    }

    // ---------------------------------------------------------------------------------------------------- leader

    private boolean propose(byte[] txn) {
        LeaderState state = leader;
        if (Zxid.counter(lastZxid()) >= Zxid.COUNTER_MAX && Zxid.epoch(lastZxid()) == state.epoch) {
            startLooking("zxid counter exhausted in epoch " + state.epoch);
            return false;
        }
        if (uncommittedCount() >= config.outstandingProposalsMax()) {
            return false;
        }
        long zxid = Zxid.epoch(lastZxid()) == state.epoch ? lastZxid() + 1 : Zxid.of(state.epoch, 1);
        appendLocal(new LogEntry(zxid, txn));
        for (LearnerLink link : state.links.values()) {
            if (link.stage.compareTo(LinkStage.NEWLEADER_SENT) >= 0) {
                link.send(new Proposal(link.session, link.nextSendSeq++, zxid, txn));
            }
        }
        state.tryCommit();
        return true;
    }

    /**
     * The log entries after {@code zxid} (an applied one), in order: on a leader, what will be applied ahead of its next
     * proposal. A replicated application's leader-side prep step reads them (as ZooKeeper's outstanding changes).
     */
    List<LogEntry> logAfter(long zxid) {
        int index = indexOf(zxid);
        int from = index >= 0 ? index + 1 : -(index + 1);
        return List.copyOf(log.subList(from, log.size()));
    }

    private int uncommittedCount() {
        int index = indexOf(committedZxid);
        int committedCount = index >= 0 ? index + 1 : -(index + 1);
        return log.size() - committedCount;
    }

    private void tickLeading() {
        leader.tick();
    }

    private enum LinkStage { INFO_RECEIVED, LEADERINFO_SENT, EPOCH_ACKED, NEWLEADER_SENT, SYNCED, UPTODATE_SENT }

    /** The leader's side of one follower session (ZooKeeper's LearnerHandler, without the thread). */
    private final class LearnerLink {
        final int followerId;
        final long session;
        long nextSendSeq;
        long expectedSeq = 1; // FOLLOWERINFO (seq 0) opened the link
        long lastHeardTick = now;
        LinkStage stage = LinkStage.INFO_RECEIVED;
        long followerAcceptedEpoch;
        long followerLastZxid;
        /** The follower lost its history: synced like any other, but its discovery messages count for nothing. */
        boolean recovering;
        /** The learner is an observer: synced and sent every commit, but counted in no quorum. */
        final boolean observer;
        long ackedZxid;
        boolean freshEpochAck;

        LearnerLink(int followerId, long session) {
            this.followerId = followerId;
            this.session = session;
            this.observer = config.isObserver(followerId);
        }

        /** Its discovery messages and acknowledgements count towards quorums. */
        boolean votes() {
            return !observer && !recovering;
        }

        void send(SessionMessage message) {
            pending.send(followerId, message);
        }
    }

    private final class LeaderState {
        final long startedTick = now;
        final Map<Integer, LearnerLink> links = new TreeMap<>();
        LeaderPhase phase = LeaderPhase.DISCOVERY;
        long epoch = -1;

        void receive(int from, SessionMessage message) {
            LearnerLink link = links.get(from);
            if (message instanceof FollowerInfo info && info.seq() == 0) {
                if (link != null && link.session >= info.session()) {
                    LOG.log(Level.DEBUG, "server {0}: dropping stale {1} from {2}", myId, info, from);
                    return;
                }
                link = new LearnerLink(from, info.session());
                link.followerAcceptedEpoch = info.acceptedEpoch();
                link.followerLastZxid = info.lastZxid();
                link.recovering = info.recovering();
                links.put(from, link);
                onFollowerInfo(link);
                return;
            }
            if (link == null || link.session != message.session()) {
                LOG.log(Level.DEBUG, "server {0}: dropping {1} from {2}: no such session", myId, message, from);
                return;
            }
            if (message.seq() < link.expectedSeq) {
                LOG.log(Level.DEBUG, "server {0}: dropping duplicate {1} from {2}", myId, message, from);
                return;
            }
            if (message.seq() > link.expectedSeq) {
                LOG.log(Level.DEBUG, "server {0}: closing session with {1}: expected seq {2}, got {3}", myId, from,
                        link.expectedSeq, message.seq());
                links.remove(from);
                return;
            }
            link.expectedSeq++;
            link.lastHeardTick = now;
            String error = handle(link, message);
            if (error != null && role == Role.LEADING) {
                LOG.log(Level.INFO, "server {0}: closing session with {1}: {2}", myId, from, error);
                links.remove(from);
            }
        }

        private String handle(LearnerLink link, SessionMessage message) {
            if (message instanceof AckEpoch ack) {
                if (link.stage != LinkStage.LEADERINFO_SENT) {
                    return "unexpected " + message;
                }
                link.stage = LinkStage.EPOCH_ACKED;
                link.freshEpochAck = ack.fresh();
                link.followerLastZxid = ack.lastZxid();
                if (phase == LeaderPhase.DISCOVERY) {
                    // An observer's history decided nothing (it may hold proposals that never committed): TRUNC
                    // deals with it, not a new election.
                    if (!link.observer && (ack.currentEpoch() > currentEpoch
                            || (ack.currentEpoch() == currentEpoch && ack.lastZxid() > lastZxid()))) {
                        // The election picked a leader behind this follower; only a new election can fix that.
                        startLooking("follower " + link.followerId + " is ahead: epoch " + ack.currentEpoch()
                                + " zxid " + Zxid.toString(ack.lastZxid()));
                        return null;
                    }
                    maybeStartSync();
                } else {
                    synchronize(link);
                }
                return null;
            }
            if (message instanceof AckNewLeader ack) {
                if (link.stage != LinkStage.NEWLEADER_SENT || ack.zxid() != link.ackedZxid) {
                    return "unexpected " + message;
                }
                link.stage = LinkStage.SYNCED;
                if (phase == LeaderPhase.SYNCHRONIZATION) {
                    maybeEstablish();
                } else {
                    sendUpToDate(link);
                    tryCommit();
                }
                return null;
            }
            if (message instanceof Ack ack) {
                if (link.stage.compareTo(LinkStage.SYNCED) < 0 || ack.zxid() > lastZxid()) {
                    return "unexpected " + message;
                }
                link.ackedZxid = Math.max(link.ackedZxid, ack.zxid());
                tryCommit();
                return null;
            }
            if (message instanceof Ping) {
                return null;
            }
            if (message instanceof Request request) {
                if (phase == LeaderPhase.BROADCAST) {
                    // The driver prepares it against the leader's newest state, then submits the result.
                    pending.forwardedRequests.add(request.txn());
                } else {
                    LOG.log(Level.DEBUG, "server {0}: refusing forwarded write from {1}", myId, link.followerId);
                }
                return null;
            }
            return "unexpected " + message.getClass().getSimpleName() + " from a follower";
        }

        private void onFollowerInfo(LearnerLink link) {
            if (epoch < 0) {
                maybeChooseEpoch();
            } else if (link.followerAcceptedEpoch > epoch && phase == LeaderPhase.BROADCAST && !link.observer) {
                // The follower promised a newer would-be leader never to follow an older epoch, so it can never
                // join this one; only a new election, which picks an epoch above its promise, brings it back.
                startLooking("follower " + link.followerId + " already accepted epoch " + link.followerAcceptedEpoch);
            } else {
                sendLeaderInfo(link);
            }
        }

        /** Discovery: once a quorum has reported its acceptedEpoch, propose one above all of them. */
        void maybeChooseEpoch() {
            int reporting = 1;
            for (LearnerLink link : links.values()) {
                if (link.votes()) {
                    reporting++;
                }
            }
            if (reporting < config.quorumSize()) {
                return;
            }
            long highest = acceptedEpoch;
            for (LearnerLink link : links.values()) {
                highest = Math.max(highest, link.followerAcceptedEpoch);
            }
            if (highest >= Zxid.EPOCH_MAX) {
                throw new IllegalStateException("epoch space exhausted");
            }
            epoch = highest + 1;
            persistAcceptedEpoch(epoch);
            for (LearnerLink link : links.values()) {
                sendLeaderInfo(link);
            }
            maybeStartSync();
        }

        private void sendLeaderInfo(LearnerLink link) {
            link.send(new LeaderInfo(link.session, link.nextSendSeq++, epoch));
            link.stage = LinkStage.LEADERINFO_SENT;
        }

        private void maybeStartSync() {
            if (role != Role.LEADING || phase != LeaderPhase.DISCOVERY || epoch < 0) {
                return;
            }
            int acks = 1;
            for (LearnerLink link : links.values()) {
                // Only a fresh acceptance counts: each server accepts an epoch at most once (durably). A recovering
                // member's history is gone, so its acceptance counts for nothing (see the field "recovering").
                if (link.stage == LinkStage.EPOCH_ACKED && link.freshEpochAck && link.votes()) {
                    acks++;
                }
            }
            if (acks < config.quorumSize()) {
                return;
            }
            persistCurrentEpoch(epoch);
            phase = LeaderPhase.SYNCHRONIZATION;
            for (LearnerLink link : links.values()) {
                if (link.stage == LinkStage.EPOCH_ACKED) {
                    synchronize(link);
                }
            }
            maybeEstablish();
        }

        /** Synchronization: bring the follower's log to ours with DIFF, TRUNC or SNAP, then NEWLEADER. */
        void synchronize(LearnerLink link) {
            long peerLast = link.followerLastZxid;
            long last = lastZxid();
            SyncMode mode;
            long truncateZxid = 0;
            List<LogEntry> entries;
            if (peerLast < snapshotZxid) {
                mode = SyncMode.SNAP;
                entries = log;
            } else if (peerLast > last) {
                mode = SyncMode.TRUNC;
                truncateZxid = last;
                entries = List.of();
            } else {
                int index = indexOf(peerLast);
                if (index >= 0 || peerLast == snapshotZxid) {
                    mode = SyncMode.DIFF;
                    entries = log.subList(index >= 0 ? index + 1 : 0, log.size());
                } else {
                    // The follower holds entries we never had: cut back to the last zxid both histories contain.
                    int insertion = -(index + 1);
                    mode = SyncMode.TRUNC;
                    truncateZxid = insertion == 0 ? snapshotZxid : log.get(insertion - 1).zxid();
                    entries = log.subList(insertion, log.size());
                }
            }
            // The first SYNC says how; the entries follow in chunks so that no frame grows with the log.
            int chunkEnd = chunkEnd(entries, 0);
            link.send(new Sync(link.session, link.nextSendSeq++, mode, truncateZxid,
                    mode == SyncMode.SNAP ? snapshotZxid : 0, mode == SyncMode.SNAP ? snapshot : null,
                    entries.subList(0, chunkEnd)));
            while (chunkEnd < entries.size()) {
                int from = chunkEnd;
                chunkEnd = chunkEnd(entries, from);
                link.send(new Sync(link.session, link.nextSendSeq++, SyncMode.DIFF, 0, 0, null,
                        entries.subList(from, chunkEnd)));
            }
            link.send(new NewLeader(link.session, link.nextSendSeq++, epoch, last));
            link.ackedZxid = last;
            link.stage = LinkStage.NEWLEADER_SENT;
        }

        /** The end of the chunk starting at {@code from}: at least one entry, at most SYNC_CHUNK_BYTES_MAX. */
        private static int chunkEnd(List<LogEntry> entries, int from) {
            long bytes = 0;
            int end = from;
            while (end < entries.size()
                    && (end == from || bytes + entries.get(end).txn().length <= SYNC_CHUNK_BYTES_MAX)) {
                bytes += entries.get(end).txn().length;
                end++;
            }
            return end;
        }

        private void maybeEstablish() {
            if (phase != LeaderPhase.SYNCHRONIZATION) {
                return;
            }
            int synced = 1;
            for (LearnerLink link : links.values()) {
                if (link.stage == LinkStage.SYNCED && !link.observer) {
                    synced++;
                }
            }
            if (synced < config.quorumSize()) {
                return;
            }
            // A quorum holds our whole history durably under this epoch: all of it is now committed.
            phase = LeaderPhase.BROADCAST;
            commitUpTo(lastZxid());
            for (LearnerLink link : links.values()) {
                if (link.stage == LinkStage.SYNCED) {
                    sendUpToDate(link);
                }
            }
            LOG.log(Level.DEBUG, "server {0}: established epoch {1}", myId, epoch);
        }

        private void sendUpToDate(LearnerLink link) {
            link.send(new UpToDate(link.session, link.nextSendSeq++, committedZxid));
            link.stage = LinkStage.UPTODATE_SENT;
        }

        /** Broadcast: commit the highest zxid that a quorum (this node included) holds durably. */
        void tryCommit() {
            if (phase != LeaderPhase.BROADCAST) {
                return;
            }
            long[] acked = new long[config.voters().length];
            int count = 0;
            acked[count++] = Math.min(durableZxid, lastZxid()); // its own ack, like anyone's, only once durable
            for (LearnerLink link : links.values()) {
                if (link.stage.compareTo(LinkStage.SYNCED) >= 0 && !link.observer) {
                    acked[count++] = link.ackedZxid;
                }
            }
            if (count < config.quorumSize()) {
                return;
            }
            long[] sorted = Arrays.copyOf(acked, count);
            Arrays.sort(sorted);
            long quorumZxid = sorted[count - config.quorumSize()];
            if (quorumZxid <= committedZxid) {
                return;
            }
            commitUpTo(quorumZxid);
            for (LearnerLink link : links.values()) {
                if (link.stage.compareTo(LinkStage.NEWLEADER_SENT) >= 0) {
                    link.send(new Commit(link.session, link.nextSendSeq++, quorumZxid));
                }
            }
        }

        void tick() {
            if (phase != LeaderPhase.BROADCAST && now - startedTick > config.initLimit()) {
                startLooking("epoch not established within initLimit");
                return;
            }
            links.values().removeIf(link -> {
                long limit = link.stage.compareTo(LinkStage.SYNCED) >= 0 ? config.syncLimit() : config.initLimit();
                return now - link.lastHeardTick > limit;
            });
            if (phase == LeaderPhase.BROADCAST) {
                int live = 1;
                for (LearnerLink link : links.values()) {
                    if (link.stage.compareTo(LinkStage.SYNCED) >= 0 && !link.observer) {
                        live++;
                    }
                }
                if (live < config.quorumSize()) {
                    startLooking("only " + live + " synced servers, quorum is " + config.quorumSize());
                    return;
                }
            }
            for (LearnerLink link : links.values()) {
                link.send(new Ping(link.session, link.nextSendSeq++));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- output

    private static final class ReadyBuilder {
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
                    && !recoveryComplete;
        }

        Ready build() {
            return new Ready(snapshotToInstall, truncateAfterZxid, appends, acceptedEpoch, currentEpoch, messages,
                    messagesBeforeSync, commits, forwardedRequests, purgeBeforeZxid, recoveryComplete);
        }
    }
}
