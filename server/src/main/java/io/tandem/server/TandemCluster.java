package io.tandem.server;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntPredicate;
import java.util.function.UnaryOperator;
import io.tandem.server.fault.FaultController;
import io.tandem.server.fault.NodeLifecycle;

/**
 * A Kafka cluster in this process, for tests and embedders: a Tandem ZooKeeper server (standalone) or ensemble of
 * {@code m} members (myid 1..m), and {@code n} Tandem brokers with broker.id 1..n keeping their metadata in it, each on
 * its own free port and data directory. One {@link FaultController} ({@link #faults()}) serves every node; in its
 * rules the brokers are named "broker1".."brokerN" and the ZooKeeper members "zookeeper1".."zookeeperM".
 * The brokers are as separate as processes would be: they talk only over loopback sockets (the controller, elected
 * through ZooKeeper, assigns leaders; followers fetch from leaders; acks=all waits for the ISR).
 *
 * <pre>{@code
 * try (TandemCluster cluster = TandemCluster.start(3)) {
 *     String bootstrap = cluster.bootstrapServers();   // all three brokers
 *     cluster.stopBroker(2);                           // clean stop: the controller moves its leaderships
 *     cluster.restartBroker(2);                        // same port and data; it catches up as a follower
 * }
 * }</pre>
 *
 * Defaults differ from a single node in two keys: {@code default.replication.factor} and
 * {@code offsets.topic.replication.factor} are {@code min(n, 3)} (Kafka's production value for the offsets topic),
 * so topics created without a replication factor, and consumer groups' offsets, survive a stopped broker. The
 * customizer sees each broker's config (its {@code broker.id} already set) and may change any key.
 */
public final class TandemCluster implements AutoCloseable {
    /** How long start, stop and restart wait for every running broker to agree on the live brokers. */
    static final long SETTLE_MS_MAX = 30_000;
    /** Replication factor of auto-created topics and of the offsets topic on clusters of at least this many brokers. */
    static final int DEFAULT_REPLICATION_FACTOR_MAX = 3;
    private static final long SETTLE_POLL_MS = 10;

    /** An ensemble member's tick: short, so a test's elections and failovers take a fraction of a second. */
    static final int ENSEMBLE_TICK_MS = 200;
    /** How long start and restart wait for the ensemble to elect a leader and every running member to serve. */
    static final long ENSEMBLE_SETTLE_MS_MAX = 30_000;

    private final Path dataDir;
    private final boolean ownsDataDir;
    private final UnaryOperator<TandemConfig> customizer;
    private final Tandem[] brokers;
    private final int[] kafkaPorts;
    private final Tandem[] zookeepers;
    private final int[] zookeeperPorts;
    /** The ensemble's server.N lines (empty for a standalone ZooKeeper). */
    private final Map<String, String> serverLines = new TreeMap<>();
    private final FaultController faults = new FaultController();
    private BeforeBrokers beforeBrokers = zookeeperConnect -> { };
    /** The brokers whose metadata a start waits for: all but those a test makes unreachable on purpose. */
    private IntPredicate awaited = id -> true;

    private TandemCluster(Path dataDir, boolean ownsDataDir, int size, int zookeeperCount,
                          UnaryOperator<TandemConfig> customizer) {
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
        this.customizer = customizer;
        this.brokers = new Tandem[size + 1];
        this.kafkaPorts = new int[size + 1];
        this.zookeepers = new Tandem[zookeeperCount + 1];
        this.zookeeperPorts = new int[zookeeperCount + 1];
    }

    /** {@code brokers} brokers with default keys, in a temporary directory deleted by {@link #close()}. */
    public static TandemCluster start(int brokers) throws IOException {
        return start(brokers, UnaryOperator.identity());
    }

    /** {@code brokers} brokers whose configs pass through {@code customizer}, in a temporary directory deleted on close. */
    public static TandemCluster start(int brokers, UnaryOperator<TandemConfig> customizer) throws IOException {
        return start(brokers, 1, customizer);
    }

    /**
     * {@code brokers} brokers and a ZooKeeper ensemble of {@code zookeepers} members (1: a standalone server), the
     * brokers' configs passing through {@code customizer}, in a temporary directory deleted on close.
     */
    public static TandemCluster start(int brokers, int zookeepers, UnaryOperator<TandemConfig> customizer)
            throws IOException {
        Path dir = Files.createTempDirectory("tandem-cluster-");
        return start(new TandemCluster(dir, true, checkSize(brokers), checkZookeepers(zookeepers), customizer));
    }

