package io.tandem.server.zookeeper;

import io.tandem.server.zab.FigureSummary;
import io.tandem.server.zab.Role;
import java.util.function.BiConsumer;

/**
 * Apache ZooKeeper 3.9's election figures for mntr, measured from the roles a Tandem-protocol member's Zab reports to
 * its commit path: {@code looking_count} (each time the member goes LOOKING, its start included: QuorumPeer.run's
 * LOOKING_COUNT) and the {@code election_time} summary (ms from going LOOKING to the election naming a leader, recorded
 * when the member leads or follows, as Apache's Leader.lead and Follower.followLeader record ELECTION_TIME; an
 * observer's, like Apache's Observer, is not recorded).
 *
 * <p>Thread-safe: roles change on the commit thread, mntr reads there too, the metrics endpoint through it.
 */
final class ElectionFigures {
    private final FigureSummary electionMs = new FigureSummary("election_time");
    private long lookingCount = 1;
    private Role role = Role.LOOKING;
    private long lookingSinceNanos;

    /** A member that starts, as every member does, LOOKING at {@code nowNanos}. */
    ElectionFigures(long nowNanos) {
        lookingSinceNanos = nowNanos;
    }

    /** Zab reported {@code now} at {@code nowNanos}; {@code observer}: this member observes, never votes. */
    synchronized void role(Role now, boolean observer, long nowNanos) {
        if (now == role) return;
        if (now == Role.LOOKING) {
            lookingCount++;
            lookingSinceNanos = nowNanos;
        } else if (role == Role.LOOKING && !observer) {
            electionMs.add((nowNanos - lookingSinceNanos) / 1_000_000);
        }
        role = now;
    }

    /** mntr's lines, under Apache's names. */
    synchronized void report(BiConsumer<String, Object> line) {
        line.accept("zk_looking_count", lookingCount);
        electionMs.report(line);
    }
}
