package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.DescribeGroupsRequest;
import io.tandem.kafka.wire.message.DescribeGroupsResponse;
import io.tandem.kafka.wire.message.HeartbeatRequest;
import io.tandem.kafka.wire.message.HeartbeatResponse;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.MEMBER_ID_REQUIRED;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The group coordinator follows the leadership of its {@code __consumer_offsets} partition on a cluster of three
 * Tandem brokers, as Kafka 3.9's does in ZooKeeper mode: a broker made a follower of the partition (a preferred-leader
 * election) resigns it at once (a member waiting for its JoinGroup answer gets NOT_COORDINATOR, the group leaves
 * memory), any broker that does not lead the partition answers NOT_COORDINATOR for its groups, and the Java consumer
 * carries on through the moves with its committed offsets.
 */
class CoordinatorLeadershipTest {
    private static final int BROKERS = 3;
    private static final int OFFSETS_PARTITIONS = 3;
    private static final String OFFSETS = "__consumer_offsets";
    private static final Map<String, String> SETTINGS = Map.of("offsets.topic.replication.factor", "2",
            "offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS), "group.initial.rebalance.delay.ms",
            "0");
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(BROKERS, SETTINGS);

    @Test
    void shouldResignTheGroupsOfAnOffsetsPartitionWhoseLeadershipMovesAway() throws Exception {
        TandemCluster cluster = kafka.cluster();
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic("events", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "movers");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        int partition = OffsetsTopicCodec.partitionFor("movers", OFFSETS_PARTITIONS);
        String waitingGroup = groupOnPartition(partition);
        try (KafkaProducer<String, String> producer = producer();
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                     new StringDeserializer())) {
            consumer.subscribe(List.of("events"));
            produce(producer, 0, 10);
            assertEquals(values(0, 10), poll(consumer, 10));
            consumer.commitSync(Duration.ofSeconds(30));

            // The offsets partition's preferred leader stops: another broker takes the lead and the group with it.
            PartitionWaits.awaitIsrSize(admin, cluster, OFFSETS, partition, 2);
            int preferred = PartitionWaits.describe(admin, OFFSETS).partitions().get(partition).replicas().get(0).id();
            assertEquals(preferred, PartitionWaits.describe(admin, OFFSETS).partitions().get(partition).leader().id());
            cluster.stopBroker(preferred);
            int interim = PartitionWaits.awaitLeaderChange(admin, OFFSETS, partition, preferred);
            produce(producer, 10, 20);
            assertTrue(consumeAndCommit(consumer, 20).containsAll(values(10, 20)), "the consumer goes on");

            try (RawKafkaConnection atInterim = new RawKafkaConnection(cluster.broker(interim).kafkaPort());
                 RawKafkaConnection elsewhere = new RawKafkaConnection(cluster.broker(third(preferred, interim))
                         .kafkaPort())) {
                // A broker without a replica of the partition (two of three hold one) is not its coordinator.
                assertEquals(NOT_COORDINATOR, join(elsewhere, "movers", "").errorCode);
                // At the interim coordinator, a member joins a group of that partition alone; a second one's join
                // waits for the first to rejoin (up to the rebalance timeout, a minute).
                JoinGroupResponse first = join(atInterim, waitingGroup, join(atInterim, waitingGroup, "").memberId);
                assertEquals(NONE, first.errorCode);
                String second = join(atInterim, waitingGroup, "").memberId;
                int pending = atInterim.send(ApiKey.JOIN_GROUP, (short) 5, joinRequest(waitingGroup, second));

                // The preferred broker returns and takes its lead back: the interim coordinator becomes a follower.
                cluster.restartBroker(preferred);
                PartitionWaits.awaitIsrSize(admin, cluster, OFFSETS, partition, 2);
                // Through a new client: the Admin's ElectLeaders never looks up the controller again on
                // NOT_CONTROLLER, and the stopped broker may have been the controller the test's Admin knows (Kafka's
                // brokers answer a stale client so too; ReplicationTest does the same).
                try (Admin elector = Admin.create(Map.of(
                        org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
                    elector.electLeaders(ElectionType.PREFERRED, Set.of(new org.apache.kafka.common.TopicPartition(
                            OFFSETS, partition))).all().get(30, TimeUnit.SECONDS);
                }
                // Kafka answers ElectLeaders once the controller's own broker has the new leader in its metadata
                // (DelayedElectLeader); the other brokers learn it from their own UpdateMetadata, which may come
                // later, so the Admin client, asking any broker, may still be told the interim leader for a moment.
                assertEquals(preferred, PartitionWaits.leaderAt(cluster.broker(cluster.controllerId()), OFFSETS,
                        partition), "the controller's broker knows the new leader when it answers");
                PartitionWaits.awaitLeader(admin, OFFSETS, partition, preferred);

                atInterim.setTimeout(20_000);
                JoinGroupResponse resigned = atInterim.receive(pending, (short) 0, (short) 5, JoinGroupResponse::read);
                assertEquals(NOT_COORDINATOR, resigned.errorCode, "the waiting member is told at once");
                assertEquals(NOT_COORDINATOR, heartbeat(atInterim, waitingGroup, first.memberId,
                        first.generationId).errorCode);
                assertEquals(NOT_COORDINATOR, join(atInterim, "movers", "").errorCode);
                assertEquals(NOT_COORDINATOR, offsetFetch(atInterim, "movers").errorCode);
                assertEquals(NOT_COORDINATOR, offsetFetch(elsewhere, "movers").errorCode);
                DescribeGroupsResponse.DescribedGroup described = describeGroup(atInterim, "movers");
                assertEquals(NOT_COORDINATOR, described.errorCode);
                assertEquals("", described.groupState, "Kafka's empty summary");
            }

            // The consumer finds its coordinator again, on the preferred broker, with the committed offsets.
            produce(producer, 20, 30);
            assertTrue(consumeAndCommit(consumer, 30).containsAll(values(20, 30)), "the consumer goes on");
            try (RawKafkaConnection coordinator = new RawKafkaConnection(cluster.broker(preferred).kafkaPort())) {
                OffsetFetchResponse committed = offsetFetch(coordinator, "movers");
                assertEquals(NONE, committed.errorCode);
                assertEquals(30, committed.topics.get(0).partitions.get(0).committedOffset);
            }
        }
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (KafkaProducer<String, String> producer = producer();
             KafkaConsumer<String, String> resumed = new KafkaConsumer<>(props, new StringDeserializer(),
                     new StringDeserializer())) {
            produce(producer, 30, 35);
            resumed.subscribe(List.of("events"));
            assertEquals(values(30, 35), poll(resumed, 5), "a new member resumes from the committed offset");
        }
    }

    /**
     * Polls until the record before {@code end} is read, then commits. A commit sent while the coordinator moves can
     * still fail (NOT_COORDINATOR, or a rejoin when the group record of the last generation had not reached the new
     * leader): the consumer then reads again from the committed offset, which is never past what it had read.
     */
    private static List<String> consumeAndCommit(KafkaConsumer<String, String> consumer, int end) {
        List<String> seen = new ArrayList<>();
        String last = "v" + (end - 1);
        long deadline = System.currentTimeMillis() + 90_000;
        while (true) {
            boolean gotLast = false;
            while (!gotLast) {
                assertTrue(System.currentTimeMillis() < deadline, "never read " + last + ": " + seen);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(r.value());
                    gotLast |= r.value().equals(last);
                }
            }
            try {
                consumer.commitSync(Duration.ofSeconds(30));
                return seen;
            } catch (org.apache.kafka.clients.consumer.CommitFailedException
                     | org.apache.kafka.common.errors.RebalanceInProgressException e) {
                // The member was not known to the new coordinator: it rejoins on the next poll.
            }
        }
    }

