package io.tandem.bench.zookeeper;

import io.tandem.bench.ServerProcess;
import io.tandem.bench.ThreadCpu;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * Side-by-side ZooKeeper benchmark: starts each server as its own process (Tandem through ./tandem, Apache ZooKeeper
 * 3.9.5 through ZooKeeperServerMain from jars fetched at bench time), drives the same load with the official Java
 * client (N sessions, W async requests in flight each; phases create, set, get, exists, delete), and prints ops/s,
 * p50 and p99 per phase, start-up time to the first answered handshake, idle RSS, and the Tandem/Apache ratios.
 * Run it with bench/run-zk.sh. Nothing here is asserted by any test.
 */
public final class ZkBench {
    public static final List<String> PHASES = List.of("create", "set", "get", "exists", "delete");
    private static final long PHASE_TIMEOUT_MINUTES = 10;
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT);
    /** Latencies are recorded in microseconds up to a minute, with 3 significant digits. */
    private static final long LATENCY_US_MAX = 60_000_000;

    public record Options(List<String> targets, int clients, int inFlight, int opsPerPhase, int dataBytes, int warmupOps,
                   Path root, Path apacheLib, Path work) {
        public static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            Path root = Path.of(values.getOrDefault("root", ".")).toAbsolutePath().normalize();
            Path work = Path.of(values.getOrDefault("work", root.resolve("bench/target/zk-bench").toString()));
            return new Options(
                    List.of(values.getOrDefault("targets", "tandem,apache").split(",")),
                    Integer.parseInt(values.getOrDefault("clients", "8")),
                    Integer.parseInt(values.getOrDefault("inflight", "32")),
                    Integer.parseInt(values.getOrDefault("ops", "20000")),
                    Integer.parseInt(values.getOrDefault("data-bytes", "100")),
                    Integer.parseInt(values.getOrDefault("warmup", "4000")),
                    root,
                    Path.of(values.getOrDefault("apache-lib", work.resolve("apache-zk").toString())),
                    work);
        }
    }

    /** p99.9 and max show stalls that hold every request in flight at once (a snapshot, a collection) once. */
    public record PhaseResult(String phase, long ops, long errors, double opsPerSecond, double p50Ms, double p99Ms,
                              double p999Ms, double maxMs) {
    }

    record ServerResult(String name, long startupMs, double idleRssMib, double afterLoadRssMib, List<PhaseResult> phases,
                        String loadBefore, String loadAfter) {
        PhaseResult phase(String phase) {
            return phases.stream().filter(p -> p.phase.equals(phase)).findFirst().orElseThrow();
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        System.out.printf(Locale.ROOT, "ZooKeeper benchmark: %d clients x %d in flight, %d ops per phase, %d-byte values, %d cores%n",
                options.clients, options.inFlight, options.opsPerPhase, options.dataBytes, Runtime.getRuntime().availableProcessors());
        List<ServerResult> results = new ArrayList<>();
        int rounds = rounds(args);
        jfrDir = option(args, "--jfr");
        String settings = option(args, "--jfr-settings");
        jfrSettings = settings == null ? "profile" : Path.of(settings).toAbsolutePath().toString();
        for (int round = 1; round <= rounds; round++) {
            // Alternate the order each round so neither server always runs in the same slice of background load.
            List<String> order = new ArrayList<>(options.targets);
            if (round % 2 == 0) {
                Collections.reverse(order);
            }
            for (String target : order) {
                results.add(runAgainst(target.trim(), options));
            }
        }
        print(results);
    }

    /** {@code --rounds N} (default 1): how many times each server is measured; the ratios use the medians. */
    private static int rounds(String[] args) {
        String rounds = option(args, "--rounds");
        return rounds == null ? 1 : Integer.parseInt(rounds);
    }

    private static String option(String[] args, String name) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return null;
    }

    /** {@code --jfr DIR}: a JFR recording of the server per write phase (create, set, delete), for profiles. */
    private static String jfrDir;
    /**
     * {@code --jfr-settings FILE}: the recordings' settings (default JFR's {@code profile}: a Java sample every 10 ms,
     * too few for a phase of a few seconds; bench/zookeeper/profile-1ms.jfc samples every 1 ms).
     */
    private static String jfrSettings = "profile";
    private static int serverRuns;
    /** Server CPU microseconds per operation, keyed "run/phase" (run numbered from 1 as in the summary). */
    private static final Map<String, Double> serverCpuUsPerOp = new LinkedHashMap<>();

    /** The machine's load (1, 5 and 15 minute averages), printed with every run: this box is shared. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void jcmd(long pid, String... command) {
        List<String> line = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
        line.addAll(List.of(command));
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.waitFor(60, TimeUnit.SECONDS);
        } catch (IOException e) {
            System.out.println("jcmd failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    /** One server's figure, the median over its rounds. */
    private static double medianOf(List<ServerResult> results, String server, java.util.function.ToDoubleFunction<ServerResult> figure) {
        return median(results.stream().filter(r -> r.name.equals(server)).map(figure::applyAsDouble).toList());
    }

    private static ServerResult runAgainst(String target, Options options) throws Exception {
        int port = freePort();
        Path dataDir = options.work.resolve(target + "-data");
        deleteRecursively(dataDir);
        Files.createDirectories(dataDir);
        List<String> command = switch (target) {
            case "apache" -> List.of("java",
                    // zkServer.sh's default heap; forceSync stays at its default (yes) so every write is fsynced.
                    "-Xmx1000m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.forceSync=yes",
                    "-cp", options.apacheLib.resolve("*").toString(),
                    "org.apache.zookeeper.server.ZooKeeperServerMain", Integer.toString(port), dataDir.toString());
            case "tandem" -> tandemCommand(options, port, dataDir);
            default -> throw new IllegalArgumentException("unknown target " + target + " (tandem or apache)");
        };
        String loadBefore = loadAverage();
        int run = ++serverRuns;
        System.out.printf(Locale.ROOT, "%n== %s on port %d (load average %s) ==%n", target, port, loadBefore);
        try (ServerProcess server = ServerProcess.start(target, command, options.work.resolve(target + ".log"),
                ServerProcess.zookeeperHandshake("127.0.0.1", port))) {
            System.out.printf(Locale.ROOT, "start-up to first handshake: %d ms%n", server.startupMillis());
            Thread.sleep(2000);
            double idleRss = server.rssMib();
            System.out.printf(Locale.ROOT, "idle RSS: %.1f MiB%n", idleRss);

            String connect = "127.0.0.1:" + port;
            List<ZooKeeper> clients = connectAll(connect, options.clients);
            try {
                clients.get(0).create("/bench", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                for (int c = 0; c < clients.size(); c++) {
                    clients.get(c).create("/bench/c" + c, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
                warmUp(clients, options);
                List<PhaseResult> phases = new ArrayList<>();
                for (String phase : PHASES) {
                    boolean record = jfrDir != null && !phase.equals("get") && !phase.equals("exists");
                    if (record) {
                        jcmd(server.pid(), "JFR.start", "name=" + phase, "settings=" + jfrSettings, "filename="
                                + Path.of(jfrDir).toAbsolutePath().resolve(target + "-" + phase + "-" + run + ".jfr"));
                    }
                    Map<String, Double> serverCpuBefore = ThreadCpu.snapshot(server.pid());
                    Map<String, Double> driverCpuBefore = ThreadCpu.snapshot(ProcessHandle.current().pid());
                    LocalTime started = LocalTime.now(ZoneOffset.UTC);
                    PhaseResult result = runPhase(phase, clients, options);
                    LocalTime ended = LocalTime.now(ZoneOffset.UTC);
                    Map<String, Double> serverCpuAfter = ThreadCpu.snapshot(server.pid());
                    Map<String, Double> driverCpuAfter = ThreadCpu.snapshot(ProcessHandle.current().pid());
                    if (record) {
                        jcmd(server.pid(), "JFR.stop", "name=" + phase);
                    }
                    System.out.printf(Locale.ROOT, "%-7s %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %8.3f ms  "
                            + "max %8.3f ms  (%d ops, %d errors)%n", phase, result.opsPerSecond, result.p50Ms,
                            result.p99Ms, result.p999Ms, result.maxMs, result.ops, result.errors);
                    // CPU per operation moves far less with the machine's load than the rate: compare builds by it.
                    // The phase's wall-clock span lines it up with a JFR recording or -XX:+PrintCompilation output.
                    System.out.printf(Locale.ROOT, "        server CPU %s; driver CPU %.1f us/op; %s-%s UTC%n",
                            ThreadCpu.perOperation(serverCpuBefore, serverCpuAfter, result.ops, 5),
                            (ThreadCpu.total(driverCpuAfter) - ThreadCpu.total(driverCpuBefore)) * 1e6 / result.ops,
                            CLOCK.format(started), CLOCK.format(ended));
                    serverCpuUsPerOp.put(run + "/" + phase,
                            (ThreadCpu.total(serverCpuAfter) - ThreadCpu.total(serverCpuBefore)) * 1e6 / result.ops);
                    phases.add(result);
                }
                Thread.sleep(2000);
                double afterLoadRss = server.rssMib();
                String loadAfter = loadAverage();
                System.out.printf(Locale.ROOT, "RSS after load: %.1f MiB (load average %s)%n", afterLoadRss, loadAfter);
                return new ServerResult(target, server.startupMillis(), idleRss, afterLoadRss, phases, loadBefore,
                        loadAfter);
            } finally {
                for (ZooKeeper client : clients) {
                    client.close();
                }
            }
        }
    }

    /**
     * The ./tandem launcher once the server has its CLI main; until then the same server through the embedding API
     * in its own JVM, with the launcher's default JVM flags, so start-up and RSS are still those of a separate process.
     */
    private static List<String> tandemCommand(Options options, int port, Path dataDir) {
        if (launcherReady()) {
            return List.of(options.root.resolve("tandem").toString(), "start", "--roles", "zookeeper",
                    "--zk-port", Integer.toString(port), "--data-dir", dataDir.toString());
        }
        System.out.println("(./tandem has no CLI main yet: running Tandem via the embedding API in its own JVM)");
        return List.of("java", "-Xms16m", "-Xmx512m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                TandemZkMain.class.getName(), Integer.toString(port), dataDir.toString());
    }

    private static boolean launcherReady() {
        try {
            Class.forName("io.tandem.server.Main", false, ZkBench.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    public static List<ZooKeeper> connectAll(String connect, int count) throws Exception {
        return connectAll(List.of(connect), count);
    }

    /** Session i connects with {@code connects[i % size]}, so an ensemble's sessions can be spread over its servers. */
    public static List<ZooKeeper> connectAll(List<String> connects, int count) throws Exception {
        List<ZooKeeper> clients = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String connect = connects.get(i % connects.size());
            CountDownLatch connected = new CountDownLatch(1);
            ZooKeeper client = new ZooKeeper(connect, 30_000, event -> {
                if (event.getState() == KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
            if (!connected.await(30, TimeUnit.SECONDS)) {
                throw new IOException("client " + i + " could not connect to " + connect);
            }
            clients.add(client);
        }
        return clients;
    }

    /** Same work as the measured phases on other paths, so both JVMs (server and driver) are warm. */
    public static void warmUp(List<ZooKeeper> clients, Options options) throws Exception {
        Options warm = new Options(options.targets, options.clients, options.inFlight, options.warmupOps,
                options.dataBytes, 0, options.root, options.apacheLib, options.work);
        for (String phase : PHASES) {
            runPhase(phase, clients, warm);
        }
    }

    /** Each client works on its own nodes /bench/c{client}/n{i}, keeping W requests outstanding. */
    public static PhaseResult runPhase(String phase, List<ZooKeeper> clients, Options options) throws Exception {
        Histogram latencies = new ConcurrentHistogram(LATENCY_US_MAX, 3);
        AtomicLong errors = new AtomicLong();
        int perClient = options.opsPerPhase / clients.size();
        byte[] value = new byte[options.dataBytes];
        CountDownLatch done = new CountDownLatch(clients.size() * perClient);
        List<Thread> drivers = new ArrayList<>();
        long started = System.nanoTime();
        for (int c = 0; c < clients.size(); c++) {
            ZooKeeper client = clients.get(c);
            String base = "/bench/c" + c + "/n";
            Semaphore inFlight = new Semaphore(options.inFlight);
            Thread driver = new Thread(() -> {
                try {
                    for (int i = 0; i < perClient; i++) {
                        inFlight.acquire();
                        String path = base + i;
                        long sentAt = System.nanoTime();
                        issue(phase, client, path, value, rc -> {
                            latencies.recordValue(Math.min(LATENCY_US_MAX, (System.nanoTime() - sentAt) / 1000));
                            if (rc != KeeperException.Code.OK.intValue()) {
                                errors.incrementAndGet();
                            }
                            inFlight.release();
                            done.countDown();
                        });
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-driver-" + c);
            drivers.add(driver);
            driver.start();
        }
        if (!done.await(PHASE_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            throw new IOException(phase + " did not finish within " + PHASE_TIMEOUT_MINUTES + " minutes");
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        for (Thread driver : drivers) {
            driver.join();
        }
        long ops = (long) perClient * clients.size();
        return new PhaseResult(phase, ops, errors.get(), ops / seconds,
                latencies.getValueAtPercentile(50) / 1000.0, latencies.getValueAtPercentile(99) / 1000.0,
                latencies.getValueAtPercentile(99.9) / 1000.0, latencies.getMaxValue() / 1000.0);
    }

    @FunctionalInterface
    private interface Completion {
        void done(int rc);
    }

    private static void issue(String phase, ZooKeeper client, String path, byte[] value, Completion completion) {
        switch (phase) {
            case "create" -> client.create(path, value, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, p, ctx, name) -> completion.done(rc), null);
            case "set" -> client.setData(path, value, -1, (rc, p, ctx, stat) -> completion.done(rc), null);
            case "get" -> client.getData(path, false, (rc, p, ctx, data, stat) -> completion.done(rc), null);
            case "exists" -> client.exists(path, false, (rc, p, ctx, stat) -> completion.done(rc), null);
            case "delete" -> client.delete(path, -1, (rc, p, ctx) -> completion.done(rc), null);
            default -> throw new IllegalArgumentException(phase);
        }
    }

    private static void print(List<ServerResult> results) {
        System.out.printf(Locale.ROOT, "%n== summary ==%n");
        System.out.printf(Locale.ROOT, "| run | server | load average before / after | phase | ops/s | p50 ms | p99 ms "
                + "| p99.9 ms | max ms | errors |%n|---:|---|---|---|---:|---:|---:|---:|---:|---:|%n");
        int run = 0;
        for (ServerResult server : results) {
            run++;
            for (PhaseResult phase : server.phases) {
                System.out.printf(Locale.ROOT, "| %d | %s | %s / %s | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %d |%n",
                        run, server.name, server.loadBefore, server.loadAfter, phase.phase, phase.opsPerSecond,
                        phase.p50Ms, phase.p99Ms, phase.p999Ms, phase.maxMs, phase.errors);
            }
        }
        System.out.printf(Locale.ROOT, "%n(medians over the rounds, [min - max] in brackets)%n");
        System.out.printf(Locale.ROOT, "| server | phase | ops/s | p99 ms | server CPU us/op |%n|---|---|---:|---:|---:|%n");
        for (String name : results.stream().map(ServerResult::name).distinct().toList()) {
            for (String phase : PHASES) {
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", name, phase,
                        spread(results, name, r -> r.phase(phase).opsPerSecond, "%.0f"),
                        spread(results, name, r -> r.phase(phase).p99Ms, "%.1f"),
                        spread(results, name, r -> serverCpuUsPerOp.getOrDefault(
                                (results.indexOf(r) + 1) + "/" + phase, Double.NaN), "%.1f"));
            }
        }
        System.out.printf(Locale.ROOT, "%n| server | start-up to first handshake ms | idle RSS MiB | RSS after load MiB |%n|---|---:|---:|---:|%n");
        for (ServerResult server : results) {
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f |%n", server.name, server.startupMs, server.idleRssMib, server.afterLoadRssMib);
        }
        boolean both = results.stream().anyMatch(r -> r.name.equals("tandem"))
                && results.stream().anyMatch(r -> r.name.equals("apache"));
        if (!both) {
            System.out.printf(Locale.ROOT, "%n(ratios need both tandem and apache)%n");
            return;
        }
        System.out.printf(Locale.ROOT, "%n(ratios of the medians over %d round(s) per server)%n",
                results.stream().filter(r -> r.name.equals("tandem")).count());
        System.out.printf(Locale.ROOT, "| phase | ops/s Tandem/Apache | p50 Tandem/Apache | p99 Tandem/Apache |%n|---|---:|---:|---:|%n");
        for (String phase : PHASES) {
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f |%n", phase,
                    medianOf(results, "tandem", r -> r.phase(phase).opsPerSecond) / medianOf(results, "apache", r -> r.phase(phase).opsPerSecond),
                    medianOf(results, "tandem", r -> r.phase(phase).p50Ms) / medianOf(results, "apache", r -> r.phase(phase).p50Ms),
                    medianOf(results, "tandem", r -> r.phase(phase).p99Ms) / medianOf(results, "apache", r -> r.phase(phase).p99Ms));
        }
        System.out.printf(Locale.ROOT, "| start-up | | %.2f (time) | |%n| idle RSS | | %.2f (memory) | |%n",
                medianOf(results, "tandem", r -> r.startupMs) / medianOf(results, "apache", r -> r.startupMs),
                medianOf(results, "tandem", r -> r.idleRssMib) / medianOf(results, "apache", r -> r.idleRssMib));
    }

    private static String spread(List<ServerResult> results, String server,
                                 java.util.function.ToDoubleFunction<ServerResult> figure, String format) {
        List<Double> values = results.stream().filter(r -> r.name.equals(server)).map(figure::applyAsDouble).toList();
        return String.format(Locale.ROOT, format + " [" + format + " - " + format + "]", median(values),
                Collections.min(values), Collections.max(values));
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private ZkBench() {
    }
}
