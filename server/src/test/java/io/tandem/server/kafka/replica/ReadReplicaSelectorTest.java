package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.BrokerConfigPolicy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * replica.selector.class: Kafka's two selectors by name, anything else refused at start-up; and the choices of
 * Kafka's RackAwareReplicaSelector and ReplicaManager.findPreferredReadReplica (which followers are candidates).
 */
class ReadReplicaSelectorTest {
    private static final long NOW = 100_000;

    @Test
    void shouldTakeKafkasTwoSelectorsByNameAndRefuseAnyOther() {
        assertNull(ReadReplicaSelector.forClassName(null));
        assertNull(ReadReplicaSelector.forClassName(""));
        assertEquals(ReadReplicaSelector.RACK_AWARE,
                ReadReplicaSelector.forClassName("org.apache.kafka.common.replica.RackAwareReplicaSelector"));
        assertEquals(ReadReplicaSelector.LEADER,
                ReadReplicaSelector.forClassName("org.apache.kafka.common.replica.LeaderSelector"));
        assertThrows(IllegalArgumentException.class, () -> ReadReplicaSelector.forClassName("com.example.Closest"));
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.selector.class",
                "org.apache.kafka.common.replica.RackAwareReplicaSelector", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.selector.class", "", Map.of()).kind());
        assertEquals(Kind.REFUSED,
                BrokerConfigPolicy.verdict("replica.selector.class", "com.example.Closest", Map.of()).kind());
        assertTrue(BrokerConfigKeys.IMPLEMENTED.contains("replica.selector.class"));
    }

    @Test
    void shouldPickTheMostCaughtUpReplicaInTheClientsRackUnlessTheLeaderIsThere() {
        ReadReplicaSelector rackAware = ReadReplicaSelector.RACK_AWARE;
        ReadReplicaSelector.Candidate leader = new ReadReplicaSelector.Candidate(1, "a", 100, 0);
        List<ReadReplicaSelector.Candidate> followers = List.of(
                new ReadReplicaSelector.Candidate(2, "b", 90, 50),
                new ReadReplicaSelector.Candidate(3, "b", 95, 500),
                new ReadReplicaSelector.Candidate(4, "c", 95, 10),
                new ReadReplicaSelector.Candidate(5, "c", 95, 5),
                new ReadReplicaSelector.Candidate(6, "d", 80, 0),
                new ReadReplicaSelector.Candidate(7, "d", 80, 0));
        assertEquals(3, rackAware.select("b", leader, followers), "the longer log first");
        assertEquals(5, rackAware.select("c", leader, followers), "then the more recently caught up");
        assertEquals(7, rackAware.select("d", leader, followers), "then the higher broker id");
        assertEquals(ReadReplicaSelector.NONE, rackAware.select("a", leader, followers), "the leader's rack");
        assertEquals(ReadReplicaSelector.NONE, rackAware.select("z", leader, followers), "no replica there");
        assertEquals(ReadReplicaSelector.NONE, rackAware.select("", leader, followers), "no client rack");
        assertEquals(ReadReplicaSelector.NONE, rackAware.select(null, leader, followers));
        assertEquals(ReadReplicaSelector.NONE, ReadReplicaSelector.LEADER.select("b", leader, followers));
    }

    @Test
    void shouldOfferOnlyInSyncFollowersHoldingTheFetchOffsetWithAnEndpoint() {
        Map<Integer, String> racks = new HashMap<>(Map.of(1, "a", 2, "b", 3, "b", 4, "b"));
        racks.put(6, null);
        List<IsrTracker.FollowerState> followers = List.of(
                new IsrTracker.FollowerState(2, 50, 0, NOW - 10),    // in the ISR, holds offset 40 (not 55)
                new IsrTracker.FollowerState(3, 60, 0, NOW - 10),    // longer log, but out of the ISR
                new IsrTracker.FollowerState(4, 70, 45, NOW - 10),   // its log starts past offset 40 (holds 55)
                new IsrTracker.FollowerState(5, 80, 0, NOW - 10),    // no endpoint on the client's listener
                new IsrTracker.FollowerState(6, 80, 0, NOW - 10));   // an endpoint, no rack
        List<Integer> isr = List.of(1, 2, 4, 5, 6);
        ReadReplicaSelector rackAware = ReadReplicaSelector.RACK_AWARE;
        assertEquals(2, rackAware.preferredReadReplica(1, 100, isr, followers, racks, "b", 40, NOW));
        assertEquals(4, rackAware.preferredReadReplica(1, 100, isr, followers, racks, "b", 55, NOW),
                "offset 55 is past 2's log, within 4's");
        assertEquals(ReadReplicaSelector.NONE,
                rackAware.preferredReadReplica(1, 100, isr, followers, racks, "b", 75, NOW), "past every log in b");
        assertEquals(ReadReplicaSelector.NONE,
                rackAware.preferredReadReplica(1, 100, isr, followers, racks, "a", 40, NOW));
    }
}
