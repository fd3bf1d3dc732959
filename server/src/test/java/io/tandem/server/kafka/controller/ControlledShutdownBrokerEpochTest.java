package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.ControlledShutdownResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ControlledShutdown (v2+ names the broker's epoch) as Kafka 3.9's controller answers it: a request from an earlier
 * registration of the broker (a retry that outlived a restart) is refused with STALE_BROKER_EPOCH and moves nothing;
 * at the broker's current epoch the broker's leaderships move and it leaves the ISR.
 */
class ControlledShutdownBrokerEpochTest {
    private static final String TOPIC = "epochs";
    @TempDir
    Path dir;

    @Test
    void aControlledShutdownFromAnEarlierRegistrationIsRefusedAndMovesNothing() throws Exception {
        try (TwoBrokers cluster = new TwoBrokers(dir, TOPIC)) {
            ZnodeStore.Versioned before = state(cluster);
            int leader = TwoBrokers.JSON.readTree(before.data()).get("leader").asInt();
            long epoch = cluster.store.czxid(KafkaZkLayout.brokerPath(leader));

            int controller = cluster.controller();
            try (RawKafkaConnection toController = new RawKafkaConnection(cluster.broker(controller).kafkaPort())) {
                assertEquals(Errors.STALE_BROKER_EPOCH.code(), shutdown(toController, leader, epoch - 1).errorCode);
                assertEquals(Errors.BROKER_NOT_AVAILABLE.code(), shutdown(toController, 7, -1).errorCode);
                ZnodeStore.Versioned after = state(cluster);
                assertEquals(before.version(), after.version(), "the refused request changed the partition state: "
                        + TwoBrokers.JSON.readTree(after.data()));

                ControlledShutdownResponse obeyed = shutdown(toController, leader, epoch);
                assertEquals(Errors.NONE.code(), obeyed.errorCode);
                assertTrue(obeyed.remainingPartitions.isEmpty(), "the other in-sync replica took the leadership over");
                JsonNode moved = TwoBrokers.JSON.readTree(state(cluster).data());
                assertEquals(leader == 1 ? 2 : 1, moved.get("leader").asInt(), "new leader: " + moved);
                assertEquals(1, moved.get("isr").size(), "the stopping broker left the ISR: " + moved);
            }
        }
    }

    /** The partition's state znode with its version. */
    private static ZnodeStore.Versioned state(TwoBrokers cluster) throws Exception {
        return cluster.store.getVersioned(KafkaZkLayout.partitionStatePath(TOPIC, 0));
    }

    private static ControlledShutdownResponse shutdown(RawKafkaConnection connection, int brokerId, long brokerEpoch)
            throws Exception {
        ControlledShutdownRequest request = new ControlledShutdownRequest();
        request.brokerId = brokerId;
        request.brokerEpoch = brokerEpoch;
        return connection.roundTrip(ApiKey.CONTROLLED_SHUTDOWN, (short) 3, (short) 1, request,
                ControlledShutdownResponse::read);
    }
}
