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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the controller answers as still led by a broker in a controlled shutdown, as Kafka 3.9's
 * doControlledShutdown (partitionLeadersOnBroker): the partitions of more than one replica whose leadership no other
 * in-sync replica could take. A partition of one replica never moves, so it never counts: the stopping broker asks
 * again while anything remains (controlled.shutdown.max.retries), and before, every broker holding such a partition
 * was told it still led something and would have waited out every retry.
 */
class ControlledShutdownRemainingTest {
    @TempDir
    Path dir;

    @Test
    void shouldAnswerOnlyPartitionsOfSeveralReplicasAsRemaining() throws Exception {
        try (TwoBrokers cluster = new TwoBrokers(dir, "shared")) {
            int first = cluster.controller();
            int last = first == 1 ? 2 : 1;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    cluster.broker(first).bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("single", Map.of(0, List.of(last))))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            awaitLeader(cluster, "single", last);
            try (RawKafkaConnection toController = new RawKafkaConnection(cluster.broker(first).kafkaPort())) {
                // The first broker goes: "shared" moves to the last one, which is then its only in-sync replica.
                assertEquals(List.of(), remaining(shutdown(cluster, toController, first)));
                cluster.awaitIsr(1);
                // The last one can hand "shared" to nobody; "single" has nowhere to go and is not counted.
                assertEquals(List.of("shared-0"), remaining(shutdown(cluster, toController, last)));
            }
        }
    }

    private static ControlledShutdownResponse shutdown(TwoBrokers cluster, RawKafkaConnection toController,
                                                       int brokerId) throws Exception {
        ControlledShutdownRequest request = new ControlledShutdownRequest();
        request.brokerId = brokerId;
        request.brokerEpoch = cluster.store.czxid(KafkaZkLayout.brokerPath(brokerId));
        ControlledShutdownResponse answer = toController.roundTrip(ApiKey.CONTROLLED_SHUTDOWN, (short) 3, (short) 1,
                request, ControlledShutdownResponse::read);
        assertEquals(Errors.NONE.code(), answer.errorCode);
        return answer;
    }

    private static List<String> remaining(ControlledShutdownResponse answer) {
        return answer.remainingPartitions.stream().map(p -> p.topicName + "-" + p.partitionIndex).toList();
    }

    private static void awaitLeader(TwoBrokers cluster, String topic, int leader) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            byte[] data = cluster.store.getData(KafkaZkLayout.partitionStatePath(topic, 0));
            JsonNode state = data == null ? null : TwoBrokers.JSON.readTree(data);
            if (state != null && state.get("leader").asInt() == leader) return;
            assertTrue(System.nanoTime() < deadline, "no leader " + leader + " for " + topic + ": " + state);
            Thread.sleep(20);
        }
    }
}
