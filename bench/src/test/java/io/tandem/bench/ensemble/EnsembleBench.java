package io.tandem.bench.ensemble;

import io.tandem.bench.zookeeper.ZkBench;
import io.tandem.bench.zookeeper.ZkBench.PhaseResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * Side-by-side ensemble benchmark (three voters by default; --members 5, --observers N): a loopback ensemble of Apache ZooKeeper 3.9.5 (QuorumPeerMain) and one of
 * Tandem (./tandem start --config zoo.cfg), each node its own process with the same zoo.cfg timing. For each it runs
 * run-zk.sh's load (the official Java client, sessions spread over the servers, create/set/get/exists/delete)
 * and then measures failover: with one session writing back to back through a connect string naming every
 * servers, the leader (found with the srvr four-letter word) is SIGKILLed, and the failover time is from the kill to
 * the first write issued after it that commits; {@link PromptProbe} times the servers' part of the same kill without
 * the client's reconnect back-off. Run it with bench/run-ensemble.sh. Nothing here is asserted by a test.
 */
public final class EnsembleBench {
    /** How long a write may stay unanswered after the kill before the trial is called failed. */
    private static final long RECOVERY_WAIT_SECONDS = 120;
    private static final int WRITER_SESSION_TIMEOUT_MS = 30_000;
    /** Writes flowing before the kill, so the writer's session and connection are settled. */
    private static final long WRITES_BEFORE_KILL_MS = 2000;

