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
import io.tandem.server.zab.ZabMessage.SyncMode;
import io.tandem.server.zab.ZabMessage.UpToDate;
import io.tandem.server.zab.ZabStateMachine.LeaderPhase;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The LEADING part of {@link ZabStateMachine}: discovery (choosing an epoch above every promise a quorum reports),
 * synchronization of each learner (DIFF, TRUNC or SNAP, then NEWLEADER), and broadcast (proposals, acks counted once
 * durable, commits). One {@link LearnerLink} per follower or observer session.
 */
final class ZabLeader {
    private static final Logger LOG = System.getLogger(ZabLeader.class.getName());

    private enum LinkStage { INFO_RECEIVED, LEADERINFO_SENT, EPOCH_ACKED, NEWLEADER_SENT, SYNCED, UPTODATE_SENT }

    /** The leader's side of one follower session (ZooKeeper's LearnerHandler, without the thread). */
    private final class LearnerLink {
        final int followerId;
        final long session;
        long nextSendSeq;
        long expectedSeq = 1; // FOLLOWERINFO (seq 0) opened the link
        long lastHeardTick;
        LinkStage stage = LinkStage.INFO_RECEIVED;
        long followerAcceptedEpoch;
        long followerLastZxid;
        /** The follower lost its history: synced like any other, but its discovery messages count for nothing. */
        boolean recovering;
        long ackedZxid;
        boolean freshEpochAck;

        LearnerLink(int followerId, long session, long now) {
            this.followerId = followerId;
            this.session = session;
            this.lastHeardTick = now;
        }

        /**
         * The learner is an observer of the active configuration: synced and sent every commit, its history decides
         * nothing. Read each time: a committed reconfig may change its role while its session goes on.
         */
        boolean observer() {
            return !config().isVoter(followerId);
        }

        /**
         * Its discovery messages count towards the quorums of the configurations it is a voter of
         * ({@link ZabMembership#isQuorum}); a recovering learner's count for nothing.
         */
        boolean votes() {
            return !recovering;
        }

        void send(SessionMessage message) {
            m.pending.send(followerId, message);
        }
    }

    private final ZabStateMachine m;
    private final long startedTick;
    private final Map<Integer, LearnerLink> links = new TreeMap<>();
    /** This leadership's proposal sizes (Apache's Leader.proposalStats), read by mntr and srvr on their threads. */
    final ProposalSizes proposalSizes = new ProposalSizes();
    LeaderPhase phase = LeaderPhase.DISCOVERY;
    long epoch = -1;

    ZabLeader(ZabStateMachine machine, long now) {
        this.m = machine;
        this.startedTick = now;
    }

    /** The machine's configuration: a committed reconfig replaces it (voters and observers), so it is never copied. */
    private ZabConfig config() {
        return m.config();
    }

    /** The ids of this leader and of the learners synced with it (NEWLEADER acknowledged). */
    int[] syncedMembers() {
        return java.util.stream.IntStream.concat(java.util.stream.IntStream.of(m.myId()), links.values().stream()
                .filter(link -> link.stage.compareTo(LinkStage.SYNCED) >= 0).mapToInt(link -> link.followerId))
                .sorted().toArray();
    }

    /** Appends a new transaction and proposes it to every synced learner; false when it cannot be taken now. */
    boolean propose(byte[] txn) {
        long last = m.lastZxid();
        if (Zxid.counter(last) >= Zxid.COUNTER_MAX && Zxid.epoch(last) == epoch) {
            m.startLooking("zxid counter exhausted in epoch " + epoch);
            return false;
        }
        if (m.history.uncommittedCount() >= config().outstandingProposalsMax()) {
            return false;
        }
        long zxid = Zxid.epoch(last) == epoch ? last + 1 : Zxid.of(epoch, 1);
        m.history.appendLocal(new LogEntry(zxid, txn));
        // Apache's Leader.propose records every proposal, whether or not a learner is there to be sent it.
        proposalSizes.record(ZabCodec.proposalFrameBytes(txn.length));
        for (LearnerLink link : links.values()) {
            if (link.stage.compareTo(LinkStage.NEWLEADER_SENT) >= 0) {
                link.send(new Proposal(link.session, link.nextSendSeq++, zxid, txn));
            }
        }
        tryCommit();
        return true;
    }

    void receive(int from, SessionMessage message, long now) {
        LearnerLink link = links.get(from);
        if (message instanceof FollowerInfo info && info.seq() == 0) {
            if (link != null && link.session >= info.session()) {
                LOG.log(Level.DEBUG, "server {0}: dropping stale {1} from {2}", m.myId(), info, from);
                return;
            }
            link = new LearnerLink(from, info.session(), now);
            link.followerAcceptedEpoch = info.acceptedEpoch();
            link.followerLastZxid = info.lastZxid();
            link.recovering = info.recovering();
            links.put(from, link);
            onFollowerInfo(link);
            return;
        }
        if (link == null || link.session != message.session()) {
            LOG.log(Level.DEBUG, "server {0}: dropping {1} from {2}: no such session", m.myId(), message, from);
            return;
        }
        if (message.seq() < link.expectedSeq) {
            LOG.log(Level.DEBUG, "server {0}: dropping duplicate {1} from {2}", m.myId(), message, from);
            return;
        }
        if (message.seq() > link.expectedSeq) {
            LOG.log(Level.DEBUG, "server {0}: closing session with {1}: expected seq {2}, got {3}", m.myId(), from,
                    link.expectedSeq, message.seq());
            links.remove(from);
            return;
        }
        link.expectedSeq++;
        link.lastHeardTick = now;
        String error = handle(link, message);
        if (error != null && m.role() == Role.LEADING) {
            LOG.log(Level.INFO, "server {0}: closing session with {1}: {2}", m.myId(), from, error);
            links.remove(from);
        }
    }

