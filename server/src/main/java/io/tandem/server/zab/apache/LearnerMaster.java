package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The side of the learner protocol an {@link ApacheLearnerHandler} runs against, as Apache 3.9's LearnerMaster: the
 * leader ({@link ApacheLeader}), which counts the learners' epoch and NEWLEADER acknowledgements towards its quorum
 * and their ACKs towards commits, or a follower's learner master ({@link ObserverMaster}, Apache's ObserverMaster),
 * which serves observers from the follower's own committed history and waits for nothing. Every call comes from the
 * handler's reader thread.
 */
interface LearnerMaster {
    long myId();

    /** initLimit x tickTime: how long a learner's discovery and sync may take. */
    int initLimitMs();

    /** syncLimit x tickTime: the longest silence of a synced learner. */
    int syncLimitMs();

    /** A learner's LearnerInfo: the epoch to send it in LEADERINFO (-1: none, close the connection). */
    long followerInfo(long sid, long acceptedEpoch) throws InterruptedException;

    /** A learner's ACKEPOCH; false ends its connection. */
    boolean epochAcked(long sid, int learnerCurrentEpoch, long learnerLastZxid) throws InterruptedException;

    /**
     * Queues the learner's sync (DIFF, TRUNC or SNAP, what follows it, NEWLEADER) and starts sending it what its
     * kind is sent; returns the kind of sync, or -1 when there is nothing to sync with any more.
     */
    int syncLearner(ApacheLearnerHandler handler, long peerLastZxid) throws IOException, InterruptedException;

    /** The learner acknowledged NEWLEADER: whether it may be sent UPTODATE (false ends its connection). */
    boolean newLeaderAcked(long sid) throws InterruptedException;

    /** A learner's ACK after its sync; an IOException ends its connection. */
    void ack(long sid, long zxid) throws IOException;

    /** A learner's PING answer: the sessions its clients keep alive, id to timeout. */
    void touches(Map<Long, Integer> touches);

    /** A learner asks whether a session its client reconnects with is alive ({@code packet} as it came). */
    void revalidate(ApacheLearnerHandler handler, long sessionId, int timeoutMs, QuorumPacket packet)
            throws IOException;

    /** A learner's forwarded REQUEST ({@code packet} as it came, its fields read out). */
    void request(ApacheLearnerHandler handler, QuorumPacket packet, long sessionId, int cxid, int type, byte[] body,
                 List<LearnerWire.Id> auth) throws IOException;

    /** The learner's connection ended. */
    void learnerGone(ApacheLearnerHandler handler);
}
