package io.tandem.server.zab.apache;

import io.tandem.storage.zk.SnapshotBody;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** What the leader needs from the member it runs in; calls come from the leader's threads, never under its lock. */
public interface LeaderApplication {
    /** A committed transaction, in zxid order (the delivery thread). */
    void onCommit(long zxid, byte[] txn);

    /** The leadership is established (a quorum synced) and requests may be proposed, or it ended. */
    void onLeading(ApacheLeader leader, boolean established);

    /** A learner's forwarded request: {@code type} and the body as its client sent it (Apache's REQUEST). */
    void onRequest(long learnerSid, long sessionId, int cxid, int type, byte[] body, List<LearnerWire.Id> auth);

    /**
     * A learner asks whether a session a client reconnects with is alive; answer with {@link ApacheLeader#revalidated}.
     */
    void onRevalidate(long learnerSid, long sessionId, int timeoutMs);

    /** A learner's PING answer: the sessions its clients keep alive, id to timeout. */
    void onTouches(Map<Long, Integer> touches);

    /**
     * The state as Apache's SNAP body (sessions, ACL cache, nodes ending with "/"), covering the zxid it names:
     * every transaction up to it, maybe some after it (fuzzy, as Apache's), which the learner replays. Called on
     * a learner's thread; it must not wait for the application's commit thread.
     */
    SyncSnapshot snapshot() throws IOException, InterruptedException;

    /** zoo.cfg's reconfigEnabled: without it the leader activates no configuration (Apache's processReconfig). */
    default boolean reconfigEnabled() {
        return false;
    }

    /**
     * A newer last seen configuration (Apache's setLastSeenQuorumVerifier(qv, true) on a leader): the static one
     * versioned at a leadership's start (Leader.lead), or a reconfig this leader proposed (Leader.propose). The
     * member keeps it for its elections and writes {@code zoo.cfg.dynamic.next}; the leader's own threads, outside
     * its lock, before the configuration can be activated.
     */
    default void onLastSeen(ApacheConfig config) {
    }

    /**
     * A configuration is activated: a reconfig's, before its commit is delivered ({@code designatedLeader} the
     * leader it names), or the one NEWLEADER carried once the leadership is established (this member).
     */
    default void onActivate(ApacheConfig config, long designatedLeader) {
    }

    /**
     * A SNAP's body and the zxid it covers. The learner's sender writes the body straight to the learner's socket when
     * its turn in the learner's queue comes (after the SNAP packet, before the proposals that follow the zxid), so a
     * large tree is never held in memory whole, as the Tandem protocol's SNAP streams its snapshot in chunks.
     */
    public record SyncSnapshot(long zxid, SnapshotBody body) {}
}