    private String handle(LearnerLink link, SessionMessage message) {
        if (message instanceof AckEpoch ack) {
            return onAckEpoch(link, ack);
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
            if (link.stage.compareTo(LinkStage.SYNCED) < 0 || ack.zxid() > m.lastZxid()) {
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
                m.pending.forwardedRequests.add(request.txn());
            } else {
                LOG.log(Level.DEBUG, "server {0}: refusing forwarded write from {1}", m.myId(), link.followerId);
            }
            return null;
        }
        return "unexpected " + message.getClass().getSimpleName() + " from a follower";
    }

    private String onAckEpoch(LearnerLink link, AckEpoch ack) {
        if (link.stage != LinkStage.LEADERINFO_SENT) {
            return "unexpected " + ack;
        }
        link.stage = LinkStage.EPOCH_ACKED;
        link.freshEpochAck = ack.fresh();
        link.followerLastZxid = ack.lastZxid();
        if (phase == LeaderPhase.DISCOVERY) {
            // An observer's history decided nothing (it may hold proposals that never committed): TRUNC deals with
            // it, not a new election.
            if (!link.observer() && (ack.currentEpoch() > m.currentEpoch()
                    || (ack.currentEpoch() == m.currentEpoch() && ack.lastZxid() > m.lastZxid()))) {
                // The election picked a leader behind this follower; only a new election can fix that.
                m.startLooking("follower " + link.followerId + " is ahead: epoch " + ack.currentEpoch() + " zxid "
                        + Zxid.toString(ack.lastZxid()));
                return null;
            }
            maybeStartSync();
        } else {
            synchronize(link);
        }
        return null;
    }

    private void onFollowerInfo(LearnerLink link) {
        if (epoch < 0) {
            maybeChooseEpoch();
        } else if (link.followerAcceptedEpoch > epoch && phase == LeaderPhase.BROADCAST && !link.observer()) {
            // The follower promised a newer would-be leader never to follow an older epoch, so it can never join
            // this one; only a new election, which picks an epoch above its promise, brings it back.
            m.startLooking("follower " + link.followerId + " already accepted epoch " + link.followerAcceptedEpoch);
        } else {
            sendLeaderInfo(link);
        }
    }

    /** Discovery: once a quorum has reported its acceptedEpoch, propose one above all of them. */
    void maybeChooseEpoch() {
        if (!m.membership.isQuorum(m.config(),
                id -> id == m.myId() || (links.get(id) != null && links.get(id).votes()))) {
            return;
        }
        long highest = m.acceptedEpoch();
        for (LearnerLink link : links.values()) {
            highest = Math.max(highest, link.followerAcceptedEpoch);
        }
        if (highest >= Zxid.EPOCH_MAX) {
            throw new IllegalStateException("epoch space exhausted");
        }
        epoch = highest + 1;
        m.history.persistAcceptedEpoch(epoch);
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
        if (m.role() != Role.LEADING || phase != LeaderPhase.DISCOVERY || epoch < 0) {
            return;
        }
        // Only a fresh acceptance counts: each server accepts an epoch at most once (durably). A recovering
        // member's history is gone, so its acceptance counts for nothing (see the machine's field "recovering").
        if (!m.membership.isQuorum(m.config(), id -> id == m.myId() || epochAcked(links.get(id)))) {
            return;
        }
        m.history.persistCurrentEpoch(epoch);
        phase = LeaderPhase.SYNCHRONIZATION;
        for (LearnerLink link : links.values()) {
            if (link.stage == LinkStage.EPOCH_ACKED) {
                synchronize(link);
            }
        }
        maybeEstablish();
    }

    private static boolean epochAcked(LearnerLink link) {
        return link != null && link.stage == LinkStage.EPOCH_ACKED && link.freshEpochAck && link.votes();
    }

    /** Synchronization: bring the follower's log to ours with DIFF, TRUNC or SNAP, then NEWLEADER. */
    private void synchronize(LearnerLink link) {
        long peerLast = link.followerLastZxid;
        long last = m.lastZxid();
        long snapshotZxid = m.snapshotZxid();
        List<LogEntry> log = m.history.log();
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
            int index = m.history.indexOf(peerLast);
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
                mode == SyncMode.SNAP ? snapshotZxid : 0, mode == SyncMode.SNAP ? m.history.snapshot() : null,
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
        while (end < entries.size() && (end == from
                || bytes + entries.get(end).txn().length <= ZabStateMachine.SYNC_CHUNK_BYTES_MAX)) {
            bytes += entries.get(end).txn().length;
            end++;
        }
        return end;
    }

