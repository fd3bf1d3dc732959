package io.tandem.server.zab.apache;

import java.io.IOException;
import java.util.ArrayDeque;

/**
 * The syncs a follower forwarded to its leader and not yet answered, oldest first, with who asked each (Apache's
 * FollowerZooKeeperServer.pendingSyncs): this member's clients, or an observer synced through its learner master
 * ({@link ObserverMaster}), whose SYNC goes back to it. The leader answers them in the order they were sent, so the
 * follower records each under the same lock as it sends it. Thread-safe.
 */
final class ForwardedSyncs {
    /** Observers' syncs waiting for the leader's SYNC; one more disconnects the observer asking. */
    static final int OBSERVER_SYNCS_MAX = 10_000;
    private static final Runnable LOCAL = () -> { };

    private final ArrayDeque<Runnable> asked = new ArrayDeque<>();
    private int observers;

    /** A sync of this member's clients was sent. */
    synchronized void local() {
        asked.add(LOCAL);
    }

    /** An observer's sync was sent; {@code answer} sends it its SYNC. */
    synchronized void observer(Runnable answer) throws IOException {
        if (observers >= OBSERVER_SYNCS_MAX) {
            throw new IOException(observers + " observers' syncs wait for the leader, at most " + OBSERVER_SYNCS_MAX);
        }
        observers++;
        asked.add(answer);
    }

    /** The leader's SYNC arrived: the observer's answer it is for, or null when it is this member's clients'. */
    synchronized Runnable answered() {
        Runnable oldest = asked.poll();
        if (oldest == null || oldest == LOCAL) return null;
        observers--;
        return oldest;
    }

    /** The session with the leader ended: no answer will come. */
    synchronized void clear() {
        asked.clear();
        observers = 0;
    }
}
