package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
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
 * Two brokers on one ZooKeeper, a partition led by the first and replicated to the second: the leader's endpoint
 * reports it under-replicated exactly while the follower is out of its ISR.
 */
class UnderReplicatedPartitionsMetricTest {
    @TempDir
    Path dir;

    @Test
    void shouldReportALedPartitionWhoseFollowerLeftTheIsr() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, config -> {
            config.set("replica.lag.time.max.ms", "1000");
            if (config.get("broker.id").equals("1")) config.set("metrics.port", "0");
            return config;
        })) {
            Tandem leader = cluster.broker(1);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    leader.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("replicated", Map.of(0, List.of(1, 2)))))
                        .all().get(30, TimeUnit.SECONDS);
            }
            awaitUnderReplicated(leader, 0.0);
            assertEquals(1.0, Scrape.of(leader.metricsPort()).value("tandem_kafka_partitions_leader"));
            cluster.stopBroker(2);
            // replica.lag.time.max.ms is 1 s: the leader drops the stopped follower from the ISR.
            awaitUnderReplicated(leader, 1.0);
        }
    }

    private static void awaitUnderReplicated(Tandem broker, double expected) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        double seen;
        do {
            seen = Scrape.of(broker.metricsPort()).value("tandem_kafka_partitions_under_replicated");
            if (seen == expected) return;
            Thread.sleep(100);
        } while (System.currentTimeMillis() < deadline);
        assertEquals(expected, seen, "under-replicated partitions");
    }
}
