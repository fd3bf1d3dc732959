package io.tandem.compat.kafka.differential;

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
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.KeeperException;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A mixed cluster under failure: an Apache Kafka 3.9.1 broker (id 3, started first, so the controller) and two Tandem
 * brokers (1, 2, each its own JVM) on a Tandem ZooKeeper; three partitions replicated on all three brokers, one led by
 * each; {@code min.insync.replicas=2}; an idempotent producer with {@code acks=all} sending throughout. The Apache
 * broker is SIGKILLed: a Tandem broker takes {@code /controller}, makes an in-sync Tandem replica the leader of the
 * Apache broker's partition, producing carries on, and the Apache broker, restarted, catches up and is back in every
 * ISR. Then the Tandem broker that is now the controller (and a leader) is SIGKILLed: the same again. Every
 * acknowledged record is read back from offset 0, once, in the order it was sent. The second test turns it round: one
 * Tandem broker, the controller, and two Apache brokers, so that an Apache broker must take over from a killed Tandem
 * controller (with a second Tandem broker, that one always won the election, being quicker to notice).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MixedClusterFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "failover";
    private static final int PARTITIONS = 3;
    private static final long WAIT_MS = 60_000;
    private static final int APACHE = 3;
    /** A short ZooKeeper session for every broker, so a killed one's registration ends within seconds. */
    private static final String SESSION_MS = "6000";
    /**
     * The Apache brokers retry a controlled shutdown they cannot complete (the last broker still leading partitions
     * with three replicas) 100 ms apart, as Kafka's own test brokers and TandemBrokerProcess do, instead of Kafka's 5 s,
     * so the end of a test does not wait 10 s for the three tries to run out.
     */
    private static final String RETRY_BACKOFF = "controlled.shutdown.retry.backoff.ms";
    private static final String FAST_RETRY = "100";

    @TempDir
    Path dir;

    @Test
    void shouldLoseNoAcknowledgedRecordWhenTheApacheOrTheTandemControllerIsKilled() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", Integer.toString(APACHE), "zookeeper.session.timeout.ms", SESSION_MS,
                             RETRY_BACKOFF, FAST_RETRY));
             ZooKeeper zk = ZnodeTree.connect(zookeeper.zookeeperConnect())) {
            Differential.awaitReady(apache).close();
            assertEquals(APACHE, controller(zk).brokerId(), "the first broker up is the controller");
            List<String> tandemSettings = List.of("zookeeper.session.timeout.ms=" + SESSION_MS);
            try (TandemBrokerProcess one = new TandemBrokerProcess(1, dir.resolve("tandem-1"),
                    zookeeper.zookeeperConnect(), tandemSettings);
                 TandemBrokerProcess two = new TandemBrokerProcess(2, dir.resolve("tandem-2"),
                         zookeeper.zookeeperConnect(), tandemSettings)) {
                Cluster cluster = new Cluster(List.of(apache), List.of(one, two));
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap));
                     Producing producing = new Producing(cluster.bootstrap)) {
                    cluster.awaitTrue(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() == 3,
                            "three brokers registered");
                    admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(APACHE, 1, 2), 1,
                                    List.of(1, 2, APACHE), 2, List.of(2, APACHE, 1)))
                            .configs(Map.of("min.insync.replicas", "2")))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                    cluster.awaitPartitions(admin, p -> leader(p) == p.replicas().get(0).id() && p.isr().size() == 3,
                            "each partition led by its first replica, all in sync");
                    producing.start();
                    producing.awaitAcknowledged(90, cluster);

                    // The Apache broker, controller and leader of partition 0, is killed.
                    killAndRestart(zk, admin, cluster, producing, APACHE, () -> {
                        apache.kill();
                        return apache::restart;
                    });
                    // Now a Tandem broker is the controller, and leads at least the partition it is first replica of.
                    int tandemController = controller(zk).brokerId();
                    assertTrue(tandemController == 1 || tandemController == 2, "a Tandem controller: "
                            + tandemController);
                    TandemBrokerProcess victim = tandemController == 1 ? one : two;
                    killAndRestart(zk, admin, cluster, producing, tandemController, () -> {
                        victim.kill();
                        return victim::restart;
                    });
                    producing.stop();
                    System.out.printf("mixed cluster failover: controller %d killed, then %d; %d records sent, %d"
                            + " acknowledged%n", APACHE, tandemController, producing.sent(), producing.acknowledged());
                    assertEveryAcknowledgedRecordReadOnceInOrder(cluster, producing);
                }
            }
        }
    }

    /**
     * The other way round: a Tandem broker (1, started first, so the controller) and two Apache Kafka 3.9.1 brokers
     * (2, 3); the Tandem controller is SIGKILLed, and with no other Tandem broker an Apache broker must take over
     * from what the Tandem controller left in ZooKeeper ({@code /controller_epoch}, the partition states,
     * {@code /feature}), move the Tandem broker's leadership to an in-sync Apache replica, and take the restarted
     * Tandem broker back into every ISR, with no acknowledged record lost.
     */
    @Test
    void shouldLoseNoAcknowledgedRecordWhenAnApacheBrokerTakesOverFromAKilledTandemController() throws Exception {
        int tandemId = 1;
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeper zk = ZnodeTree.connect(zookeeper.zookeeperConnect());
             TandemBrokerProcess tandem = new TandemBrokerProcess(tandemId, dir.resolve("tandem-1"),
                     zookeeper.zookeeperConnect(), List.of("zookeeper.session.timeout.ms=" + SESSION_MS))) {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (zk.exists("/controller", false) == null) {
                assertTrue(System.currentTimeMillis() < deadline && tandem.alive(), "the Tandem broker never became"
                        + " controller:\n" + tandem.logTail());
                Thread.sleep(100);
            }
            assertEquals(tandemId, controller(zk).brokerId(), "the first broker up is the controller");
            Map<String, String> apacheSettings = Map.of("zookeeper.session.timeout.ms", SESSION_MS,
                    RETRY_BACKOFF, FAST_RETRY);
            try (ApacheBroker two = ApacheBroker.zookeeperMode(dir.resolve("apache-2"), zookeeper.zookeeperConnect(),
                    withId(apacheSettings, 2));
                 ApacheBroker three = ApacheBroker.zookeeperMode(dir.resolve("apache-3"),
                         zookeeper.zookeeperConnect(), withId(apacheSettings, 3))) {
                Differential.awaitReady(two).close();
                Differential.awaitReady(three).close();
                Cluster cluster = new Cluster(List.of(two, three), List.of(tandem));
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap));
                     Producing producing = new Producing(cluster.bootstrap)) {
                    cluster.awaitTrue(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() == 3,
                            "three brokers registered");
                    admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(tandemId, 2, 3), 1,
                                    List.of(2, 3, tandemId), 2, List.of(3, tandemId, 2)))
                            .configs(Map.of("min.insync.replicas", "2")))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                    cluster.awaitPartitions(admin, p -> leader(p) == p.replicas().get(0).id() && p.isr().size() == 3,
                            "each partition led by its first replica, all in sync");
                    producing.start();
                    producing.awaitAcknowledged(90, cluster);
                    killAndRestart(zk, admin, cluster, producing, tandemId, () -> {
                        tandem.kill();
                        return tandem::restart;
                    });
                    int apacheController = controller(zk).brokerId();
                    assertTrue(apacheController == 2 || apacheController == 3, "an Apache controller: "
                            + apacheController);
                    producing.stop();
                    System.out.printf("mixed cluster failover: Tandem controller %d killed, Apache broker %d took"
                            + " over; %d records sent, %d acknowledged%n", tandemId, apacheController,
                            producing.sent(), producing.acknowledged());
                    assertEveryAcknowledgedRecordReadOnceInOrder(cluster, producing);
                }
            }
        }
    }

    private static Map<String, String> withId(Map<String, String> settings, int brokerId) {
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put("broker.id", Integer.toString(brokerId));
        return all;
    }

    /** Every acknowledged record read back from offset 0, once, in the order it was sent within its partition. */
    private static void assertEveryAcknowledgedRecordReadOnceInOrder(Cluster cluster, Producing producing) {
        List<String> acknowledged = producing.acknowledgedValues();
        Map<Integer, List<String>> read = consumeFromZero(cluster.bootstrap, producing.sent());
        List<String> all = read.values().stream().flatMap(List::stream).toList();
        assertTrue(new HashSet<>(all).containsAll(acknowledged), "every acknowledged record is there: "
                + missing(acknowledged, all));
        assertEquals(new HashSet<>(all).size(), all.size(), "no record twice (idempotent producer)");
        Set<String> acked = new HashSet<>(acknowledged);
        for (int partition = 0; partition < PARTITIONS; partition++) {
            int p = partition;
            assertEquals(acknowledged.stream().filter(v -> Producing.partitionOf(v) == p).toList(),
                    read.get(p).stream().filter(acked::contains).toList(),
                    "partition " + p + ": acknowledged records in the order they were sent");
        }
    }

    /** How a broker is killed; returns how it is started again. */
    private interface Kill {
        Restart kill() throws Exception;
    }

    private interface Restart {
        void restart() throws Exception;
    }

    /**
     * Kills broker {@code victim}, the controller: a new {@code /controller} is created by another broker, every
     * partition gets a live leader that was in sync, the victim leaves every ISR, acks=all producing carries on with
     * the two left; restarted, the victim catches up and is back in every ISR.
     */
    private static void killAndRestart(ZooKeeper zk, Admin admin, Cluster cluster, Producing producing, int victim,
                                       Kill kill) throws Exception {
        Controller before = controller(zk);
        assertEquals(victim, before.brokerId(), "the broker to kill is the controller");
        Map<Integer, List<Integer>> isrBefore = new java.util.HashMap<>();
        for (TopicPartitionInfo p : cluster.partitions(admin)) isrBefore.put(p.partition(), ids(p.isr()));
        Restart restart = kill.kill();
        Controller after = awaitController(zk, before);
        assertNotEquals(victim, after.brokerId(), "another broker took over");
        List<TopicPartitionInfo> moved = cluster.awaitPartitions(admin, p -> leader(p) > 0 && leader(p) != victim
                && !ids(p.isr()).contains(victim), "leaders and ISRs without broker " + victim);
        for (TopicPartitionInfo p : moved) {
            assertTrue(isrBefore.get(p.partition()).contains(leader(p)), "partition " + p.partition()
                    + "'s leader was in sync before the kill: " + p + ", ISR before " + isrBefore.get(p.partition()));
        }
        producing.awaitAcknowledged(producing.acknowledged() + 90, cluster);
        // Restarted on its port and data, it truncates to the new leaders' epochs and catches up. Not before its old
        // session has ended: Kafka 3.9 exits at start-up while /brokers/ids/N still belongs to another session
        // (KafkaZkClient.registerBroker). The Tandem brokers moved the controller and the leadership before that,
        // as soon as the killed broker's port refused connections.
        cluster.awaitTrue(() -> zk.exists("/brokers/ids/" + victim, false) == null,
                "broker " + victim + "'s registration ends with its session");
        restart.restart();
        cluster.awaitPartitions(admin, p -> p.isr().size() == 3, "broker " + victim + " back in every ISR");
        producing.awaitAcknowledged(producing.acknowledged() + 90, cluster);
    }

    /** The three brokers, for bootstrapping and for what a failure shows. */
    private static final class Cluster {
        final List<ApacheBroker> apaches;
        final List<TandemBrokerProcess> tandems;
        final String bootstrap;

        Cluster(List<ApacheBroker> apaches, List<TandemBrokerProcess> tandems) {
            this.apaches = apaches;
            this.tandems = tandems;
            List<String> servers = new ArrayList<>();
            for (ApacheBroker a : apaches) servers.add("127.0.0.1:" + a.port());
            for (TandemBrokerProcess t : tandems) servers.add(t.bootstrapServers());
            this.bootstrap = String.join(",", servers);
        }

        String logs() {
            StringBuilder b = new StringBuilder();
            for (ApacheBroker a : apaches) {
                b.append("\nApache broker on port ").append(a.port()).append(a.alive() ? "" : " (not running)")
                        .append(":\n").append(a.logTail());
            }
            for (TandemBrokerProcess t : tandems) {
                b.append("\nTandem broker ").append(t.brokerId()).append(t.alive() ? "" : " (not running)")
                        .append(":\n").append(t.logTail());
            }
            return b.toString();
        }

        List<TopicPartitionInfo> partitions(Admin admin) throws Exception {
            TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(10, TimeUnit.SECONDS)
                    .get(TOPIC);
            return d.partitions();
        }

        /** Waits until every partition satisfies {@code ready}; returns them. */
        List<TopicPartitionInfo> awaitPartitions(Admin admin, Predicate<TopicPartitionInfo> ready, String what)
                throws Exception {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            List<TopicPartitionInfo> last = null;
            while (System.currentTimeMillis() < deadline) {
                try {
                    last = partitions(admin);
                    if (last.stream().allMatch(ready)) return last;
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException changing) {
                    // the cluster is changing hands; ask again
                }
                Thread.sleep(100);
            }
            throw new AssertionError(what + ": never; last " + last + logs());
        }

        void awaitTrue(Check check, String what) throws Exception {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (!check.test()) {
                assertTrue(System.currentTimeMillis() < deadline, what + ": never" + logs());
                Thread.sleep(100);
            }
        }
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

    private interface Check {
        boolean test() throws Exception;
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

    /** Every record of every partition from offset 0 to the end offset, by partition. */
    private static Map<Integer, List<String>> consumeFromZero(String bootstrap, int atMost) {
        Map<Integer, List<String>> values = PartitionReader.readAll(bootstrap, TOPIC, PARTITIONS, WAIT_MS);
        int total = values.values().stream().mapToInt(List::size).sum();
        assertTrue(total <= atMost, "more records than were sent: " + total + " > " + atMost);
        return values;
    }

    /**
     * An idempotent {@code acks=all} producer sending r0, r1, ... round the partitions, one at a time in its own thread (each send waits for
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
                    producer.send(new ProducerRecord<>(TOPIC, partitionOf(value), null, value)).get();
                    acknowledged.add(value);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception notAcknowledged) {
                    failures.add(notAcknowledged);
                }
            }
        }

        /** r0 to partition 0, r1 to 1, r2 to 2, r3 to 0, ... */
        static int partitionOf(String value) {
            return Integer.parseInt(value.substring(1)) % PARTITIONS;
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

        void awaitAcknowledged(int count, Cluster cluster) throws Exception {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (acknowledged.size() < count) {
                assertTrue(System.currentTimeMillis() < deadline, "only " + acknowledged.size() + " of " + count
                        + " acknowledged; failures " + failures + cluster.logs());
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