    /**
     * As {@link #start(int, UnaryOperator)}, with {@code beforeBrokers} run once ZooKeeper serves and before the first
     * broker starts: for a test of what brokers make of znodes they find at start-up (an earlier run's state).
     */
    public static TandemCluster start(int brokers, UnaryOperator<TandemConfig> customizer,
                                      BeforeBrokers beforeBrokers) throws IOException {
        Path dir = Files.createTempDirectory("tandem-cluster-");
        TandemCluster cluster = new TandemCluster(dir, true, checkSize(brokers), 1, customizer);
        cluster.beforeBrokers = beforeBrokers;
        return start(cluster);
    }

    /**
     * As {@link #start(int, UnaryOperator, BeforeBrokers)}, waiting only for the brokers {@code awaited} accepts to
     * learn the live brokers: a broker the controller cannot reach (a test of a broker with the wrong credentials)
     * never gets an UpdateMetadata, so its cache lists no brokers, as a Kafka 3.9 broker's would.
     */
    public static TandemCluster start(int brokers, UnaryOperator<TandemConfig> customizer, BeforeBrokers beforeBrokers,
                                      IntPredicate awaited) throws IOException {
        Path dir = Files.createTempDirectory("tandem-cluster-");
        TandemCluster cluster = new TandemCluster(dir, true, checkSize(brokers), 1, customizer);
        cluster.beforeBrokers = beforeBrokers;
        cluster.awaited = awaited;
        return start(cluster);
    }

    /** As {@link #start(int, UnaryOperator)}, with the data kept in {@code dataDir} (not deleted on close). */
    public static TandemCluster start(Path dataDir, int brokers, UnaryOperator<TandemConfig> customizer)
            throws IOException {
        return start(new TandemCluster(dataDir, false, checkSize(brokers), 1, customizer));
    }

    /** What {@link #start(int, UnaryOperator, BeforeBrokers)} runs between ZooKeeper and the brokers. */
    @FunctionalInterface
    public interface BeforeBrokers {
        /** Given the ZooKeeper connect string; a failure stops the start and closes what has started. */
        void run(String zookeeperConnect) throws Exception;
    }

    private static int checkSize(int brokers) {
        if (brokers < 1) throw new IllegalArgumentException("a cluster needs at least one broker, not " + brokers);
        return brokers;
    }

    private static int checkZookeepers(int zookeepers) {
        if (zookeepers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one ZooKeeper server, not " + zookeepers);
        }
        return zookeepers;
    }

