package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.replica.FetchSessionHandler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Followers replicate through incremental fetch sessions (KIP-227), as Apache's replica fetchers do: each follower
 * holds one session per leader, the leader's cache holds it, fetches after the first carry epochs above 0 and name
 * only the partitions whose fetch state changed, and replication still converges, also when leadership moves and
 * partitions join and leave the sessions.
 */
class ReplicaFetchSessionsTest {
    private static final String TOPIC = "sessions";
    private static final int PARTITIONS = 6;
    private static final long WAIT_MS = 30_000;
    private TandemCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    void shouldReplicateThroughIncrementalSessionsThatNameOnlyChangedPartitions() throws Exception {
        cluster = TandemCluster.start(3);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
        MetadataWait.propagated(cluster, TOPIC, PARTITIONS);
        // Records to one partition only: the others stay idle, so incremental fetches leave them out.
        produce(List.of(0), 40);
        awaitConverged(List.of(1, 2, 3));
        // Every follower fetches from both other brokers (six partitions, leaders spread over the three) through a
        // session the leader granted, well past its first, full fetch.
        await(() -> sessionsEstablished(List.of(1, 2, 3), 2, 5), "every follower has a session with each leader");
        long sent = 0;
        long held = 0;
        for (int broker = 1; broker <= 3; broker++) {
            for (FetchSessionHandler.Stats stats : sessions(broker).values()) {
                sent += stats.incrementalPartitionsSent();
                held += stats.incrementalSessionPartitions();
                // The leader's cache holds this very session: a wrong epoch is refused as such, an unknown id
                // otherwise (the probe does not disturb the follower: Kafka keeps a session on an epoch error).
                assertEquals(ErrorCodes.INVALID_FETCH_SESSION_EPOCH, probe(stats.leaderId(), stats.sessionId()),
                        "leader " + stats.leaderId() + " holds follower " + broker + "'s session");
            }
        }
        assertTrue(sent * 2 < held, "incremental fetches named " + sent + " of the " + held
                + " partitions their sessions held: only changed ones");
        assertEquals(ErrorCodes.FETCH_SESSION_ID_NOT_FOUND, probe(1, unknownSessionId()));

        // Leadership moves: the partitions broker 3 led join sessions with the new leaders, and broker 3's own
        // follower sessions go with it; replication converges on the two left and then on the returning broker.
        cluster.stopBroker(3);
        produce(allPartitions(), 10);
        awaitConverged(List.of(1, 2));
        cluster.restartBroker(3);
        produce(allPartitions(), 10);
        awaitConverged(List.of(1, 2, 3));
        await(() -> sessionsEstablished(List.of(3), 1, 2), "the restarted broker fetches through a session");
    }

    private static List<Integer> allPartitions() {
        List<Integer> all = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) all.add(p);
        return all;
    }

    private void produce(List<Integer> partitions, int perPartition) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < perPartition; i++) {
                for (int p : partitions) producer.send(new ProducerRecord<>(TOPIC, p, null, "v" + i));
            }
            producer.flush();
            for (int p : partitions) producer.send(new ProducerRecord<>(TOPIC, p, null, "last")).get(60, TimeUnit.SECONDS);
        }
    }

    private Map<Integer, FetchSessionHandler.Stats> sessions(int broker) {
        return cluster.broker(broker).kafkaBroker().replicas().fetchSessions();
    }

    /** Each of {@code brokers} has a session (granted, past {@code epochs} fetches) with {@code leaders} leaders. */
    private boolean sessionsEstablished(List<Integer> brokers, int leaders, int epochs) {
        for (int broker : brokers) {
            int established = 0;
            for (FetchSessionHandler.Stats stats : sessions(broker).values()) {
                if (stats.sessionId() != 0 && stats.nextEpoch() > epochs) established++;
            }
            if (established < leaders) return false;
        }
        return true;
    }

    /** Every replica of every partition holds the leader's whole log and the ISR is full again. */
    private void awaitConverged(List<Integer> brokers) throws Exception {
        await(() -> {
            for (int p = 0; p < PARTITIONS; p++) {
                Partition leader = null;
                List<Partition> replicas = new ArrayList<>();
                for (int broker : brokers) {
                    Partition replica = cluster.broker(broker).kafkaBroker().logs().partitions()
                            .get(new TopicPartition(TOPIC, p));
                    if (replica == null) return false;
                    replicas.add(replica);
                    if (replica.isLeader()) leader = replica;
                }
                if (leader == null || leader.inSyncReplicas().size() != brokers.size()) return false;
                for (Partition replica : replicas) {
                    if (replica.logEndOffset() != leader.logEndOffset()) return false;
                    if (replica.highWatermark() != leader.logEndOffset()) return false;
                }
            }
            return true;
        }, "every replica of " + brokers + " caught up with its leader");
    }

    private int unknownSessionId() {
        return Integer.MAX_VALUE - 7;
    }

    /** An incremental Fetch naming {@code sessionId} at an epoch no fetcher reaches: the leader's answer's error. */
    private short probe(int leaderId, int sessionId) throws Exception {
        try (RawKafkaConnection connection = new RawKafkaConnection(cluster.broker(leaderId).kafkaPort())) {
            FetchRequest request = new FetchRequest();
            request.replicaId = -1;
            request.maxWaitMs = 0;
            request.minBytes = 1;
            request.sessionId = sessionId;
            request.sessionEpoch = Integer.MAX_VALUE;
            FetchResponse response = connection.roundTrip(ApiKey.FETCH, (short) 12, (short) 1, request,
                    FetchResponse::read);
            return response.errorCode;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting until " + what);
            Thread.sleep(20);
        }
    }
}
