package io.tandem.compat.kafka.differential;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
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
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A mixed cluster under failure: an Apache Kafka 3.9.1 broker (id 3, started first, so the controller) and two Tandem
 * brokers (1, 2) on a Tandem ZooKeeper, one partition replicated on all three and led by Apache's broker,
 * {@code min.insync.replicas=2}, an idempotent producer with {@code acks=all} sending throughout. The Apache broker
 * is SIGKILLed: a Tandem broker takes {@code /controller}, makes an in-sync Tandem replica the leader, producing
 * carries on, and the Apache broker, restarted, catches up and is back in the ISR. Then the Tandem broker that is now
 * controller stops: another broker takes over and the stopped one, restarted, rejoins the ISR. Every acknowledged
 * record is read back from offset 0, once each, in order.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MixedClusterFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "failover";
    private static final long WAIT_MS = 60_000;
    private static final int APACHE = 3;

    @TempDir
    Path dir;

    @Test
    void shouldLoseNoAcknowledgedRecordWhenTheApacheControllerIsKilledOrATandemControllerStops() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             // A short session, so the killed broker's registration and /controller go within seconds.
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", Integer.toString(APACHE), "zookeeper.session.timeout.ms", "6000"));
             ZooKeeper zk = connect(zookeeper.zookeeperConnect())) {
            Differential.awaitReady(apache).close();
            assertEquals(APACHE, controller(zk).brokerId(), "the first broker up is the controller");
            Tandem[] tandems = {null, startTandem(1, zookeeper), startTandem(2, zookeeper)};
            String apacheAddress = "127.0.0.1:" + apache.port();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, apacheAddress + ","
                    + tandems[1].bootstrapServers() + "," + tandems[2].bootstrapServers()));
                 Producing producing = new Producing(apacheAddress + "," + tandems[1].bootstrapServers() + ","
                         + tandems[2].bootstrapServers())) {
                awaitTrue(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() == 3,
                        "three brokers registered", apache);
                admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(APACHE, 1, 2)))
                        .configs(Map.of("min.insync.replicas", "2")))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                awaitPartition(admin, p -> leader(p) == APACHE && p.isr().size() == 3, "led by Apache, all in sync",
                        apache);
                producing.start();
                producing.awaitAcknowledged(100, apache);

                // The Apache broker, controller and leader, is killed.
                Controller before = controller(zk);
                apache.kill();
                Controller after = awaitController(zk, before);
                assertTrue(after.brokerId() == 1 || after.brokerId() == 2, "a Tandem broker took over: " + after);
                TopicPartitionInfo moved = awaitPartition(admin, p -> leader(p) == 1 || leader(p) == 2,
                        "a Tandem replica leads", apache);
                assertTrue(moved.isr().contains(moved.leader()), "the new leader is in sync: " + moved);
                awaitPartition(admin, p -> !ids(p.isr()).contains(APACHE), "the killed broker left the ISR", apache);
                producing.awaitAcknowledged(producing.acknowledged() + 100, apache);

                // Restarted on its port and log dirs, it truncates to the new leader's epoch, catches up, is in sync.
                // Not before its old session has ended: Kafka 3.9 exits at start-up while /brokers/ids/3 still belongs
                // to another session (KafkaZkClient.registerBroker). The Tandem brokers moved the controller and the
                // leadership before that, as soon as the killed broker's port refused connections.
                awaitTrue(() -> zk.exists("/brokers/ids/" + APACHE, false) == null,
                        "the killed broker's registration ends with its session", apache);
                apache.restart();
                awaitPartition(admin, p -> p.isr().size() == 3, "the restarted Apache broker back in the ISR", apache);
                producing.awaitAcknowledged(producing.acknowledged() + 100, apache);

                // Now a Tandem broker is the controller: it stops, another broker takes over, and it comes back.
                Controller tandemController = controller(zk);
                int stopped = tandemController.brokerId();
                tandems[stopped].close();
                Controller next = awaitController(zk, tandemController);
                assertNotEquals(stopped, next.brokerId());
                awaitPartition(admin, p -> leader(p) != stopped && leader(p) > 0
                        && !ids(p.isr()).contains(stopped), "leader and ISR without broker " + stopped, apache);
                producing.awaitAcknowledged(producing.acknowledged() + 100, apache);
                tandems[stopped] = startTandem(stopped, zookeeper);
                awaitPartition(admin, p -> p.isr().size() == 3, "the restarted Tandem broker back in the ISR",
                        apache);
                producing.awaitAcknowledged(producing.acknowledged() + 50, apache);
                producing.stop();

                List<String> acknowledged = producing.acknowledgedValues();
                List<String> read = consumeFromZero(apacheAddress + "," + tandems[1].bootstrapServers() + ","
                        + tandems[2].bootstrapServers(), producing.sent());
                assertTrue(new HashSet<>(read).containsAll(acknowledged), "every acknowledged record is there: "
                        + missing(acknowledged, read));
                assertEquals(new HashSet<>(read).size(), read.size(), "no record twice (idempotent producer)");
                List<String> ackedInLog = read.stream().filter(new HashSet<>(acknowledged)::contains).toList();
                assertEquals(acknowledged, ackedInLog, "acknowledged records in the order they were sent");
            } catch (Throwable debug) {
                java.nio.file.Files.copy(dir.resolve("apache/kafka.log"), Path.of("/tmp/mixed9-apache-kafka.log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING); // DEBUG
                throw debug;
            } finally {
                for (Tandem t : tandems) if (t != null) t.close();
            }
        }
    }

    private Tandem startTandem(int id, Tandem zookeeper) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("tandem-" + id)).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", Integer.toString(id)).set("zookeeper.connect", zookeeper.zookeeperConnect()));
    }

    /** Who holds {@code /controller}, and which creation of the znode that is. */
    private record Controller(int brokerId, long czxid) {
    }

    private static Controller controller(ZooKeeper zk) throws Exception {
        Stat stat = new Stat();
        byte[] data = zk.getData("/controller", false, stat);
        return new Controller(JSON.readTree(data).get("brokerid").asInt(), stat.getCzxid());
    }

    /** Waits for a new {@code /controller} znode (another creation than {@code old}'s). */
    private static Controller awaitController(ZooKeeper zk, Controller old) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            try {
                Controller now = controller(zk);
                if (now.czxid() != old.czxid()) return now;
            } catch (KeeperException.NoNodeException between) {
                // the old one has gone, no new one yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no new controller after " + old);
    }

    private static TopicPartitionInfo awaitPartition(Admin admin, Predicate<TopicPartitionInfo> ready, String what,
                                                     ApacheBroker apache) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        TopicPartitionInfo last = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames()
                        .get(10, TimeUnit.SECONDS).get(TOPIC);
                last = d.partitions().get(0);
                if (ready.test(last)) return last;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException changing) {
                // the cluster is changing hands; ask again
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + ": never; last " + last + "\nApache's broker "
                + (apache.alive() ? "running" : "not running") + ", its log:\n" + apache.logTail());
    }

    private interface Check {
        boolean test() throws Exception;
    }

    private static void awaitTrue(Check check, String what, ApacheBroker apache) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!check.test()) {
            assertTrue(System.currentTimeMillis() < deadline, what + ": never\n" + apache.logTail());
            Thread.sleep(100);
        }
    }

    private static int leader(TopicPartitionInfo p) {
        return p.leader() == null ? -1 : p.leader().id();
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private static List<String> missing(List<String> acknowledged, List<String> read) {
        Set<String> have = new HashSet<>(read);
        return acknowledged.stream().filter(v -> !have.contains(v)).toList();
    }

    private static List<String> consumeFromZero(String bootstrap, int atMost) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, 0);
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (consumer.position(tp) < end && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
            assertTrue(values.size() <= atMost, "more records than were sent: " + values.size());
        }
        return values;
    }

    private static ZooKeeper connect(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS), "connected to the ZooKeeper");
        return zk;
    }

    /**
     * An idempotent {@code acks=all} producer sending r0, r1, ... one at a time in its own thread (each send waits for
     * its answer), keeping what was acknowledged. A send that fails (its delivery timeout passed) is counted as sent,
     * not acknowledged, and sending goes on.
     */
    private static final class Producing implements AutoCloseable {
        private final KafkaProducer<String, String> producer;
        private final List<String> acknowledged = new CopyOnWriteArrayList<>();
        private final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;
        private volatile int sent;

        Producing(String bootstrap) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
            thread = new Thread(this::run, "mixed-failover-producer");
        }

        void start() {
            thread.start();
        }

        private void run() {
            for (int i = 0; running.get(); i++) {
                String value = "r" + i;
                sent = i + 1;
                try {
                    producer.send(new ProducerRecord<>(TOPIC, 0, null, value)).get();
                    acknowledged.add(value);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception notAcknowledged) {
                    failures.add(notAcknowledged);
                }
            }
        }

        int acknowledged() {
            return acknowledged.size();
        }

        List<String> acknowledgedValues() {
            return List.copyOf(acknowledged);
        }

        int sent() {
            return sent;
        }

        void awaitAcknowledged(int count, ApacheBroker apache) throws Exception {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (acknowledged.size() < count) {
                assertTrue(System.currentTimeMillis() < deadline, "only " + acknowledged.size() + " of " + count
                        + " acknowledged; failures " + failures + "\nApache's log:\n" + apache.logTail());
                Thread.sleep(50);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(WAIT_MS);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
            producer.close(Duration.ofSeconds(5));
        }
    }
}
