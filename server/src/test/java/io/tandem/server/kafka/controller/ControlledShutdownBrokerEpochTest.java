package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
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
 * ControlledShutdown (v2+ names the broker's epoch) as Kafka 3.9's controller answers it: a request from an earlier
 * registration of the broker (a retry that outlived a restart) is refused with STALE_BROKER_EPOCH and moves nothing;
 * at the broker's current epoch the broker's leaderships move and it leaves the ISR.
 */
class ControlledShutdownBrokerEpochTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "epochs";
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
    void aControlledShutdownFromAnEarlierRegistrationIsRefusedAndMovesNothing() throws Exception {
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
        awaitIsrSize(store, 2);
        ZnodeStore.Versioned before = store.getVersioned(KafkaZkLayout.partitionStatePath(TOPIC, 0));
        int leader = JSON.readTree(before.data()).get("leader").asInt();
        long epoch = store.czxid(KafkaZkLayout.brokerPath(leader));
        int controller = JSON.readTree(store.getData(KafkaZkLayout.CONTROLLER)).get("brokerid").asInt();

        try (RawKafkaConnection toController = new RawKafkaConnection(brokers.get(controller - 1).kafkaPort())) {
            assertEquals(Errors.STALE_BROKER_EPOCH.code(), shutdown(toController, leader, epoch - 1).errorCode);
            assertEquals(Errors.BROKER_NOT_AVAILABLE.code(), shutdown(toController, 7, -1).errorCode);
            ZnodeStore.Versioned after = store.getVersioned(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            assertEquals(before.version(), after.version(), "the refused request changed the partition state: "
                    + JSON.readTree(after.data()));

            ControlledShutdownResponse obeyed = shutdown(toController, leader, epoch);
            assertEquals(Errors.NONE.code(), obeyed.errorCode);
            assertTrue(obeyed.remainingPartitions.isEmpty(), "the other in-sync replica took the leadership over");
            JsonNode moved = JSON.readTree(store.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0)));
            assertEquals(leader == 1 ? 2 : 1, moved.get("leader").asInt(), "new leader: " + moved);
            assertEquals(1, moved.get("isr").size(), "the stopping broker left the ISR: " + moved);
        }
    }

    private static ControlledShutdownResponse shutdown(RawKafkaConnection connection, int brokerId, long brokerEpoch)
            throws Exception {
        ControlledShutdownRequest request = new ControlledShutdownRequest();
        request.brokerId = brokerId;
        request.brokerEpoch = brokerEpoch;
        return connection.roundTrip(ApiKey.CONTROLLED_SHUTDOWN, (short) 3, (short) 1, request,
                ControlledShutdownResponse::read);
    }

    private static void awaitIsrSize(ZkZnodeStore store, int size) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            byte[] data = store.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            JsonNode state = data == null ? null : JSON.readTree(data);
            if (state != null && state.get("isr").size() == size) return;
            assertTrue(System.nanoTime() < deadline, "ISR never reached " + size + ": " + state);
            Thread.sleep(20);
        }
    }
}