    private static TandemCluster start(TandemCluster cluster) throws IOException {
        try {
            cluster.startEnsemble();
            cluster.runBeforeBrokers();
            // One after the other: broker 1 starts first and becomes the controller, which keeps runs repeatable.
            for (int id = 1; id < cluster.brokers.length; id++) cluster.startBroker(id);
            cluster.awaitSettled();
            cluster.offerKillAndRestart();
        } catch (IOException | RuntimeException | Error e) {
            // Error too: a failed assertion in what runs before the brokers must not leave ZooKeeper running.
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void runBeforeBrokers() throws IOException {
        try {
            beforeBrokers.run(zookeeperConnect());
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted before the brokers started", e);
        } catch (Exception e) {
            throw new IOException("what was to run before the brokers failed: " + e, e);
        }
    }

    /**
     * Lets the fault endpoint and {@code tandem fault kill|restart} kill and restart this cluster's nodes, with the
     * stops and restarts below (one action at a time, on the fault controller's own thread).
     */
    private void offerKillAndRestart() {
        for (int id = 1; id <= size(); id++) {
            int broker = id;
            faults.lifecycle().register("broker" + id, new NodeLifecycle.Control() {
                @Override public void kill() { stopBroker(broker); }
                @Override public void restart() throws IOException { restartBroker(broker); }
                @Override public boolean running() { return brokers[broker] != null; }
            });
        }
        for (int id = 1; id <= zookeeperCount(); id++) {
            int member = id;
            faults.lifecycle().register("zookeeper" + id, new NodeLifecycle.Control() {
                @Override public void kill() { stopZookeeper(member); }
                @Override public void restart() throws IOException { restartZookeeper(member); }
                @Override public boolean running() { return zookeepers[member] != null; }
            });
        }
    }

    private void startEnsemble() throws IOException {
        int members = zookeeperCount();
        if (members > 1) {
            // Every member's ports are named before any member binds them: below the ephemeral range
            // (FreePorts), where no other bind(0) or outgoing connection on the machine can take one meanwhile, and
            // never handed out twice (an ephemeral port found free and closed again could be both).
            Set<Integer> ports = new TreeSet<>();
            while (ports.size() < 3 * members) ports.add(FreePorts.freePort());
            Integer[] free = ports.toArray(Integer[]::new);
            for (int id = 1; id <= members; id++) {
                zookeeperPorts[id] = free[3 * id - 3];
                serverLines.put("server." + id, "127.0.0.1:" + free[3 * id - 2] + ":" + free[3 * id - 1]);
            }
        }
        for (int id = 1; id <= members; id++) startZookeeper(id);
        awaitEnsembleServing();
    }

    private void startZookeeper(int id) throws IOException {
        String dir = zookeeperCount() == 1 ? "zookeeper" : "zookeeper" + id;
        TandemConfig config = TandemConfig.forTests(dataDir.resolve(dir)).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        if (!serverLines.isEmpty()) {
            config.set("myid", Integer.toString(id)).set("tickTime", Integer.toString(ENSEMBLE_TICK_MS))
                    .set("initLimit", "10").set("syncLimit", "5");
            serverLines.forEach(config::set);
        }
        if (zookeeperPorts[id] != 0) config.zookeeperPort(zookeeperPorts[id]);
        zookeepers[id] = Tandem.start(config, faults, "zookeeper" + id);
        zookeeperPorts[id] = zookeepers[id].zookeeperPort();
    }

    /** Waits until every running member serves: standalone, or one leader and the rest following it. */
    private void awaitEnsembleServing() {
        long deadline = System.nanoTime() + ENSEMBLE_SETTLE_MS_MAX * 1_000_000;
        String modes = "";
        while (System.nanoTime() - deadline < 0) {
            int leaders = 0;
            boolean serving = true;
            StringBuilder seen = new StringBuilder();
            for (int id = 1; id <= zookeeperCount(); id++) {
                if (zookeepers[id] == null) continue;
                String mode = zookeeperMode(id);
                seen.append(id).append('=').append(mode).append(' ');
                if (mode.equals("leader")) leaders++;
                else if (!mode.equals("follower") && !mode.equals("standalone")) serving = false;
            }
            modes = seen.toString().trim();
            if (serving && (serverLines.isEmpty() || leaders == 1)) return;
            sleep();
        }
        throw new IllegalStateException("the ZooKeeper ensemble did not serve within " + ENSEMBLE_SETTLE_MS_MAX
                + " ms (" + modes + ")");
    }

    /** A running member's role as mntr reports it: standalone, leader, follower, or looking. */
    public String zookeeperMode(int id) {
        try {
            Object mode = zookeeper(id).zooKeeperRole().monitorValues().get(5, TimeUnit.SECONDS).get("server_state");
            return String.valueOf(mode);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking ZooKeeper member " + id + " its role", e);
        } catch (ExecutionException | TimeoutException e) {
            return "unknown";
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(SETTLE_POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the cluster", e);
        }
    }

    private void startBroker(int id) throws IOException {
        int replicationFactor = Math.min(size(), DEFAULT_REPLICATION_FACTOR_MAX);
        TandemConfig config = TandemConfig.forTests(dataDir.resolve("broker" + id))
                .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", Integer.toString(id))
                .set("zookeeper.connect", zookeeperConnect())
                .set("default.replication.factor", Integer.toString(replicationFactor))
                .set("offsets.topic.replication.factor", Integer.toString(replicationFactor))
                // As Kafka's own test brokers (TestUtils.createBrokerConfig): the last broker of a cluster being
                // closed still leads partitions nobody can take, and would otherwise retry its controlled shutdown
                // for 10 s at Kafka's default backoff.
                .set("controlled.shutdown.retry.backoff.ms", "100");
        config = customizer.apply(config);
        // A restarted broker comes back where clients and the other brokers last saw it.
        if (kafkaPorts[id] != 0) config.kafkaPort(kafkaPorts[id]);
        brokers[id] = Tandem.start(config, faults, "broker" + id);
        kafkaPorts[id] = brokers[id].kafkaPort();
    }

    /** Where ZooKeeper ({@code zookeeper/}) and each broker ({@code broker<id>/}) keep their data. */
    public Path dataDir() {
        return dataDir;
    }

    /** The number of brokers, running or stopped; their ids are 1..size(). */
    public int size() {
        return brokers.length - 1;
    }

    /** Every broker's {@code 127.0.0.1:port}, stopped ones included (they come back on the same port). */
    public String bootstrapServers() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= size(); id++) hosts.add("127.0.0.1:" + kafkaPorts[id]);
        return String.join(",", hosts);
    }

    /**
     * The running brokers' {@code 127.0.0.1:port}, for a client made while some are stopped, which then never waits
     * on a stopped one.
     */
    public String runningBootstrapServers() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= size(); id++) {
            if (brokers[id] != null) hosts.add("127.0.0.1:" + kafkaPorts[id]);
        }
        return String.join(",", hosts);
    }

    /**
     * The ZooKeeper the brokers keep their metadata in (every member, stopped ones included), for a ZooKeeper client
     * or Kafka's ZooKeeper-mode tools.
     */
    public String zookeeperConnect() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= zookeeperCount(); id++) hosts.add("127.0.0.1:" + zookeeperPorts[id]);
        return String.join(",", hosts);
    }

    /** The number of ZooKeeper servers, running or stopped; their ids are 1..zookeeperCount(). */
    public int zookeeperCount() {
        return zookeepers.length - 1;
    }

    /** The running ZooKeeper server with myid {@code id} (1 for a standalone one). */
    public Tandem zookeeper(int id) {
        checkZookeeperId(id);
        if (zookeepers[id] == null) throw new IllegalStateException("ZooKeeper server " + id + " is stopped");
        return zookeepers[id];
    }

    /**
     * Stops ZooKeeper server {@code id} (its clients see their connection close and move to another member). Unlike
     * {@link #stopBroker} it returns at once: the ensemble may be without a quorum.
     */
    public void stopZookeeper(int id) {
        zookeeper(id).close();
        zookeepers[id] = null;
    }

    /** Starts a stopped ZooKeeper server again on its ports and data; returns once every running member serves. */
    public void restartZookeeper(int id) throws IOException {
        checkZookeeperId(id);
        if (zookeepers[id] != null) throw new IllegalStateException("ZooKeeper server " + id + " is running");
        startZookeeper(id);
        awaitEnsembleServing();
    }

    private void checkZookeeperId(int id) {
        if (id < 1 || id > zookeeperCount()) {
            throw new IllegalArgumentException("no ZooKeeper server " + id + " (ids are 1.." + zookeeperCount() + ")");
        }
    }

    private NodeReset reset;

    /**
     * Empties the cluster between tests, as {@link Tandem#reset()}: every topic but the internal ones, every consumer
     * group, every znode but {@code /zookeeper} and the brokers' own layout.
     */
    public synchronized void reset() throws Exception {
        if (reset == null) {
            // The brokers share one inter-broker security; whichever runs now tells it.
            ClientSecurity security = ClientSecurity.PLAINTEXT;
            for (int id = 1; id <= size(); id++) {
                if (brokers[id] != null && brokers[id].kafkaBroker() != null) {
                    security = brokers[id].kafkaBroker().interBrokerSecurity().client();
                    break;
                }
            }
            reset = new NodeReset(bootstrapServers(), security, zookeeperConnect(), true);
        }
        reset.reset();
    }

    /** The fault rules of every node of this cluster (brokers "brokerN", ZooKeeper servers "zookeeperN"). */
    public FaultController faults() {
        return faults;
    }

    /** Pauses a node: requests to it wait, unanswered, until {@link #resume} ({@link FaultController#pause}). */
    public void pause(String node) {
        checkNodeName(node);
        faults.pause(node);
    }

    /** Resumes a paused node: the requests it held are handled in order. */
    public void resume(String node) {
        checkNodeName(node);
        faults.resume(node);
    }

    /**
     * Cuts the replication and controller links between brokers {@code a} and {@code b}, both ways, until
     * {@link #heal} ({@link FaultController#partition}).
     */
    public void partition(int a, int b) {
        checkId(a);
        checkId(b);
        faults.partition("broker" + a, "broker" + b);
    }

    /** Heals the link between brokers {@code a} and {@code b}. */
    public void heal(int a, int b) {
        checkId(a);
        checkId(b);
        faults.heal("broker" + a, "broker" + b);
    }

    /**
     * Cuts two nodes apart by name until {@link #heal(String, String)}: two brokers ("broker1", "broker2") as
     * {@link #partition(int, int)}, or two ZooKeeper members ("zookeeper1", "zookeeper3"), whose quorum link then
     * carries nothing ({@link FaultController#partition}): cut a member from every other and it loses its quorum.
     */
    public void partition(String a, String b) {
        checkNodeName(a);
        checkNodeName(b);
        faults.partition(a, b);
    }

    /** Heals the link between two nodes cut apart by {@link #partition(String, String)}; false if it was not cut. */
    public boolean heal(String a, String b) {
        checkNodeName(a);
        checkNodeName(b);
        return faults.heal(a, b);
    }

    /**
     * Cuts ZooKeeper member {@code id} from every other member (an ensemble member alone on its side of a
     * partition) until {@link #rejoinZookeeper}.
     */
    public void isolateZookeeper(int id) {
        checkZookeeperId(id);
        for (int other = 1; other <= zookeeperCount(); other++) {
            if (other != id) faults.partition("zookeeper" + id, "zookeeper" + other);
        }
    }

    /** Heals every quorum link of ZooKeeper member {@code id} cut by {@link #isolateZookeeper}. */
    public void rejoinZookeeper(int id) {
        checkZookeeperId(id);
        for (int other = 1; other <= zookeeperCount(); other++) {
            if (other != id) faults.heal("zookeeper" + id, "zookeeper" + other);
        }
    }

    private void checkNodeName(String node) {
        for (int id = 1; id <= size(); id++) if (node.equals("broker" + id)) return;
        for (int id = 1; id <= zookeeperCount(); id++) if (node.equals("zookeeper" + id)) return;
        throw new IllegalArgumentException("no node '" + node + "' (brokers are broker1..broker" + size()
                + ", ZooKeeper servers zookeeper1..zookeeper" + zookeeperCount() + ")");
    }

    /** The running broker with {@code broker.id} {@code id}. */
    public Tandem broker(int id) {
        checkId(id);
        if (brokers[id] == null) throw new IllegalStateException("broker " + id + " is stopped");
        return brokers[id];
    }

    public boolean isRunning(int id) {
        checkId(id);
        return brokers[id] != null;
    }

    /** The id of the broker that is the Kafka controller now, or -1 while none is. */
    public int controllerId() {
        for (int id = 1; id <= size(); id++) {
            KafkaBroker broker = brokers[id] == null ? null : brokers[id].kafkaBroker();
            if (broker != null && broker.controller().isActive()) return id;
        }
        return -1;
    }

    /**
     * Stops broker {@code id} cleanly: its ZooKeeper session ends, so the controller at once gives its partitions
     * new leaders from their ISRs. Returns once every other running broker knows it is gone.
     */
    public void stopBroker(int id) {
        broker(id).close();
        brokers[id] = null;
        awaitSettled();
    }

    /** Starts a stopped broker again on its port and data; returns once every running broker sees it. */
    public void restartBroker(int id) throws IOException {
        checkId(id);
        if (brokers[id] != null) throw new IllegalStateException("broker " + id + " is running");
        startBroker(id);
        awaitSettled();
    }

    private void checkId(int id) {
        if (id < 1 || id > size()) throw new IllegalArgumentException("no broker " + id + " (ids are 1.." + size() + ")");
    }

    /** Waits until a controller is active and every running broker's metadata lists exactly the running brokers. */
    private void awaitSettled() {
        Set<Integer> running = new TreeSet<>();
        for (int id = 1; id <= size(); id++) {
            if (brokers[id] != null) running.add(id);
        }
        long deadline = System.nanoTime() + SETTLE_MS_MAX * 1_000_000;
        while (!settled(running)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the brokers did not agree on the live brokers " + running
                        + " within " + SETTLE_MS_MAX + " ms");
            }
            try {
                Thread.sleep(SETTLE_POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the brokers", e);
            }
        }
    }

    private boolean settled(Set<Integer> running) {
        if (!running.isEmpty() && controllerId() < 0) return false;
        for (int id : running) {
            if (!awaited.test(id)) continue;
            Set<Integer> live = new TreeSet<>();
            for (BrokerRegistration b : brokers[id].kafkaBroker().metadata().liveBrokers()) live.add(b.brokerId());
            if (!live.equals(running)) return false;
        }
        return true;
    }

    /** Stops every broker, then ZooKeeper; deletes the data if this cluster made the directory. */
    @Override
    public void close() {
        synchronized (this) {
            if (reset != null) reset.close();
            reset = null;
        }
        // Requests a fault still holds are let go first, so the nodes can close.
        faults.close();
        // Highest ids first, so the controller (broker 1 unless it moved) is not re-elected at every step.
        for (int id = size(); id >= 1; id--) {
            if (brokers[id] != null) {
                brokers[id].close();
                brokers[id] = null;
            }
        }
        for (int id = zookeeperCount(); id >= 1; id--) {
            if (zookeepers[id] != null) {
                zookeepers[id].close();
                zookeepers[id] = null;
            }
        }
        if (ownsDataDir) {
            try {
                DataDirs.deleteRecursively(dataDir);
            } catch (IOException | RuntimeException e) {
                System.getLogger(TandemCluster.class.getName()).log(System.Logger.Level.WARNING,
                        "Cannot delete the cluster's data in " + dataDir, e);
            }
        }
    }
}
