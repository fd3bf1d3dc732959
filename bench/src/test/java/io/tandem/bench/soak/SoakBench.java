package io.tandem.bench.soak;

import io.tandem.bench.ServerProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The soak: one Tandem node (started as users start it, {@code ./tandem start}) under mixed ZooKeeper and Kafka load
 * for a while, with clients connecting and disconnecting all along and malformed frames mixed in on both ports. Every
 * sample prints the node's RSS, heap and thread count; at the end it prints their first, last and highest values and
 * the errors
 * seen by well-behaved clients, which should be zero, and checks that the consumer group read every acknowledged
 * record. Nothing is asserted: figures go to docs/ with the command (bench/run-soak.sh).
 */
public final class SoakBench {
    private static final String TOPIC = "soak";
    private static final int PARTITIONS = 3;
    /**
     * Each new producer (every two minutes) takes the next codec, so a run writes with all of them: the broker
     * validates, stores and serves each (bench/kafka/run-kafka-codec-soak.sh checks the records and codecs one by one).
     */
    private static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    private final String zkConnect;
    private final String bootstrap;
    private final long endNanos;
    private final AtomicLong zkOps = new AtomicLong();
    private final AtomicLong zkErrors = new AtomicLong();
    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong produceErrors = new AtomicLong();
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong consumeErrors = new AtomicLong();
    private final AtomicLong badFrames = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();

