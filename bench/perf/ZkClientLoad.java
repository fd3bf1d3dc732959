import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * The load of {@code tandem perf zk}, driven by Apache's own ZooKeeper Java client instead of Tandem's: the same four
 * phases (create, set, get, delete) over --ops znodes under a fresh parent, op i on session i % --sessions, each
 * session keeping up to --in-flight requests outstanding, a latency from the call to its callback, and the same line
 * per phase, so bench/run-perf-compare.sh can set the two tools side by side against one server. Apache ships no ZooKeeper
 * load tool in its jars (zk-smoketest lives outside), so this is the comparable load. Prints figures, asserts nothing.
 * Usage: java -cp 'apache-zk/*:HdrHistogram.jar:classes' ZkClientLoad --server host:port [--ops 1000] [--sessions 1]
 * [--in-flight 10] [--data-size 100]
 */
public final class ZkClientLoad {
    private static final long LATENCY_MICROS_MAX = 600_000_000L;

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>(Map.of("ops", "1000", "sessions", "1", "in-flight", "10",
                "data-size", "100"));
        for (int i = 0; i + 1 < args.length; i += 2) options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        String server = options.get("server");
        if (server == null) throw new IllegalArgumentException("--server host:port is needed");
        int ops = Integer.parseInt(options.get("ops"));
        int sessions = Integer.parseInt(options.get("sessions"));
        int inFlight = Integer.parseInt(options.get("in-flight"));
        byte[] data = new byte[Integer.parseInt(options.get("data-size"))];
        List<ZooKeeper> clients = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) clients.add(connect(server));
            ZooKeeper first = clients.get(0);
            try {
                first.create("/tandem-perf", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException already) {
                // another run made it
            }
            String parent = "/tandem-perf/run-" + UUID.randomUUID();
            first.create(parent, new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            try {
                for (String phase : List.of("create", "set", "get", "delete")) {
                    Histogram latency = new Histogram(LATENCY_MICROS_MAX, 3);
                    long elapsed = run(clients, phase, parent, data, inFlight, ops, latency);
                    System.out.println(phase + ": " + latency.getTotalCount() + " ops, "
                            + perSecond(latency.getTotalCount(), elapsed) + " ops/sec, latency " + summary(latency));
                }
            } finally {
                first.delete(parent, -1);
            }
        } finally {
            for (ZooKeeper client : clients) client.close();
        }
    }

    private static ZooKeeper connect(String server) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper client = new ZooKeeper(server, 30_000, event -> {
            if (event.getState() == KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("cannot connect to " + server);
        return client;
    }

    private static long run(List<ZooKeeper> clients, String phase, String parent, byte[] data, int inFlight, int ops,
                            Histogram latency) throws Exception {
        List<Semaphore> windows = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) windows.add(new Semaphore(inFlight));
        AtomicReference<String> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < ops && failure.get() == null; i++) {
            int session = i % clients.size();
            Semaphore window = windows.get(session);
            window.acquire();
            ZooKeeper client = clients.get(session);
            String path = parent + "/n" + i;
            long before = System.nanoTime();
            Runnable done = () -> {
                synchronized (latency) {
                    latency.recordValue(Math.min(LATENCY_MICROS_MAX, (System.nanoTime() - before) / 1_000));
                }
                window.release();
            };
            AsyncCallback.StatCallback statDone = (rc, p, ctx, stat) -> finish(rc, p, failure, done, window);
            switch (phase) {
                case "create" -> client.create(path, data, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, p, ctx, name) -> finish(rc, p, failure, done, window), null);
                case "set" -> client.setData(path, data, -1, statDone, null);
                case "get" -> client.getData(path, false, (rc, p, ctx, bytes, stat) -> finish(rc, p, failure, done,
                        window), null);
                default -> client.delete(path, -1, (rc, p, ctx) -> finish(rc, p, failure, done, window), null);
            }
        }
        for (Semaphore window : windows) window.acquire(inFlight);
        long elapsed = System.nanoTime() - start;
        if (failure.get() != null) throw new IllegalStateException(phase + " failed: " + failure.get());
        return elapsed;
    }

    private static void finish(int rc, String path, AtomicReference<String> failure, Runnable done,
                               Semaphore window) {
        if (rc == KeeperException.Code.OK.intValue()) {
            done.run();
        } else {
            failure.compareAndSet(null, path + ": " + KeeperException.Code.get(rc));
            window.release();
        }
    }

    private static double perSecond(long count, long nanos) {
        return nanos <= 0 ? 0 : Math.round(count * 1e9 / nanos * 10) / 10.0;
    }

    /** The figures of {@code tandem perf}: avg, p50, p99, p99.9 and max in ms. */
    private static String summary(Histogram h) {
        return String.format(Locale.ROOT, "avg %.3f ms, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms",
                Math.round(h.getMean()) / 1000.0, h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
    }
}
