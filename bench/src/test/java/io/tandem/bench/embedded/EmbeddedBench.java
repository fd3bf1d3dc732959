package io.tandem.bench.embedded;

import io.tandem.server.DataDirs;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * What a test suite pays for Tandem in-process: starting a node (both roles, ZooKeeper only) in a JVM that has already
 * started one (the suite's second test class onwards; the first, cold start is printed apart), a three-broker
 * {@link TandemCluster}, and {@link Tandem#reset()} after a test that made 3 topics with a record each, a consumer
 * group's offsets and 20 znodes. Prints the figures (median, p90, max); nothing is asserted.
 * Usage: bench/run-embedded.sh [ROUNDS] [reset]: with {@code reset}, only the resets (for A/B runs of one build
 * against another, alternating).
 */
public final class EmbeddedBench {
    private EmbeddedBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        boolean resetOnly = args.length > 1 && args[1].equals("reset");
        Path root = Files.createTempDirectory("tandem-embedded-bench-");
        try {
            System.out.printf("load average: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
            if (!resetOnly) startCosts(root, rounds);
            for (String store : List.of("disk", "memory")) {
                // zookeeper.store=memory: no fsync for the ZooKeeper writes a topic deletion makes.
                try (Tandem node = Tandem.start(TandemConfig.forTests(root.resolve("reset-" + store))
                        .set("zookeeper.store", store))) {
                    report("reset after 3 topics, 1 group, 20 znodes (" + store + ")", time(rounds, i -> {
                        dirty(node, i);
                        long started = System.nanoTime();
                        node.reset();
                        return System.nanoTime() - started;
                    }));
                    report("reset with nothing to delete (" + store + ")", time(rounds, i -> {
                        long started = System.nanoTime();
                        node.reset();
                        return System.nanoTime() - started;
                    }));
                }
            }
        } finally {
            DataDirs.deleteRecursively(root);
        }
    }

    private static void startCosts(Path root, int rounds) throws Exception {
        long cold = startAndClose(root.resolve("cold"), EnumSet.allOf(TandemConfig.Role.class));
        System.out.printf("node start, cold JVM (both roles): %.1f ms%n", cold / 1e6);
        report("node start (both roles)", time(rounds, i -> startAndClose(root.resolve("both" + i),
                EnumSet.allOf(TandemConfig.Role.class))));
        report("node start (ZooKeeper only)", time(rounds, i -> startAndClose(root.resolve("zk" + i),
                EnumSet.of(TandemConfig.Role.ZOOKEEPER))));
        long clusterStarted = System.nanoTime();
        try (TandemCluster cluster = TandemCluster.start(3)) {
            System.out.printf("TandemCluster start (3 brokers, 1 ZooKeeper): %.1f ms%n",
                    (System.nanoTime() - clusterStarted) / 1e6);
        }
    }

    private static long startAndClose(Path dir, EnumSet<TandemConfig.Role> roles) throws Exception {
        long started = System.nanoTime();
        Tandem node = Tandem.start(TandemConfig.forTests(dir).roles(roles));
        long took = System.nanoTime() - started;
        node.close();
        DataDirs.deleteRecursively(dir);
        return took;
    }

    /** What one test might leave: topics with records, a group's committed offsets, znodes. */
    private static void dirty(Tandem node, int round) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (int t = 0; t < 3; t++) topics.add(new NewTopic("t" + round + "-" + t, 1, (short) 1));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers()))) {
            admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                for (NewTopic topic : topics) producer.send(new ProducerRecord<>(topic.name(), "v")).get();
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (NewTopic topic : topics) offsets.put(new TopicPartition(topic.name(), 0), new OffsetAndMetadata(1));
            admin.alterConsumerGroupOffsets("group" + round, offsets).all().get(30, TimeUnit.SECONDS);
        }
        CountDownLatch connected = new CountDownLatch(1);
        try (ZooKeeper zk = new ZooKeeper(node.zookeeperConnect(), 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        })) {
            connected.await(10, TimeUnit.SECONDS);
            zk.create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int z = 0; z < 19; z++) {
                zk.create("/app/n" + z, new byte[10], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    @FunctionalInterface
    private interface Measured {
        long nanos(int round) throws Exception;
    }

    private static List<Long> time(int rounds, Measured measured) throws Exception {
        for (int i = 0; i < Math.max(3, rounds / 5); i++) measured.nanos(-1 - i); // warm-up, not counted
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < rounds; i++) nanos.add(measured.nanos(i));
        return nanos;
    }

    private static void report(String what, List<Long> nanos) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        System.out.printf("%-52s median %7.1f ms   p90 %7.1f ms   max %7.1f ms   (%d runs)%n", what,
                sorted.get(sorted.size() / 2) / 1e6, sorted.get((int) Math.min(sorted.size() - 1,
                        Math.ceil(sorted.size() * 0.9) - 1)) / 1e6, sorted.get(sorted.size() - 1) / 1e6, sorted.size());
    }
}