    private SoakBench(String zkConnect, String bootstrap, long endNanos) {
        this.zkConnect = zkConnect;
        this.bootstrap = bootstrap;
        this.endNanos = endNanos;
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(arg(args, "--root", "."));
        Path work = Path.of(arg(args, "--work", "bench/target/soak"));
        long minutes = Long.parseLong(arg(args, "--minutes", "30"));
        long sampleSeconds = Long.parseLong(arg(args, "--sample-seconds", "30"));
        int zkPort = freePort();
        int kafkaPort = freePort();
        Path data = work.resolve("tandem-data");
        deleteRecursively(data);
        List<String> command = List.of(root.resolve("tandem").toString(), "start", "--data-dir", data.toString(),
                "--zk-port", Integer.toString(zkPort), "--kafka-port", Integer.toString(kafkaPort));
        try (ServerProcess server = ServerProcess.start("tandem", command, work.resolve("tandem.log"),
                ServerProcess.zookeeperHandshake("127.0.0.1", zkPort))) {
            String bootstrap = "127.0.0.1:" + kafkaPort;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            SoakBench soak = new SoakBench("127.0.0.1:" + zkPort, bootstrap,
                    System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes));
            soak.run(server, sampleSeconds);
        }
    }

    private void run(ServerProcess server, long sampleSeconds) throws Exception {
        List<Thread> load = new ArrayList<>();
        for (int i = 0; i < 4; i++) load.add(start("zk-" + i, this::zookeeperClient));
        load.add(start("producer", this::producer));
        for (int i = 0; i < 2; i++) load.add(start("consumer-" + i, this::consumer));
        load.add(start("bad-frames", this::badFrames));
        System.out.printf("%8s %9s %9s %9s %7s %10s %10s %10s %8s %6s%n", "seconds", "rss_mib", "anon_mib",
                "heap_mib", "threads", "zk_ops", "produced", "consumed", "sessions", "errors");
        List<double[]> samples = new ArrayList<>();
        long start = System.nanoTime();
        while (System.nanoTime() < endNanos) {
            Thread.sleep(Math.min(TimeUnit.SECONDS.toMillis(sampleSeconds),
                    Math.max(1, TimeUnit.NANOSECONDS.toMillis(endNanos - System.nanoTime()))));
            double rss = server.rssMib();
            double anon = server.rssAnonMib();
            double heap = heapUsedMib(server.pid());
            int threads = threads(server.pid());
            samples.add(new double[] {rss, heap, anon, threads});
            System.out.printf("%8d %9.1f %9.1f %9.1f %7d %10d %10d %10d %8d %6d%n",
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), rss, anon, heap, threads, zkOps.get(),
                    produced.get(),
                    consumed.get(), sessions.get(), zkErrors.get() + produceErrors.get() + consumeErrors.get());
        }
        for (Thread t : load) t.join(TimeUnit.MINUTES.toMillis(2));
        long lag = groupLag();
        double[] first = samples.get(0);
        double[] last = samples.get(samples.size() - 1);
        double maxRss = samples.stream().mapToDouble(s -> s[0]).max().orElse(0);
        double maxHeap = samples.stream().mapToDouble(s -> s[1]).max().orElse(0);
        double maxAnon = samples.stream().mapToDouble(s -> s[2]).max().orElse(0);
        double maxThreads = samples.stream().mapToDouble(s -> s[3]).max().orElse(0);
        System.out.printf("RSS MiB first %.1f last %.1f max %.1f; anonymous RSS MiB first %.1f last %.1f max %.1f;"
                        + " heap MiB first %.1f last %.1f max %.1f; threads first %.0f last %.0f max %.0f%n",
                first[0], last[0], maxRss, first[2], last[2], maxAnon, first[1], last[1], maxHeap, first[3], last[3],
                maxThreads);
        System.out.printf("ZooKeeper ops %d (errors %d), sessions opened %d; records produced %d (errors %d), "
                        + "consumed %d (errors %d), group lag at the end %d; malformed frames sent %d%n",
                zkOps.get(), zkErrors.get(), sessions.get(), produced.get(), produceErrors.get(), consumed.get(),
                consumeErrors.get(), lag, badFrames.get());
        System.out.println("node alive at the end: " + server.isAlive());
    }

    /** A ZooKeeper client doing creates, sets, watched reads and deletes, reconnecting with a new session each minute. */
    private void zookeeperClient() {
        Random random = new Random();
        String base = "/soak-" + Thread.currentThread().getName();
        while (System.nanoTime() < endNanos) {
            long sessionEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try (ZooKeeper zk = connect()) {
                sessions.incrementAndGet();
                try {
                    zk.create(base, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (KeeperException.NodeExistsException exists) {
                    // From this client's previous session.
                }
                while (System.nanoTime() < sessionEnd && System.nanoTime() < endNanos) {
                    String path = base + "/n" + random.nextInt(200);
                    byte[] data = new byte[100 + random.nextInt(900)];
                    try {
                        switch (random.nextInt(4)) {
                            case 0 -> zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                    random.nextBoolean() ? CreateMode.PERSISTENT : CreateMode.EPHEMERAL);
                            case 1 -> zk.setData(path, data, -1);
                            case 2 -> zk.getData(path, true, null);
                            default -> zk.delete(path, -1);
                        }
                    } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException expected) {
                        // The random walk meets existing and missing nodes: answers, not errors.
                    }
                    zkOps.incrementAndGet();
                }
            } catch (Exception e) {
                zkErrors.incrementAndGet();
                System.err.println("ZooKeeper client error: " + e);
            }
        }
    }

    private ZooKeeper connect() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(zkConnect, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            zk.close();
            throw new IOException("no ZooKeeper session within 30 s");
        }
        return zk;
    }

    /**
     * An idempotent acks=all producer at a steady rate, replaced by a new one every two minutes, each with the next
     * of {@link #CODECS}.
     */
    private void producer() {
        for (int round = 0; System.nanoTime() < endNanos; round++) {
            long producerEnd = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, CODECS[round % CODECS.length]);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                long sent = 0;
                while (System.nanoTime() < producerEnd && System.nanoTime() < endNanos) {
                    producer.send(new ProducerRecord<>(TOPIC, Long.toString(sent), "x".repeat(512)), (meta, e) -> {
                        if (e == null) {
                            produced.incrementAndGet();
                        } else {
                            produceErrors.incrementAndGet();
                            System.err.println("produce error: " + e);
                        }
                    });
                    if (++sent % 200 == 0) Thread.sleep(20);
                }
                producer.flush();
            } catch (Exception e) {
                produceErrors.incrementAndGet();
                System.err.println("producer error: " + e);
            }
        }
    }

    /** A member of the soak group, committing as it reads, leaving and rejoining every 90 seconds. */
    private void consumer() {
        while (System.nanoTime() < endNanos + TimeUnit.SECONDS.toNanos(20)) {
            long memberEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "soak-group");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of(TOPIC));
                while (System.nanoTime() < memberEnd && System.nanoTime() < endNanos + TimeUnit.SECONDS.toNanos(20)) {
                    int n = consumer.poll(Duration.ofMillis(200)).count();
                    if (n > 0) {
                        consumed.addAndGet(n);
                        consumer.commitSync();
                    }
                }
            } catch (Exception e) {
                consumeErrors.incrementAndGet();
                System.err.println("consumer error: " + e);
            }
        }
    }

    /** Malformed frames on both ports, one connection each time: garbage, a huge length prefix, a cut frame. */
    private void badFrames() {
        Random random = new Random();
        String[] zkHostPort = zkConnect.split(":");
        String[] kafkaHostPort = bootstrap.split(":");
        while (System.nanoTime() < endNanos) {
            String[] target = random.nextBoolean() ? zkHostPort : kafkaHostPort;
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(target[0], Integer.parseInt(target[1])), 2000);
                OutputStream out = socket.getOutputStream();
                byte[] garbage = new byte[1 + random.nextInt(64)];
                random.nextBytes(garbage);
                switch (random.nextInt(3)) {
                    case 0 -> out.write(garbage);
                    case 1 -> out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3});
                    default -> out.write(new byte[] {0, 0, 1, 0, 0, 3, 0, 0});
                }
                out.flush();
                badFrames.incrementAndGet();
                Thread.sleep(200);
            } catch (IOException | InterruptedException e) {
                // The server closing such a connection is the expected answer.
            }
        }
    }

    private long groupLag() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("soak-group")
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
            long lag = 0;
            for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        }
    }

    /** The server's thread count (Threads in /proc/[pid]/status), -1 if it cannot be read. */
    private static int threads(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Threads:")) return Integer.parseInt(line.substring(8).trim());
            }
        } catch (IOException | NumberFormatException e) {
            // the process is gone: the sample says so
        }
        return -1;
    }

    /** Heap in use (MiB) from jstat's generation occupancies (no agent in the server needed). */
    private static double heapUsedMib(long pid) {
        try {
            Process jstat = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstat").toString(),
                    "-gc", Long.toString(pid)).redirectErrorStream(true).start();
            List<String> lines = new String(jstat.getInputStream().readAllBytes()).lines().toList();
            jstat.waitFor(10, TimeUnit.SECONDS);
            String[] names = lines.get(0).trim().split("\\s+");
            String[] values = lines.get(1).trim().split("\\s+");
            double kib = 0;
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals("S0U") || names[i].equals("S1U") || names[i].equals("EU") || names[i].equals("OU")) {
                    kib += Double.parseDouble(values[i]);
                }
            }
            return kib / 1024;
        } catch (Exception e) {
            return -1;
        }
    }

    private static Thread start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return fallback;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
