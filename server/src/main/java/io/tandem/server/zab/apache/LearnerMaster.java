package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;

/**
 * The side of the learner protocol an {@link ApacheLearnerHandler} runs against, as Apache 3.9's LearnerMaster: the
 * leader ({@link ApacheLeader}), which counts the learners' epoch and NEWLEADER acknowledgements towards its quorum
 * and their ACKs towards commits, or a follower's learner master ({@link ObserverMaster}, Apache's ObserverMaster),
 * which serves observers from the follower's own committed history and waits for nothing. Both accept their learners
 * the same way ({@link #acceptLearners}) and give them the same limits; every abstract call comes from the handler's
 * reader thread.
 */
abstract class LearnerMaster {
    private static final Logger LOG = System.getLogger(LearnerMaster.class.getName());

    /** This member's id (Apache's sid). */
    final long myId;
    /** initLimit x tickTime: how long a learner's discovery and sync may take. */
    final int initLimitMs;
    /** syncLimit x tickTime: the longest silence of a synced learner. */
    final int syncLimitMs;

    LearnerMaster(long myId, int initLimitMs, int syncLimitMs) {
        this.myId = myId;
        this.initLimitMs = initLimitMs;
        this.syncLimitMs = syncLimitMs;
    }

    final long myId() {
        return myId;
    }

    final int initLimitMs() {
        return initLimitMs;
    }

    final int syncLimitMs() {
        return syncLimitMs;
    }

    /**
     * Apache's LearnerCnxAcceptor, on the caller's (acceptor) thread until {@code ss} closes: each connection is
     * secured by {@code sockets} (sslQuorum's TLS handshake; a failed one closes only that connection), then
     * {@link #admit}ted and its handler started, or closed when refused.
     */
    final void acceptLearners(ServerSocket ss, QuorumSockets sockets) {
        while (!ss.isClosed()) {
            Socket socket;
            try {
                socket = ss.accept();
            } catch (IOException e) {
                return;
            }
            try {
                socket = sockets.accepted(socket);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "server {0}: learner connection from {1} refused: {2}", myId,
                        socket.getRemoteSocketAddress(), e.toString());
                closeQuietly(socket);
                continue;
            }
            ApacheLearnerHandler handler = admit(socket);
            if (handler == null) {
                closeQuietly(socket);
            } else {
                handler.start();
            }
        }
    }

    /** A secured learner connection: its handler, registered and not yet started, or null to refuse it. */
    abstract ApacheLearnerHandler admit(Socket socket);

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** A learner's LearnerInfo: the epoch to send it in LEADERINFO (-1: none, close the connection). */
    abstract long followerInfo(long sid, long acceptedEpoch) throws InterruptedException;

    /** A learner's ACKEPOCH; false ends its connection. */
    abstract boolean epochAcked(long sid, int learnerCurrentEpoch, long learnerLastZxid) throws InterruptedException;

    /**
     * Queues the learner's sync (DIFF, TRUNC or SNAP, what follows it, NEWLEADER) and starts sending it what its
     * kind is sent; returns the kind of sync, or -1 when there is nothing to sync with any more.
     */
    abstract int syncLearner(ApacheLearnerHandler handler, long peerLastZxid) throws IOException, InterruptedException;

    /** The learner acknowledged NEWLEADER: whether it may be sent UPTODATE (false ends its connection). */
    abstract boolean newLeaderAcked(long sid) throws InterruptedException;

    /** A learner's ACK after its sync; an IOException ends its connection. */
    abstract void ack(long sid, long zxid) throws IOException;

    /** A learner's PING answer: the sessions its clients keep alive, id to timeout. */
    abstract void touches(Map<Long, Integer> touches);

    /** A learner asks whether a session its client reconnects with is alive ({@code packet} as it came). */
    abstract void revalidate(ApacheLearnerHandler handler, long sessionId, int timeoutMs, QuorumPacket packet)
            throws IOException;

    /** A learner's forwarded REQUEST ({@code packet} as it came, its fields read out). */
    abstract void request(ApacheLearnerHandler handler, QuorumPacket packet, long sessionId, int cxid, int type,
                          byte[] body, List<LearnerWire.Id> auth) throws IOException;

    /** The learner's connection ended. */
    abstract void learnerGone(ApacheLearnerHandler handler);
}
