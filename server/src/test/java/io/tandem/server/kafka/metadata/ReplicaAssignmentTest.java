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
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * A new topic (Kafka's three-argument assignReplicasToBrokers, ZkAdminManager's CreateTopics): Kafka draws the
     * first leader's index and then the follower shift from its AdminUtils.RAND; seeding that and the Random given to
     * Tandem alike pins both draws, so the placements must be equal over brokers with and without racks, in any
     * order, and the refusals the same exception words. A placement drawing one index for both differs.
     */
    @Test
    void shouldPlaceANewTopicAsKafkaDrawsIt() throws Exception {
        Random random = new Random(24);
        int apart = 0;
        for (int round = 0; round < 4000; round++) {
            int brokers = 1 + random.nextInt(9);
            int racking = random.nextInt(10);
            int rackCount = 1 + random.nextInt(4);
            List<ReplicaAssignment.Candidate> ours = new ArrayList<>();
            List<BrokerMetadata> kafkas = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            for (int id = random.nextInt(3); ids.size() < brokers; id += 1 + random.nextInt(4)) ids.add(id);
            java.util.Collections.shuffle(ids, random);
            for (int id : ids) {
                // Mostly all racked or none; now and then only some (Kafka's refusal).
                boolean racked = racking < 5 || (racking == 9 && random.nextBoolean());
                String rack = racked ? "r" + random.nextInt(rackCount) : null;
                ours.add(new ReplicaAssignment.Candidate(id, rack));
                kafkas.add(new BrokerMetadata(id, Optional.ofNullable(rack)));
            }
            int partitions = random.nextInt(12) == 0 ? -random.nextInt(2) : 1 + random.nextInt(25);
            int replicationFactor = random.nextInt(12) == 0 ? -random.nextInt(2) : 1 + random.nextInt(brokers + 1);
            long seed = random.nextLong();
            String what = ours + " partitions " + partitions + " rf " + replicationFactor + " seed " + seed;
            kafkaRandom().setSeed(seed);
            Map<Integer, List<Integer>> kafka;
            try {
                kafka = new TreeMap<>(AdminUtils.assignReplicasToBrokers(kafkas, partitions, replicationFactor));
            } catch (RuntimeException refused) {
                ReplicaAssignment.Refusal refusal = assertThrows(ReplicaAssignment.Refusal.class,
                        () -> ReplicaAssignment.assignNewTopic(ours, partitions, replicationFactor, new Random(seed)),
                        what);
                assertEquals(refused.getMessage(), refusal.getMessage(), what);
                assertEquals(switch (refused.getClass().getSimpleName()) {
                    case "InvalidPartitionsException" -> ReplicaAssignment.Refusal.Kind.PARTITIONS;
                    case "InvalidReplicationFactorException" -> ReplicaAssignment.Refusal.Kind.REPLICATION_FACTOR;
                    default -> ReplicaAssignment.Refusal.Kind.OTHER;
                }, refusal.kind(), what);
                continue;
            }
            assertEquals(kafka, ReplicaAssignment.assignNewTopic(ours, partitions, replicationFactor,
                    new Random(seed)), what);
            Random draws = new Random(seed);
            if (draws.nextInt(brokers) != draws.nextInt(brokers)) apart++;
        }
        assertTrue(apart > 1000, "rounds whose start and shift differ: " + apart);
    }

    /** Kafka's AdminUtils.RAND, the one Random its placements draw from. */
    static Random kafkaRandom() throws ReflectiveOperationException {
        java.lang.reflect.Field field = AdminUtils.class.getDeclaredField("RAND");
        field.setAccessible(true);
        return (Random) field.get(null);
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
