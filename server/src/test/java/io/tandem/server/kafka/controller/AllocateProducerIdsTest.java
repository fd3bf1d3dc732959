package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AllocateProducerIdsRequest;
import io.tandem.kafka.wire.message.AllocateProducerIdsResponse;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
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
 * An Apache Kafka 3.9 broker reserves its producer ids through the controller with AllocateProducerIds (67); a
 * controller that refused it left every idempotent producer that asked that broker waiting forever. The Tandem
 * controller answers it as Kafka's: the block for a registered broker at its epoch, never overlapping another's.
 */
class AllocateProducerIdsTest {

    @Test
    void theControllerAllocatesDisjointBlocksToARegisteredBrokerAtItsEpochAndRefusesOthers(@TempDir Path dir)
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

            assertEquals(Errors.BROKER_ID_NOT_REGISTERED.code(), allocate(connection, 7, epoch).errorCode);
            assertEquals(Errors.STALE_BROKER_EPOCH.code(), allocate(connection, 1, epoch + 1).errorCode);

            AllocateProducerIdsResponse first = allocate(connection, 1, epoch);
            assertEquals(Errors.NONE.code(), first.errorCode);
            assertEquals(1000, first.producerIdLen);
            // The broker's own InitProducerId reserves a block of its own in between: the next one follows both.
            InitProducerIdRequest init = new InitProducerIdRequest();
            init.transactionalId = null;
            init.transactionTimeoutMs = 60_000;
            InitProducerIdResponse initialized = connection.roundTrip(ApiKey.INIT_PRODUCER_ID, (short) 4,
                    ApiKey.INIT_PRODUCER_ID.responseHeaderVersion((short) 4), init,
                    (buf, v) -> InitProducerIdResponse.read(buf, v));
            assertEquals(Errors.NONE.code(), initialized.errorCode);
            AllocateProducerIdsResponse second = allocate(connection, 1, epoch);
            assertEquals(Errors.NONE.code(), second.errorCode);

            long[][] blocks = {{first.producerIdStart, first.producerIdStart + 999},
                    {second.producerIdStart, second.producerIdStart + 999}};
            for (long[] block : blocks) {
                assertTrue(initialized.producerId < block[0] || initialized.producerId > block[1],
                        "the broker's own producer id " + initialized.producerId + " outside " + block[0] + ".." + block[1]);
            }
            assertTrue(second.producerIdStart > first.producerIdStart + 999, "blocks do not overlap");
            assertEquals(second.producerIdStart + 999,
                    KafkaZkLayout.decodeProducerIdBlockEnd(reader.getData(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK)),
                    "the last block is the one recorded in ZooKeeper");
        }
    }

    private static AllocateProducerIdsResponse allocate(RawKafkaConnection connection, int brokerId, long epoch)
            throws Exception {
        AllocateProducerIdsRequest request = new AllocateProducerIdsRequest();
        request.brokerId = brokerId;
        request.brokerEpoch = epoch;
        return connection.roundTrip(ApiKey.ALLOCATE_PRODUCER_IDS, (short) 0,
                ApiKey.ALLOCATE_PRODUCER_IDS.responseHeaderVersion((short) 0), request,
                (buf, v) -> AllocateProducerIdsResponse.read(buf, v));
    }
}
