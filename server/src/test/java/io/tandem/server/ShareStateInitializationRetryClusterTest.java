package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.server.fault.FaultRule;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.share.ShareCoordinatorPersister;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A share-partition whose state initialization the real share coordinator, on another broker, refused once is
 * initialized by a later heartbeat, as Kafka 4.4's group coordinator does (the failed persisterInitialize leaves the
 * share-partitions uninitialized, uninitializeShareGroupState, and the next heartbeat's
 * maybeCreateInitializeShareGroupStateRequest asks again): the group coordinator's InitializeShareGroupState is
 * answered UNKNOWN_SERVER_ERROR once at the share coordinator's listener (a fault rule), which the persister does not
 * retry; a KafkaShareConsumer is then assigned the share-partition and gets every record from
 * share.auto.offset.reset=earliest, delivered once.
 */
class ShareStateInitializationRetryClusterTest {
    private static final String TOPIC = "retried";
    private static final int OFFSETS_PARTITIONS = 4;
    private static final int RECORDS = 3;

    @TempDir
    Path dir;

    @Test
    void anInitializationRefusedOnceShouldBeDoneByALaterHeartbeat() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, c -> c
                .set("offsets.topic.num.partitions", String.valueOf(OFFSETS_PARTITIONS))
                .set("share.coordinator.state.topic.num.partitions", "1")
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "500"));
             Admin admin = admin(cluster)) {
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            TopicInfo offsetsTopic = led(any, () -> any.topics().ensureOffsetsTopic());
            int shareCoordinator = leader(led(any, () -> any.shareStateTopic().ensureTopic()), 0);
            // A group coordinated by the other broker: its initialization goes over the wire to the share coordinator.
            String group = null;
            int coordinator = -1;
            for (int i = 0; i < 1_000 && group == null; i++) {
                String candidate = "retry-" + i;
                int c = leader(offsetsTopic, OffsetsTopicCodec.partitionFor(candidate, OFFSETS_PARTITIONS));
                if (c != shareCoordinator) {
                    group = candidate;
                    coordinator = c;
                }
            }
            assertNotNull(group, "no offsets partition led away from the share coordinator " + shareCoordinator);
            // Led by the share coordinator's broker: the share-partition's first load, which initializes it again with
            // the start offset share.auto.offset.reset gives, goes to its own share coordinator, not over the wire.
            admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(shareCoordinator)))))
                    .all().get(30, TimeUnit.SECONDS);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(cluster, TOPIC, 1, RECORDS, "v");

            ShareCoordinatorPersister persister = cluster.broker(coordinator).kafkaBroker().sharePersister();
            long initializationsBefore = persister.requestsSent(ApiKey.INITIALIZE_SHARE_GROUP_STATE);
            FaultRule refusal = cluster.faults().kafka(ApiKey.INITIALIZE_SHARE_GROUP_STATE)
                    .on("broker" + shareCoordinator).times(1).error(Errors.UNKNOWN_SERVER_ERROR);
            Map<Long, Short> delivered = new TreeMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, group)) {
                consumer.subscribe(List.of(TOPIC));
                while (delivered.size() < RECORDS) {
                    assertTrue(System.nanoTime() < deadline, "delivered only " + delivered + "; the refusal matched "
                            + refusal.matched() + " time(s)");
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        assertNull(delivered.put(r.offset(), r.deliveryCount().orElseThrow()),
                                "delivered twice: " + r.offset());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                }
                consumer.commitSync(Duration.ofSeconds(30));
            }
            assertEquals(1, refusal.matched(), "the share coordinator refused the first initialization");
            assertEquals(2, persister.requestsSent(ApiKey.INITIALIZE_SHARE_GROUP_STATE) - initializationsBefore,
                    "the group coordinator's: the refused one, not retried by the persister, then the next"
                            + " heartbeat's");
            // Initialized afresh (-1): earliest decided when the share-partition first loaded, nothing skipped.
            assertEquals(Map.of(0L, (short) 1, 1L, (short) 1, 2L, (short) 1), delivered);
        }
    }
}
