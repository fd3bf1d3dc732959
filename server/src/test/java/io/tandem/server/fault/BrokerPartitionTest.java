package io.tandem.server.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TandemCluster;
import io.tandem.server.junit.TandemClusterExtension;
import io.tandem.server.kafka.MetadataWait;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A partition between two brokers of a cluster: the follower falls out of the ISR once the leader has a record it
 * lacks, and rejoins once it heals; an answer the leader makes while the link is cut never reaches the follower.
 */
class BrokerPartitionTest {
    /** A follower cut off leaves the ISR after this long without fetching (Kafka's default is 30 s). */
    private static final String LAG_MS = "1000";

    @RegisterExtension
    static TandemClusterExtension kafka = TandemClusterExtension.configured(3,
            c -> c.set("replica.lag.time.max.ms", LAG_MS));

    @Test
    void shouldShrinkTheIsrWhileTheLinkIsCutAndRestoreItWhenItHeals(TandemCluster cluster) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()))) {
            // Broker 1 leads (first replica), broker 2 follows; broker 3 is the controller's only other peer.
            admin.createTopics(List.of(new NewTopic("cut", Map.of(0, List.of(1, 2))))).all()
                    .get(30, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, "cut", 1);
            awaitIsr(admin, Set.of(1, 2));
            cluster.partition(1, 2);
            assertEquals(Set.of("broker1|broker2"), cluster.faults().cutLinks());
            // A follower at the leader's log end stays in sync however long it is silent (Kafka's
            // ReplicaState.isCaughtUp): a record it cannot fetch makes it a laggard.
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.broker(1).bootstrapServers(),
                    ProducerConfig.ACKS_CONFIG, "1"), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("cut", 0, null, "unfetched")).get(30, TimeUnit.SECONDS);
            }
            awaitIsr(admin, Set.of(1));
            cluster.heal(1, 2);
            awaitIsr(admin, Set.of(1, 2));
        }
    }

    /**
     * A follower's fetch parked at its leader when the link is cut loses its answer, as on a real network (the
     * fault controller's CutLinkResponder): the record produced after the cut does not reach the follower's log
     * (its size in DescribeLogDirs, asked of the follower itself) until the link heals. Before, the parked fetch was
     * still answered with the record, and the follower held more of the log than its leader knew.
     */
    @Test
    void shouldLoseTheAnswerToAFollowersFetchParkedWhenTheLinkIsCut(TandemCluster cluster) throws Exception {
        String topic = "parked";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, topic, 1);
            awaitIsr(admin, topic, Set.of(1, 2));
            // One producer, connected before the cut, so the record after it reaches the leader within milliseconds:
            // the follower's fetch parked then (replica.fetch.wait.max.ms, 500 ms) is answered by that record.
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.broker(1).bootstrapServers(),
                    ProducerConfig.ACKS_CONFIG, "1"), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>(topic, 0, null, "replicated")).get(30, TimeUnit.SECONDS);
                // The follower fetches the first record and parks its next fetch at the leader, waiting for more;
                // it sends another as soon as one is answered.
                long before = awaitFollowerLogSizeAbove(admin, topic, 0);

                cluster.partition(1, 2);
                producer.send(new ProducerRecord<>(topic, 0, null, "after the cut")).get(30, TimeUnit.SECONDS);
                // The leader drops the silent follower from the ISR after replica.lag.time.max.ms; an answer to its
                // parked fetch would have carried the record long before.
                awaitIsr(admin, topic, Set.of(1));
                assertEquals(before, followerLogSize(admin, topic), "the follower's log grew while its link was cut");

                // Once healed the follower fetches the record and rejoins (a broker's cache cut off from the
                // controller may still show the old ISR, so the follower's own log is what is waited for first).
                cluster.heal(1, 2);
                awaitFollowerLogSizeAbove(admin, topic, before);
                awaitIsr(admin, topic, Set.of(1, 2));
            }
        }
    }

    /** Waits until the follower's log is larger than {@code size}; returns its size then. */
    private static long awaitFollowerLogSizeAbove(Admin admin, String topic, long size) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long now = followerLogSize(admin, topic);
        while (now <= size && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
            now = followerLogSize(admin, topic);
        }
        assertTrue(now > size, "the follower's log stayed at " + now + " bytes");
        return now;
    }

    /** The size of partition 0's log on broker 2, the follower, as it reports it (DescribeLogDirs). */
    private static long followerLogSize(Admin admin, String topic) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        for (LogDirDescription dir : admin.describeLogDirs(List.of(2)).descriptions().get(2).get(30, TimeUnit.SECONDS)
                .values()) {
            ReplicaInfo replica = dir.replicaInfos().get(tp);
            if (replica != null) return replica.size();
        }
        throw new AssertionError("broker 2 holds no replica of " + tp);
    }

    private static void awaitIsr(Admin admin, Set<Integer> expected) throws Exception {
        awaitIsr(admin, "cut", expected);
    }

    private static void awaitIsr(Admin admin, String topic, Set<Integer> expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Set<Integer> isr = Set.of();
        while (System.nanoTime() - deadline < 0) {
            isr = new TreeSet<>();
            for (Node node : admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().get(0).isr()) {
                isr.add(node.id());
            }
            if (isr.equals(expected)) return;
            Thread.sleep(100);
        }
        assertTrue(false, "the ISR stayed " + isr + ", expected " + expected);
    }
}
