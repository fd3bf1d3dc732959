package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The controller tests' cluster: brokers 1 and 2 on a Tandem ZooKeeper ({@link TandemCluster}), a topic with one
 * partition replicated on both, and a ZooKeeper store to read what the controller wrote. Closed in the reverse order of
 * starting.
 */
final class TwoBrokers implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final TandemCluster cluster;
    final ZkZnodeStore store;
    private final String topic;

    /** Starts everything and waits until both replicas of {@code topic}'s partition 0 are in its ISR. */
    TwoBrokers(Path dir, String topic) throws Exception {
        this.topic = topic;
        cluster = TandemCluster.start(dir, 2, UnaryOperator.identity());
        ZkZnodeStore connected;
        try {
            connected = ZkZnodeStore.connect(cluster.zookeeperConnect(), Duration.ofSeconds(10),
                    Duration.ofSeconds(30));
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
        store = connected;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.broker(1).bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 2))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
        awaitIsr(2);
    }

    /** The partition's state once its ISR has {@code size} replicas (fails after 30 s). */
    JsonNode awaitIsr(int size) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            byte[] data = store.getData(KafkaZkLayout.partitionStatePath(topic, 0));
            JsonNode state = data == null ? null : JSON.readTree(data);
            if (state != null && state.get("isr").size() == size) return state;
            assertTrue(System.nanoTime() < deadline, "ISR never reached " + size + ": " + state);
            Thread.sleep(20);
        }
    }

    /** The broker id in {@code /controller}. */
    int controller() throws Exception {
        byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
        assertNotNull(data, "no controller");
        return JSON.readTree(data).get("brokerid").asInt();
    }

    Tandem broker(int id) {
        return cluster.broker(id);
    }

    @Override
    public void close() {
        if (store != null) store.close();
        cluster.close();
    }
}
