package io.tandem.server.zab.apache;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;

/**
 * The configuration side of one {@link ApacheLeader} leadership, as Apache's Leader and QuorumPeer handle it: the
 * configurations quorums are counted with ({@link LeaderConfigs}), the last seen configuration a leadership starts
 * with (Leader.lead versions a static configuration with the new epoch's first zxid and makes it the last seen one,
 * setLastSeenQuorumVerifier with writeToDisk, which writes Apache's {@code zoo.cfg.dynamic.next}), the one a
 * reconfig proposal makes (Leader.propose does the same), its activation once NEWLEADER is acknowledged
 * (startZkServer's processReconfig) or a reconfig commits (tryToCommit), and the step-down of a leader a reconfig
 * designated another leader in place of.
 *
 * <p>Everything but {@link #announce} runs under the leader's lock; {@link #announce} calls the application and
 * must run outside it (the application writes files and reaches the election).
 */
final class LeaderReconfigs {
    private static final Logger LOG = System.getLogger(LeaderReconfigs.class.getName());

    private final long myId;
    /** This member's addresses in the configuration it leads with: a reconfig that moves it designates another. */
    private final ApacheElection.Member me;
    private final LeaderConfigs configs;
    private final LeaderApplication application;
    private final LeaderDeliveries deliveries;
    /** False once a reconfig designated another leader: nothing commits here any more (Apache's allowedToCommit). */
    private boolean allowedToCommit = true;
    /** Set at the first tick after a reconfig designated another leader; the next tick ends the leadership. */
    private boolean steppingDown;

    LeaderReconfigs(long myId, ApacheConfig config, ApacheConfig lastSeen, LeaderApplication application,
                    LeaderDeliveries deliveries) {
        this.myId = myId;
        this.me = config.members().get(myId);
        this.configs = new LeaderConfigs(config, lastSeen);
        this.application = application;
        this.deliveries = deliveries;
    }

    LeaderConfigs configs() {
        return configs;
    }

    /**
     * Under the lock, once the new epoch is chosen (Leader.lead, before waitForEpochAck): a static configuration
     * (version 0, none pending) becomes the last seen one under the epoch's first zxid (ZOOKEEPER-1783). Returns it
     * for {@link #announce}, or null when the last seen configuration is unchanged (a pending reconfig's, or one
     * established before), as Apache then writes nothing.
     */
    ApacheConfig establish(long newEpoch) {
        ApacheConfig before = configs.lastSeen();
        configs.establish(newEpoch);
        ApacheConfig after = configs.lastSeen();
        return after.version() != before.version() ? after : null;
    }

    /**
     * Outside the lock: a newer last seen configuration (the leadership's start, or a reconfig proposal) goes to the
     * application, which keeps it for the election and writes Apache's next file (setLastSeenQuorumVerifier(qv, true)).
     */
    void announce(ApacheConfig lastSeen) {
        if (lastSeen != null) application.onLastSeen(lastSeen);
    }

    /** Under the lock: a reconfig was proposed; its configuration is the last seen one. */
    void proposed(ApacheConfig reconfig) {
        configs.proposed(reconfig);
    }

    /**
     * Under the lock, once a quorum acknowledged NEWLEADER (Apache's startZkServer): with reconfigEnabled the
     * configuration NEWLEADER carried is activated here too, completing a pending reconfig.
     */
    void established() {
        if (!application.reconfigEnabled()) return;
        ApacheConfig carried = configs.lastSeen();
        configs.activated(carried);
        deliveries.add(() -> application.onActivate(carried, myId));
    }

    /**
     * Under the lock, a reconfig committing (Apache's tryToCommit): its configuration in force here (the application
     * activates it before the commit is delivered) and the leader it designates, returned for the COMMITANDACTIVATE
     * and INFORMANDACTIVATE that tell the learners both ({@code later}: the acks of the proposals after it). A leader
     * that designated another commits nothing more and steps down at the next tick.
     */
    long committed(LeaderProposal proposal, List<Set<Long>> later) {
        ApacheConfig next = proposal.reconfig;
        long designated = LeaderConfigs.designatedLeader(myId, me, next, proposal.acks, later);
        configs.activated(next);
        if (designated != myId) {
            LOG.log(Level.INFO, "server {0}: committed a reconfiguration that designates server {1} as leader; "
                    + "this leader commits nothing more", myId, designated);
            allowedToCommit = false;
        }
        deliveries.add(() -> application.onActivate(next, designated));
        return designated;
    }

    /** Under the lock: whether this leader may still commit. */
    boolean allowedToCommit() {
        return allowedToCommit;
    }

    /**
     * Under the lock, every tick: the reason the leadership ends when a reconfig designated another leader a tick
     * ago (the followers leave for it on COMMITANDACTIVATE, whose queue was sent meanwhile), else null.
     */
    String stepDownReason() {
        if (allowedToCommit) return null;
        if (steppingDown) return "a reconfiguration designated another leader";
        steppingDown = true;
        return null;
    }
}
