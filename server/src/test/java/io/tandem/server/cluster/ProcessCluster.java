package io.tandem.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.ensemble.TestEnsemble;
import io.tandem.server.kafka.RawKafkaConnection;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * Real Tandem processes on loopback, each a ZooKeeper ensemble member and a Kafka broker (broker.id = myid, metadata
 * in the ensemble they form), with a {@link ReplicaLinkProxy} in front of each broker that the broker advertises.
 * Ports are fixed for the cluster's life, so a node restarts where everyone knew it. The cluster's state (brokers,
 * controller, partition states) is read from ZooKeeper, the source of truth the controller writes.
 */
final class ProcessCluster implements AutoCloseable {
    static final int TICK_MS = 200;
    /** Generous for a loaded 2-core machine: several JVMs start, elect and recover at once. */
    static final long AWAIT_MS = 90_000;
    /**
     * The first start of all nodes at once, the heaviest moment of a run: every JVM loads and compiles the server
     * while the ensemble elects, syncs and only then lets the brokers register and elect a controller. At a load of
     * 40-50 on 2 cores that took more than {@link #AWAIT_MS}; a later wait (one node restarting) has the other nodes
     * warm and keeps {@link #AWAIT_MS}.
     */
    static final long START_AWAIT_MS = 150_000;
    /**
     * {@link #START_AWAIT_MS} in seconds, for a process test's hang guard: {@code @Timeout(START_AWAIT_S + the test's
     * own time after the start)}, never a fixed figure, which a slow start would eat into (the guard then fired
     * before the waits could say what was slow, and no log digest was printed).
     */
    static final long START_AWAIT_S = START_AWAIT_MS / 1_000;
    /** How long one call waits for the cluster's own ZooKeeper session before it counts as "not yet" ({@link #zk}). */
    private static final long SESSION_WAIT_MS = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The log lines {@link #printLogDigests()} keeps (java.util.logging puts the message on its own line). */
    private static final java.util.regex.Pattern DIGEST = java.util.regex.Pattern.compile(
            "^(SEVERE|WARNING|Caused by)|[Cc]ontroller|ensemble member|Session|Tandem started|joined|Truncating");
    /** java.util.logging's first line of a record: time, class and method. */
    private static final java.util.regex.Pattern LOG_HEADER = java.util.regex.Pattern.compile(
            "^[A-Z][a-z]{2} \\d{1,2}, \\d{4} ");

    private final Path dir;
    private final int nodes;
    private final Map<String, String> extraSettings;
    private final int[] zkPorts;
    private final int[] quorumPorts;
    private final int[] electionPorts;
    private final int[] kafkaPorts;
    private final ReplicaLinkProxy[] proxies;
    private final Process[] processes;
    /** False: clients and brokers reach each broker directly, so a killed broker's port refuses connections. */
    private final boolean throughProxies;
    private ZooKeeper zk;
    /** Open once {@link #zk} has had its first session. */
    private CountDownLatch zkConnected;
    /**
     * When the first start of all nodes must be done (System.nanoTime), set by {@link #startAll}; every wait until
     * then shares it (see {@link #await(String, Callable)}).
     */
    private long startDeadlineNanos = System.nanoTime();

    /** {@code extraSettings}: keys every node starts with on top of the ensemble and broker basics. */
    ProcessCluster(Path dir, int nodes, Map<String, String> extraSettings) throws IOException {
        this(dir, nodes, extraSettings, true);
    }

    /** {@code throughProxies}: whether each broker advertises its {@link ReplicaLinkProxy} (see {@link #proxy}). */
    ProcessCluster(Path dir, int nodes, Map<String, String> extraSettings, boolean throughProxies) throws IOException {
        this.throughProxies = throughProxies;
        this.dir = dir;
        this.nodes = nodes;
        this.extraSettings = Map.copyOf(extraSettings);
        zkPorts = new int[nodes + 1];
        quorumPorts = new int[nodes + 1];
        electionPorts = new int[nodes + 1];
        kafkaPorts = new int[nodes + 1];
        proxies = new ReplicaLinkProxy[nodes + 1];
        processes = new Process[nodes + 1];
        for (int id = 1; id <= nodes; id++) {
            zkPorts[id] = TestEnsemble.freePort();
            quorumPorts[id] = TestEnsemble.freePort();
            electionPorts[id] = TestEnsemble.freePort();
            kafkaPorts[id] = TestEnsemble.freePort();
            proxies[id] = new ReplicaLinkProxy(kafkaPorts[id]);
        }
    }

    int size() {
        return nodes;
    }

    /** Starts every node and waits until all brokers are registered and a controller is elected. */
    void startAll() throws Exception {
        startDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_AWAIT_MS);
        for (int id = 1; id <= nodes; id++) start(id);
        await("all " + nodes + " brokers registered and a controller elected", () ->
                brokersRegistered().size() == nodes && controllerId() > 0 ? true : null);
    }

