package io.tandem.server.zab.apache;

import java.util.Map;

/**
 * What a learner's session ({@link ApacheFollower}) needs from the member it runs in: where the synced state goes and
 * what the member adds to the protocol (its sessions, its configuration). All calls come on the follower's thread, in
 * zxid order.
 */
public interface LearnerApplication {
    /** Replaces the state with the leader's database at {@code zxid} (Apache's snapshot body). */
    void onSnapshot(long zxid, byte[] apacheSnapshot);

    /** A committed transaction: jute TxnHeader, the txn record, and (3.6+) an optional TxnDigest. */
    void onCommit(long zxid, byte[] txn);

    /** The sessions of this member's clients, id to timeout, that a PING reply keeps alive at the leader. */
    default Map<Long, Integer> touches() {
        return Map.of();
    }

    /** The session reached (true) or left (false) broadcast: this member may serve clients. */
    default void onServing(boolean serving) {
    }

    /** The leader's answer to {@link ApacheFollower#revalidate}: whether the session is alive. */
    default void onRevalidated(long sessionId, boolean valid) {
    }

    /** The leader's SYNC: every commit sent before it is applied, so the oldest forwarded sync may be answered. */
    default void onSync() {
    }

    /**
     * A configuration the leader activates, Apache's QuorumPeer.processReconfig: the text of a reconfig
     * transaction with its COMMITANDACTIVATE (called before that commit, as Apache orders them; {@code
     * designatedLeader} is the leader the new configuration names), or the text NEWLEADER carried, at UPTODATE
     * ({@code designatedLeader} -1). Returns true for a major change (this member must follow another leader, or
     * its role changed): the session then ends after the commit and the member looks for the leader again.
     */
    default boolean onActivate(byte[] config, long designatedLeader) {
        return false;
    }

    /**
     * The version of the configuration this member runs, sent in LearnerInfo: Apache's leader refuses a learner
     * whose activated configuration is newer than its own.
     */
    default long configVersion() {
        return 0;
    }

    /** zoo.cfg's reconfigEnabled: without it Apache's processReconfig activates nothing. */
    default boolean reconfigEnabled() {
        return false;
    }

    /**
     * The configuration in force after an activation (the newest this member knows, maybe the one it had): as
     * Apache's processReconfig calls initConfigInZKDatabase at each one, it is written into
     * {@code /zookeeper/config} with its version as the change's zxid.
     */
    default void onConfig(ApacheConfig config) {
    }

    /**
     * Apache's setLastSeenQuorumVerifier(qv, true): a reconfig proposal is about to be logged (while syncing or
     * in broadcast), or NEWLEADER carries the leader's last seen configuration; Apache writes it to
     * {@code zoo.cfg.dynamic.next} before the proposal is logged. Called on the follower's thread.
     */
    default void onProposedConfig(ApacheConfig config) {
    }
}
