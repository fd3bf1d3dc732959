package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.ControlledShutdownResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker in a controlled shutdown leaves every ISR and may not rejoin one while that registration lives, as Kafka
 * 3.9's ZooKeeper-mode controller answers AlterPartition (its liveBrokerIds leave shutting-down brokers out): the
 * stopping broker still fetches and catches up until it is gone, and without this its partitions' leaders took it
 * straight back into the ISR it had just left (ReplicationTest saw the leadership state change after the
 * registration went).
 */
class ShuttingDownBrokerIsrTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "stopping";
    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private <T extends AutoCloseable> T opened(T closeable) {
        open.add(closeable);
        return closeable;
    }

    @Test
    void aBrokerInAControlledShutdownIsNotTakenBackIntoTheIsr() throws Exception {
        Tandem zookeeper = opened(Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))));
        List<Tandem> brokers = new ArrayList<>();
        for (int id = 1; id <= 2; id++) {
            brokers.add(opened(Tandem.start(TandemConfig.forTests(dir.resolve("kafka" + id))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", Integer.toString(id))
                    .set("zookeeper.connect", zookeeper.zookeeperConnect()))));
        }
        ZkZnodeStore store = opened(ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                Duration.ofSeconds(30)));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + brokers.get(0).kafkaPort()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 2))).all().get(30, TimeUnit.SECONDS);
        }
        JsonNode state = awaitIsr(store, 2);
        int leader = state.get("leader").asInt();
        int stopping = leader == 1 ? 2 : 1;
        int controller = JSON.readTree(store.getData(KafkaZkLayout.CONTROLLER)).get("brokerid").asInt();

        try (RawKafkaConnection toController = new RawKafkaConnection(brokers.get(controller - 1).kafkaPort())) {
            ControlledShutdownRequest shutdown = new ControlledShutdownRequest();
            shutdown.brokerId = stopping;
            shutdown.brokerEpoch = store.czxid(KafkaZkLayout.brokerPath(stopping));
            ControlledShutdownResponse answer = toController.roundTrip(ApiKey.CONTROLLED_SHUTDOWN, (short) 3,
                    (short) 1, shutdown, ControlledShutdownResponse::read);
            assertEquals(Errors.NONE.code(), answer.errorCode);
            awaitIsr(store, 1);

            // The stopping broker keeps fetching: its leader proposes it again and is refused each time.
            Thread.sleep(2_000);
            ZnodeStore.Versioned current = store.getVersioned(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            JsonNode after = JSON.readTree(current.data());
            assertEquals(List.of(leader), isr(after), "the stopping broker stays out of the ISR: " + after);

            AlterPartitionRequest.PartitionData partition = new AlterPartitionRequest.PartitionData();
            partition.partitionIndex = 0;
            partition.leaderEpoch = after.get("leader_epoch").asInt();
            partition.partitionEpoch = current.version();
            partition.newIsr = new ArrayList<>(List.of(leader, stopping));
            AlterPartitionRequest.TopicData topic = new AlterPartitionRequest.TopicData();
            topic.topicName = TOPIC;
            topic.partitions.add(partition);
            AlterPartitionRequest alter = new AlterPartitionRequest();
            alter.brokerId = leader;
            alter.brokerEpoch = store.czxid(KafkaZkLayout.brokerPath(leader));
            alter.topics.add(topic);
            AlterPartitionResponse refused = toController.roundTrip(ApiKey.ALTER_PARTITION, (short) 1, (short) 1,
                    alter, AlterPartitionResponse::read);
            assertEquals(Errors.NONE.code(), refused.errorCode);
            assertEquals(Errors.INELIGIBLE_REPLICA.code(), refused.topics.get(0).partitions.get(0).errorCode);
        }
    }

    private static List<Integer> isr(JsonNode state) {
        List<Integer> isr = new ArrayList<>();
        state.get("isr").forEach(n -> isr.add(n.asInt()));
        return isr;
    }

    private static JsonNode awaitIsr(ZkZnodeStore store, int size) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode state = null;
        while (System.nanoTime() < deadline) {
            byte[] data = store.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            state = data == null ? null : JSON.readTree(data);
            if (state != null && state.get("isr").size() == size) return state;
            Thread.sleep(20);
        }
        assertNotNull(state, "no partition state");
        assertEquals(size, state.get("isr").size(), "ISR " + state);
        return state;
    }
}
