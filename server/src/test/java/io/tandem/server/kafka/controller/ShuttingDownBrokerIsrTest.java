package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.ControlledShutdownResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    private static final String TOPIC = "stopping";
    @TempDir
    Path dir;

    @Test
    void aBrokerInAControlledShutdownIsNotTakenBackIntoTheIsr() throws Exception {
        try (TwoBrokers cluster = new TwoBrokers(dir, TOPIC)) {
            stopOneAndProposeItBack(cluster);
        }
    }

    /** A controlled shutdown of the follower, then its leader proposes it for the ISR again. */
    private static void stopOneAndProposeItBack(TwoBrokers cluster) throws Exception {
        ZkZnodeStore store = cluster.store;
        JsonNode state = cluster.awaitIsr(2);
        int leader = state.get("leader").asInt();
        int stopping = leader == 1 ? 2 : 1;
        int controller = cluster.controller();

        try (RawKafkaConnection toController = new RawKafkaConnection(cluster.broker(controller).kafkaPort())) {
            ControlledShutdownRequest shutdown = new ControlledShutdownRequest();
            shutdown.brokerId = stopping;
            shutdown.brokerEpoch = store.czxid(KafkaZkLayout.brokerPath(stopping));
            ControlledShutdownResponse answer = toController.roundTrip(ApiKey.CONTROLLED_SHUTDOWN, (short) 3,
                    (short) 1, shutdown, ControlledShutdownResponse::read);
            assertEquals(Errors.NONE.code(), answer.errorCode);
            cluster.awaitIsr(1);

            // The stopping broker keeps fetching: its leader proposes it again and is refused each time.
            Thread.sleep(2_000);
            ZnodeStore.Versioned current = store.getVersioned(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            JsonNode after = TwoBrokers.JSON.readTree(current.data());
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
}
