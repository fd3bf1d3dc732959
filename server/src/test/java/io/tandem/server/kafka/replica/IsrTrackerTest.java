package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader's ISR proposals, as Kafka's Partition proposes them: a shrink (maybeShrinkIsr) adds nobody, and an
 * expansion (maybeExpandIsr) names only followers the leader's metadata lists as alive (isReplicaIsrEligible in
 * ZooKeeper mode). The scene is CI's: broker 3 stopped after catching up (it left the ISR in its controlled shutdown),
 * and follower 2 stopped fetching.
 */
class IsrTrackerTest {
    private static final long LAG_MS = 30_000;
    private static final int LEADER = 1;

    /**
     * ISR [1, 2], replicas [1, 2, 3]; follower 3 held the whole log (10 records), follower 2 last fetched at 0 ms;
     * the leader has since appended one more record, so neither is at its log end (11).
     */
    private static IsrTracker stoppedAndStalled() {
        IsrTracker tracker = new IsrTracker(LEADER, List.of(1, 2, 3), List.of(1, 2), 0, 0);
        tracker.onFetch(2, 10, 10, 0);
        tracker.onFetch(3, 10, 10, 0);
        return tracker;
    }

    @Test
    void shouldProposeALaggardsRemovalWithoutAddingACaughtUpFollower() {
        IsrTracker tracker = stoppedAndStalled();
        assertEquals(List.of(1), tracker.proposeChange(11, 10, 0, LAG_MS + 1, LAG_MS, id -> true),
                "the shrink alone, which the controller takes whatever becomes of follower 3");
        tracker.committed(List.of(1), 1);
        assertEquals(List.of(1, 2, 3), tracker.proposeChange(11, 10, 0, LAG_MS + 2, LAG_MS, id -> true),
                "then, apart, the caught-up followers join (in Kafka, each at its next fetch)");
    }

    @Test
    void shouldNotProposeAFollowerThatIsNotAlive() {
        IsrTracker tracker = stoppedAndStalled();
        assertNull(tracker.proposeChange(11, 10, 0, 1, LAG_MS, id -> id != 3), "broker 3 is gone: nobody joins");
        assertEquals(List.of(1, 2, 3), tracker.proposeChange(11, 10, 0, 1, LAG_MS, id -> true),
                "alive, it would join");
    }

    @Test
    void shouldKeepAFollowerAtTheLeadersLogEndInTheIsrHoweverLongItIsSilent() {
        IsrTracker tracker = stoppedAndStalled();
        assertNull(tracker.proposeChange(10, 10, 0, 10 * LAG_MS, LAG_MS, id -> false),
                "Kafka's ReplicaState.isCaughtUp: at the leader's log end offset, a silent follower is in sync");
        assertEquals(List.of(1), tracker.proposeChange(11, 10, 0, LAG_MS + 1, LAG_MS, id -> true),
                "one record more on the leader, and the same silence is a lag");
    }

    @Test
    void shouldKeepAFollowerBehindTheLeaderInTheIsrWithinTheLag() {
        IsrTracker tracker = stoppedAndStalled();
        assertNull(tracker.proposeChange(11, 10, 0, LAG_MS, LAG_MS, id -> false),
                "behind, but caught up no more than replica.lag.time.max.ms ago");
    }
}
