package io.tandem.bench.zookeeper;

import io.tandem.bench.ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * ZooKeeper memory at scale: builds the same large tree on each server (N sessions, W async creates in flight each),
 * then reads the heap after a full GC (jcmd GC.run, then GC.heap_info) and the RSS (VmRSS), sets a data watch on K
 * paths from one more session and reads both again, and finally restarts the server on its data dir and times the
 * start-up with that tree (spawn to first handshake, then to the first read of the last node). With
 * {@code --histogram FILE} the top of jcmd GC.class_histogram is written per server. Run with bench/run-zk-memory.sh.
 * Nothing here is asserted.
 */
public final class ZkMemoryBench {
    private static final long BUILD_TIMEOUT_MINUTES = 30;
    private static final int HISTOGRAM_LINES = 25;

    record Options(List<String> targets, int rounds, int nodes, int clients, int inFlight, int dataBytes, int watches,
                   String layout, Path histogram, Path root, Path apacheLib, Path work) {
        static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            Path root = Path.of(values.getOrDefault("root", ".")).toAbsolutePath().normalize();
            Path work = Path.of(values.getOrDefault("work", root.resolve("bench/target/zk-bench").toString()));
            String layout = values.getOrDefault("layout", "flat");
            if (!layout.equals("flat") && !layout.equals("deep")) {
                throw new IllegalArgumentException("--layout is flat or deep, got " + layout);
            }
            return new Options(List.of(values.getOrDefault("targets", "tandem,apache").split(",")),
                    Integer.parseInt(values.getOrDefault("rounds", "1")),
                    Integer.parseInt(values.getOrDefault("nodes", "1000000")),
                    Integer.parseInt(values.getOrDefault("clients", "4")),
                    Integer.parseInt(values.getOrDefault("inflight", "200")),
                    Integer.parseInt(values.getOrDefault("data-bytes", "100")),
                    Integer.parseInt(values.getOrDefault("watches", "100000")),
                    layout,
                    values.containsKey("histogram") ? Path.of(values.get("histogram")) : null,
                    root,
                    Path.of(values.getOrDefault("apache-lib", work.resolve("apache-zk").toString())),
                    work);
        }
    }

    record Result(String name, double buildSeconds, double idleRssMib, double heapMib, double rssMib,
                  double watchHeapMib, double watchRssMib, long restartHandshakeMs, long restartReadMs,
                  double restartHeapMib, double restartRssMib) {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        System.out.printf(Locale.ROOT, "ZooKeeper memory: %d znodes of %d bytes (%s layout), %d clients x %d creates in flight, "
                        + "%d watched paths, %d cores%n", options.nodes, options.dataBytes, options.layout, options.clients,
                options.inFlight, options.watches, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "load average at start: %s%n", loadAverage());
        List<Result> results = new ArrayList<>();
        for (int round = 1; round <= options.rounds; round++) {
            List<String> order = new ArrayList<>(options.targets);
            if (round % 2 == 0) {
                Collections.reverse(order);
            }
            for (String target : order) {
                results.add(runAgainst(target.trim(), options));
            }
        }
        System.out.printf(Locale.ROOT, "load average at end: %s%n", loadAverage());
        print(results);
    }

    /** The path of node i: flat puts them under /bench/c{client}; deep adds two levels of 100-child directories. */
    static String path(Options options, int client, int i) {
        if (options.layout.equals("flat")) {
            return "/bench/c" + client + "/n" + i;
        }
        return "/bench/c" + client + "/d" + (i / 10_000) + "/e" + (i / 100 % 100) + "/n" + i;
    }

    private static Result runAgainst(String target, Options options) throws Exception {
        Path dataDir = options.work.resolve(target + "-memory-data");
        ZkBench.deleteRecursively(dataDir);
        Files.createDirectories(dataDir);
        int port = ZkBench.freePort();
        System.out.printf(Locale.ROOT, "%n== %s on port %d ==%n", target, port);
        double buildSeconds;
        double idleRss;
        double heap;
        double rss;
        double watchHeap;
        double watchRss;
        try (ServerProcess server = start(target, options, port, dataDir)) {
            Thread.sleep(2000);
            idleRss = server.rssMib();
            System.out.printf(Locale.ROOT, "idle RSS: %.1f MiB%n", idleRss);
            List<ZooKeeper> clients = ZkBench.connectAll("127.0.0.1:" + port, options.clients);
            try {
                long started = System.nanoTime();
                build(clients, options);
                buildSeconds = (System.nanoTime() - started) / 1e9;
                System.out.printf(Locale.ROOT, "built %d znodes in %.1f s (%.0f creates/s)%n", options.nodes, buildSeconds,
                        options.nodes / buildSeconds);
            } finally {
                for (ZooKeeper client : clients) {
                    client.close();
                }
            }
            heap = heapAfterFullGc(server);
            rss = server.rssMib();
            System.out.printf(Locale.ROOT, "tree: heap after full GC %.1f MiB, RSS %.1f MiB%n", heap, rss);
            printMemoryLayout(server);
            if (options.histogram != null) {
                writeHistogram(server, target, options.histogram);
            }
            ZooKeeper watcher = ZkBench.connectAll("127.0.0.1:" + port, 1).get(0);
            try {
                watchAll(watcher, options);
                watchHeap = heapAfterFullGc(server);
                watchRss = server.rssMib();
                System.out.printf(Locale.ROOT, "with %d data watches: heap after full GC %.1f MiB (+%.1f), RSS %.1f MiB%n",
                        options.watches, watchHeap, watchHeap - heap, watchRss);
            } finally {
                watcher.close();
            }
        }
        // Restart on the same data dir: the time to come back with the whole tree.
        port = ZkBench.freePort();
        try (ServerProcess server = start(target, options, port, dataDir)) {
            long handshakeMs = server.startupMillis();
            ZooKeeper reader = ZkBench.connectAll("127.0.0.1:" + port, 1).get(0);
            long readMs;
            try {
                String last = path(options, options.clients - 1, options.nodes / options.clients - 1);
                if (reader.exists(last, false) == null) {
                    throw new IOException("after restart " + last + " is missing");
                }
                readMs = server.millisSinceSpawn();
            } finally {
                reader.close();
            }
            double restartHeap = heapAfterFullGc(server);
            double restartRss = server.rssMib();
            System.out.printf(Locale.ROOT, "restart with the tree: first handshake %d ms, last node read at %d ms; "
                    + "heap after full GC %.1f MiB, RSS %.1f MiB%n", handshakeMs, readMs, restartHeap, restartRss);
            return new Result(target, buildSeconds, idleRss, heap, rss, watchHeap, watchRss, handshakeMs, readMs,
                    restartHeap, restartRss);
        }
    }

    private static ServerProcess start(String target, Options options, int port, Path dataDir) throws Exception {
        List<String> command = switch (target) {
            case "apache" -> List.of("java",
                    // zkServer.sh's default heap, as in run-zk.sh.
                    "-Xmx1000m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.forceSync=yes",
                    "-cp", options.apacheLib.resolve("*").toString(),
                    "org.apache.zookeeper.server.ZooKeeperServerMain", Integer.toString(port), dataDir.toString());
            // The launcher with its defaults (TANDEM_JAVA_OPTS from the environment, if set, as for any user).
            case "tandem" -> List.of(options.root.resolve("tandem").toString(), "start", "--roles", "zookeeper",
                    "--zk-port", Integer.toString(port), "--data-dir", dataDir.toString());
            default -> throw new IllegalArgumentException("unknown target " + target + " (tandem or apache)");
        };
        ServerProcess server = ServerProcess.start(target, command, options.work.resolve(target + "-memory.log"),
                ServerProcess.zookeeperHandshake("127.0.0.1", port));
        System.out.printf(Locale.ROOT, "start-up to first handshake: %d ms%n", server.startupMillis());
        return server;
    }

    /** Creates the parents, then the nodes: client c creates its own share, W requests in flight. */
    private static void build(List<ZooKeeper> clients, Options options) throws Exception {
        ZooKeeper first = clients.get(0);
        first.create("/bench", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        int perClient = options.nodes / clients.size();
        for (int c = 0; c < clients.size(); c++) {
            first.create("/bench/c" + c, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            if (options.layout.equals("deep")) {
                for (int d = 0; d * 10_000 < perClient; d++) {
                    String dir = "/bench/c" + c + "/d" + d;
                    first.create(dir, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    for (int e = 0; e < 100 && d * 10_000 + e * 100 < perClient; e++) {
                        first.create(dir + "/e" + e, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    }
                }
            }
        }
        byte[] value = new byte[options.dataBytes];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ('a' + i % 26);
        }
        CountDownLatch done = new CountDownLatch(perClient * clients.size());
        AtomicLong errors = new AtomicLong();
        List<Thread> drivers = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            ZooKeeper client = clients.get(c);
            int clientIndex = c;
            Semaphore inFlight = new Semaphore(options.inFlight);
            Thread driver = new Thread(() -> {
                try {
                    for (int i = 0; i < perClient; i++) {
                        inFlight.acquire();
                        client.create(path(options, clientIndex, i), value, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                                (rc, p, ctx, name) -> {
                                    if (rc != KeeperException.Code.OK.intValue()) {
                                        errors.incrementAndGet();
                                    }
                                    inFlight.release();
                                    done.countDown();
                                }, null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "memory-bench-driver-" + c);
            drivers.add(driver);
            driver.start();
        }
        if (!done.await(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            throw new IOException("the tree was not built within " + BUILD_TIMEOUT_MINUTES + " minutes");
        }
        for (Thread driver : drivers) {
            driver.join();
        }
        if (errors.get() > 0) {
            throw new IOException(errors.get() + " creates failed");
        }
    }

    /** One session sets a data watch (getData with watch) on the first K nodes, synchronously in batches of async calls. */
    private static void watchAll(ZooKeeper client, Options options) throws Exception {
        int count = Math.min(options.watches, options.nodes);
        int perClient = options.nodes / options.clients;
        CountDownLatch done = new CountDownLatch(count);
        Semaphore inFlight = new Semaphore(options.inFlight);
        AtomicLong errors = new AtomicLong();
        for (int i = 0; i < count; i++) {
            inFlight.acquire();
            client.getData(path(options, i % options.clients, i / options.clients % perClient), true,
                    (rc, p, ctx, data, stat) -> {
                        if (rc != KeeperException.Code.OK.intValue()) {
                            errors.incrementAndGet();
                        }
                        inFlight.release();
                        done.countDown();
                    }, null);
        }
        if (!done.await(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES) || errors.get() > 0) {
            throw new IOException("setting watches failed (" + errors.get() + " errors)");
        }
    }

    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    /** jcmd GC.run twice (the second settles what the first freed), then the sum of "used" in GC.heap_info. */
    static double heapAfterFullGc(ServerProcess server) throws IOException, InterruptedException {
        jcmd(server, "GC.run");
        jcmd(server, "GC.run");
        Thread.sleep(1000);
        String info = jcmd(server, "GC.heap_info");
        // The first "used" of each generation line; metaspace lines ("Metaspace used ...") are left out.
        long usedKib = 0;
        for (String line : info.split("\n")) {
            String trimmed = line.trim();
            if (trimmed.startsWith("Metaspace") || trimmed.startsWith("class space")) {
                continue;
            }
            if (trimmed.contains("total") && (trimmed.startsWith("def new generation")
                    || trimmed.startsWith("tenured generation") || trimmed.startsWith("garbage-first heap")
                    || trimmed.startsWith("PSYoungGen") || trimmed.startsWith("ParOldGen"))) {
                Matcher used = HEAP_USED.matcher(trimmed);
                if (used.find()) {
                    usedKib += Long.parseLong(used.group(1));
                }
            }
        }
        return usedKib / 1024.0;
    }

    /**
     * Where the RSS goes beyond the live heap: the generations' committed sizes (GC.heap_info) and, when the JVM runs
     * with -XX:NativeMemoryTracking=summary, its committed native memory by category.
     */
    private static void printMemoryLayout(ServerProcess server) throws IOException, InterruptedException {
        for (String line : jcmd(server, "GC.heap_info").split("\n")) {
            if (line.contains("total")) {
                System.out.println("  heap_info: " + line.trim());
            }
        }
        String nmt = jcmd(server, "VM.native_memory", true);
        if (nmt.contains("Total:")) {
            for (String line : nmt.split("\n")) {
                if (line.contains("committed=") && (line.startsWith("Total") || line.startsWith("-"))) {
                    System.out.println("  native_memory: " + line.trim());
                }
            }
        }
    }

    private static void writeHistogram(ServerProcess server, String target, Path prefix) throws Exception {
        String histogram = jcmd(server, "GC.class_histogram");
        String[] lines = histogram.split("\n");
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < lines.length && i < HISTOGRAM_LINES + 3; i++) {
            top.append(lines[i]).append('\n');
        }
        top.append(lines[lines.length - 1]).append('\n');
        Path file = Path.of(prefix + "-" + target + ".txt");
        Files.writeString(file, top.toString(), StandardCharsets.UTF_8);
        System.out.printf(Locale.ROOT, "class histogram (top %d) written to %s%n", HISTOGRAM_LINES, file);
    }

    private static String jcmd(ServerProcess server, String command) throws IOException, InterruptedException {
        return jcmd(server, command, false);
    }

    private static String jcmd(ServerProcess server, String command, boolean mayFail)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder("jcmd", Long.toString(server.pid()), command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0 && !mayFail) {
            throw new IOException("jcmd " + command + " failed: " + output);
        }
        return output;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void print(List<Result> results) {
        System.out.printf(Locale.ROOT, "%n== summary ==%n");
        System.out.printf(Locale.ROOT, "| server | build s | idle RSS MiB | heap after full GC MiB | RSS MiB | +watches heap MiB "
                + "| +watches RSS MiB | restart handshake ms | restart last read ms | restart heap MiB | restart RSS MiB |%n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|%n");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d | %.1f | %.1f |%n",
                    r.name, r.buildSeconds, r.idleRssMib, r.heapMib, r.rssMib, r.watchHeapMib, r.watchRssMib,
                    r.restartHandshakeMs, r.restartReadMs, r.restartHeapMib, r.restartRssMib);
        }
        List<Double> tandemRss = results.stream().filter(r -> r.name.equals("tandem")).map(Result::rssMib).toList();
        List<Double> apacheRss = results.stream().filter(r -> r.name.equals("apache")).map(Result::rssMib).toList();
        if (tandemRss.isEmpty() || apacheRss.isEmpty()) {
            System.out.printf(Locale.ROOT, "%n(ratios need both tandem and apache)%n");
            return;
        }
        List<Double> tandemHeap = results.stream().filter(r -> r.name.equals("tandem")).map(Result::heapMib).toList();
        List<Double> apacheHeap = results.stream().filter(r -> r.name.equals("apache")).map(Result::heapMib).toList();
        System.out.printf(Locale.ROOT, "%nmedians: Tandem/Apache RSS %.2f, heap after full GC %.2f (target RSS <= 0.33)%n",
                median(tandemRss) / median(apacheRss), median(tandemHeap) / median(apacheHeap));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    private ZkMemoryBench() {
    }
}
