package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Tandem broker stops cleanly in a cluster whose controller is an Apache Kafka 3.9.1 broker (ZooKeeper mode, its
 * own JVM, started first) on a Tandem ZooKeeper, beside a second Tandem broker. The stopping broker sends
 * ControlledShutdown to Apache's controller, which moves the leaderships it holds to other in-sync replicas and takes
 * it out of the ISR of the partition it follows, all before its registration goes: the test's ZooKeeper client, with
 * one persistent recursive watch on {@code /brokers}, gets its events in zxid order, so each partition state's change
 * must come before {@code /brokers/ids/1}'s deletion (a broker that just closed its session would have its partitions
 * moved only after it). No partition goes offline on the way, acks=all with {@code min.insync.replicas=2} carries on
 * on the two left, and the broker, started again, is back in every ISR with every record.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MixedClusterControlledShutdownTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "drained";
    private static final int APACHE = 3;
    private static final int STOPPING = 1;
    private static final long WAIT_MS = 60_000;

    @TempDir
    Path dir;

    @Test
    void shouldMoveLeadershipAwayBeforeATandemBrokerLeavesUnderAnApacheController() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", Integer.toString(APACHE), "offsets.topic.replication.factor", "3"));
             ZooKeeper zk = ZnodeTree.connect(zookeeper.zookeeperConnect())) {
            Differential.awaitReady(apache).close();
            assertEquals(APACHE, controllerId(zk), "the first broker up is the controller");
            Tandem stopping = startTandem(zookeeper, STOPPING);
            try (Tandem other = startTandem(zookeeper, 2)) {
                String bootstrap = "127.0.0.1:" + apache.port() + "," + other.bootstrapServers();
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap + "," + stopping.bootstrapServers()));
                     KafkaProducer<String, String> producer = producer(bootstrap)) {
                    awaitTrue(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() == 3,
                            "three brokers registered", apache);
                    // Broker 1 leads partitions 0 and 1 (one with a Tandem, one with the Apache next in line) and
                    // follows partition 2.
                    admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2, APACHE),
                                    1, List.of(1, APACHE, 2), 2, List.of(2, APACHE, 1)))
                            .configs(Map.of("min.insync.replicas", "2")))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                    produce(producer, 0, 30);
                    awaitPartitions(admin, p -> leader(p) == p.replicas().get(0).id() && p.isr().size() == 3,
                            "each partition led by its first replica, all in sync", apache);

                    List<String> events = new CopyOnWriteArrayList<>();
                    Watcher recorder = (WatchedEvent e) -> {
                        if (e.getType() != Watcher.Event.EventType.None) events.add(e.getType() + " " + e.getPath());
                    };
                    zk.addWatch("/brokers", recorder, AddWatchMode.PERSISTENT_RECURSIVE);
                    stopping.close();
                    String deregistered = "NodeDeleted /brokers/ids/" + STOPPING;
                    awaitTrue(() -> events.contains(deregistered), "broker 1's registration goes", apache);
                    List<String> before = events.subList(0, events.indexOf(deregistered));
                    for (int partition = 0; partition < 3; partition++) {
                        String changed = "NodeDataChanged /brokers/topics/" + TOPIC + "/partitions/" + partition
                                + "/state";
                        assertTrue(before.contains(changed), "partition " + partition + "'s state moved before broker"
                                + " 1 deregistered: " + events + "\nApache's log:\n" + apache.logTail());
                    }

                    // Apache's ControlledShutdownLeaderElection: the next live in-sync replica in assignment order,
                    // the ISR without the stopping broker; the partition it followed keeps its leader.
                    Map<Integer, Integer> expectedLeaders = Map.of(0, 2, 1, APACHE, 2, 2);
                    for (int partition = 0; partition < 3; partition++) {
                        JsonNode state = JSON.readTree(zk.getData("/brokers/topics/" + TOPIC + "/partitions/"
                                + partition + "/state", false, null));
                        assertEquals(expectedLeaders.get(partition), state.get("leader").asInt(), state.toString());
                        List<Integer> isr = new ArrayList<>();
                        state.get("isr").forEach(id -> isr.add(id.asInt()));
                        assertEquals(2, isr.size(), "partition " + partition + ": " + state);
                        assertTrue(!isr.contains(STOPPING), "partition " + partition + ": " + state);
                    }
                    assertTrue(events.stream().noneMatch(e -> e.startsWith("NodeDeleted /brokers/topics")),
                            "no partition state vanished: " + events);
                    // The two left are in sync: acks=all with min.insync.replicas=2 goes on through them.
                    produce(producer, 30, 60);

                    stopping = startTandem(zookeeper, STOPPING);
                    awaitPartitions(admin, p -> p.isr().size() == 3, "broker 1 back in every ISR", apache);
                }
                Map<Integer, List<String>> read = PartitionReader.readAll(stopping.bootstrapServers() + "," + bootstrap,
                        TOPIC, 3, WAIT_MS);
                for (int partition = 0; partition < 3; partition++) {
                    int p = partition;
                    List<String> expected = new ArrayList<>();
                    for (int i = 0; i < 60; i++) if (i % 3 == p) expected.add("v" + i);
                    assertEquals(expected, read.get(p), "partition " + p + " holds every acknowledged record once");
                }
            } finally {
                stopping.close();
            }
        }
    }

    private Tandem startTandem(Tandem zookeeper, int id) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("tandem-" + id))
                .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", Integer.toString(id))
                .set("zookeeper.connect", zookeeper.zookeeperConnect()));
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** v{from}..v{to - 1}, record i to partition i % 3, each acknowledged before the next. */
    private static void produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            producer.send(new ProducerRecord<>(TOPIC, i % 3, null, "v" + i)).get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
    }

    private static int controllerId(ZooKeeper zk) throws Exception {
        return JSON.readTree(zk.getData("/controller", false, null)).get("brokerid").asInt();
    }

    private static int leader(TopicPartitionInfo p) {
        return p.leader() == null ? -1 : p.leader().id();
    }

    private interface Check {
        boolean test() throws Exception;
    }

    private static void awaitTrue(Check check, String what, ApacheBroker apache) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!check.test()) {
            assertTrue(System.currentTimeMillis() < deadline, what + ": never\nApache's log:\n" + apache.logTail());
            Thread.sleep(100);
        }
    }

    private static void awaitPartitions(Admin admin, java.util.function.Predicate<TopicPartitionInfo> ready,
                                        String what, ApacheBroker apache) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        List<TopicPartitionInfo> last = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(10, TimeUnit.SECONDS)
                        .get(TOPIC);
                last = d.partitions();
                if (last.stream().allMatch(ready)) return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException changing) {
                // the cluster is changing hands; ask again
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + ": never; last " + last + "\nApache's log:\n" + apache.logTail());
    }
}
