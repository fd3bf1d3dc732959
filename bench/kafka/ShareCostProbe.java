import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One KafkaShareConsumer (Kafka 4.4, implicit acknowledgement: every record delivered is accepted by the next poll)
 * reading every record of a topic once, for run-share-cost.sh. The group reads from the start
 * (share.auto.offset.reset=earliest, set through the Admin client as a group config). Prints one line:
 * {@code records=N joinMs=J consumeMs=C totalMs=T}: J from subscribe to the first record (the join, the
 * share-partitions' initialization and the assignment at the second heartbeat), C from the first record to the last
 * one's acknowledgement written (the close commits it), T both. Nothing is asserted.
 */
public final class ShareCostProbe {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], group = args[3];
        long records = Long.parseLong(args[2]);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        }
        Properties config = new Properties();
        config.put("bootstrap.servers", bootstrap);
        config.put("group.id", group);
        long seen = 0;
        long start = System.nanoTime(), first = -1, end;
        KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        try {
            consumer.subscribe(List.of(topic));
            long deadline = start + TimeUnit.SECONDS.toNanos(300);
            while (seen < records) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("only " + seen + " records in 300 s");
                ConsumerRecords<byte[], byte[]> got = consumer.poll(Duration.ofMillis(500));
                if (!got.isEmpty() && first < 0) first = System.nanoTime();
                seen += got.count();
            }
            // The last records' acknowledgement goes with the next commit.
            consumer.commitSync(Duration.ofSeconds(30));
        } finally {
            consumer.close(Duration.ofSeconds(30));
            end = System.nanoTime();
        }
        System.out.printf("records=%d joinMs=%d consumeMs=%d totalMs=%d%n", seen,
                TimeUnit.NANOSECONDS.toMillis(first - start), TimeUnit.NANOSECONDS.toMillis(end - first),
                TimeUnit.NANOSECONDS.toMillis(end - start));
    }
}
