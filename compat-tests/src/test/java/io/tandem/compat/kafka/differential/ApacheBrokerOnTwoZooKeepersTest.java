package io.tandem.compat.kafka.differential;

import io.tandem.compat.zookeeper.ApacheZkTarget;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One Apache Kafka 3.9.1 broker (ZooKeeper mode) on Tandem's ZooKeeper and another on Apache ZooKeeper 3.9, the same
 * client steps on each (create a topic with a config, produce, consume in a group and commit, describe and alter
 * configs, add partitions, a cluster-wide broker config, a client quota, a SCRAM credential, delete the topic): the
 * clients see the same answers, and the znodes Kafka wrote under {@code /brokers},
 * {@code /config} and {@code /admin} are the same (data modulo times, ports and generated ids; ACLs; versions and
 * child counts). Kafka is the judge of the ZooKeeper here: any difference is the Tandem ZooKeeper's.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ApacheBrokerOnTwoZooKeepersTest {
    private static final String TOPIC = "side-by-side";
    private static final long WAIT_MS = 60_000;
    /** The whole tree Kafka wrote: {@code /brokers}, {@code /config}, {@code /admin}, and the controller's nodes. */
    private static final List<String> ROOTS = List.of("/");

    @TempDir
    Path dir;

    /** What one side produced: the clients' view, step by step, and the znodes afterwards. */
    private record Outcome(List<String> seen, SortedMap<String, String> znodes) {
    }

    @Test
    void anApacheBrokerSeesTheSameAndWritesTheSameOnTandemZooKeeperAsOnApacheZooKeeper() throws Exception {
        ExecutorService sides = Executors.newFixedThreadPool(2);
        try {
            // Both sides at once: most of each is waiting for an Apache broker's JVM to start.
            Future<Outcome> onApache = sides.submit(side("apache", () -> {
                ApacheZkTarget zk = new ApacheZkTarget(Files.createDirectories(dir.resolve("apache-zk")));
                return new Zk(zk.connectString(), zk::close);
            }));
            Future<Outcome> onTandem = sides.submit(side("tandem", () -> {
                Tandem zk = Tandem.start(TandemConfig.forTests(dir.resolve("tandem-zk"))
                        .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
                return new Zk(zk.zookeeperConnect(), zk::close);
            }));
            Outcome apache = onApache.get(200, TimeUnit.SECONDS);
            Outcome tandem = onTandem.get(200, TimeUnit.SECONDS);
            assertEquals(List.of("created", "partitions [0:leader 0 isr [0], 1:leader 0 isr [0]]",
                    "offsets [0, 0, 1, 1, 2, 2]", "consumed [v0, v1, v2, v3, v4, v5]", "committed {0=3, 1=3}",
                    "retention.ms=3600000 DYNAMIC_TOPIC_CONFIG", "cleanup.policy=delete DEFAULT_CONFIG",
                    "max.message.bytes=12345 DYNAMIC_TOPIC_CONFIG",
                    "partitions [0:leader 0 isr [0], 1:leader 0 isr [0], 2:leader 0 isr [0]]",
                    "log.retention.ms=7200000 DYNAMIC_DEFAULT_BROKER_CONFIG",
                    "quotas {ClientQuotaEntity(entries={client-id=side-client})={producer_byte_rate=1048576.0}}",
                    "scram [ScramCredentialInfo{mechanism=SCRAM_SHA_256, iterations=4096}]",
                    "deleted", "topics [__consumer_offsets]"),
                    apache.seen(), "Apache Kafka on Apache ZooKeeper");
            assertEquals(apache.seen(), tandem.seen(), "Apache Kafka on Tandem's ZooKeeper, as on Apache's");
            assertTrue(apache.znodes().containsKey("/brokers/topics/__consumer_offsets"), apache.znodes().toString());
            List<String> differences = ZnodeTree.differences(apache.znodes(), tandem.znodes());
            System.out.printf("Apache Kafka on two ZooKeepers: %d znodes compared, %d differ%n",
                    apache.znodes().size(), differences.size());
            assertEquals(List.of(), differences, "znodes Kafka wrote: " + apache.znodes().size() + " on Apache"
                    + " ZooKeeper, " + tandem.znodes().size() + " on Tandem's");
        } finally {
            sides.shutdownNow();
        }
    }

    /** A running ZooKeeper of either kind and how to stop it. */
    private record Zk(String connectString, AutoCloseable stop) {
    }

    private Callable<Outcome> side(String name, Callable<Zk> zookeeper) {
        return () -> {
            Zk zk = zookeeper.call();
            try (ApacheBroker broker = ApacheBroker.zookeeperMode(dir.resolve("kafka-on-" + name),
                    zk.connectString(), Differential.SETTINGS)) {
                Differential.awaitReady(broker).close();
                List<String> seen = scenario("127.0.0.1:" + broker.port());
                // The broker forgets a deleted topic before its controller has removed the topic's znodes (that waits
                // for StopReplica): compare the trees once the deletion is through on this side.
                awaitDeletionDone(zk.connectString());
                // Read while the broker still runs: its registration is ephemeral.
                return new Outcome(seen, ZnodeTree.read(zk.connectString(), ROOTS));
            } finally {
                zk.stop().close();
            }
        };
    }

    private static List<String> scenario(String bootstrap) throws Exception {
        List<String> seen = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT_MS))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1).configs(Map.of("retention.ms", "3600000"))))
                    .all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            seen.add("created");
            seen.add("partitions " + awaitLeaders(admin));
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            List<Long> offsets = new ArrayList<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 6; i++) {
                    offsets.add(producer.send(new ProducerRecord<>(TOPIC, i % 2, null, "v" + i))
                            .get(WAIT_MS, TimeUnit.MILLISECONDS).offset());
                }
            }
            seen.add("offsets " + offsets);
            seen.add("consumed " + consumeAndCommit(bootstrap));
            Map<Integer, Long> committed = new TreeMap<>();
            admin.listConsumerGroupOffsets("side-group").partitionsToOffsetAndMetadata()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).forEach((tp, o) -> committed.put(tp.partition(), o.offset()));
            seen.add("committed " + committed);
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
            Config config = admin.describeConfigs(List.of(topic)).all().get(WAIT_MS, TimeUnit.MILLISECONDS).get(topic);
            seen.add(entry(config, "retention.ms"));
            seen.add(entry(config, "cleanup.policy"));
            admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
                    new ConfigEntry("max.message.bytes", "12345"), AlterConfigOp.OpType.SET))))
                    .all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            config = admin.describeConfigs(List.of(topic)).all().get(WAIT_MS, TimeUnit.MILLISECONDS).get(topic);
            seen.add(entry(config, "max.message.bytes"));
            // Writes under /brokers/topics (a new partition), /config/brokers, /config/clients, /config/users and
            // /config/changes: Kafka's versioned setData, sequential notifications and multi-ops.
            admin.createPartitions(Map.of(TOPIC, NewPartitions.increaseTo(3))).all()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS);
            seen.add("partitions " + awaitLeaders(admin));
            ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
            admin.incrementalAlterConfigs(Map.of(cluster, List.of(new AlterConfigOp(
                    new ConfigEntry("log.retention.ms", "7200000"), AlterConfigOp.OpType.SET))))
                    .all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            // The broker applies it when the /config/changes notification reaches it (until then Kafka reports the
            // new source with the old, null, value).
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            String retention;
            long applied = System.currentTimeMillis() + WAIT_MS;
            do {
                retention = entry(admin.describeConfigs(List.of(broker)).all().get(WAIT_MS, TimeUnit.MILLISECONDS)
                        .get(broker), "log.retention.ms");
            } while (!retention.startsWith("log.retention.ms=7200000") && System.currentTimeMillis() < applied
                    && sleep(100));
            seen.add(retention);
            ClientQuotaEntity client = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "side-client"));
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(client, List.of(
                    new ClientQuotaAlteration.Op("producer_byte_rate", 1048576.0)))))
                    .all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            seen.add("quotas " + admin.describeClientQuotas(ClientQuotaFilter.all()).entities()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS));
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("side-user",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "side-secret")))
                    .all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            seen.add("scram " + admin.describeUserScramCredentials(List.of("side-user")).all()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).get("side-user").credentialInfos());
            admin.deleteTopics(List.of(TOPIC)).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            seen.add("deleted");
            long deadline = System.currentTimeMillis() + WAIT_MS;
            java.util.Set<String> topics;
            while ((topics = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true))
                    .names().get(WAIT_MS, TimeUnit.MILLISECONDS)).contains(TOPIC)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            seen.add("topics " + new java.util.TreeSet<>(topics));
        }
        return seen;
    }

    private static void awaitDeletionDone(String connectString) throws Exception {
        org.apache.zookeeper.ZooKeeper zk = ZnodeTree.connect(connectString);
        try {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while ((zk.exists("/brokers/topics/" + TOPIC, false) != null
                    || zk.exists("/admin/delete_topics/" + TOPIC, false) != null)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
        } finally {
            zk.close();
        }
    }

    private static String awaitLeaders(Admin admin) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).get(TOPIC);
            List<String> partitions = d.partitions().stream().map(p -> p.partition() + ":leader "
                    + (p.leader() == null ? "none" : p.leader().id()) + " isr "
                    + p.isr().stream().map(n -> n.id()).toList()).toList();
            if (d.partitions().stream().allMatch(p -> p.leader() != null) || System.currentTimeMillis() > deadline) {
                return partitions.toString();
            }
            Thread.sleep(100);
        }
    }

    private static List<String> consumeAndCommit(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "side-group");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (values.size() < 6 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
            consumer.commitSync(Duration.ofMillis(WAIT_MS));
        }
        values.sort(null);
        return values;
    }

    private static boolean sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return true;
    }

    private static String entry(Config config, String name) {
        ConfigEntry e = config.get(name);
        return name + "=" + (e == null ? "(none)" : e.value() + " " + e.source());
    }
}
