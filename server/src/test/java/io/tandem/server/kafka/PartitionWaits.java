package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** Waits on a partition's leader and ISR in the multi-broker tests (30 s each, then the test fails). */
public final class PartitionWaits {
    private static final long WAIT_MS = 30_000;

    private PartitionWaits() {
    }

    /**
     * The topic as the broker the Admin client asks describes it, asked again while that broker does not know it yet:
     * a broker learns a new topic from the controller's UpdateMetadata, and the Admin client may ask another broker
     * than the one that created it (Kafka's brokers too).
     */
    public static TopicDescription describe(Admin admin, String topic) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            try {
                return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * Waits until the partition's leader itself reports the ISR size, asked directly (the Admin client would ask any
     * broker): the controller tells the leader (LeaderAndIsr) before its metadata, so then the leader acts on it.
     * {@code brokers} holds broker N at index N - 1, null for a stopped one.
     */
    public static void awaitIsrSize(Admin admin, List<Tandem> brokers, String topic, int partition, int size)
            throws Exception {
        awaitIsrSize(admin, id -> brokers.get(id - 1), topic, partition, size);
    }

    /** As {@link #awaitIsrSize(Admin, List, String, int, int)}, on the brokers of a {@link TandemCluster}. */
    public static void awaitIsrSize(Admin admin, TandemCluster cluster, String topic, int partition, int size)
            throws Exception {
        awaitIsrSize(admin, id -> cluster.isRunning(id) ? cluster.broker(id) : null, topic, partition, size);
    }

    private static void awaitIsrSize(Admin admin, IntFunction<Tandem> brokers, String topic, int partition, int size)
            throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            Node leader = describe(admin, topic).partitions().get(partition).leader();
            Tandem leading = leader == null ? null : brokers.apply(leader.id());
            if (leading != null && isrAt(leading, topic, partition).size() == size) return;
            assertTrue(System.currentTimeMillis() < deadline, "ISR of " + topic + " never reached " + size);
            Thread.sleep(50);
        }
    }

    /**
     * The ISR the broker itself reports for the partition (Metadata v12 straight to it), empty while the broker does
     * not know the partition yet (the controller's word may still be on its way; asking creates nothing).
     */
    public static List<Integer> isrAt(Tandem broker, String topic, int partition) throws Exception {
        MetadataResponse.MetadataResponsePartition p = partitionAt(broker, topic, partition);
        return p == null ? List.of() : p.isrNodes;
    }

    /**
     * The leader the broker itself reports for the partition (Metadata v12 straight to it), -1 while it knows none or
     * does not know the partition yet.
     */
    public static int leaderAt(Tandem broker, String topic, int partition) throws Exception {
        MetadataResponse.MetadataResponsePartition p = partitionAt(broker, topic, partition);
        return p == null ? -1 : p.leaderId;
    }

    /** The partition as the broker itself describes it (Metadata v12 straight to it), null if it does not know it. */
    private static MetadataResponse.MetadataResponsePartition partitionAt(Tandem broker, String topic, int partition)
            throws Exception {
        MetadataRequest request = new MetadataRequest();
        MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
        wanted.name = topic;
        request.topics = new ArrayList<>(List.of(wanted));
        request.allowAutoTopicCreation = false;
        try (RawKafkaConnection c = new RawKafkaConnection(broker.kafkaPort())) {
            MetadataResponse response = c.roundTrip(ApiKey.METADATA, (short) 12, (short) 1, request, MetadataResponse::read);
            return response.topics.get(0).partitions.stream().filter(p -> p.partitionIndex == partition)
                    .findFirst().orElse(null);
        }
    }

    /**
     * Waits until the broker the Admin client asks describes {@code leader} as the partition's leader. The controller
     * tells the brokers a new leader in UpdateMetadata requests sent on one thread per broker, and an ElectLeaders
     * answer waits only until the controller's own broker has it (Kafka's DelayedElectLeader watches that broker's
     * metadata cache): another broker may still describe the former leader just after the answer, in Kafka too.
     */
    public static void awaitLeader(Admin admin, String topic, int partition, int leader) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            Node current = describe(admin, topic).partitions().get(partition).leader();
            if (current != null && current.id() == leader) return;
            assertTrue(System.currentTimeMillis() < deadline, "the leader of " + topic + "-" + partition
                    + " never became " + leader + " (still " + current + ")");
            Thread.sleep(50);
        }
    }

    /**
     * Waits until every running broker of the cluster knows the topic with a leader for each of its
     * {@code partitions} ({@link MetadataWait#propagated}), and every replica of each has joined the leader's ISR (so
     * it holds its log), as Kafka's own tests wait after creating a topic (TestUtils.createTopic).
     */
    public static void awaitTopicOnEveryBroker(Admin admin, TandemCluster cluster, String topic, int partitions)
            throws Exception {
        MetadataWait.propagated(cluster, topic, partitions);
        TopicDescription description = describe(admin, topic);
        for (int p = 0; p < partitions; p++) {
            long running = description.partitions().get(p).replicas().stream()
                    .filter(n -> cluster.isRunning(n.id())).count();
            awaitIsrSize(admin, cluster, topic, p, (int) running);
        }
    }

    /** Waits for a leader of the partition other than {@code oldLeader}; returns it. */
    public static int awaitLeaderChange(Admin admin, String topic, int partition, int oldLeader) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            Node leader = describe(admin, topic).partitions().get(partition).leader();
            if (leader != null && leader.id() != oldLeader) return leader.id();
            assertTrue(System.currentTimeMillis() < deadline, "no new leader for " + topic);
            Thread.sleep(50);
        }
    }
}
