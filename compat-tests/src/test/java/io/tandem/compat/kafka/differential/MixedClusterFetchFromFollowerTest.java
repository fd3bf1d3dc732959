package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.cluster.ReplicaLinkProxy;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KIP-392 (fetch from the closest replica) across the two kinds of broker in one cluster, each with
 * {@code replica.selector.class=RackAwareReplicaSelector} and its own rack: a Tandem broker (1, rack-1) and an Apache
 * Kafka 3.9.1 broker (2, rack-2, a separate JVM) on a Tandem ZooKeeper. Partition 0 is led by Apache and followed by
 * Tandem, partition 1 the other way round, so each kind's leader answers a consumer of the other rack and each kind's
 * follower serves it: both leaders answer the same way (preferred_read_replica naming the follower, no records, the
 * same offsets), both followers serve the records up to their high watermark, and the Java consumer with
 * {@code client.rack} reads from the follower. Then each follower falls out of the ISR while it lives (a proxy in front
 * of each broker cuts the other's replica fetches only, and records it lacks are produced): both leaders stop naming
 * it and serve the consumer themselves, and the Java consumer, once its preferred replica expires
 * (metadata.max.age.ms, as Kafka's Fetcher keeps it), goes back to the leader and reads what was produced meanwhile.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MixedClusterFetchFromFollowerTest {
    private static final String TOPIC = "racked";
    private static final String SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector";
    private static final int TANDEM = 1;
    private static final int APACHE = 2;
    private static final int RECORDS = 10;
    /** How long a silent follower stays in the ISR, on both kinds (Kafka's default is 30 s). */
    private static final String LAG_MS = "3000";

    @TempDir
    Path dir;

    @Test
    void shouldNameTheFollowerInTheConsumersRackAsApacheDoesAndStopOnceItLeavesTheIsr() throws Exception {
        int tandemPort = io.tandem.compat.kafka.ApacheKafkaLauncher.freePort();
        int apachePort = io.tandem.compat.kafka.ApacheKafkaLauncher.freePort();
        try (ReplicaLinkProxy tandemProxy = new ReplicaLinkProxy(tandemPort);
             ReplicaLinkProxy apacheProxy = new ReplicaLinkProxy(apachePort);
             Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                     .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA)).kafkaPort(tandemPort)
                     .set("listeners", "PLAINTEXT://127.0.0.1:" + tandemPort)
                     .set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + tandemProxy.port())
                     .set("broker.id", Integer.toString(TANDEM)).set("broker.rack", "rack-1")
                     .set("replica.selector.class", SELECTOR).set("replica.lag.time.max.ms", LAG_MS)
                     .set("auto.leader.rebalance.enable", "false")
                     .set("zookeeper.connect", zookeeper.zookeeperConnect()));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", Integer.toString(APACHE), "broker.rack", "rack-2",
                             "advertised.listeners", "PLAINTEXT://127.0.0.1:" + apacheProxy.port(),
                             "replica.selector.class", SELECTOR, "replica.lag.time.max.ms", LAG_MS,
                             "auto.leader.rebalance.enable", "false", "offsets.topic.replication.factor", "1"),
                     apachePort)) {
            String bootstrap = "127.0.0.1:" + tandemProxy.port() + ",127.0.0.1:" + apacheProxy.port();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                long deadline = System.currentTimeMillis() + 120_000;
                while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < 2) {
                    assertTrue(apache.alive(), "Apache Kafka stopped:\n" + apache.logTail());
                    assertTrue(System.currentTimeMillis() < deadline, "Apache Kafka never registered:\n"
                            + apache.logTail());
                    Thread.sleep(200);
                }
                admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(APACHE, TANDEM),
                        1, List.of(TANDEM, APACHE))))).all().get(60, TimeUnit.SECONDS);
                awaitIsr(admin, 0, List.of(APACHE, TANDEM), apache);
                awaitIsr(admin, 1, List.of(TANDEM, APACHE), apache);
                produce(bootstrap, 0, RECORDS, "all");
                produce(bootstrap, 1, RECORDS, "all");
                awaitHighWatermark(tandemPort, 0, RECORDS);
                awaitHighWatermark(apachePort, 1, RECORDS);

                // Each leader names the follower in the consumer's rack, and answers alike.
                FetchResponseData.PartitionData byApache = fetch(apachePort, 0, "rack-1");
                FetchResponseData.PartitionData byTandem = fetch(tandemPort, 1, "rack-2");
                assertEquals(TANDEM, byApache.preferredReadReplica(), "Apache's leader names the Tandem follower");
                assertEquals(APACHE, byTandem.preferredReadReplica(), "Tandem's leader names the Apache follower");
                assertEquals(shape(byApache), shape(byTandem), "the two leaders' answers");
                assertEquals(0, count(byApache));
                // The consumer in the leader's own rack is served by the leader, on both kinds.
                assertEquals(-1, fetch(apachePort, 0, "rack-2").preferredReadReplica());
                assertEquals(-1, fetch(tandemPort, 1, "rack-1").preferredReadReplica());
                // Each follower serves a consumer's fetch from its own log, up to its high watermark.
                FetchResponseData.PartitionData fromTandem = fetch(tandemPort, 0, "rack-1");
                FetchResponseData.PartitionData fromApache = fetch(apachePort, 1, "rack-2");
                assertEquals(RECORDS, count(fromTandem), "records the Tandem follower served");
                assertEquals(RECORDS, count(fromApache), "records the Apache follower served");
                assertEquals(shape(fromApache), shape(fromTandem), "the two followers' answers");

                try (KafkaConsumer<String, String> inRack1 = consumer(bootstrap, "rack-1", 0);
                     KafkaConsumer<String, String> inRack2 = consumer(bootstrap, "rack-2", 1)) {
                    assertEquals(RECORDS, poll(inRack1, RECORDS).size());
                    assertEquals(RECORDS, poll(inRack2, RECORDS).size());
                    assertEquals(TANDEM, preferredReadReplica(inRack1, 0), "the rack-1 consumer reads from Tandem");
                    assertEquals(APACHE, preferredReadReplica(inRack2, 1), "the rack-2 consumer reads from Apache");

                    // Each follower stops fetching (alive, its ZooKeeper session kept), and records come that it
                    // lacks (acks=1: the leaders hold them alone): each leader shrinks its ISR after
                    // replica.lag.time.max.ms. (Without new records Apache's leader kept the silent follower of the
                    // idle partition in the ISR: its log end still equals the leader's.)
                    apacheProxy.cutReplica(TANDEM);
                    tandemProxy.cutReplica(APACHE);
                    produce(bootstrap, 0, 3, "1");
                    produce(bootstrap, 1, 3, "1");
                    awaitIsr(admin, 0, List.of(APACHE), apache);
                    awaitIsr(admin, 1, List.of(TANDEM), apache);
                    FetchResponseData.PartitionData apacheAlone = fetch(apachePort, 0, "rack-1");
                    FetchResponseData.PartitionData tandemAlone = fetch(tandemPort, 1, "rack-2");
                    assertEquals(-1, apacheAlone.preferredReadReplica(), "Apache names no replica out of the ISR");
                    assertEquals(-1, tandemAlone.preferredReadReplica(), "Tandem names no replica out of the ISR");
                    assertEquals(RECORDS + 3, count(apacheAlone), "Apache's leader serves the records itself");
                    assertEquals(RECORDS + 3, count(tandemAlone), "Tandem's leader serves the records itself");
                    assertEquals(shape(apacheAlone), shape(tandemAlone), "the two leaders' answers");

                    // The records produced since are on the leaders alone: each consumer gets them once back there.
                    assertEquals(3, poll(inRack1, 3).size(), "the rack-1 consumer went back to Apache's leader");
                    assertEquals(3, poll(inRack2, 3).size(), "the rack-2 consumer went back to Tandem's leader");
                    assertEquals(-1, preferredReadReplica(inRack1, 0));
                    assertEquals(-1, preferredReadReplica(inRack2, 1));
                }
            }
        }
    }

    /** What two leaders' (or followers') answers must share: error, offsets, preferred replica, record count. */
    private static String shape(FetchResponseData.PartitionData p) {
        return "error " + Errors.forCode(p.errorCode()) + ", high watermark " + p.highWatermark() + ", last stable "
                + p.lastStableOffset() + ", log start " + p.logStartOffset() + ", preferred read replica set "
                + (p.preferredReadReplica() >= 0) + ", records " + count(p);
    }

    private static int count(FetchResponseData.PartitionData p) {
        int records = 0;
        for (RecordBatch batch : ((MemoryRecords) p.records()).batches()) {
            records += (int) (batch.lastOffset() - batch.baseOffset() + 1);
        }
        return records;
    }

    /** A consumer's Fetch v12 (client metadata, topic names) of one partition from offset 0, from {@code rack}. */
    private static FetchResponseData.PartitionData fetch(int port, int partition, String rack) throws Exception {
        FetchRequestData request = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(1 << 20).setRackId(rack);
        request.topics().add(new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                new FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(0)
                        .setPartitionMaxBytes(1 << 20))));
        try (WireClient client = new WireClient(port)) {
            FetchResponseData response = (FetchResponseData) client.call(ApiKeys.FETCH, (short) 12, request);
            assertEquals(Errors.NONE, Errors.forCode(response.errorCode()));
            return response.responses().get(0).partitions().get(0);
        }
    }

    private static void awaitHighWatermark(int port, int partition, long highWatermark) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (fetch(port, partition, "").highWatermark() < highWatermark) {
            assertTrue(System.currentTimeMillis() < deadline, "the follower on port " + port + " never reached "
                    + highWatermark);
            Thread.sleep(50);
        }
    }

    private static void awaitIsr(Admin admin, int partition, List<Integer> isr, ApacheBroker apache)
            throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        while (true) {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(TOPIC);
            List<Integer> now = d.partitions().get(partition).isr().stream().map(n -> n.id()).toList();
            if (now.size() == isr.size() && now.containsAll(isr)) return;
            assertTrue(System.currentTimeMillis() < deadline, "partition " + partition + "'s ISR stays " + now
                    + ", not " + isr + "\n" + apache.logTail());
            Thread.sleep(200);
        }
    }

    private static void produce(String bootstrap, int partition, int records, String acks) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, acks);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(TOPIC, partition, null, "p" + partition + "-" + acks + i))
                        .get(60, TimeUnit.SECONDS);
            }
        }
    }

    /** A consumer in {@code rack} of one partition, whose preferred read replica expires after 3 s. */
    private static KafkaConsumer<String, String> consumer(String bootstrap, String rack, int partition) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.CLIENT_RACK_CONFIG, rack);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "3000");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer());
        consumer.assign(List.of(new TopicPartition(TOPIC, partition)));
        return consumer;
    }

    private static List<String> poll(KafkaConsumer<String, String> consumer, int wanted) {
        List<String> values = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 60_000;
        while (values.size() < wanted && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
        }
        return values;
    }

    /** The consumer's preferred-read-replica metric of the partition (-1: the leader). */
    private static int preferredReadReplica(KafkaConsumer<?, ?> consumer, int partition) {
        for (Map.Entry<MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals("preferred-read-replica") && TOPIC.equals(name.tags().get("topic"))
                    && Integer.toString(partition).equals(name.tags().get("partition"))) {
                return ((Number) e.getValue().metricValue()).intValue();
            }
        }
        return -1;
    }
}
