package io.tandem.server.zab.apache;

import io.tandem.server.zab.ZabDisk;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import io.tandem.server.zab.apache.FastLeaderElection.Vote;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * A Tandem member of an ensemble with Apache ZooKeeper servers, as Apache's QuorumPeer runs its main loop: look for a
 * leader with fast leader election ({@link ApacheElection}), follow the elected Apache leader ({@link ApacheFollower})
 * until that session ends (leader gone: no packet within syncLimit ticks, or the connection closed), then look again
 * with the last logged zxid and currentEpoch the session left. One thread of its own.
 *
 * <p>When the election makes this member the leader it leads with Apache's leader protocol ({@link ApacheLeader}) if
 * it was given a leader application; without one (the protocol-only tests) it does not claim the role: it waits
 * initLimit ticks (the time Apache followers give a leader to answer) and looks again.
 */
public final class ApacheQuorumPeer implements Closeable {
    private static final Logger LOG = System.getLogger(ApacheQuorumPeer.class.getName());

    private final long myId;
    /** The configuration in force, the last seen one, and every member they name. */
    private final PeerConfigs configs;
    private final ApacheElection election;
    private final ApacheFollower follower;
    private final ZabDisk disk;
    private final LeaderApplication leaderApplication;
    private final int tickTimeMs;
    private final int initLimit;
    private final int syncLimit;
    private volatile ApacheLeader leader;
    private final long initLimitMs;
    private final Thread thread;
    private volatile boolean closed;
    private volatile long leaderId = -1;
    private volatile boolean serving;
    /**
     * Apache's LearnerType: whether this member observes. zoo.cfg's line sets it; an activated configuration may
     * change it (updateLearnerType), and the next session registers with it.
     */
    private volatile boolean learnerObserver;
    /**
     * Apache's reconfigFlag with its current vote: the leader the next session follows without an election, when an
     * activated configuration changed this member's role and kept its leader (-1: look for a leader as usual).
     */
    private volatile long reconfiguredLeader = -1;
    /** zoo.cfg's observerMasterPort, and the voter an observer tries next as learner master. */
    private final ObserverMasterChoice observerMasters;
    /** The member whose learner master this observer is synced through (-1: the leader, or none). */
    private volatile long learnerMaster = -1;

    public ApacheQuorumPeer(long myId, Map<Long, ApacheElection.Member> members, ZabDisk disk, long acceptedEpoch,
                            long currentEpoch, long lastLoggedZxid, LearnerApplication application,
                            int tickTimeMs, int initLimit, int syncLimit) {
        this(myId, members, disk, acceptedEpoch, currentEpoch, lastLoggedZxid, application, null, tickTimeMs,
                initLimit, syncLimit);
    }

    /** As above; with a {@code leaderApplication} this member leads Apache followers when elected. */
    public ApacheQuorumPeer(long myId, Map<Long, ApacheElection.Member> members, ZabDisk disk, long acceptedEpoch,
                            long currentEpoch, long lastLoggedZxid, LearnerApplication application,
                            LeaderApplication leaderApplication, int tickTimeMs, int initLimit,
                            int syncLimit) {
        this(myId, members, Set.of(), disk, acceptedEpoch, currentEpoch, lastLoggedZxid, application,
                leaderApplication, tickTimeMs, initLimit, syncLimit);
    }