    void start(int id) throws IOException {
        // C1 only, as EnsembleProcessTest: JVMs starting at once on a 2-core box wait mostly for the JIT.
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--data-dir", dir.resolve("node" + id).toString(),
                "--zk-port", Integer.toString(zkPorts[id]), "--kafka-port", Integer.toString(kafkaPorts[id])));
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("myid", Integer.toString(id));
        settings.put("tickTime", Integer.toString(TICK_MS));
        settings.put("initLimit", "20"); // at least syncLimit (ZabConfig's rule)
        // 3 s before a follower gives its leader up: with 1 s (5 ticks), two of these clusters starting at once in
        // the suite's two forks starved a follower long enough to drop its leader again and again, and the brokers
        // never got a ZooKeeper session. A killed leader is noticed at once either way (its sockets close).
        settings.put("syncLimit", "15");
        settings.put("maxSessionTimeout", "30000");
        for (int peer = 1; peer <= nodes; peer++) {
            settings.put("server." + peer, "127.0.0.1:" + quorumPorts[peer] + ":" + electionPorts[peer]);
        }
        settings.put("broker.id", Integer.toString(id));
        settings.put("zookeeper.connect", zookeeperConnect());
        settings.put("listeners", "PLAINTEXT://127.0.0.1:" + kafkaPorts[id]);
        if (throughProxies) {
            // Everyone (clients, the controller, followers) reaches the broker through its proxy.
            settings.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxies[id].port());
        }
        settings.putAll(extraSettings);
        settings.forEach((key, value) -> {
            command.add("--set");
            command.add(key + "=" + value);
        });
        File log = dir.resolve("node" + id + ".log").toFile();
        processes[id] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    /** SIGKILL: nothing is closed, the node's ZooKeeper sessions live on until they expire. */
    void kill(int id) throws InterruptedException {
        processes[id].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: the node shuts down as on Ctrl-C (broker first, closing its ZooKeeper session, then its member). */
    void stop(int id) throws InterruptedException {
        processes[id].destroy();
        if (!processes[id].waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("node " + id + " did not stop within 30 s of SIGTERM");
        }
    }

    String zookeeperConnect() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= nodes; id++) hosts.add("127.0.0.1:" + zkPorts[id]);
        return String.join(",", hosts);
    }

    String bootstrapServers() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= nodes; id++) {
            hosts.add("127.0.0.1:" + (throughProxies ? proxies[id].port() : kafkaPorts[id]));
        }
        return String.join(",", hosts);
    }

    /** An admin client of the cluster's brokers; the caller closes it. */
    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Creates {@code topic} through the Admin API and waits for the answer (its replicas may not be in sync yet). */
    void createTopic(String topic, int partitions, int replicationFactor) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) replicationFactor)))
                    .all().get(TimeUnit.NANOSECONDS.toMillis(deadlineNanos(AWAIT_MS) - System.nanoTime()),
                            TimeUnit.MILLISECONDS);
        }
    }

    ReplicaLinkProxy proxy(int id) {
        return proxies[id];
    }

    // ---------------------------------------------------------------- state, read from ZooKeeper

    /**
     * The cluster's own session for reading its state. Until the ensemble grants it, each call waits at most
     * {@link #SESSION_WAIT_MS} and then fails with a {@link KeeperException}, which {@link #await} counts as "not
     * yet": the wait for the session is then bounded by the caller's own deadline (the start's is the longest), not
     * by a fixed one of its own. A session the ensemble expired is replaced by a new one.
     */
    private synchronized ZooKeeper zk() throws Exception {
        if (zk == null || !zk.getState().isAlive()) {
            if (zk != null) zk.close();
            CountDownLatch connected = new CountDownLatch(1);
            zk = new ZooKeeper(zookeeperConnect(), 30_000, e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            });
            zkConnected = connected;
        }
        if (!zkConnected.await(SESSION_WAIT_MS, TimeUnit.MILLISECONDS)) {
            throw KeeperException.create(KeeperException.Code.CONNECTIONLOSS,
                    "no ZooKeeper session on " + zookeeperConnect() + " yet");
        }
        return zk;
    }

    List<String> brokersRegistered() throws Exception {
        try {
            return zk().getChildren("/brokers/ids", false);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** The broker id in /controller, or -1 when there is none. */
    int controllerId() throws Exception {
        try {
            return JSON.readTree(zk().getData("/controller", false, null)).path("brokerid").asInt(-1);
        } catch (KeeperException.NoNodeException e) {
            return -1;
        }
    }

    /**
     * Deletes /controller, as an operator forces a controller election, and returns the broker elected next (which
     * may be the same one again).
     */
    private int reelectController() throws Exception {
        try {
            zk().delete("/controller", -1);
        } catch (KeeperException.NoNodeException e) {
            // an election is under way already
        }
        return await("a controller elected after /controller was deleted", () -> {
            int now = controllerId();
            return now > 0 ? now : null;
        });
    }

    /**
     * Deletes /controller and waits until a controller is elected and every broker names it in its Metadata answers
     * (it told them, so it finished taking over); returns it, which may be the same broker again.
     */
    int reelectControllerAndAwaitIt() throws Exception {
        int controller = reelectController();
        await("every broker following controller " + controller, () -> {
            for (int id = 1; id <= nodes; id++) {
                if (controllerSeenBy(id) != controller) return null;
            }
            return controller == controllerId() ? true : null;
        });
        return controller;
    }

    /** The controller broker {@code id} names in its Metadata answers (what the controller told it), -1 if down. */
    int controllerSeenBy(int id) {
        try (RawKafkaConnection connection = new RawKafkaConnection(proxies[id].port())) {
            return connection.roundTrip(ApiKey.METADATA, (short) 12, (short) 1, new MetadataRequest(),
                    MetadataResponse::read).controllerId;
        } catch (IOException e) {
            return -1;
        }
    }

    JsonNode partitionState(String topic, int partition) throws Exception {
        return JSON.readTree(zk().getData("/brokers/topics/" + topic + "/partitions/" + partition + "/state", false,
                null));
    }

    int leader(String topic, int partition) throws Exception {
        return partitionState(topic, partition).path("leader").asInt();
    }

    Set<Integer> isr(String topic, int partition) throws Exception {
        Set<Integer> isr = new TreeSet<>();
        for (JsonNode r : partitionState(topic, partition).path("isr")) isr.add(r.asInt());
        return isr;
    }

    /** The partitions of {@code topic} that broker {@code id} leads. */
    Set<Integer> ledBy(int id, String topic, int partitions) throws Exception {
        Set<Integer> led = new TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            if (leader(topic, p) == id) led.add(p);
        }
        return led;
    }

    /** The node whose ZooKeeper member leads the ensemble (its {@code srvr} says so), or -1. */
    int zookeeperLeader() {
        for (int id = 1; id <= nodes; id++) {
            if ("leader".equals(zookeeperMode(id))) return id;
        }
        return -1;
    }

    private String zookeeperMode(int id) {
        try (Socket socket = new Socket("127.0.0.1", zkPorts[id])) {
            socket.setSoTimeout(2_000);
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("Mode: ")) return line.substring("Mode: ".length()).trim();
            }
            return "unknown";
        } catch (IOException e) {
            return "down";
        }
    }

    void awaitAllInSync(String topic, int partitions, String after) throws Exception {
        await("every replica of every partition of " + topic + " in sync (" + after + ")", () -> {
            for (int p = 0; p < partitions; p++) {
                if (isr(topic, p).size() != nodes) return null;
            }
            return true;
        });
    }

    /**
     * Polls {@code probe} until it returns non-null; ZooKeeper errors while nodes die count as "not yet". It waits
     * {@link #AWAIT_MS}, or until the start's deadline if that is later: what follows the first start (the first
     * topic, its replicas in sync, the first records) runs on JVMs still compiling, as loaded as the start itself, so
     * it shares the start's time instead of stacking a wait of its own on it.
     */
    <T> T await(String what, Callable<T> probe) throws Exception {
        return awaitUntil(what, deadlineNanos(AWAIT_MS), probe);
    }

    /** As {@link #await(String, Callable)}, within exactly {@code timeoutMs}: for a bound a test asserts. */
    <T> T await(String what, long timeoutMs, Callable<T> probe) throws Exception {
        return awaitUntil(what, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs), probe);
    }

    private <T> T awaitUntil(String what, long deadline, Callable<T> probe) throws Exception {
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

    /** The later of {@code timeoutMs} from now and the start's deadline (System.nanoTime). */
    private long deadlineNanos(long timeoutMs) {
        long own = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        return own - startDeadlineNanos > 0 ? own : startDeadlineNanos;
    }

    /**
     * Prints, per node, the log lines that tell what the node did about roles and failures (ZooKeeper role changes
     * and sessions, the controller's decisions, warnings and errors with their causes), each run of identical lines
     * once with its count: the repetitive ones would otherwise bury the rest.
     */
    void printLogDigests() {
        for (int id = 1; id <= nodes; id++) {
            StringBuilder digest = new StringBuilder("---- node " + id + " log digest\n");
            try {
                String previous = null;
                int repeats = 0;
                for (String line : Files.readAllLines(dir.resolve("node" + id + ".log"), StandardCharsets.UTF_8)) {
                    if (LOG_HEADER.matcher(line).find() || !DIGEST.matcher(line).find()) continue;
                    if (line.equals(previous)) {
                        repeats++;
                        continue;
                    }
                    if (repeats > 0) digest.append("    (").append(repeats).append(" more times)\n");
                    digest.append(line).append('\n');
                    previous = line;
                    repeats = 0;
                }
                if (repeats > 0) digest.append("    (").append(repeats).append(" more times)\n");
            } catch (IOException e) {
                digest.append("no log (").append(e).append(")\n");
            }
            System.out.println(digest);
        }
    }

    @Override
    public void close() throws Exception {
        if (zk != null) zk.close();
        for (int id = 1; id <= nodes; id++) {
            if (processes[id] != null) processes[id].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            proxies[id].close();
        }
    }
}
