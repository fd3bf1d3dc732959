package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;

import java.nio.file.Path;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node the transaction protocol tests talk to over a raw socket: Kafka only, one transaction state partition,
 * topic {@link #TOPIC} with two partitions, and the coordinator of transactional id "t" loaded.
 */
final class TxnProtocolNode implements AutoCloseable {
    static final String TOPIC = "data";

    final Tandem tandem;
    final RawKafkaConnection connection;

    private TxnProtocolNode(Tandem tandem, RawKafkaConnection connection) {
        this.tandem = tandem;
        this.connection = connection;
    }

    /** A view of a broker the caller started and closes itself, for {@link #call} and {@link #findCoordinator}. */
    static TxnProtocolNode of(Tandem tandem, RawKafkaConnection connection) {
        return new TxnProtocolNode(tandem, connection);
    }

    static TxnProtocolNode start(Path dir) throws Exception {
        return start(dir, new String[0]);
    }

    /** As {@link #start(Path)}, with further broker settings (key, value, key, value, ...). */
    static TxnProtocolNode start(Path dir, String... settings) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("transaction.state.log.num.partitions", "1");
        for (int i = 0; i < settings.length; i += 2) config.set(settings[i], settings[i + 1]);
        Tandem tandem = Tandem.start(config);
        TxnProtocolNode node = new TxnProtocolNode(tandem, new RawKafkaConnection(tandem.kafkaPort()));
        CreateTopicsRequest create = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = TOPIC;
        topic.numPartitions = 2;
        topic.replicationFactor = 1;
        create.topics.add(topic);
        create.timeoutMs = 30_000;
        node.call(ApiKey.CREATE_TOPICS, 7, create);
        node.findCoordinator(1, "t");
        return node;
    }

    /**
     * Looks up the coordinator of {@code key} (key type 0 a group, 1 a transactional id) until it is answered, as a
     * client does before it talks to a coordinator. The first lookup creates the internal topic and is answered
     * COORDINATOR_NOT_AVAILABLE at once, as Kafka answers it; asked again until its partition has a leader.
     */
    void findCoordinator(int keyType, String key) throws Exception {
        FindCoordinatorRequest find = new FindCoordinatorRequest();
        find.keyType = (byte) keyType;
        find.coordinatorKeys.add(key);
        long deadline = System.currentTimeMillis() + 30_000;
        short error;
        while ((error = this.<FindCoordinatorResponse>call(ApiKey.FIND_COORDINATOR, 4, find).coordinators.get(0)
                .errorCode) != NONE) {
            assertEquals(COORDINATOR_NOT_AVAILABLE, error);
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for " + key + " in time");
            Thread.sleep(20);
        }
    }

    @SuppressWarnings("unchecked")
    <R extends ApiMessage> R call(ApiKey key, int version, ApiMessage request) throws Exception {
        short v = (short) version;
        return (R) connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse);
    }

    /**
     * InitProducerId at {@code version} for {@code transactionalId} (timeout 60 s), asked again while the coordinator
     * loads (see {@link #until}); the answer as it comes, error included.
     */
    InitProducerIdResponse initProducerId(String transactionalId, int version) throws Exception {
        return initProducerId(version, transactionalId, 60_000, -1, (short) -1);
    }

    /** As {@link #initProducerId(String, int)}, with the timeout and the producer id and epoch to resume (KIP-360). */
    InitProducerIdResponse initProducerId(int version, String transactionalId, int timeoutMs, long producerId,
                                          short epoch) throws Exception {
        InitProducerIdRequest request = new InitProducerIdRequest();
        request.transactionalId = transactionalId;
        request.transactionTimeoutMs = timeoutMs;
        request.producerId = producerId;
        request.producerEpoch = epoch;
        return until(() -> {
            try {
                return this.<InitProducerIdResponse>call(ApiKey.INIT_PRODUCER_ID, version, request);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, r -> r.errorCode);
    }

    /**
     * A Produce of {@code records} (null: set later, on {@code topicData.get(0).partitionData.get(0)}) to one
     * partition of {@link #TOPIC} for the transactional id.
     */
    static ProduceRequest produceRequest(String transactionalId, short acks, int timeoutMs, int partition,
                                         ByteBuf records) {
        ProduceRequest request = new ProduceRequest();
        request.transactionalId = transactionalId;
        request.acks = acks;
        request.timeoutMs = timeoutMs;
        ProduceRequest.TopicProduceData topic = new ProduceRequest.TopicProduceData();
        topic.name = TOPIC;
        ProduceRequest.PartitionProduceData data = new ProduceRequest.PartitionProduceData();
        data.index = partition;
        data.records = records;
        topic.partitionData.add(data);
        request.topicData.add(topic);
        return request;
    }

    /**
     * Sets one config of a resource (IncrementalAlterConfigs v1, SET: {@code resourceType} 2 a topic, 4 a broker, ""
     * the cluster default) and returns the resource's error.
     */
    short setConfig(int resourceType, String resourceName, String key, String value) throws Exception {
        IncrementalAlterConfigsRequest request = new IncrementalAlterConfigsRequest();
        IncrementalAlterConfigsRequest.AlterConfigsResource resource =
                new IncrementalAlterConfigsRequest.AlterConfigsResource();
        resource.resourceType = (byte) resourceType;
        resource.resourceName = resourceName;
        IncrementalAlterConfigsRequest.AlterableConfig config = new IncrementalAlterConfigsRequest.AlterableConfig();
        config.name = key;
        config.configOperation = 0;
        config.value = value;
        resource.configs.add(config);
        request.resources.add(resource);
        IncrementalAlterConfigsResponse response = call(ApiKey.INCREMENTAL_ALTER_CONFIGS, 1, request);
        return response.responses.get(0).errorCode;
    }

    /** Retries while the coordinator is still loading or a previous transition is completing (up to 30 s). */
    static <R> R until(Supplier<R> call, Function<R, Short> error) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            R result = call.get();
            short e = error.apply(result);
            if ((e != COORDINATOR_LOAD_IN_PROGRESS && e != CONCURRENT_TRANSACTIONS && e != NOT_COORDINATOR)
                    || System.currentTimeMillis() > deadline) {
                return result;
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws Exception {
        connection.close();
        tandem.close();
    }
}
