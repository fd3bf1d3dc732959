package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.ensemble.TestEnsemble;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Tandem processes, each a ZooKeeper ensemble member and a Kafka broker (broker.id = myid, metadata in the
 * ensemble they form), under an idempotent acks=all producer writing a numbered sequence to a three-partition topic
 * with three replicas and min.insync.replicas=2. The leader of partition 0 is killed with SIGKILL and restarted,
 * then the Kafka controller's node, then one follower of partition 0 is cut off from every leader (a proxy in front
 * of each broker drops its replica fetches) until it leaves the ISR, and healed. Each time the cluster must come back
 * with every replica in sync. Afterwards every acknowledged record is read back at its acknowledged offset, exactly
 * once and in order per partition. Each kill prints the time to the next acknowledged record of the partitions the
 * killed node led.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class KafkaClusterProcessTest {
    private static final int NODES = 3;
    private static final int TICK_MS = 200;
    /** The brokers' ZooKeeper sessions: a killed broker is noticed (and its partitions move) after this. */
    private static final int BROKER_SESSION_TIMEOUT_MS = 6_000;
    /** A follower cut off for longer leaves the ISR. */
    private static final int REPLICA_LAG_TIME_MAX_MS = 5_000;
    private static final String TOPIC = "sequence";
    private static final int PARTITIONS = 3;
    /** Records the producer has sent and not heard back about: bounds what piles up while a partition has no leader. */
    private static final int IN_FLIGHT_MAX = 2_000;
    private static final int RECORDS_PER_SECOND = 2_000;
    /** Generous for a loaded 2-core machine: several JVMs start, elect and recover at once. */
    private static final long AWAIT_MS = 90_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A kill of the node leading {@code partitions} (any partition when empty), and its first acknowledged record. */
    private record Failover(long killedAtNanos, Set<Integer> partitions, AtomicLong firstAckNanos) {}

    @TempDir
    Path dir;
    private final int[] zkPorts = new int[NODES + 1];
    private final int[] quorumPorts = new int[NODES + 1];
    private final int[] electionPorts = new int[NODES + 1];
    private final int[] kafkaPorts = new int[NODES + 1];
    private final ReplicaLinkProxy[] proxies = new ReplicaLinkProxy[NODES + 1];
    private final Process[] processes = new Process[NODES + 1];
    /** Per partition: acknowledged offset -> the sequence number written there. */
    private final List<Map<Long, Long>> acked = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> failedSends = new ConcurrentLinkedQueue<>();
    private final AtomicLong ackCount = new AtomicLong();
    private volatile Failover failover;
    private volatile boolean producing = true;
    private Thread producerThread;
    private ZooKeeper zk;

    @AfterEach
    void stopEverything() throws Exception {
        producing = false;
        if (producerThread != null) producerThread.join(30_000);
        if (zk != null) zk.close();
        for (int id = 1; id <= NODES; id++) {
            if (processes[id] != null) processes[id].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            if (proxies[id] != null) proxies[id].close();
        }
    }

    @Test
    void acknowledgedRecordsSurviveLeaderAndControllerKillsAndAFollowerCutOff() throws Throwable {
        for (int p = 0; p < PARTITIONS; p++) acked.add(new ConcurrentHashMap<>());
        for (int id = 1; id <= NODES; id++) {
            zkPorts[id] = TestEnsemble.freePort();
            quorumPorts[id] = TestEnsemble.freePort();
            electionPorts[id] = TestEnsemble.freePort();
            kafkaPorts[id] = TestEnsemble.freePort();
            proxies[id] = new ReplicaLinkProxy(kafkaPorts[id]);
        }
        long began = System.nanoTime();
        try {
            for (int id = 1; id <= NODES; id++) start(id);
            zk = zkClient();
            await("three brokers registered and a controller elected", () ->
                    brokersRegistered().size() == NODES && controllerId() > 0 ? true : null);
            phase(began, "three nodes serving ZooKeeper and Kafka");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) NODES)))
                        .all().get(AWAIT_MS, TimeUnit.MILLISECONDS);
            }
            awaitAllInSync("the new topic");
            startProducing();
            long loaded = ackCount.get() + 1_000;
            await("the first acknowledged records", () -> ackCount.get() >= loaded ? true : null);
            phase(began, "producing");

            int leader = partitionState(0).path("leader").asInt();
            killAndRestart(leader, "leader of partition 0");
            phase(began, "leader of partition 0 back in sync");

            int controller = controllerId();
            killAndRestart(controller, "Kafka controller");
            phase(began, "controller's node back in sync");

            cutOffFollower();
            phase(began, "cut-off follower back in sync");

            producing = false;
            producerThread.join(AWAIT_MS);
            assertTrue(failedSends.isEmpty(), "sends failed: " + failedSends);
            verifyEveryAcknowledgedRecordOnce();
            phase(began, "verified");
        } catch (Throwable t) {
            printLogTails();
            throw t;
        }
    }

    // ---------------------------------------------------------------- faults

    /** SIGKILLs {@code id}, prints the time to the next acknowledged record of what it led, restarts it. */
    private void killAndRestart(int id, String what) throws Exception {
        Set<Integer> led = new TreeSet<>();
        for (int p = 0; p < PARTITIONS; p++) {
            if (partitionState(p).path("leader").asInt() == id) led.add(p);
        }
        Failover current = new Failover(System.nanoTime(), led, new AtomicLong());
        processes[id].destroyForcibly(); // SIGKILL
        failover = current;
        processes[id].waitFor(10, TimeUnit.SECONDS);
        await("an acknowledged record after the kill of the " + what + " (node " + id + ")",
                () -> current.firstAckNanos().get() != 0 ? true : null);
        System.out.println("KafkaClusterProcessTest: " + what + " (node " + id + ", leading partitions " + led
                + ") killed with SIGKILL; next acknowledged record " + (led.isEmpty() ? "" : "of those partitions ")
                + "after " + TimeUnit.NANOSECONDS.toMillis(current.firstAckNanos().get() - current.killedAtNanos())
                + " ms");
        for (int p : led) {
            int partition = p;
            await("a new leader for partition " + p, () -> {
                int now = partitionState(partition).path("leader").asInt();
                return now != id && now >= 0 ? true : null;
            });
        }
        start(id);
        awaitAllInSync("node " + id + " restarted");
    }

    /**
     * Cuts one follower of partition 0 off from every leader: the leader drops it from the ISR after
     * replica.lag.time.max.ms and acks=all records keep being acknowledged by the two left (min.insync.replicas=2);
     * once healed it catches up and is back in every ISR.
     */
    private void cutOffFollower() throws Exception {
        JsonNode state = partitionState(0);
        int leader = state.path("leader").asInt();
        int follower = -1;
        for (JsonNode r : state.path("isr")) {
            if (r.asInt() != leader) follower = r.asInt();
        }
        int cut = follower;
        long cutAt = System.nanoTime();
        for (int id = 1; id <= NODES; id++) proxies[id].cutReplica(cut);
        await("broker " + cut + " out of partition 0's ISR", () -> isr(0).contains(cut) ? null : true);
        long shrunkMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        long before = acked.get(0).size();
        await("partition 0 acknowledging without broker " + cut, () -> acked.get(0).size() >= before + 200 ? true : null);
        System.out.println("KafkaClusterProcessTest: follower " + cut + " of partition 0 cut off from the leaders; out"
                + " of the ISR after " + shrunkMs + " ms, records kept being acknowledged by leader " + leader);
        for (int id = 1; id <= NODES; id++) proxies[id].healReplica(cut);
        awaitAllInSync("follower " + cut + " healed");
    }

    // ---------------------------------------------------------------- producing and checking

    private void startProducing() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "200000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
        props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "500");
        KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer());
        producerThread = new Thread(() -> {
            try (producer) {
                produce(producer);
            }
        }, "sequence-producer");
        producerThread.start();
    }

    /** Sends 0, 1, 2, ... to partition n % 3 at a steady rate, never more than IN_FLIGHT_MAX unanswered. */
    private void produce(KafkaProducer<String, String> producer) {
        Semaphore inFlight = new Semaphore(IN_FLIGHT_MAX);
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / RECORDS_PER_SECOND;
        long next = System.nanoTime();
        try {
            for (long n = 0; producing; ) {
                if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
                long value = n++;
                int partition = (int) (value % PARTITIONS);
                long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(TOPIC, partition, null, Long.toString(value)), (metadata, e) -> {
                    inFlight.release();
                    if (e != null) {
                        failedSends.add(value + ": " + e);
                        return;
                    }
                    acked.get(partition).put(metadata.offset(), value);
                    ackCount.incrementAndGet();
                    Failover current = failover;
                    if (current != null && sentAt - current.killedAtNanos() >= 0
                            && (current.partitions().isEmpty() || current.partitions().contains(partition))) {
                        current.firstAckNanos().compareAndSet(0, System.nanoTime());
                    }
                });
                next += intervalNanos;
                long now = System.nanoTime();
                // After a stall, carry on at the steady rate rather than send the backlog in one burst.
                if (now - next > TimeUnit.MILLISECONDS.toNanos(100)) next = now;
                if (next - now > 0) LockSupport.parkNanos(next - now);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void verifyEveryAcknowledgedRecordOnce() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) partitions.add(new TopicPartition(TOPIC, p));
        Map<Integer, Map<Long, Long>> consumed = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
            long[] lastValue = new long[PARTITIONS];
            java.util.Arrays.fill(lastValue, -1);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertTrue(System.nanoTime() - deadline < 0, "could not read up to " + end);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    long value = Long.parseLong(r.value());
                    assertEquals(r.partition(), value % PARTITIONS, "record " + value + " in partition " + r.partition());
                    assertTrue(value > lastValue[r.partition()], "partition " + r.partition() + ": " + value
                            + " at offset " + r.offset() + " after " + lastValue[r.partition()]
                            + " (duplicated or out of order)");
                    lastValue[r.partition()] = value;
                    consumed.computeIfAbsent(r.partition(), p -> new HashMap<>()).put(r.offset(), value);
                }
            }
        }
        long total = 0;
        for (int p = 0; p < PARTITIONS; p++) {
            Map<Long, Long> read = consumed.getOrDefault(p, Map.of());
            for (Map.Entry<Long, Long> e : acked.get(p).entrySet()) {
                assertEquals(e.getValue(), read.get(e.getKey()), "partition " + p + " offset " + e.getKey()
                        + " was acknowledged for record " + e.getValue());
            }
            total += acked.get(p).size();
            System.out.println("KafkaClusterProcessTest: partition " + p + ": " + acked.get(p).size()
                    + " acknowledged, " + read.size() + " read, each once and in order");
        }
        System.out.println("KafkaClusterProcessTest: " + total + " acknowledged records read back at their offsets");
    }

    // ---------------------------------------------------------------- nodes

    private void start(int id) throws IOException {
        // C1 only, as EnsembleProcessTest: three JVMs starting at once on a 2-core box wait mostly for the JIT.
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--data-dir", dir.resolve("node" + id).toString(),
                "--zk-port", Integer.toString(zkPorts[id]), "--kafka-port", Integer.toString(kafkaPorts[id])));
        Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("myid", Integer.toString(id));
        settings.put("tickTime", Integer.toString(TICK_MS));
        settings.put("initLimit", "10");
        settings.put("syncLimit", "5");
        settings.put("maxSessionTimeout", "30000");
        for (int peer = 1; peer <= NODES; peer++) {
            settings.put("server." + peer, "127.0.0.1:" + quorumPorts[peer] + ":" + electionPorts[peer]);
        }
        settings.put("broker.id", Integer.toString(id));
        settings.put("zookeeper.connect", zookeeperConnect());
        settings.put("zookeeper.session.timeout.ms", Integer.toString(BROKER_SESSION_TIMEOUT_MS));
        settings.put("listeners", "PLAINTEXT://127.0.0.1:" + kafkaPorts[id]);
        // Everyone (clients, the controller, followers) reaches the broker through its proxy.
        settings.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxies[id].port());
        settings.put("offsets.topic.replication.factor", "3");
        settings.put("default.replication.factor", "3");
        settings.put("min.insync.replicas", "2");
        settings.put("replica.lag.time.max.ms", Integer.toString(REPLICA_LAG_TIME_MAX_MS));
        settings.forEach((key, value) -> {
            command.add("--set");
            command.add(key + "=" + value);
        });
        File log = dir.resolve("node" + id + ".log").toFile();
        processes[id] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private String zookeeperConnect() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= NODES; id++) hosts.add("127.0.0.1:" + zkPorts[id]);
        return String.join(",", hosts);
    }

    private String bootstrapServers() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= NODES; id++) hosts.add("127.0.0.1:" + proxies[id].port());
        return String.join(",", hosts);
    }

    // ---------------------------------------------------------------- cluster state, read from ZooKeeper

    private ZooKeeper zkClient() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper client = new ZooKeeper(zookeeperConnect(), 30_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(AWAIT_MS, TimeUnit.MILLISECONDS)) {
            client.close();
            throw new AssertionError("no ZooKeeper session on " + zookeeperConnect());
        }
        return client;
    }

    private List<String> brokersRegistered() throws Exception {
        try {
            return zk.getChildren("/brokers/ids", false);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    private int controllerId() throws Exception {
        try {
            return JSON.readTree(zk.getData("/controller", false, null)).path("brokerid").asInt(-1);
        } catch (KeeperException.NoNodeException e) {
            return -1;
        }
    }

    private JsonNode partitionState(int partition) throws Exception {
        return JSON.readTree(zk.getData("/brokers/topics/" + TOPIC + "/partitions/" + partition + "/state", false,
                null));
    }

    private Set<Integer> isr(int partition) throws Exception {
        Set<Integer> isr = new TreeSet<>();
        for (JsonNode r : partitionState(partition).path("isr")) isr.add(r.asInt());
        return isr;
    }

    private void awaitAllInSync(String after) throws Exception {
        await("every replica of every partition in sync (" + after + ")", () -> {
            for (int p = 0; p < PARTITIONS; p++) {
                if (isr(p).size() != NODES) return null;
            }
            return true;
        });
    }

    /** Polls {@code probe} until it returns non-null (ZooKeeper hiccups while nodes die count as "not yet"). */
    private <T> T await(String what, Callable<T> probe) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        Exception last = null;
        while (System.nanoTime() - deadline < 0) {
            try {
                T result = probe.call();
                if (result != null) return result;
            } catch (KeeperException e) {
                last = e;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + (last == null ? "" : " (last error " + last + ")"));
    }

    private void phase(long began, String what) {
        System.out.println("KafkaClusterProcessTest: " + what + " at "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began) + " ms");
    }

    private void printLogTails() {
        for (int id = 1; id <= NODES; id++) {
            try {
                List<String> lines = Files.readAllLines(dir.resolve("node" + id + ".log"), StandardCharsets.UTF_8);
                System.out.println("---- node " + id + " log tail\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())));
            } catch (IOException e) {
                System.out.println("---- node " + id + ": no log (" + e + ")");
            }
        }
    }
}
