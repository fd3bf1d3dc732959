package io.tandem.server.kafka.group;

import io.tandem.server.ReplicaLogs;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.log.Partition;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.group.ClassicGroupClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A Stable classic group of two real Java consumers (one static) keeps its members when the leadership of its
 * {@code __consumer_offsets} partition moves on a cluster of three Tandem brokers: the leader stops, another broker
 * takes the lead and loads the group from the replicated records, as Kafka 3.9 does in ZooKeeper mode. DescribeGroups
 * at the new coordinator shows the same members, and the consumers carry on heartbeating in their generation for
 * longer than a session timeout, without a rebalance.
 */
class ClassicGroupFailoverTest {
    private static final int BROKERS = 3;
    private static final int OFFSETS_PARTITIONS = 3;
    private static final String OFFSETS = "__consumer_offsets", TOPIC = "orders", GROUP = "order-readers";
    private static final int SESSION_MS = 6_000;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(BROKERS, Map.of("offsets.topic.replication.factor", "3",
            "offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS), "group.initial.rebalance.delay.ms",
            "0"));

    @Test
    void aStableGroupShouldKeepItsMembersWhenItsCoordinatorMovesToAnotherBroker() throws Exception {
        TandemCluster cluster = kafka.cluster();
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 3))).all().get(30, TimeUnit.SECONDS);
        Rebalances rebalancesA = new Rebalances(), rebalancesB = new Rebalances();
        String bootstrap = cluster.bootstrapServers();
        try (KafkaConsumer<String, String> a = consumer(bootstrap, GROUP, "reader-a", null, SESSION_MS);
             KafkaConsumer<String, String> b = consumer(bootstrap, GROUP, "reader-b", "instance-b", SESSION_MS)) {
            a.subscribe(List.of(TOPIC), rebalancesA);
            b.subscribe(List.of(TOPIC), rebalancesB);
            awaitStableWithOnePartitionEach(admin, GROUP, a, b, PATIENCE);
            ConsumerGroupMetadata beforeA = a.groupMetadata(), beforeB = b.groupMetadata();
            List<String> membersBefore = members(describe(admin, GROUP));
            int rebalancesBefore = rebalancesA.count + rebalancesB.count;

            // The group's offsets partition, with its record on every replica, loses its leader.
            int partition = OffsetsTopicCodec.partitionFor(GROUP, OFFSETS_PARTITIONS);
            PartitionWaits.awaitIsrSize(admin, cluster, OFFSETS, partition, BROKERS);
            awaitEveryReplicaAtTheLeadersEnd(cluster, partition);
            int coordinator = PartitionWaits.describe(admin, OFFSETS).partitions().get(partition).leader().id();
            cluster.stopBroker(coordinator);
            int next = PartitionWaits.awaitLeaderChange(admin, OFFSETS, partition, coordinator);
            assertNotEquals(coordinator, next);

            ConsumerGroupDescription moved = describe(admin, GROUP);
            assertEquals(next, moved.coordinator().id());
            assertEquals(GroupState.STABLE, moved.groupState());
            assertEquals(membersBefore, members(moved));

            pollBothFor(a, b, Duration.ofMillis(2L * SESSION_MS));
            assertEquals(rebalancesBefore, rebalancesA.count + rebalancesB.count, "no rebalance after the move");
            assertEquals(beforeA.generationId(), a.groupMetadata().generationId(), "no new generation");
            assertEquals(beforeB.generationId(), b.groupMetadata().generationId());
            assertEquals(beforeA.memberId(), a.groupMetadata().memberId());
            assertEquals(beforeB.memberId(), b.groupMetadata().memberId(), "the static member keeps its member id");
            ConsumerGroupDescription later = describe(admin, GROUP);
            assertEquals(GroupState.STABLE, later.groupState());
            assertEquals(membersBefore, members(later));
        }
    }

    /**
     * Every replica's log holds the leader's whole log (the group's records among it), and knows it committed (its
     * high watermark at that end): the broker that leads next loads the group from its own log. Was a fixed
     * two-second pause.
     */
    private static void awaitEveryReplicaAtTheLeadersEnd(TandemCluster cluster, int partition) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            Set<Long> ends = new HashSet<>();
            int replicas = 0;
            boolean leaderSeen = false;
            for (int id = 1; id <= BROKERS; id++) {
                Partition replica = ReplicaLogs.of(cluster.broker(id), OFFSETS, partition);
                if (replica == null) continue;
                replicas++;
                ends.add(replica.logEndOffset());
                ends.add(replica.highWatermark());
                leaderSeen |= replica.isLeader();
            }
            if (replicas == BROKERS && leaderSeen && ends.size() == 1) return;
            assertTrue(System.nanoTime() < deadline,
                    "replicas of " + OFFSETS + "-" + partition + " at different log ends or high watermarks: " + ends);
            Thread.sleep(20);
        }
    }
}
