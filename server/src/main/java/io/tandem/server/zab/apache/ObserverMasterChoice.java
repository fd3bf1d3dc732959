package io.tandem.server.zab.apache;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Which voter's learner master an observer with zoo.cfg's observerMasterPort syncs through next, as Apache's
 * Observer.findLearnerMaster: the configuration's voters in a shuffled order, walked round one session after another;
 * the list is made again when another configuration is in force (Apache's updateObserverMasterList, called as each
 * configuration is set). The leader's host is among them: Apache's leader does not listen there, and the failed
 * connection sends the observer back to the election and on to the next voter. On the peer's thread only, but for
 * the port, set before it starts.
 */
final class ObserverMasterChoice {
    private static final Logger LOG = System.getLogger(ObserverMasterChoice.class.getName());

    private final long myId;
    /** zoo.cfg's observerMasterPort (0: none: the observer syncs from the leader). */
    private volatile int port;
    private List<Long> masters = List.of();
    private long mastersVersion = -1;
    private int next;

    ObserverMasterChoice(long myId) {
        this.myId = myId;
    }

    void port(int observerMasterPort) {
        port = observerMasterPort;
    }

    /** The observerMasterPort, 0 when none is set. */
    int port() {
        return port;
    }

    /** The next voter of {@code current} to try. */
    long next(ApacheConfig current) {
        if (current.version() != mastersVersion || masters.isEmpty()) {
            List<Long> voters = new ArrayList<>(current.voters());
            Collections.shuffle(voters);
            masters = List.copyOf(voters);
            mastersVersion = current.version();
            next = 0;
            LOG.log(Level.INFO, "server {0}: learner masters to observe through: {1} at port {2}", myId, masters,
                    Integer.toString(port));
        }
        if (next >= masters.size()) next = 0;
        return masters.get(next++);
    }
}
