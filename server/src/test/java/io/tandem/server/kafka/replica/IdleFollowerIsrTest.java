package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.PartitionWaits;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower that holds the whole log of an idle partition stays in its ISR however long the leader hears nothing from
 * it, as in Kafka 3.9: Partition.getOutOfSyncReplicas drops only a follower that fails ReplicaState.isCaughtUp, which a
 * follower at the leader's log end offset passes whatever its last caught-up time. A follower's fetch parked on the
 * leader for replica.fetch.wait.max.ms (which may equal replica.lag.time.max.ms), or a link cut as here, must not cost
 * such a follower its place; a follower behind the leader by one record leaves after the lag as before.
 *
 * <p>Two partitions with the same replicas, led by the controller (so the ISR change needs no cut link): the follower
 * has every record of "idle", and one record less than the leader of "busy", written after the cut. Both partitions'
 * lag clocks stopped at the follower's last fetch, which named both, so the leader's check that drops the follower
 * from "busy" is one at which, judging by the time alone, it would have dropped it from "idle" too.
 */
class IdleFollowerIsrTest {
    private static final String LAG_MS = "1000";

    @TempDir
    Path dir;

    @Test
    void shouldKeepASilentFollowerAtTheLeadersLogEndInTheIsr() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, c -> c.set("replica.lag.time.max.ms", LAG_MS)
                .set("auto.leader.rebalance.enable", "false"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     cluster.bootstrapServers()))) {
            int leader = cluster.controllerId();
            int follower = 3 - leader;
            List<Integer> replicas = List.of(leader, follower);
            admin.createTopics(List.of(new NewTopic("idle", Map.of(0, replicas)),
                    new NewTopic("busy", Map.of(0, replicas)))).all().get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "idle", 0, 2);
            PartitionWaits.awaitIsrSize(admin, cluster, "busy", 0, 2);
            try (KafkaProducer<String, String> producer = producer(cluster, leader)) {
                producer.send(new ProducerRecord<>("idle", 0, null, "everyone has it")).get(30, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("busy", 0, null, "everyone has it")).get(30, TimeUnit.SECONDS);
                // acks=all answered with both replicas in the ISR: the high watermark (the smallest log end offset
                // over the ISR) reached the leader's log end, so the leader has the follower at its log end offset.

                cluster.partition(leader, follower);
                try (KafkaProducer<String, String> one = producer(cluster, leader, "1")) {
                    one.send(new ProducerRecord<>("busy", 0, null, "the follower lacks it")).get(30, TimeUnit.SECONDS);
                }
                PartitionWaits.awaitIsrSize(admin, cluster, "busy", 0, 1);
                assertEquals(replicas.stream().sorted().toList(),
                        PartitionWaits.isrAt(cluster.broker(leader), "idle", 0).stream().sorted().toList(),
                        "the silent follower of the idle partition left its ISR");
                assertEquals(2, PartitionWaits.describe(admin, "idle").partitions().get(0).isr().size(),
                        "the controller's word on the idle partition");

                cluster.heal(leader, follower);
                PartitionWaits.awaitIsrSize(admin, cluster, "busy", 0, 2);
                assertEquals(2, PartitionWaits.isrAt(cluster.broker(leader), "idle", 0).size());
            }
        }
    }

    private static KafkaProducer<String, String> producer(TandemCluster cluster, int broker) {
        return producer(cluster, broker, "all");
    }

    private static KafkaProducer<String, String> producer(TandemCluster cluster, int broker, String acks) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.broker(broker).bootstrapServers(), ProducerConfig.ACKS_CONFIG, acks,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"), new StringSerializer(), new StringSerializer());
    }
}