    record Options(List<String> targets, int clients, int inFlight, int opsPerPhase, int dataBytes, int warmupOps,
                   int failovers, int members, int observers, boolean withPhases, Path root, Path apacheLib, Path work) {
        static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 == args.length) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(args));
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            Path root = Path.of(values.getOrDefault("root", ".")).toAbsolutePath().normalize();
            Path work = Path.of(values.getOrDefault("work", root.resolve("bench/target/zk-bench").toString()));
            return new Options(
                    List.of(values.getOrDefault("targets", "tandem,apache").split(",")),
                    Integer.parseInt(values.getOrDefault("clients", "9")),
                    Integer.parseInt(values.getOrDefault("inflight", "32")),
                    Integer.parseInt(values.getOrDefault("ops", "18000")),
                    Integer.parseInt(values.getOrDefault("data-bytes", "100")),
                    Integer.parseInt(values.getOrDefault("warmup", "3600")),
                    Integer.parseInt(values.getOrDefault("failovers", "3")),
                    Integer.parseInt(values.getOrDefault("members", Integer.toString(Ensemble.SIZE))),
                    Integer.parseInt(values.getOrDefault("observers", "0")),
                    // --load no: failovers only (the phases take most of a run; failover figures need many kills)
                    !values.getOrDefault("load", "yes").equals("no"),
                    root,
                    Path.of(values.getOrDefault("apache-lib", work.resolve("apache-zk").toString())),
                    work);
        }

        ZkBench.Options load() {
            return new ZkBench.Options(targets, clients, inFlight, opsPerPhase, dataBytes, warmupOps, root, apacheLib, work);
        }
    }

    /**
     * One kill: which node led, how long until the survivors' srvr answers showed a new leader and follower (the
     * servers' part), how long until a write issued after the kill committed (what an application sees, including the
     * client's reconnect back-off), and who leads afterwards.
     */
    record Failover(int killedLeader, LocalTime killedAt, double electedMillis, double millis, long failedAttempts,
                    String newLeader, ClientView client, double probeAttachedMillis, double probeMillis,
                    String probeAttachedTo, int probeAttempts) {
    }

    /**
     * The writer's side of one kill, from its watcher and its own thread: when its client failed its requests and when,
     * and on which server, it had its session again. Splits "kill to next committed write" into the client noticing, the client
     * finding a serving member (its back-off and host order included), and the first write's round trip after that.
     */
    static final class ClientView {
        private final AtomicLong killedAt;
        private final AtomicLong disconnectedAt = new AtomicLong();
        private final AtomicLong reconnectedAt = new AtomicLong();
        private volatile String reconnectedTo = "?";
        private volatile String connectedBefore = "?";

        ClientView(AtomicLong killedAt) {
            this.killedAt = killedAt;
        }

        void onState(KeeperState state, ZooKeeper client) {
            long now = System.nanoTime();
            long kill = killedAt.get();
            if (kill == 0) {
                if (state == KeeperState.SyncConnected && client != null) {
                    connectedBefore = remoteServer(client);
                }
                return;
            }
            if (state == KeeperState.Disconnected) {
                noticed(now);
            } else if (state == KeeperState.SyncConnected && disconnectedAt.get() != 0
                    && reconnectedAt.compareAndSet(0, now)) {
                reconnectedTo = client == null ? "?" : remoteServer(client);
            }
        }

        /** The writer's own thread saw its write fail, or the watcher saw the disconnect: whichever comes first. */
        void noticed(long now) {
            if (killedAt.get() != 0) {
                disconnectedAt.compareAndSet(0, now);
            }
        }

        double disconnectedMillis() {
            return since(disconnectedAt.get());
        }

        double reconnectedMillis() {
            return since(reconnectedAt.get());
        }

        private double since(long at) {
            return at == 0 ? Double.NaN : (at - killedAt.get()) / 1e6;
        }

        String describe(Ensemble ensemble) {
            return String.format(Locale.ROOT, "writer was on %s; its client failed its requests after %.0f ms (its socket"
                    + " clean-up sleeps 100 ms first) and had its session back on %s after %.0f ms",
                    ensemble.nameOf(connectedBefore), disconnectedMillis(),
                    ensemble.nameOf(reconnectedTo), reconnectedMillis());
        }

        /** The client's server address, "127.0.0.1:port", from ZooKeeper.toString() ("remoteserver:/127.0.0.1:port"). */
        private static String remoteServer(ZooKeeper client) {
            String text = client.toString();
            int at = text.indexOf("remoteserver:");
            if (at < 0) {
                return "?";
            }
            String rest = text.substring(at + "remoteserver:".length()).split("\\s+")[0]; // "localhost/127.0.0.1:port"
            return rest.substring(rest.lastIndexOf('/') + 1);
        }
    }

    record EnsembleResult(String name, long startupMs, double rssAfterLoadMib, List<PhaseResult> phases, List<Failover> failovers) {
        PhaseResult phase(String phase) {
            return phases.stream().filter(p -> p.phase().equals(phase)).findFirst().orElseThrow();
        }

        double medianFailoverMs() {
            return median(failovers.stream().mapToDouble(Failover::millis).toArray());
        }

        double medianElectedMs() {
            return median(failovers.stream().mapToDouble(Failover::electedMillis).toArray());
        }

        static double median(double[] values) {
            double[] sorted = Arrays.stream(values).sorted().toArray();
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int middle = sorted.length / 2;
            return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        System.out.printf(Locale.ROOT, "ZooKeeper ensemble benchmark: %d voters and %d observers on loopback, tickTime=%d"
                        + " initLimit=%d syncLimit=%d; %d clients x %d in flight, %d ops per phase, %d-byte values;"
                        + " %d failover(s); %d cores, load average %s%n",
                options.members, options.observers, Ensemble.TICK_TIME_MS, Ensemble.INIT_LIMIT_TICKS, Ensemble.SYNC_LIMIT_TICKS, options.clients, options.inFlight,
                options.opsPerPhase, options.dataBytes, options.failovers, Runtime.getRuntime().availableProcessors(), loadAverage());
        List<EnsembleResult> results = new ArrayList<>();
        for (String target : options.targets) {
            String name = target.trim();
            try {
                results.add(runAgainst(name, options));
            } catch (EnsembleUnavailable e) {
                System.out.printf(Locale.ROOT, "%n*** %s: %s%n*** skipping %s; the other targets still run.%n", name, e.getMessage(), name);
            }
        }
        System.out.printf(Locale.ROOT, "%nload average at the end: %s%n", loadAverage());
        print(results);
    }

    /** The target could not form its ensemble; the message says why and where to look. */
    static final class EnsembleUnavailable extends Exception {
        EnsembleUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static EnsembleResult runAgainst(String target, Options options) throws Exception {
        Ensemble ensemble = switch (target) {
            case "apache" -> Ensemble.prepare(target, options.work, options.members, options.observers, node -> List.of("java",
                    // zkServer.sh's default heap; forceSync stays on so every write is fsynced before it is acknowledged.
                    "-Xmx1000m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.forceSync=yes",
                    "-Dzookeeper.4lw.commands.whitelist=*",
                    "-cp", options.apacheLib.resolve("*").toString(),
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", node.config().toString()));
            case "tandem" -> Ensemble.prepare(target, options.work, options.members, options.observers, node -> List.of(
                    options.root.resolve("tandem").toString(), "start", "--roles", "zookeeper",
                    "--config", node.config().toString(), "--data-dir", node.dataDir().toString()));
            default -> throw new IllegalArgumentException("unknown target " + target + " (tandem or apache)");
        };
        System.out.printf(Locale.ROOT, "%n== %s ensemble on client ports %s ==%n", target, ensemble.connectString());
        try (ensemble) {
            try {
                ensemble.start();
            } catch (IOException e) {
                throw new EnsembleUnavailable("the ensemble did not start: " + e.getMessage(), e);
            }
            if (ensemble.modes().stream().allMatch("standalone"::equals)) {
                throw new EnsembleUnavailable("every node reports Mode: standalone: this build ignores the server.N"
                        + " lines, so it has no ensemble support yet (for Tandem: Zab wiring not merged into this branch;"
                        + " `git merge main` once it lands)", null);
            }
            if (!ensemble.formed()) {
                throw new EnsembleUnavailable("the nodes answer clients but do not report a leader and two followers ("
                        + ensemble.describeModes() + "); logs in " + ensemble.nodes().get(0).log().getParent(), null);
            }
            long startupMs = ensemble.slowestStartupMillis();
            System.out.printf(Locale.ROOT, "all serving after %d ms (slowest node, spawn to first handshake); %s%n",
                    startupMs, ensemble.describeModes());
            List<PhaseResult> phases = options.withPhases ? runLoad(ensemble, options) : List.of();
            double rssAfterLoad = ensemble.totalRssMib();
            System.out.printf(Locale.ROOT, "RSS of all nodes after load: %.1f MiB%n", rssAfterLoad);
            List<Failover> failovers = new ArrayList<>();
            for (int trial = 1; trial <= options.failovers; trial++) {
                Failover failover = failOver(ensemble);
                System.out.printf(Locale.ROOT, "failover %d: killed leader server.%d at %s; new leader reported by srvr after %.0f ms;"
                        + " first write issued after the kill committed after %.0f ms (%d failed attempts meanwhile); now %s%n"
                        + "            %s%n"
                        + "            prompt probe (no back-off): session back on %s after %.0f ms (%d attempts), its write"
                        + " committed after %.0f ms%n",
                        trial, failover.killedLeader, failover.killedAt, failover.electedMillis, failover.millis, failover.failedAttempts,
                        failover.newLeader, failover.client.describe(ensemble), failover.probeAttachedTo,
                        failover.probeAttachedMillis, failover.probeAttempts, failover.probeMillis);
                failovers.add(failover);
            }
            return new EnsembleResult(target, startupMs, rssAfterLoad, phases, failovers);
        }
    }

    /** run-zk.sh's load: session i talks to server (i mod 3), each on its own nodes, W requests in flight. */
    private static List<PhaseResult> runLoad(Ensemble ensemble, Options options) throws Exception {
        List<ZooKeeper> clients = ZkBench.connectAll(ensemble.clientAddresses(), options.clients);
        try {
            // Each session creates its own parent through its own server, so it never races a follower that has not
            // applied another session's create yet.
            for (int c = 0; c < clients.size(); c++) {
                try {
                    clients.get(c).create("/bench", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (KeeperException.NodeExistsException alreadyThere) {
                    // another session created it first
                }
                clients.get(c).create("/bench/c" + c, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            ZkBench.warmUp(clients, options.load());
            List<PhaseResult> phases = new ArrayList<>();
            for (String phase : ZkBench.PHASES) {
                java.util.Map<String, Double> cpuBefore = ensemble.cpuSnapshot();
                PhaseResult result = ZkBench.runPhase(phase, clients, options.load());
                java.util.Map<String, Double> cpuAfter = ensemble.cpuSnapshot();
                System.out.printf(Locale.ROOT, "%-7s %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms  (%d ops, %d errors)%n",
                        phase, result.opsPerSecond(), result.p50Ms(), result.p99Ms(), result.ops(), result.errors());
                // All nodes together, and the busiest thread groups (the leader's show the proposal path).
                System.out.printf(Locale.ROOT, "        ensemble CPU %s%n",
                        io.tandem.bench.ThreadCpu.perOperation(cpuBefore, cpuAfter, result.ops(), 6));
                phases.add(result);
            }
            return phases;
        } finally {
            for (ZooKeeper client : clients) {
                client.close();
            }
        }
    }

    /**
     * One failover trial. A session connected with every server in its connect string writes back to back
     * (synchronous setData, retried on connection loss, as an application would). Once writes flow, the leader is
     * SIGKILLed; the time counted is from just before the kill to the commit of the first write issued after it (a
     * write issued before the kill may still commit afterwards and proves nothing about the new leader). The killed
     * node is then restarted and the ensemble left whole for the next trial.
     */
    private static Failover failOver(Ensemble ensemble) throws Exception {
        Ensemble.Node leader = ensemble.leader().orElseThrow(
                () -> new IOException("no single leader to kill: " + ensemble.describeModes()));
        AtomicLong killedAt = new AtomicLong();
        AtomicLong firstCommitAfterKill = new AtomicLong();
        AtomicLong failedAttempts = new AtomicLong();
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch recovered = new CountDownLatch(1);
        ClientView view = new ClientView(killedAt);
        List<Ensemble.Node> survivors = ensemble.nodes().stream().filter(n -> n.id() != leader.id()).toList();
        PromptProbe probe = new PromptProbe(leader, survivors);
        ZooKeeper[] writer;
        try {
            writer = new ZooKeeper[] {connect(ensemble.connectString(), view)};
        } catch (Exception e) {
            probe.close();
            throw e;
        }
        try {
            try {
                writer[0].create("/failover", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException earlierTrial) {
                // left by the previous trial
            }
            Thread writes = new Thread(() -> {
                long sequence = 0;
                while (recovered.getCount() > 0) {
                    long issuedAt = System.nanoTime();
                    try {
                        writer[0].setData("/failover", Long.toString(sequence++).getBytes(StandardCharsets.US_ASCII), -1);
                        long committedAt = System.nanoTime();
                        writing.countDown();
                        long kill = killedAt.get();
                        if (kill != 0 && issuedAt >= kill) {
                            firstCommitAfterKill.set(committedAt);
                            recovered.countDown();
                        }
                    } catch (KeeperException.SessionExpiredException expired) {
                        // Not expected within the session timeout; if it happens, carry on with a new session.
                        failedAttempts.incrementAndGet();
                        try {
                            writer[0].close();
                            writer[0] = connect(ensemble.connectString(), view);
                        } catch (Exception e) {
                            failedAttempts.incrementAndGet();
                        }
                    } catch (KeeperException e) {
                        view.noticed(System.nanoTime());
                        failedAttempts.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "failover-writer");
            writes.start();
            if (!writing.await(30, TimeUnit.SECONDS)) {
                throw new IOException("the failover writer could not write before the kill");
            }
            Thread.sleep(WRITES_BEFORE_KILL_MS);
            failedAttempts.set(0);
            LocalTime killedAtClock = LocalTime.now().truncatedTo(ChronoUnit.MILLIS);
            killedAt.set(System.nanoTime());
            ensemble.kill(leader);
            // Started once the process is gone: before that, a survivor would still take the write to the old leader.
            Thread probing = new Thread(() -> probe.run(killedAt.get() + TimeUnit.SECONDS.toNanos(RECOVERY_WAIT_SECONDS)),
                    "failover-probe");
            probing.start();
            double electedMillis = Double.NaN;
            long pollUntil = killedAt.get() + TimeUnit.SECONDS.toNanos(RECOVERY_WAIT_SECONDS);
            while (System.nanoTime() < pollUntil) {
                if (ensemble.formedWithout(leader)) {
                    electedMillis = (System.nanoTime() - killedAt.get()) / 1e6;
                    break;
                }
                Thread.sleep(10);
            }
            boolean done = recovered.await(RECOVERY_WAIT_SECONDS, TimeUnit.SECONDS);
            if (!done) {
                writes.interrupt();
                throw new IOException("no write committed within " + RECOVERY_WAIT_SECONDS + " s of killing server."
                        + leader.id() + "; " + ensemble.describeModes());
            }
            writes.join();
            probing.join();
            double millis = (firstCommitAfterKill.get() - killedAt.get()) / 1e6;
            String newLeader = ensemble.leader().map(n -> "server." + n.id() + " leads").orElse(ensemble.describeModes());
            ensemble.restart(leader);
            awaitFormed(ensemble);
            return new Failover(leader.id(), killedAtClock, electedMillis, millis, failedAttempts.get(), newLeader, view,
                    probe.attachedMillis(killedAt.get()), probe.committedMillis(killedAt.get()),
                    ensemble.nameOf(probe.attachedTo()), probe.attempts());
        } finally {
            probe.close();
            writer[0].close();
        }
    }

    /** After a restart the node answers clients once it has synced; wait until it also reports its mode. */
    private static void awaitFormed(Ensemble ensemble) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RECOVERY_WAIT_SECONDS);
        while (!ensemble.formed()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the ensemble did not re-form after the restart: " + ensemble.describeModes());
            }
            Thread.sleep(100);
        }
    }

    private static ZooKeeper connect(String connect, ClientView view) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper[] client = {null};
        client[0] = new ZooKeeper(connect, WRITER_SESSION_TIMEOUT_MS, event -> {
            view.onState(event.getState(), client[0]);
            if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            client[0].close();
            throw new IOException("could not connect to " + connect);
        }
        view.onState(KeeperState.SyncConnected, client[0]); // the first event may have come before client[0] was set
        return client[0];
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void print(List<EnsembleResult> results) {
        System.out.printf(Locale.ROOT, "%n== summary ==%n");
        System.out.printf(Locale.ROOT, "| ensemble | phase | ops/s | p50 ms | p99 ms | errors |%n|---|---|---:|---:|---:|---:|%n");
        for (EnsembleResult result : results) {
            for (PhaseResult phase : result.phases) {
                System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.3f | %.3f | %d |%n",
                        result.name, phase.phase(), phase.opsPerSecond(), phase.p50Ms(), phase.p99Ms(), phase.errors());
            }
        }
        System.out.printf(Locale.ROOT, "%n| ensemble | start-up ms (slowest node) | RSS after load MiB (all nodes) | new leader ms, each kill | median"
                + " | kill to next committed write ms, each kill | median |%n|---|---:|---:|---|---:|---|---:|%n");
        for (EnsembleResult result : results) {
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %s | %.0f | %s | %.0f |%n", result.name, result.startupMs,
                    result.rssAfterLoadMib,
                    joined(result.failovers.stream().mapToDouble(Failover::electedMillis).toArray()), result.medianElectedMs(),
                    joined(result.failovers.stream().mapToDouble(Failover::millis).toArray()), result.medianFailoverMs());
        }
        System.out.printf(Locale.ROOT, "%n| ensemble | writer's client failed its requests, ms each kill | median | session back, ms each kill"
                + " | median | last stage: session back to the write's commit, ms each kill | median |%n|---|---|---:|---|---:|---|---:|%n");
        for (EnsembleResult result : results) {
            double[] seen = result.failovers.stream().mapToDouble(f -> f.client().disconnectedMillis()).toArray();
            double[] back = result.failovers.stream().mapToDouble(f -> f.client().reconnectedMillis()).toArray();
            double[] last = result.failovers.stream().mapToDouble(f -> f.millis() - f.client().reconnectedMillis()).toArray();
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %s | %.0f | %s | %.0f |%n", result.name, joined(seen),
                    EnsembleResult.median(seen), joined(back), EnsembleResult.median(back), joined(last),
                    EnsembleResult.median(last));
        }
        System.out.printf(Locale.ROOT, "%n| ensemble | prompt probe: session back, ms each kill | median | prompt probe: write committed,"
                + " ms each kill | median |%n|---|---|---:|---|---:|%n");
        for (EnsembleResult result : results) {
            double[] back = result.failovers.stream().mapToDouble(Failover::probeAttachedMillis).toArray();
            double[] committed = result.failovers.stream().mapToDouble(Failover::probeMillis).toArray();
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %s | %.0f |%n", result.name, joined(back),
                    EnsembleResult.median(back), joined(committed), EnsembleResult.median(committed));
        }
        Optional<EnsembleResult> tandem = results.stream().filter(r -> r.name.equals("tandem")).findFirst();
        Optional<EnsembleResult> apache = results.stream().filter(r -> r.name.equals("apache")).findFirst();
        if (tandem.isEmpty() || apache.isEmpty()) {
            System.out.printf(Locale.ROOT, "%n(ratios need both a tandem and an apache ensemble)%n");
            return;
        }
        EnsembleResult t = tandem.get();
        EnsembleResult a = apache.get();
        System.out.printf(Locale.ROOT, "%n| phase | ops/s Tandem/Apache | p50 Tandem/Apache | p99 Tandem/Apache |%n|---|---:|---:|---:|%n");
        for (String phase : t.phases.isEmpty() || a.phases.isEmpty() ? List.<String>of() : ZkBench.PHASES) {
            PhaseResult tp = t.phase(phase);
            PhaseResult ap = a.phase(phase);
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f |%n", phase,
                    tp.opsPerSecond() / ap.opsPerSecond(), tp.p50Ms() / ap.p50Ms(), tp.p99Ms() / ap.p99Ms());
        }
        System.out.printf(Locale.ROOT, "| new leader (median) | | %.2f (time) | |%n", t.medianElectedMs() / a.medianElectedMs());
        System.out.printf(Locale.ROOT, "| kill to next committed write (median) | | %.2f (time) | |%n",
                t.medianFailoverMs() / a.medianFailoverMs());
        System.out.printf(Locale.ROOT, "| kill to the prompt probe's committed write (median) | | %.2f (time) | |%n",
                EnsembleResult.median(t.failovers.stream().mapToDouble(Failover::probeMillis).toArray())
                        / EnsembleResult.median(a.failovers.stream().mapToDouble(Failover::probeMillis).toArray()));
    }

    private static String joined(double[] millis) {
        return String.join(", ", Arrays.stream(millis).mapToObj(m -> String.format(Locale.ROOT, "%.0f", m)).toList());
    }

    private EnsembleBench() {
    }
}