    /**
     * As above; {@code observers} are zoo.cfg's members that observe (Apache observers a leadership of this member
     * serves). When this member is one of them it observes, as Apache's Observer: it looks for the leader among the
     * voters' votes (never a candidate), registers with OBSERVERINFO and learns each commit by INFORM; it never leads.
     */
    public ApacheQuorumPeer(long myId, Map<Long, ApacheElection.Member> members, Set<Long> observers, ZabDisk disk,
                            long acceptedEpoch, long currentEpoch, long lastLoggedZxid,
                            LearnerApplication application, LeaderApplication leaderApplication,
                            int tickTimeMs, int initLimit, int syncLimit) {
        this.myId = myId;
        this.disk = disk;
        this.leaderApplication = leaderApplication;
        this.tickTimeMs = tickTimeMs;
        this.initLimit = initLimit;
        this.syncLimit = syncLimit;
        this.election = new ApacheElection(myId, members, observers);
        this.configs = new PeerConfigs(members, observers, election);
        this.observerMasters = new ObserverMasterChoice(myId);
        this.initLimitMs = (long) initLimit * tickTimeMs;
        this.learnerObserver = observers.contains(myId);
        LearnerApplication tracked = new LearnerApplication() {
            @Override
            public void onSnapshot(long zxid, byte[] apacheSnapshot) {
                application.onSnapshot(zxid, apacheSnapshot);
            }

            @Override
            public void onCommit(long zxid, byte[] txn) {
                application.onCommit(zxid, txn);
            }

            @Override
            public Map<Long, Integer> touches() {
                return application.touches();
            }

            @Override
            public void onServing(boolean nowServing) {
                serving = nowServing;
                // Apache's Learner.syncWithLeader: the vote others are answered with names the epoch followed.
                if (nowServing) election.updateElectionVote(follower.currentEpoch());
                application.onServing(nowServing);
            }

            @Override
            public void onRevalidated(long sessionId, boolean valid) {
                application.onRevalidated(sessionId, valid);
            }

            @Override
            public void onSync() {
                application.onSync();
            }

            @Override
            public long configVersion() {
                return configs.inForce().version();
            }

            @Override
            public void onProposedConfig(ApacheConfig proposed) {
                // Apache's setLastSeenQuorumVerifier: in memory (only with reconfigEnabled), then on disk.
                if (application.reconfigEnabled()) configs.sawNewer(proposed);
                application.onProposedConfig(proposed);
            }

            @Override
            public boolean onActivate(byte[] text, long designatedLeader) {
                if (!application.reconfigEnabled()) {
                    return false;
                }
                boolean major = activate(text, designatedLeader);
                application.onConfig(configs.inForce());
                return major;
            }
        };
        this.follower = new ApacheFollower(myId, observers.contains(myId), disk, acceptedEpoch, currentEpoch,
                lastLoggedZxid, tracked, initLimit * tickTimeMs, syncLimit * tickTimeMs);
        this.thread = new Thread(this::run, "apache-quorum-peer-" + myId);
        this.thread.setDaemon(true);
    }

