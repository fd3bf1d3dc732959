package io.tandem.server.kafka.metadata;

import org.apache.kafka.admin.AdminUtils;
import org.apache.kafka.admin.BrokerMetadata;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Tandem's placement is Kafka 3.9's, checked against Kafka's own AdminUtils.assignReplicasToBrokers (server-common
 * 3.9.1, test scope) over many broker lists, with and without racks, starts and first partitions, and against the
 * examples of its documentation worked by hand.
 */
class ReplicaAssignmentTest {
    @Test
    void shouldPlaceAsKafkasDocumentedExamples() throws Exception {
        // AdminUtils' table: five brokers, ten partitions, three replicas, starting at broker 0.
        List<ReplicaAssignment.Candidate> five = new ArrayList<>();
        for (int id = 0; id < 5; id++) five.add(new ReplicaAssignment.Candidate(id, null));
        Map<Integer, List<Integer>> plain = ReplicaAssignment.assignReplicas(five, 10, 3, 0, 0);
        assertEquals(List.of(0, 1, 2), plain.get(0));
        assertEquals(List.of(4, 0, 1), plain.get(4));
        assertEquals(List.of(0, 2, 3), plain.get(5));
        assertEquals(List.of(4, 1, 2), plain.get(9));
        // Its rack example: 0 rack1, 1 rack3, 2 rack3, 3 rack2, 4 rack2, 5 rack1; partition 6 shifts the followers.
        List<ReplicaAssignment.Candidate> racked = List.of(rack(0, "rack1"), rack(1, "rack3"), rack(2, "rack3"),
                rack(3, "rack2"), rack(4, "rack2"), rack(5, "rack1"));
        Map<Integer, List<Integer>> aware = ReplicaAssignment.assignReplicas(racked, 7, 3, 0, 0);
        assertEquals(List.of(0, 3, 1), aware.get(0));
        assertEquals(List.of(2, 0, 3), aware.get(5));
        assertEquals(List.of(0, 4, 2), aware.get(6));
        // Grown from partition 3 at start 0, a topic continues the pattern its first partitions began.
        List<ReplicaAssignment.Candidate> three = List.of(rack(1, null), rack(2, null), rack(3, null));
        Map<Integer, List<Integer>> grown = ReplicaAssignment.assignReplicas(three, 3, 2, 0, 3);
        assertEquals(ReplicaAssignment.assignReplicas(three, 6, 2, 0, 0).subMap(3, 6), grown);
        assertEquals(Map.of(3, List.of(1, 3), 4, List.of(2, 1), 5, List.of(3, 2)), grown);
    }

    @Test
    void shouldGiveKafkasAssignmentForAnyBrokersStartAndFirstPartition() throws Exception {
        Random random = new Random(23);
        for (int round = 0; round < 3000; round++) {
            int brokers = 1 + random.nextInt(9);
            boolean withRacks = random.nextBoolean();
            int rackCount = 1 + random.nextInt(4);
            List<ReplicaAssignment.Candidate> ours = new ArrayList<>();
            List<BrokerMetadata> kafkas = new ArrayList<>();
            int id = random.nextInt(3);
            for (int b = 0; b < brokers; b++) {
                String rack = withRacks ? "r" + random.nextInt(rackCount) : null;
                ours.add(new ReplicaAssignment.Candidate(id, rack));
                kafkas.add(new BrokerMetadata(id, Optional.ofNullable(rack)));
                id += 1 + random.nextInt(4);
            }
            int partitions = 1 + random.nextInt(25);
            int replicationFactor = 1 + random.nextInt(brokers);
            int start = random.nextInt(brokers);
            int firstPartition = random.nextInt(30);
            String what = ours + " partitions " + partitions + " rf " + replicationFactor + " start " + start
                    + " from " + firstPartition;
            assertEquals(new TreeMap<>(AdminUtils.assignReplicasToBrokers(kafkas, partitions, replicationFactor, start,
                    firstPartition)), ReplicaAssignment.assignReplicas(ours, partitions, replicationFactor, start,
                    firstPartition), what);
        }
    }

    @Test
    void shouldRefuseWithKafkasWords() {
        List<ReplicaAssignment.Candidate> two = List.of(rack(1, null), rack(2, null));
        List<BrokerMetadata> kafkas = List.of(new BrokerMetadata(1, Optional.empty()),
                new BrokerMetadata(2, Optional.empty()));
        String kafka = assertThrows(InvalidReplicationFactorException.class,
                () -> AdminUtils.assignReplicasToBrokers(kafkas, 4, 3, 0, 1)).getMessage();
        ReplicaAssignment.Refusal refusal = assertThrows(ReplicaAssignment.Refusal.class,
                () -> ReplicaAssignment.assignReplicas(two, 4, 3, 0, 1));
        assertEquals("Replication factor: 3 larger than available brokers: 2.", refusal.getMessage());
        assertEquals(kafka, refusal.getMessage());
        assertEquals(ReplicaAssignment.Refusal.Kind.REPLICATION_FACTOR, refusal.kind());
        assertEquals(ReplicaAssignment.Refusal.Kind.OTHER, assertThrows(ReplicaAssignment.Refusal.class,
                () -> ReplicaAssignment.assignReplicas(List.of(rack(1, "a"), rack(2, null)), 1, 1, 0, 0)).kind());
    }

    private static ReplicaAssignment.Candidate rack(int id, String rack) {
        return new ReplicaAssignment.Candidate(id, rack);
    }
}
