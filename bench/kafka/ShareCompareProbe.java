import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The client side of run-share-compare.sh: one share-group scenario, the same against any broker, printing what the
 * broker answered as sorted "key = value" lines (nothing server-specific: no ids, hosts or ports), so the script can
 * put two servers' answers side by side.
 * <p>
 * Topic share-compare, 2 partitions, RECORDS records produced to each. Group share-compare with
 * share.auto.offset.reset=earliest and share.delivery.count.limit=10 (so no record reaches the limit in one pass). One
 * KafkaShareConsumer (explicit acknowledgement) takes one pass over every offset: on its first delivery offset o is
 * RELEASEd when o % 5 == 0, REJECTed when o % 5 == 1, ACCEPTed below 3/4 of RECORDS, else RELEASEd; a redelivery is
 * RELEASEd again. The group's and the member's epochs are described once everything was delivered, before the
 * consumer closes. Then, the consumer closed: Admin.listShareGroupOffsets (all, and by name with a partition of a
 * topic the group never used, a partition that topic lacks and a topic that does not exist) and describeShareGroups.
 * <pre>java -cp "lib/*:." ShareCompareProbe BOOTSTRAP RECORDS</pre>
 */
public class ShareCompareProbe {
    private static final String TOPIC = "share-compare";
    private static final String OTHER = "share-compare-unused";
    private static final String GROUP = "share-compare";

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        int records = Integer.parseInt(args[1]);
        Map<String, String> out = new TreeMap<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1), new NewTopic(OTHER, 1, (short) 1)))
                    .all().get(60, TimeUnit.SECONDS);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, GROUP), List.of(
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("share.delivery.count.limit", "10"), AlterConfigOp.OpType.SET))))
                    .all().get(60, TimeUnit.SECONDS);
            produce(bootstrap, records);
            consume(admin, bootstrap, records, out);

            Map<TopicPartition, SharePartitionOffsetInfo> all = admin.listShareGroupOffsets(
                    Map.of(GROUP, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(GROUP).get(60, TimeUnit.SECONDS);
            put(out, "list.all", all);
            Map<TopicPartition, SharePartitionOffsetInfo> named = admin.listShareGroupOffsets(Map.of(GROUP,
                    new ListShareGroupOffsetsSpec().topicPartitions(List.of(new TopicPartition(TOPIC, 0),
                            new TopicPartition(TOPIC, 1), new TopicPartition(OTHER, 0), new TopicPartition(OTHER, 5),
                            new TopicPartition("share-compare-missing", 0)))))
                    .partitionsToOffsetInfo(GROUP).get(60, TimeUnit.SECONDS);
            put(out, "list.named", named);
            ShareGroupDescription d = admin.describeShareGroups(List.of(GROUP)).describedGroups().get(GROUP)
                    .get(60, TimeUnit.SECONDS);
            out.put("describe.state", String.valueOf(d.groupState()));
            out.put("describe.members", String.valueOf(d.members().size()));
            out.put("describe.groupEpoch", String.valueOf(d.groupEpoch()));
            out.put("describe.targetAssignmentEpoch", String.valueOf(d.targetAssignmentEpoch()));
        }
        out.forEach((k, v) -> System.out.println(k + " = " + v));
    }

    private static void put(Map<String, String> out, String prefix, Map<TopicPartition, SharePartitionOffsetInfo> m) {
        out.put(prefix + ".partitions", String.valueOf(new TreeSet<>(m.keySet().stream().map(TopicPartition::toString)
                .toList())));
        m.forEach((tp, info) -> out.put(prefix + "." + tp, info == null ? "null (no start offset)"
                : "startOffset=" + info.startOffset() + " leaderEpoch=" + info.leaderEpoch() + " lag=" + info.lag()));
    }

    private static void produce(String bootstrap, int records) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                new StringSerializer(), new StringSerializer())) {
            for (int p = 0; p < 2; p++) {
                for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(TOPIC, p, null, "r" + i));
            }
            producer.flush();
        }
    }

    private static void consume(Admin admin, String bootstrap, int records, Map<String, String> out)
            throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrap);
        config.put("group.id", GROUP);
        config.put("share.acknowledgement.mode", "explicit");
        Set<String> delivered = new TreeSet<>();
        Map<String, Integer> counts = new TreeMap<>();
        int polls = 0;
        try (KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (delivered.size() < 2 * records) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("delivered only " + delivered);
                polls++;
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    String key = r.partition() + ":" + r.offset();
                    boolean first = delivered.add(key);
                    counts.merge(r.partition() + "", 1, Integer::sum);
                    consumer.acknowledge(r, first ? firstAcknowledgement(r.offset(), records) : AcknowledgeType.RELEASE);
                }
                consumer.commitSync(Duration.ofSeconds(30));
            }
            // The epochs while the member is still in the group, having consumed everything (before its leave).
            ShareGroupDescription d = admin.describeShareGroups(List.of(GROUP)).describedGroups().get(GROUP)
                    .get(60, TimeUnit.SECONDS);
            out.put("consuming.groupEpoch", String.valueOf(d.groupEpoch()));
            out.put("consuming.targetAssignmentEpoch", String.valueOf(d.targetAssignmentEpoch()));
            out.put("consuming.memberEpochs", String.valueOf(d.members().stream()
                    .map(m -> m.memberEpoch()).toList()));
        }
        out.put("consume.firstDeliveries", String.valueOf(delivered.size()));
        // Informational only (depends on how many polls the pass took): deliveries per partition, redeliveries included.
        System.err.println("deliveries per partition " + counts + " in " + polls + " polls");
    }

    private static AcknowledgeType firstAcknowledgement(long offset, int records) {
        if (offset % 5 == 0) return AcknowledgeType.RELEASE;
        if (offset % 5 == 1) return AcknowledgeType.REJECT;
        return offset < records * 3L / 4 ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE;
    }
}