    /**
     * Before {@link #start}: the configuration this member's restored state holds ({@code /zookeeper/config}), when
     * a reconfig made it; it replaces zoo.cfg's for the election and for finding the leader.
     */
    public void restoreConfig(byte[] text) {
        ApacheConfig restored;
        try {
            restored = ApacheConfig.parse(text);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "server {0}: the restored configuration is unreadable ({1}); electing with "
                    + "zoo.cfg''s members", myId, e.toString());
            return;
        }
        if (restored.version() > configs.inForce().version()) {
            // Its role in that configuration is the one it runs with, as Apache's peer takes its learner type from
            // the dynamic configuration a reconfig wrote rather than from the static lines.
            boolean observes = restored.observers().contains(myId);
            if (restored.members().containsKey(myId) && observes != learnerObserver) {
                learnerObserver = observes;
                election.changeRole(observes);
                follower.role(observes);
            }
            configs.adopt(restored);
        }
    }

    /**
     * Before {@link #start}: Apache's last seen configuration from {@code zoo.cfg.dynamic.next}, newer than the one in
     * force. As Apache's QuorumPeer takes it: the election reaches its members and needs a quorum of its voters too,
     * and a leadership of this member carries it in NEWLEADER and activates it once a quorum of both configurations
     * acknowledged (Leader.lead / startZkServer), completing the reconfig. Until then the configuration in force is
     * unchanged.
     */
    public void restoreLastSeen(ApacheConfig restored) {
        configs.sawNewer(restored);
    }

    /** The newest configuration this member activated. */
    public ApacheConfig config() {
        return configs.inForce();
    }

    /**
     * Apache's QuorumPeer.processReconfig on a learner: a newer configuration replaces the one in force (an older or
     * the same one changes nothing). Its role for this member is Apache's updateLearnerType: an observer line makes
     * it an observer, a participant line a voter, and a configuration that leaves it out a non-voting participant.
     * The change is major, and the session ends after the reconfig's commit, when the role changed or the leader
     * followed is not the designated one ({@code designatedLeader} >= 0), or, with none designated (NEWLEADER's
     * configuration), when the leader is no voter of either configuration or moved.
     *
     * <p>As Apache's updateServerState with its reconfigFlag: with a designated leader (a reconfig's commit), a role
     * change or a leader change makes the next session go to that leader at once, in the new role, without an
     * election: it follows (or observes) it, or leads when it is this member; a configuration NEWLEADER carried
     * (Apache clears the flag then) sends this member to the election, in its new role.
     */
    private boolean activate(byte[] text, long designatedLeader) {
        ApacheConfig next;
        try {
            next = ApacheConfig.parse(text);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "server {0}: configuration from the leader not activated: {1}", myId, e.toString());
            return false;
        }
        ApacheConfig previous = configs.inForce();
        if (next.version() <= previous.version()) {
            return false;
        }
        boolean nowObserver = next.observers().contains(myId);
        boolean roleChange = nowObserver != learnerObserver;
        if (roleChange) {
            learnerObserver = nowObserver;
            election.changeRole(nowObserver); // before adopt's reconfigure, so that the voters it counts follow
        }
        configs.adopt(next);
        if (!roleChange && next.members().equals(previous.members())
                && next.observers().equals(previous.observers())) {
            return false;
        }
        LOG.log(Level.INFO, "server {0}: activated configuration version 0x{1}: voters {2}, observers {3}", myId,
                Long.toHexString(next.version()), next.voters(), next.observers());
        if (roleChange) {
            LOG.log(Level.INFO, "server {0}: becoming {1}", myId, nowObserver ? "an observer"
                    : next.voters().contains(myId) ? "a voting participant" : "a non-voting participant");
        } else if (!nowObserver && !next.voters().contains(myId)) {
            LOG.log(Level.INFO, "server {0}: removed from the configuration: following on without a vote", myId);
        }
        long leader = leaderId;
        boolean leaderChange;
        if (designatedLeader >= 0) {
            // Apache's updateVote and updateLearnerType set the reconfigFlag: the next session goes to the
            // designated leader (this member leads when it is the one) without an election.
            leaderChange = designatedLeader != leader;
            if (roleChange || leaderChange) reconfiguredLeader = designatedLeader;
        } else {
            ApacheElection.Member before = previous.voters().contains(leader) ? previous.members().get(leader) : null;
            ApacheElection.Member after = next.voters().contains(leader) ? next.members().get(leader) : null;
            leaderChange = before == null || after == null || !before.host().equals(after.host())
                    || before.quorumPort() != after.quorumPort();
        }
        return roleChange || leaderChange;
    }

    /**
     * QuorumPeer.processReconfig on the leader: the configuration a reconfig it committed makes (or NEWLEADER's),
     * for the election and the next leadership. A leader the configuration leaves out, moves or makes an observer has
     * designated another ({@code designatedLeader}) and steps down; it then follows as a non-voter, or observes.
     */
    private void activateAsLeader(ApacheConfig next, long designatedLeader) {
        if (next.version() <= configs.inForce().version()) {
            return;
        }
        // Apache's updateLearnerType on the leader: a leader the configuration makes an observer (it designated
        // another) looks for that leader as one once its leadership ends.
        boolean nowObserver = next.observers().contains(myId);
        if (nowObserver != learnerObserver) {
            learnerObserver = nowObserver;
            election.changeRole(nowObserver);
        }
        configs.adopt(next);
        // Apache's processReconfig on its leader: updateVote to the designated leader, which the member follows
        // once this leadership ends, without an election (updateServerState with the reconfigFlag).
        if (designatedLeader >= 0 && designatedLeader != myId) reconfiguredLeader = designatedLeader;
        LOG.log(Level.INFO, "server {0}: activated configuration version 0x{1} as leader: voters {2}, observers {3}, "
                + "designated leader {4}", myId, Long.toHexString(next.version()), next.voters(), next.observers(),
                designatedLeader);
    }

    /** Before {@link #start}: how every election, learner and leader connection is secured (sslQuorum's TLS). */
    public void useSockets(QuorumSockets sockets) {
        election.useSockets(sockets);
        follower.useSockets(sockets);
    }

    /**
     * Before {@link #start}: zoo.cfg's observerMasterPort. While this member observes it connects to a voter at that
     * port rather than to the leader's quorum port (Apache's QuorumPeer.findLearnerMaster with observer masters);
     * while it follows it serves observers there at its quorum host (Apache's ObserverMaster), from its tree.
     */
    public void observerMasterPort(int port) {
        observerMasters.port(port);
        ApacheElection.Member me = configs.members().get(myId);
        if (leaderApplication == null || me == null) return;
        follower.serveObservers(new ObserverMaster.Settings(me.host(), port, tickTimeMs, leaderApplication::snapshot,
                configs::lastSeenOrInForce));
    }

    /** The voter whose learner master this observer is connected through, -1 when none (or the leader itself). */
    public long learnerMaster() {
        return learnerMaster;
    }

    /** Binds the election port and starts looking for a leader. */
    public ApacheQuorumPeer start() throws InterruptedException {
        election.start();
        thread.start();
        return this;
    }

    /** The leader this member follows, -1 while looking. */
    public long leaderId() {
        return leaderId;
    }

    /** Synced with a leader: this member's state is the ensemble's and requests may be forwarded. */
    public boolean isServing() {
        return serving;
    }

    /**
     * Whether this member observes rather than votes: its own {@code :observer} line, or the role the last activated
     * configuration gave it once the session that activated it ended.
     */
    public boolean isObserver() {
        return follower.observer();
    }

    /** The follower, for forwarding requests and revalidating sessions while serving. */
    public ApacheFollower follower() {
        return follower;
    }

    /** mntr's quorum figures of this member (Apache's ServerMetrics), following and leading. */
    public ApacheQuorumFigures figures() {
        return follower.figures();
    }

    public int electionPort() {
        return election.electionPort();
    }

    private void run() {
        while (!closed) {
            try {
                follower.role(learnerObserver);
                long reconfigured = reconfiguredLeader;
                reconfiguredLeader = -1;
                if (reconfigured >= 0 && reconfigured != myId && configs.members().containsKey(reconfigured)) {
                    election.designate(reconfigured, follower.lastLoggedZxid());
                    LOG.log(Level.INFO, "server {0}: {1} the designated leader {2} without an election", myId,
                            learnerObserver ? "observing" : "following", reconfigured);
                    follow(reconfigured);
                    continue;
                }
                if (reconfigured == myId && leaderApplication != null && !learnerObserver
                        && configs.inForce().voters().contains(myId)) {
                    election.designate(myId, follower.lastLoggedZxid());
                    LOG.log(Level.INFO, "server {0}: leading as the designated leader without an election", myId);
                    lead();
                    continue;
                }
                follower.figures().looking(); // Apache's LOOKING_COUNT, each time the peer goes LOOKING
                Future<Vote> round = election.lookForLeader(follower.lastLoggedZxid(), follower.currentEpoch());
                Vote vote = round.get();
                if (closed) return;
                if (vote.state() == ServerState.LEADING && leaderApplication != null) {
                    follower.figures().elected(); // Apache's Leader.lead records ELECTION_TIME first
                    lead();
                    continue;
                }
                if (vote.state() == ServerState.LEADING) {
                    LOG.log(Level.WARNING, "server {0}: elected leader, but Tandem cannot lead Apache followers yet; "
                            + "looking again in {1} ms", myId, initLimitMs);
                    Thread.sleep(initLimitMs);
                    continue;
                }
                // Apache's Follower.followLeader records ELECTION_TIME; its Observer.observeLeader does not.
                if (learnerObserver) {
                    follower.figures().observing();
                } else {
                    follower.figures().elected();
                }
                follow(vote.leader());
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException e) {
                LOG.log(Level.ERROR, "server {0}: election failed", myId, e.getCause());
                return;
            }
        }
    }

    /**
     * One session following (or observing) {@code sid}, until it ends. An observer with an observerMasterPort syncs
     * through the next voter's learner master instead (the leader's host among them: Apache's leader does not listen
     * there, and the failed connection sends the observer back to the election and on to the next voter, as
     * Apache's Observer.observeLeader does).
     */
    private void follow(long sid) throws InterruptedException {
        ApacheElection.Member leader = configs.members().get(sid);
        leaderId = sid;
        int observerMasterPort = observerMasters.port();
        long master = learnerObserver && observerMasterPort > 0 ? observerMasters.next(configs.inForce()) : -1;
        ApacheElection.Member through = master >= 0 ? configs.members().get(master) : null;
        try {
            if (through != null) {
                LOG.log(Level.INFO, "server {0}: observing leader {1} through the learner master of server {2} at "
                        + "{3}:{4}", myId, sid, master, through.host(), Integer.toString(observerMasterPort));
                learnerMaster = master;
                follower.followLeader(through.host(), observerMasterPort,
                        ApacheFollower.LEARNER_MASTER_CONNECT_RETRY_MS);
            } else {
                follower.followLeader(leader.host(), leader.quorumPort());
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.log(Level.INFO, "server {0}: session with leader {1}{2} ended: {3}", myId, sid,
                        through == null ? "" : " through server " + master, e.toString());
            }
        } finally {
            leaderId = -1;
            learnerMaster = -1;
        }
    }

    /**
     * One leadership: the proposals this member logged are applied first (they are the history it was elected with),
     * then {@link ApacheLeader#lead} runs until the leadership ends; the epochs and log it leaves go back to the
     * follower, whose zxid and epoch the next election votes with.
     */
    private void lead() {
        long appliedBefore = follower.appliedZxid();
        List<LearnerWire.QuorumPacket> logged = follower.applyLoggedForLeading();
        ApacheElection.Member me = configs.members().get(myId);
        LeaderApplication tracked = new LeaderApplication() {
            @Override
            public void onCommit(long zxid, byte[] txn) {
                leaderApplication.onCommit(zxid, txn);
            }

            @Override
            public void onLeading(ApacheLeader leading, boolean established) {
                serving = established;
                // Apache's Leader.startZkServer: the vote others are answered with names the epoch led.
                if (established) election.updateElectionVote(leading.epoch());
                leaderApplication.onLeading(leading, established);
            }

            @Override
            public void onRequest(long learnerSid, long sessionId, int cxid, int type, byte[] body,
                                  List<LearnerWire.Id> auth) {
                leaderApplication.onRequest(learnerSid, sessionId, cxid, type, body, auth);
            }

            @Override
            public void onRevalidate(long learnerSid, long sessionId, int timeoutMs) {
                leaderApplication.onRevalidate(learnerSid, sessionId, timeoutMs);
            }

            @Override
            public void onTouches(Map<Long, Integer> touches) {
                leaderApplication.onTouches(touches);
            }

            @Override
            public LeaderApplication.SyncSnapshot snapshot() throws IOException, InterruptedException {
                return leaderApplication.snapshot();
            }

            @Override
            public boolean reconfigEnabled() {
                return leaderApplication.reconfigEnabled();
            }

            @Override
            public void onLastSeen(ApacheConfig seen) {
                // Apache's setLastSeenQuorumVerifier on its leader: the next election counts its voters too (only
                // with reconfigEnabled, as Apache keeps none without), then on disk.
                if (leaderApplication.reconfigEnabled()) configs.sawNewer(seen);
                leaderApplication.onLastSeen(seen);
            }

            @Override
            public void onActivate(ApacheConfig next, long designatedLeader) {
                activateAsLeader(next, designatedLeader);
                leaderApplication.onActivate(configs.inForce(), designatedLeader);
            }
        };
        // A reconfig among the proposals it leads with is completed by this leadership (Apache's lastSeen config).
        ApacheConfig leadWith = configs.leadWith(logged);
        ApacheLeader running = new ApacheLeader(myId, configs.inForce(), leadWith, disk, tracked, tickTimeMs, initLimit,
                syncLimit, appliedBefore, logged).countingInto(follower.figures()).useSockets(follower.sockets());
        leader = running;
        leaderId = myId;
        try {
            running.lead(me.host(), me.quorumPort(), follower.acceptedEpoch(), follower.currentEpoch());
        } catch (IOException e) {
            if (!closed) {
                LOG.log(Level.INFO, "server {0}: leadership ended: {1}", myId, e.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            LeadershipOutcome outcome = running.outcome();
            if (outcome != null) {
                follower.afterLeading(outcome);
            }
            leader = null;
            leaderId = -1;
            serving = false;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        thread.interrupt();
        ApacheLeader running = leader;
        if (running != null) {
            running.close();
        }
        follower.close();
        election.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
