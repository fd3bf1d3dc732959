package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker epochs as Kafka 3.9 uses them: a controller's LeaderAndIsr, UpdateMetadata and StopReplica meant for an
 * earlier registration of the broker (an older epoch) are refused with STALE_BROKER_EPOCH, and obeyed at the current
 * epoch or when the controller names none (-1, as older versions of these requests).
 */
class BrokerEpochTest {

    @Test
    void controllerRequestsForAnEarlierRegistrationAreRefusedAndForTheCurrentOneObeyed(@TempDir Path dir)
            throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", "1")
                     .set("zookeeper.connect", zookeeper.zookeeperConnect()));
             ZkZnodeStore reader = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30));
             RawKafkaConnection connection = new RawKafkaConnection(broker.kafkaPort())) {
            long epoch = reader.czxid(KafkaZkLayout.brokerPath(1));
            assertTrue(epoch > 0, "broker 1 registered");
            int controllerEpoch = KafkaZkLayout.decodeControllerEpoch(reader.getData(KafkaZkLayout.CONTROLLER_EPOCH));

            for (long stale : new long[] {epoch - 1, 0}) {
                assertEquals(Errors.STALE_BROKER_EPOCH.code(), leaderAndIsr(connection, controllerEpoch, stale));
                assertEquals(Errors.STALE_BROKER_EPOCH.code(), updateMetadata(connection, controllerEpoch, stale));
                assertEquals(Errors.STALE_BROKER_EPOCH.code(), stopReplica(connection, controllerEpoch, stale));
            }
            for (long current : new long[] {epoch, -1}) {
                assertEquals(Errors.NONE.code(), leaderAndIsr(connection, controllerEpoch, current));
                assertEquals(Errors.NONE.code(), updateMetadata(connection, controllerEpoch, current));
                assertEquals(Errors.NONE.code(), stopReplica(connection, controllerEpoch, current));
            }
        }
    }

    private static short leaderAndIsr(RawKafkaConnection connection, int controllerEpoch, long brokerEpoch)
            throws Exception {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(connection, ApiKey.LEADER_AND_ISR, 7, request, LeaderAndIsrResponse.class).errorCode;
    }

    private static short updateMetadata(RawKafkaConnection connection, int controllerEpoch, long brokerEpoch)
            throws Exception {
        UpdateMetadataRequest request = new UpdateMetadataRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(connection, ApiKey.UPDATE_METADATA, 7, request, UpdateMetadataResponse.class).errorCode;
    }

    private static short stopReplica(RawKafkaConnection connection, int controllerEpoch, long brokerEpoch)
            throws Exception {
        StopReplicaRequest request = new StopReplicaRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(connection, ApiKey.STOP_REPLICA, 3, request, StopReplicaResponse.class).errorCode;
    }

    private static <R> R call(RawKafkaConnection connection, ApiKey key, int version, ApiMessage request,
                              Class<R> type) throws Exception {
        short v = (short) version;
        return type.cast(connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse));
    }
}
