package io.tandem.server.zab;

import io.tandem.server.zab.ZabMessage.Notification;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The configurations election notifications carry, the membership side of {@link ZabElection} (same thread and state
 * as {@link ZabStateMachine}): every notification carries the sender's active configuration once a reconfig made one
 * (Apache's carry its QuorumVerifier), a looking member adopts a newer one, a server the configuration does not name
 * is told a newer one.
 */
final class ZabConfigExchange {
    private static final Logger LOG = System.getLogger(ZabConfigExchange.class.getName());

    private final ZabStateMachine m;

    ZabConfigExchange(ZabStateMachine machine) {
        this.m = machine;
    }

    /**
     * Apache's FastLeaderElection: a looking member that hears of a newer configuration than its own adopts it and
     * starts a new election round in it. Every configuration a notification carries was committed (members carry only
     * what they activated, which they do on commit), so a quorum of its voters holds the reconfig: adopting it never
     * lets an older history win an election, and without it a member that was down while reconfigs replaced the
     * voters it knows would look for a leader among servers that left (simulator seed 1082).
     */
    void adoptNewerConfig(int from, Notification n) {
        ZabMembership membership = m.membership;
        if (n.config() == null || n.configVersion() <= membership.activeConfigZxid()
                || m.role() != Role.LOOKING) {
            return;
        }
        LOG.log(Level.INFO, "server {0}: adopting configuration 0x{1} {2} from server {3}", m.myId(),
                Long.toHexString(n.configVersion()), n.config(), from);
        boolean wasJoining = m.isJoining();
        // A looking member the configuration does not name (a fresh server, or one with a history: removed earlier
        // and started again, or restarted before the reconfig that adds it committed) becomes a joiner, following
        // the leader as Apache's non-voting learner instead of waiting outside (ZabMembership.activate).
        m.activate(n.configVersion(), n.config());
        if (m.isJoining() && !wasJoining) {
            LOG.log(Level.INFO, "server {0}: not in configuration 0x{1}: following its leader as a non-voting"
                    + " joiner until a reconfig adds it", m.myId(), Long.toHexString(n.configVersion()));
        }
        m.pending.configAdopted = new Ready.AdoptedConfig(n.configVersion(), n.config());
        m.startLooking("adopted configuration 0x" + Long.toHexString(n.configVersion()));
    }

    /**
     * A notification from a server the active configuration does not name (removed, not yet known to be added, or one
     * that never was): its vote counts for nothing, but a looking one is told this member's vote and configuration, as
     * Apache answers a notification from a non-voter at once: a joiner learns whom to follow, and a newer
     * configuration. A looking member answers only configurations older than its own, so two members that both take
     * the other for a stranger do not answer each other forever.
     */
    void answerNonMember(int from, Notification n) {
        // Apache's WorkerReceiver answers a non-voter's every notification; a looking member here answers only older
        // configurations, so that two looking servers that each take the other for a stranger do not answer forever
        // (a following or leading member's answer is no LOOKING notification, so it is never answered back).
        if (n.senderState() == Role.LOOKING
                && (n.configVersion() < m.membership.activeConfigZxid() || m.role() != Role.LOOKING)) {
            m.election().answer(from);
        }
    }
}
