package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ElectLeadersRequest;
import io.tandem.kafka.wire.message.ElectLeadersResponse;
import io.tandem.server.fault.FaultRule;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.zk.wire.OpCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ElectLeaders reaching the next controller while its failover is still loading the cluster's state (issue 9: a test
 * that stopped the controller and called Admin.electLeaders at once got a top-level NOT_CONTROLLER, which the Java
 * Admin does not retry). Kafka 3.9's broker queues the election on its controller's event thread
 * (KafkaController.electLeaders), behind the failover, and answers what the loaded controller decides.
 *
 * <p>The window is held open, not raced: every ZooKeeper getChildren is delayed, so the next controller, elected
 * (it holds {@code /controller}) but reading {@code /brokers/ids}, {@code /brokers/topics} and the rest, stays
 * loading for seconds; the request is sent to it, on its own connection, once it is seen in that state.
 */
class ElectLeadersDuringFailoverTest {
    /**
     * Each of the load's getChildren (brokers, topics, each topic's partitions, the admin requests: some eight) waits
     * this long, so the load lasts seconds: ample to send a request into, under the raw connection's read timeout.
     */
    private static final Duration LOAD_DELAY = Duration.ofMillis(400);

    @TempDir
    Path dir;

    @Test
    void shouldAnswerAnElectionAskedWhileTheNextControllerLoadsOnceItHasLoaded() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, c -> c.set("auto.leader.rebalance.enable", "false"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     cluster.bootstrapServers()))) {
            int stopped = cluster.controllerId();
            int next = 3 - stopped;
            // "solo" needs no election; "pair"'s preferred leader is the broker about to stop.
            admin.createTopics(List.of(new NewTopic("solo", Map.of(0, List.of(next))),
                    new NewTopic("pair", Map.of(0, List.of(stopped, next))))).all().get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "pair", 0, 2);
            PartitionWaits.awaitIsrSize(admin, cluster, "solo", 0, 1);

            KafkaController nextController = cluster.broker(next).kafkaBroker().controller();
            FaultRule slowLoad = cluster.faults().zookeeper(OpCode.GET_CHILDREN).delay(LOAD_DELAY).install();
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> cluster.stopBroker(stopped));
            long deadline = System.currentTimeMillis() + 60_000;
            while (!(nextController.isElected() && !nextController.isActive())) {
                assertTrue(System.currentTimeMillis() < deadline, "broker " + next + " never began its failover");
                Thread.sleep(5);
            }
            Map<String, Short> answered;
            try (RawKafkaConnection c = new RawKafkaConnection(cluster.broker(next).kafkaPort())) {
                assertTrue(!nextController.isActive(), "the request must reach a controller still loading");
                ElectLeadersResponse response = c.roundTrip(ApiKey.ELECT_LEADERS, (short) 2, (short) 1,
                        preferred("solo", "pair"), ElectLeadersResponse::read);
                assertEquals(Errors.NONE.code(), response.errorCode, "no top-level error, as Kafka 3.9 answers");
                answered = new TreeMap<>();
                for (ElectLeadersResponse.ReplicaElectionResult topic : response.replicaElectionResults) {
                    for (ElectLeadersResponse.PartitionResult p : topic.partitionResult) {
                        answered.put(topic.topic + "-" + p.partitionId, p.errorCode);
                    }
                }
            } finally {
                cluster.faults().remove(slowLoad.id());
            }
            assertTrue(nextController.isActive(), "answered before the failover loaded");
            assertEquals(Map.of("pair-0", Errors.PREFERRED_LEADER_NOT_AVAILABLE.code(),
                    "solo-0", Errors.ELECTION_NOT_NEEDED.code()), answered,
                    "what the loaded controller decides: the preferred leader of pair is the stopped broker");
            stopping.get(60, TimeUnit.SECONDS);
        }
    }

    private static ElectLeadersRequest preferred(String... topics) {
        ElectLeadersRequest request = new ElectLeadersRequest();
        request.electionType = 0;
        request.timeoutMs = 30_000;
        request.topicPartitions = new ArrayList<>();
        for (String topic : topics) {
            ElectLeadersRequest.TopicPartitions t = new ElectLeadersRequest.TopicPartitions();
            t.topic = topic;
            t.partitions = new ArrayList<>(List.of(0));
            request.topicPartitions.add(t);
        }
        return request;
    }
}
