package io.tandem.server.zookeeper;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a follower tells its leader so that the sessions of its clients do not expire there (Apache's learner sends
 * them with its PING answers; the Tandem protocol forwards them): every half tick, at least 50 ms apart, the live
 * sessions of this member's open connections. Shared by both ensemble commit paths; commit thread only.
 */
final class SessionTouches {
    private final ZkServer server;
    private long nextTouchNanos;

    SessionTouches(ZkServer server) {
        this.server = server;
    }

    /**
     * Null until the next touch is due at {@code nowNanos} (the commit path's clock); then the live sessions of this
     * member's connections, in connection order, with their timeouts.
     */
    Map<Long, Integer> due(long nowNanos) {
        if (nowNanos - nextTouchNanos < 0) {
            return null;
        }
        nextTouchNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(Math.max(50, server.config.tickTimeMs() / 2));
        Map<Long, Integer> alive = new LinkedHashMap<>();
        for (ServerConnection connection : server.listener.connections()) {
            Session session = connection.session;
            if (session != null && !session.isExpired(nowNanos)) {
                alive.put(session.id, session.timeoutMs);
            }
        }
        return alive;
    }
}
