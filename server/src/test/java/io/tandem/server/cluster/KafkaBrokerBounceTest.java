package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.ensemble.TestEnsemble;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker killed with SIGKILL and restarted before ZooKeeper expires its old session ("bounced"): its stale
 * registration still stands, and Tandem's broker replaces it at start-up (delete, then create). The restarted broker
 * has lost every role it held in memory, so the controller must treat the replacement as a restart and send it its
 * roles again: the partition it led is served again and every replica comes back in sync.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class KafkaBrokerBounceTest {
    /** Long, so the restart is certainly within the old session's lifetime. */
    private static final int SESSION_TIMEOUT_MS = 60_000;
    private static final long AWAIT_MS = 60_000;

    @TempDir
    Path dir;
    private Tandem zookeeper;
    private final List<Tandem> brokers = new ArrayList<>();
    private Process bounced;

    @AfterEach
    void stop() throws Exception {
        if (bounced != null) bounced.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        brokers.forEach(Tandem::close);
        if (zookeeper != null) zookeeper.close();
    }

    @Test
    void aBrokerRestartedBeforeItsSessionExpiresTakesItsRolesAgain() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("maxSessionTimeout", "120000"));
        // Brokers 2 and 3 in this JVM (2 starts first and is the controller), broker 1 in a process of its own.
        for (int id = 2; id <= 3; id++) {
            brokers.add(Tandem.start(TandemConfig.forTests(dir.resolve("broker" + id))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", Integer.toString(id))
                    .set("zookeeper.connect", zookeeper.zookeeperConnect())
                    .set("zookeeper.session.timeout.ms", Integer.toString(SESSION_TIMEOUT_MS))
                    // As TandemCluster's brokers: the last one closed leads what nobody can take, and retries.
                    .set("controlled.shutdown.retry.backoff.ms", "100")));
        }
        int port = TestEnsemble.freePort();
        bounced = startProcess(1, port);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                brokers.get(0).bootstrapServers()))) {
            awaitBrokers(admin, 3);
            // Broker 1 is the first replica of partition 0, so it leads it.
            admin.createTopics(List.of(new NewTopic("bounce", Map.of(0, List.of(1, 2, 3), 1, List.of(2, 1, 3)))))
                    .all().get(AWAIT_MS, TimeUnit.MILLISECONDS);
            String bootstrap = "127.0.0.1:" + port + "," + brokers.get(0).bootstrapServers();
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                for (int p = 0; p < 2; p++) {
                    producer.send(new ProducerRecord<>("bounce", p, null, "before")).get(AWAIT_MS, TimeUnit.MILLISECONDS);
                }
            }
            assertEquals(1, describe(admin).partitions().get(0).leader().id());

            bounced.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: its session lives on in ZooKeeper
            bounced = startProcess(1, port);

            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                for (int p = 0; p < 2; p++) {
                    producer.send(new ProducerRecord<>("bounce", p, null, "after")).get(AWAIT_MS, TimeUnit.MILLISECONDS);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
            while (true) {
                TopicDescription description = describe(admin);
                if (description.partitions().stream().allMatch(p -> p.isr().size() == 3)) break;
                assertTrue(System.nanoTime() - deadline < 0, "replicas never back in sync after the bounce: "
                        + description.partitions().stream().map(TopicPartitionInfo::toString).toList());
                Thread.sleep(100);
            }
        } catch (Throwable t) {
            printLog();
            throw t;
        }
    }

    private Process startProcess(int id, int port) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main",
                "start", "--roles", "kafka", "--data-dir", dir.resolve("broker" + id).toString(),
                "--kafka-port", Integer.toString(port),
                "--set", "broker.id=" + id, "--set", "zookeeper.connect=" + zookeeper.zookeeperConnect(),
                "--set", "zookeeper.session.timeout.ms=" + SESSION_TIMEOUT_MS,
                "--set", "listeners=PLAINTEXT://127.0.0.1:" + port));
        File log = dir.resolve("broker" + id + ".log").toFile();
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private static void awaitBrokers(Admin admin, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        while (admin.describeCluster().nodes().get(AWAIT_MS, TimeUnit.MILLISECONDS).size() < count) {
            assertTrue(System.nanoTime() - deadline < 0, count + " brokers never registered");
            Thread.sleep(100);
        }
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of("bounce")).allTopicNames().get(AWAIT_MS, TimeUnit.MILLISECONDS).get("bounce");
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(AWAIT_MS));
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private void printLog() throws IOException {
        Path log = dir.resolve("broker1.log");
        if (!Files.exists(log)) return;
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        System.out.println("---- broker 1 log tail\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60),
                lines.size())));
    }
}