    private void maybeEstablish() {
        if (phase != LeaderPhase.SYNCHRONIZATION) {
            return;
        }
        if (!m.membership.isQuorum(m.config(),
                id -> id == m.myId() || (links.get(id) != null && links.get(id).stage == LinkStage.SYNCED))) {
            return;
        }
        // A quorum holds our whole history durably under this epoch: all of it is now committed.
        phase = LeaderPhase.BROADCAST;
        m.history.commitUpTo(m.lastZxid());
        for (LearnerLink link : links.values()) {
            if (link.stage == LinkStage.SYNCED) {
                sendUpToDate(link);
            }
        }
        LOG.log(Level.DEBUG, "server {0}: established epoch {1}", m.myId(), epoch);
    }

    private void sendUpToDate(LearnerLink link) {
        link.send(new UpToDate(link.session, link.nextSendSeq++, m.committedZxid()));
        link.stage = LinkStage.UPTODATE_SENT;
    }

    /** Broadcast: commit the highest zxid that a quorum (this node included) holds durably. */
    void tryCommit() {
        if (phase != LeaderPhase.BROADCAST) {
            return;
        }
        // Its own ack, like anyone's, counts only once durable; an observer's link never acks (nor counts).
        Map<Integer, Long> acked = new TreeMap<>();
        acked.put(m.myId(), Math.min(m.history.durableZxid(), m.lastZxid()));
        for (LearnerLink link : links.values()) {
            if (link.stage.compareTo(LinkStage.SYNCED) >= 0) {
                acked.put(link.followerId, link.ackedZxid);
            }
        }
        // The highest zxid that a quorum holds (a joint one while a reconfig is pending, see ZabMembership.isQuorum).
        long[] candidates = acked.values().stream().mapToLong(Long::longValue).distinct().sorted().toArray();
        long quorumZxid = -1;
        for (int i = candidates.length - 1; i >= 0 && candidates[i] > m.committedZxid(); i--) {
            long zxid = candidates[i];
            if (m.membership.isQuorum(m.config(), id -> acked.getOrDefault(id, -1L) >= zxid)) {
                quorumZxid = zxid;
                break;
            }
        }
        if (quorumZxid <= m.committedZxid()) {
            return;
        }
        ZabConfig before = config();
        m.history.commitUpTo(quorumZxid);
        int designated = -1;
        if (config() != before && !config().isVoter(m.myId())) {
            // None only when the new voters' quorum was not counted (a broken Zab the simulator must catch).
            designated = designatedLeader(acked, quorumZxid);
            if (designated >= 0) {
                m.membership.designate(designated, quorumZxid);
            }
            LOG.log(Level.INFO, "server {0}: committed a reconfiguration that leaves this leader out of the voters; "
                    + "it designates server {1}", m.myId(), designated);
        }
        for (LearnerLink link : links.values()) {
            if (link.stage.compareTo(LinkStage.NEWLEADER_SENT) >= 0) {
                link.send(new Commit(link.session, link.nextSendSeq++, quorumZxid, designated));
            }
        }
    }

    /**
     * The voter of the configuration just activated that leads next, as Apache's Leader.getDesignatedLeader: among
     * the new voters that acknowledged the commit ({@code acked} up to {@code committed}; a quorum of them did), the
     * one that acknowledged the most of the proposals after it, so the fewest get dropped (the lowest id of equals,
     * as Apache's HashSet of small sids iterates); -1 when none did. It holds everything committed; one ahead of it
     * is left to its discovery, which then elects as Apache's "Follower is ahead of the leader" does.
     */
    private int designatedLeader(Map<Integer, Long> acked, long committed) {
        int best = -1;
        long bestAcked = -1;
        for (int voter : config().voters()) {
            long zxid = acked.getOrDefault(voter, -1L);
            if (voter != m.myId() && zxid >= committed && (zxid > bestAcked || zxid == bestAcked && voter < best)) {
                best = voter;
                bestAcked = zxid;
            }
        }
        return best;
    }

    void tick(long now) {
        if (phase != LeaderPhase.BROADCAST && now - startedTick > config().initLimit()) {
            m.startLooking("epoch not established within initLimit");
            return;
        }
        links.values().removeIf(link -> {
            long limit = link.stage.compareTo(LinkStage.SYNCED) >= 0 ? config().syncLimit() : config().initLimit();
            return now - link.lastHeardTick > limit;
        });
        if (phase == LeaderPhase.BROADCAST) {
            if (!m.membership.isQuorum(m.config(), id -> id == m.myId()
                    || (links.get(id) != null && links.get(id).stage.compareTo(LinkStage.SYNCED) >= 0))) {
                m.startLooking("no quorum of synced servers (" + links.keySet() + " and this one), quorum is "
                        + config().quorumSize() + (m.hasPendingConfig() ? " of the old and of the new voters" : ""));
                return;
            }
        }
        for (LearnerLink link : links.values()) {
            link.send(new Ping(link.session, link.nextSendSeq++));
        }
    }
}
