package io.tandem.zk.client;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Which host a {@link ClientSession} connects to next and how long it waits first: the connect string's hosts in a
 * shuffled order, tried in turn, each given an equal share of the session timeout, with a growing pause once a whole
 * round found no host answering. Used only on the session's event loop.
 */
final class ClientHosts {
    /** Reconnect delays grow from this to {@link #RECONNECT_DELAY_MS_MAX} while no host answers. */
    private static final long RECONNECT_DELAY_MS_MIN = 50;
    private static final long RECONNECT_DELAY_MS_MAX = 1000;

    private final List<InetSocketAddress> hosts;
    private int hostIndex;
    private int failedAttempts;

    ClientHosts(List<InetSocketAddress> connectString) {
        List<InetSocketAddress> shuffled = new ArrayList<>(connectString);
        // Spread clients over the ensemble as Apache's StaticHostProvider does.
        Collections.shuffle(shuffled, ThreadLocalRandom.current());
        this.hosts = List.copyOf(shuffled);
    }

    /** The next host to try, resolved again on every attempt (its address may have changed). */
    InetSocketAddress next() {
        InetSocketAddress unresolved = hosts.get(hostIndex);
        hostIndex = (hostIndex + 1) % hosts.size();
        return new InetSocketAddress(unresolved.getHostString(), unresolved.getPort());
    }

    /** Apache gives each host an equal share of the session timeout to answer before moving on. */
    int connectTimeoutMs(int sessionTimeoutMs) {
        return Math.max(100, sessionTimeoutMs / hosts.size());
    }

    /** A session was established: the next failure starts the backoff again. */
    void connected() {
        failedAttempts = 0;
    }

    /** How long to wait before the next attempt: none after losing a working connection, else a growing pause. */
    long reconnectDelayMs(boolean wasConnected) {
        return wasConnected ? 0 : Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN << Math.min(5,
                failedAttempts++ / hosts.size()));
    }
}
