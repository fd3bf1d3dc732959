package io.tandem.bench.embedded;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A single node's restart with topics on disk: {@code Tandem.start} (both roles, one process) and then the first
 * Metadata answer for all topics, counting the topics it lists with every partition led, and when all are. The first
 * run makes the data directory with {@code TOPICS} topics of 4 partitions; each later run restarts it {@code ROUNDS}
 * times in one JVM (the first round cold). Usage: {@code RestartWithTopicsBench DIR TOPICS ROUNDS}; see
 * bench/run-restart-topics.sh. Prints figures, asserts nothing.
 */
public final class RestartWithTopicsBench {
    private static final Duration T = Duration.ofSeconds(60);

    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[0]);
        int topics = Integer.parseInt(a[1]);
        int rounds = Integer.parseInt(a[2]);
        if (!Files.exists(dir)) {
            try (Tandem t = Tandem.start(TandemConfig.forTests(dir)); KafkaConnection c = conn(t)) {
                for (int i = 0; i < topics; i += 50) {
                    CreateTopicsRequest r = new CreateTopicsRequest();
                    r.timeoutMs = 60_000;
                    for (int k = i; k < Math.min(topics, i + 50); k++) {
                        CreateTopicsRequest.CreatableTopic ct = new CreateTopicsRequest.CreatableTopic();
                        ct.name = "t" + k; ct.numPartitions = 4; ct.replicationFactor = 1;
                        r.topics.add(ct);
                    }
                    c.send(r, T);
                }
                while (led(c) < topics) Thread.sleep(50);
            }
        }
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            Tandem t = Tandem.start(TandemConfig.forTests(dir));
            long t1 = System.nanoTime();
            try (KafkaConnection c = conn(t)) {
                int first = led(c);
                long t2 = System.nanoTime();
                int n = first;
                while (n < topics) { Thread.sleep(5); n = led(c); }
                long t3 = System.nanoTime();
                System.out.printf("round %d: Tandem.start %d ms, first Metadata at %d ms (%d/%d topics led), all led at %d ms%n",
                        r, (t1 - t0) / 1_000_000, (t2 - t0) / 1_000_000, first, topics, (t3 - t0) / 1_000_000);
            }
            t.close();
        }
        System.exit(0);
    }

    static KafkaConnection conn(Tandem t) throws Exception {
        return KafkaConnection.open(new InetSocketAddress("127.0.0.1", t.kafkaPort()), "restart-bench", T, 64 << 20);
    }

    /** Topics listed with every partition led. */
    static int led(KafkaConnection c) {
        MetadataResponse m = c.send(new MetadataRequest().setTopics(null), T);
        int n = 0;
        for (MetadataResponse.MetadataResponseTopic topic : m.topics) {
            if (topic.errorCode != 0 || topic.partitions.isEmpty()) continue;
            boolean all = true;
            for (MetadataResponse.MetadataResponsePartition p : topic.partitions) if (p.leaderId < 0) all = false;
            if (all) n++;
        }
        return n;
    }
}
