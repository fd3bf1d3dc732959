package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.RequestFaults;
import io.tandem.server.kafka.network.Responder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A follower's Fetch carries what server.properties says, as Kafka's ReplicaFetcherThread sends it:
 * replica.fetch.wait.max.ms as maxWaitMs, replica.fetch.min.bytes as minBytes, replica.fetch.response.max.bytes as
 * maxBytes and replica.fetch.max.bytes per partition. Read where it lands, at a real leader (every request it decodes
 * is offered to the listener's request hook first): on an idle partition the leader parks each fetch for the whole
 * configured wait, and a record produced meanwhile reaches the follower long before the wait ends, since the leader
 * answers a parked fetch as soon as there is news.
 */
@Timeout(180)
class ReplicaFetchWaitTest {
    private static final int LEADER = 1;
    private static final int FOLLOWER = 2;
    private static final int WAIT_MS = 2_000;
    private static final int MIN_BYTES = 10;
    private static final int RESPONSE_BYTES = 4 * 1024 * 1024;
    private static final int PARTITION_BYTES = 512 * 1024;
    private static final String TOPIC = "waited";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    /** A replica fetch as the leader decoded it, with when it came. */
    private record Seen(long atNanos, FetchRequest request) {
    }

    /** Records the follower's fetches at the leader and lets every request through unchanged. */
    private static final class FetchRecorder implements RequestFaults {
        /** Bounded: the test reads them as they come, and a fetch comes at most every few hundred ms. */
        final BlockingQueue<Seen> fetches = new LinkedBlockingQueue<>(10_000);

        @Override
        public boolean armed() {
            return true;
        }

        @Override
        public Outcome intercept(RequestContext request, ApiMessage body, Responder responder, Runnable resume,
                                 Runnable drop) {
            if (request.apiKey() == ApiKey.FETCH && body instanceof FetchRequest fetch) {
                int replicaId = request.apiVersion() >= 15 ? fetch.replicaState.replicaId : fetch.replicaId;
                if (replicaId == FOLLOWER) fetches.offer(new Seen(System.nanoTime(), fetch));
            }
            return Outcome.PASS;
        }
    }

    @Test
    void shouldFetchWithTheConfiguredWaitAndStillReplicateANewRecordAtOnce() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(2, c -> c.set("replica.fetch.wait.max.ms",
                String.valueOf(WAIT_MS)).set("replica.fetch.min.bytes", String.valueOf(MIN_BYTES))
                .set("replica.fetch.response.max.bytes", String.valueOf(RESPONSE_BYTES))
                .set("replica.fetch.max.bytes", String.valueOf(PARTITION_BYTES)));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     cluster.bootstrapServers()));
             KafkaProducer<String, String> producer = producer(cluster.broker(LEADER).bootstrapServers())) {
            FetchRecorder recorder = new FetchRecorder();
            cluster.broker(LEADER).kafkaBroker().apiRegistry().faults(recorder);
            admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(LEADER, FOLLOWER)))))
                    .all().get(60, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "first")).get(60, TimeUnit.SECONDS);
            Partition follower = awaitFollowerLog(cluster, 1, 60_000);

            // Idle now: every fetch asks what the configuration says, and the leader holds each for the whole wait.
            recorder.fetches.clear();
            List<Seen> idle = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Seen seen = recorder.fetches.poll(WAIT_MS * 5L, TimeUnit.MILLISECONDS);
                assertNotNull(seen, "the follower stopped fetching");
                idle.add(seen);
            }
            for (Seen seen : idle) {
                FetchRequest request = seen.request();
                assertEquals(WAIT_MS, request.maxWaitMs, "maxWaitMs is replica.fetch.wait.max.ms");
                assertEquals(MIN_BYTES, request.minBytes, "minBytes is replica.fetch.min.bytes");
                assertEquals(RESPONSE_BYTES, request.maxBytes, "maxBytes is replica.fetch.response.max.bytes");
                for (FetchRequest.FetchTopic topic : request.topics) {
                    for (FetchRequest.FetchPartition p : topic.partitions) {
                        assertEquals(PARTITION_BYTES, p.partitionMaxBytes, "partitionMaxBytes is replica.fetch.max.bytes");
                    }
                }
            }
            for (int i = 1; i < idle.size(); i++) {
                long gapMs = TimeUnit.NANOSECONDS.toMillis(idle.get(i).atNanos() - idle.get(i - 1).atNanos());
                assertTrue(gapMs >= WAIT_MS - 200, "an idle fetch was answered after " + gapMs + " ms, not the wait");
            }

            // A record produced while a fetch is parked: the leader answers that fetch at once, not after the wait.
            long expected = follower.logEndOffset() + 1;
            for (int attempt = 0; ; attempt++) {
                recorder.fetches.clear();
                Seen parked = recorder.fetches.poll(WAIT_MS * 5L, TimeUnit.MILLISECONDS);
                assertNotNull(parked, "the follower stopped fetching");
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "news-" + attempt)).get(60, TimeUnit.SECONDS);
                long ackedAt = System.nanoTime();
                long parkedForMs = TimeUnit.NANOSECONDS.toMillis(ackedAt - parked.atNanos());
                awaitFollowerLog(cluster, expected, 60_000);
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ackedAt);
                expected++;
                // Only conclusive if the fetch still had most of its wait ahead when the record was acknowledged (a
                // loaded machine may take longer to produce): then an unanswered fetch would take over half the wait.
                if (parkedForMs >= WAIT_MS / 2) {
                    assertTrue(attempt < 5, "the produce never came within half the wait of a parked fetch");
                    continue;
                }
                assertTrue(tookMs < WAIT_MS / 2, "the record reached the follower " + tookMs + " ms after its "
                        + "acknowledgement, its fetch having been parked " + parkedForMs + " ms before");
                break;
            }
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** The follower's log once it ends at {@code offset} or beyond. */
    private static Partition awaitFollowerLog(TandemCluster cluster, long offset, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            Partition p = cluster.broker(FOLLOWER).kafkaBroker().logs().get(TP);
            if (p != null && p.logEndOffset() >= offset) return p;
            assertTrue(System.nanoTime() < deadline, "the follower's log never reached " + offset);
            Thread.sleep(2);
        }
    }
}