    private static String groupOnPartition(int partition) {
        for (int i = 0; ; i++) {
            String id = "waiting-" + i;
            if (OffsetsTopicCodec.partitionFor(id, OFFSETS_PARTITIONS) == partition) return id;
        }
    }

    private static int third(int a, int b) {
        for (int id = 1; id <= BROKERS; id++) if (id != a && id != b) return id;
        throw new IllegalStateException();
    }

    private static JoinGroupRequest joinRequest(String group, String memberId) {
        JoinGroupRequest request = new JoinGroupRequest();
        request.groupId = group;
        request.memberId = memberId;
        request.groupInstanceId = null;
        request.sessionTimeoutMs = 30_000;
        request.rebalanceTimeoutMs = 60_000;
        request.protocolType = "consumer";
        JoinGroupRequest.JoinGroupRequestProtocol protocol = new JoinGroupRequest.JoinGroupRequestProtocol();
        protocol.name = "range";
        protocol.metadata = new byte[]{0, 0};
        request.protocols = new ArrayList<>(List.of(protocol));
        return request;
    }

    /** JoinGroup v5: a first join without a member id is answered MEMBER_ID_REQUIRED with the id to use. */
    private static JoinGroupResponse join(RawKafkaConnection c, String group, String memberId) throws Exception {
        JoinGroupResponse response = c.roundTrip(ApiKey.JOIN_GROUP, (short) 5, (short) 0, joinRequest(group, memberId),
                JoinGroupResponse::read);
        if (memberId.isEmpty() && response.errorCode != NOT_COORDINATOR) {
            assertEquals(MEMBER_ID_REQUIRED, response.errorCode);
        }
        return response;
    }

    private static HeartbeatResponse heartbeat(RawKafkaConnection c, String group, String memberId, int generation)
            throws Exception {
        HeartbeatRequest request = new HeartbeatRequest();
        request.groupId = group;
        request.memberId = memberId;
        request.generationId = generation;
        return c.roundTrip(ApiKey.HEARTBEAT, (short) 3, (short) 0, request, HeartbeatResponse::read);
    }

    private static DescribeGroupsResponse.DescribedGroup describeGroup(RawKafkaConnection c, String group)
            throws Exception {
        DescribeGroupsRequest request = new DescribeGroupsRequest();
        request.groups = new ArrayList<>(List.of(group));
        return c.roundTrip(ApiKey.DESCRIBE_GROUPS, (short) 4, (short) 0, request, DescribeGroupsResponse::read)
                .groups.get(0);
    }

    /** OffsetFetch v5 of every committed offset of the group (top-level error code). */
    private static OffsetFetchResponse offsetFetch(RawKafkaConnection c, String group) throws Exception {
        OffsetFetchRequest request = new OffsetFetchRequest();
        request.groupId = group;
        request.topics = null;
        return c.roundTrip(ApiKey.OFFSET_FETCH, (short) 5, (short) 0, request, OffsetFetchResponse::read);
    }

    private static void produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        for (int i = from; i < to; i++) producer.send(new ProducerRecord<>("events", "v" + i)).get(30, TimeUnit.SECONDS);
    }

    private static List<String> values(int from, int to) {
        List<String> values = new ArrayList<>();
        for (int i = from; i < to; i++) values.add("v" + i);
        return values;
    }

    private static List<String> poll(KafkaConsumer<String, String> consumer, int expected) {
        List<String> values = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 60_000;
        while (values.size() < expected && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
        }
        return values;
    }

    private String bootstrap() {
        return kafka.cluster().runningBootstrapServers();
    }

    private KafkaProducer<String, String> producer() {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }
}
