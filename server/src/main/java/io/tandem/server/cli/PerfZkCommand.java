package io.tandem.server.cli;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem perf zk}: a ZooKeeper load in four phases, each over --ops znodes under a fresh parent: create, set,
 * get, delete. The ops of a phase are spread over --sessions sessions, each keeping up to --in-flight requests
 * outstanding (ZooKeeper answers a session's requests in order, so more in flight is pipelining, not parallelism).
 * The parent is removed at the end, also after a failure.
 */
@Command(name = "zk", mixinStandardHelpOptions = true, versionProvider = RootVersion.class,
        exitCodeOnInvalidInput = ExitCodes.USAGE,
        description = "Create, set, get and delete znodes and print ops/s and latency percentiles per operation.")
final class PerfZkCommand extends CliCommand {
    /** Bounds on what one run may ask for, so a typo cannot open thousands of sessions or requests. */
    static final int SESSIONS_MAX = 256;
    static final int IN_FLIGHT_MAX = 10_000;
    /** Below jute.maxbuffer's default (1,048,575 bytes) with room for the request's other fields. */
    static final int DATA_BYTES_MAX = 1_000_000;

    private static final List<String> PHASES = List.of("create", "set", "get", "delete");

    @Mixin Zk zk;
    @Mixin OutputOption output;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "1000",
            description = "Znodes, hence operations per phase (default 1000).")
    int ops;

    @Option(names = "--sessions", paramLabel = "N", defaultValue = "1", description = "Sessions (default 1).")
    int sessions;

    @Option(names = "--in-flight", paramLabel = "N", defaultValue = "10",
            description = "Outstanding requests per session (default 10).")
    int inFlight;

    @Option(names = "--data-size", paramLabel = "BYTES", defaultValue = "100",
            description = "Bytes of data per create and set (default 100).")
    int dataSize;

    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/tandem-perf",
            description = "Where the run's parent znode is created (a unique child of this path, which must exist"
                    + " unless it is the default).")
    String base;

    @Override
    protected int execute() throws Exception {
        if (ops <= 0) throw new IllegalArgumentException("--ops must be at least 1");
        if (sessions <= 0 || sessions > SESSIONS_MAX) {
            throw new IllegalArgumentException("--sessions must be between 1 and " + SESSIONS_MAX);
        }
        if (inFlight <= 0 || inFlight > IN_FLIGHT_MAX) {
            throw new IllegalArgumentException("--in-flight must be between 1 and " + IN_FLIGHT_MAX);
        }
        if (dataSize < 0 || dataSize > DATA_BYTES_MAX) {
            throw new IllegalArgumentException("--data-size must be between 0 and " + DATA_BYTES_MAX);
        }
        byte[] data = new byte[dataSize];
        List<ZkClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) clients.add(zk.connect(event -> { }));
            ZkClient first = clients.get(0);
            if (base.equals("/tandem-perf")) {
                createIfAbsent(first, base);
            }
            String parent = base + "/run-" + UUID.randomUUID();
            zk.await(first.create(parent, new byte[0], Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            Map<String, Object> phases = new LinkedHashMap<>();
            try {
                for (String phase : PHASES) {
                    PerfLatency latency = new PerfLatency();
                    long elapsed = run(clients, phase, parent, data, latency);
                    Map<String, Object> figures = new LinkedHashMap<>();
                    figures.put("ops", latency.count());
                    figures.put("opsPerSecond", PerfLatency.perSecond(latency.count(), elapsed));
                    figures.put("latencyMs", latency.percentilesMs());
                    phases.put(phase, figures);
                    if (!output.json()) {
                        out().println(phase + ": " + latency.count() + " ops, "
                                + PerfLatency.perSecond(latency.count(), elapsed) + " ops/sec, latency "
                                + latency.summary());
                        out().flush();
                    }
                }
            } finally {
                zk.await(first.delete(parent, -1).exceptionally(e -> null));
            }
            if (output.json()) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("sessions", sessions);
                result.put("inFlight", inFlight);
                result.put("dataSize", dataSize);
                result.put("phases", phases);
                Json.print(out(), result);
            }
            return ExitCodes.OK;
        } finally {
            for (ZkClient client : clients) client.close();
        }
    }

    private void createIfAbsent(ZkClient client, String path) throws Exception {
        try {
            zk.await(client.create(path, new byte[0], Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        } catch (io.tandem.zk.client.ZkException e) {
            if (e.code() != io.tandem.zk.wire.KeeperCode.NODE_EXISTS) throw e;
        }
    }

    /** One phase: op i goes to session i % sessions; returns the phase's elapsed nanoseconds. */
    private long run(List<ZkClient> clients, String phase, String parent, byte[] data, PerfLatency latency)
            throws Exception {
        List<Semaphore> windows = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) windows.add(new Semaphore(inFlight));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < ops && failure.get() == null; i++) {
            int session = i % clients.size();
            Semaphore window = windows.get(session);
            if (!window.tryAcquire(zk.timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new CliException(ExitCodes.UNREACHABLE, phase + ": no answer within " + zk.timeoutMs + " ms");
            }
            ZkClient client = clients.get(session);
            String path = parent + "/n" + i;
            long before = System.nanoTime();
            CompletableFuture<?> op = switch (phase) {
                case "create" -> client.create(path, data, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                case "set" -> client.setData(path, data, -1);
                case "get" -> client.getData(path, false);
                default -> client.delete(path, -1);
            };
            op.whenComplete((result, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else {
                    latency.record(System.nanoTime() - before);
                }
                window.release();
            });
        }
        // Every window full again means every request of the phase was answered.
        for (Semaphore window : windows) {
            if (!window.tryAcquire(inFlight, zk.timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new CliException(ExitCodes.UNREACHABLE, phase + ": no answer within " + zk.timeoutMs + " ms");
            }
        }
        long elapsed = System.nanoTime() - start;
        Throwable error = failure.get();
        if (error != null) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (cause instanceof io.tandem.zk.client.ZkException zkError) throw zkError;
            throw new CliException(ExitCodes.ERROR, phase + " failed: " + cause);
        }
        return elapsed;
    }
}
