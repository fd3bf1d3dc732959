package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AllocateProducerIdsRequest;
import io.tandem.kafka.wire.message.AllocateProducerIdsResponse;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker epochs as Kafka 3.9 uses them, on a broker registered in a real ZooKeeper:
 * <ul>
 *   <li>a controller's LeaderAndIsr, UpdateMetadata and StopReplica meant for an earlier registration of the broker
 *       (an older epoch) are refused with STALE_BROKER_EPOCH, and obeyed at the current epoch or when the controller
 *       names none (-1, as older versions of these requests);</li>
 *   <li>AllocateProducerIds (67), how an Apache Kafka 3.9 broker reserves its producer ids through the controller
 *       (a controller that refused it left every idempotent producer asking that broker waiting forever), is answered
 *       as Kafka's: the block for a registered broker at its epoch, never overlapping another's.</li>
 * </ul>
 */
class BrokerEpochTest {
    @TempDir
    Path dir;
    private Tandem zookeeper;
    private Tandem broker;
    private ZkZnodeStore reader;
    private RawKafkaConnection connection;
    private long epoch;

    @BeforeEach
    void start() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", "1").set("zookeeper.connect", zookeeper.zookeeperConnect()));
        reader = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
        connection = new RawKafkaConnection(broker.kafkaPort());
        epoch = reader.czxid(KafkaZkLayout.brokerPath(1));
        assertTrue(epoch > 0, "broker 1 registered");
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) connection.close();
        if (reader != null) reader.close();
        if (broker != null) broker.close();
        if (zookeeper != null) zookeeper.close();
    }

    @Test
    void controllerRequestsForAnEarlierRegistrationAreRefusedAndForTheCurrentOneObeyed() throws Exception {
        int controllerEpoch = KafkaZkLayout.decodeControllerEpoch(reader.getData(KafkaZkLayout.CONTROLLER_EPOCH));
        for (long stale : new long[] {epoch - 1, 0}) {
            assertEquals(Errors.STALE_BROKER_EPOCH.code(), leaderAndIsr(controllerEpoch, stale));
            assertEquals(Errors.STALE_BROKER_EPOCH.code(), updateMetadata(controllerEpoch, stale));
            assertEquals(Errors.STALE_BROKER_EPOCH.code(), stopReplica(controllerEpoch, stale));
        }
        for (long current : new long[] {epoch, -1}) {
            assertEquals(Errors.NONE.code(), leaderAndIsr(controllerEpoch, current));
            assertEquals(Errors.NONE.code(), updateMetadata(controllerEpoch, current));
            assertEquals(Errors.NONE.code(), stopReplica(controllerEpoch, current));
        }
    }

    @Test
    void theControllerAllocatesDisjointBlocksToARegisteredBrokerAtItsEpochAndRefusesOthers() throws Exception {
        assertEquals(Errors.BROKER_ID_NOT_REGISTERED.code(), allocate(7, epoch).errorCode);
        assertEquals(Errors.STALE_BROKER_EPOCH.code(), allocate(1, epoch + 1).errorCode);

        AllocateProducerIdsResponse first = allocate(1, epoch);
        assertEquals(Errors.NONE.code(), first.errorCode);
        assertEquals(1000, first.producerIdLen);
        // The broker's own InitProducerId reserves a block of its own in between: the next one follows both.
        InitProducerIdRequest init = new InitProducerIdRequest();
        init.transactionalId = null;
        init.transactionTimeoutMs = 60_000;
        InitProducerIdResponse initialized = call(ApiKey.INIT_PRODUCER_ID, 4, init, InitProducerIdResponse.class);
        assertEquals(Errors.NONE.code(), initialized.errorCode);
        AllocateProducerIdsResponse second = allocate(1, epoch);
        assertEquals(Errors.NONE.code(), second.errorCode);
        for (AllocateProducerIdsResponse block : new AllocateProducerIdsResponse[] {first, second}) {
            long end = block.producerIdStart + block.producerIdLen - 1;
            assertTrue(initialized.producerId < block.producerIdStart || initialized.producerId > end,
                    "the broker's own producer id " + initialized.producerId + " outside " + block.producerIdStart
                            + ".." + end);
        }
        assertTrue(second.producerIdStart > first.producerIdStart + 999, "blocks do not overlap");
        assertEquals(second.producerIdStart + 999,
                KafkaZkLayout.decodeProducerIdBlockEnd(reader.getData(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK)),
                "the last block is the one recorded in ZooKeeper");
    }

    private AllocateProducerIdsResponse allocate(int brokerId, long brokerEpoch) throws Exception {
        AllocateProducerIdsRequest request = new AllocateProducerIdsRequest();
        request.brokerId = brokerId;
        request.brokerEpoch = brokerEpoch;
        return call(ApiKey.ALLOCATE_PRODUCER_IDS, 0, request, AllocateProducerIdsResponse.class);
    }

    private short leaderAndIsr(int controllerEpoch, long brokerEpoch) throws Exception {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(ApiKey.LEADER_AND_ISR, 7, request, LeaderAndIsrResponse.class).errorCode;
    }

    private short updateMetadata(int controllerEpoch, long brokerEpoch) throws Exception {
        UpdateMetadataRequest request = new UpdateMetadataRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(ApiKey.UPDATE_METADATA, 7, request, UpdateMetadataResponse.class).errorCode;
    }

    private short stopReplica(int controllerEpoch, long brokerEpoch) throws Exception {
        StopReplicaRequest request = new StopReplicaRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = brokerEpoch;
        return call(ApiKey.STOP_REPLICA, 3, request, StopReplicaResponse.class).errorCode;
    }

    private <R> R call(ApiKey key, int version, ApiMessage request, Class<R> type) throws Exception {
        short v = (short) version;
        return type.cast(connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse));
    }
}
