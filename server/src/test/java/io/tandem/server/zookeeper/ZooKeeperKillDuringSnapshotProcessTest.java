package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code tandem start --roles zookeeper} process, taking a background snapshot every 1,000 transactions while
 * a client writes as fast as it can, is killed with SIGKILL while a snapshot is being written (a {@code .tmp} file in
 * the snapshot directory) or, failing that, just after one: restarted on the same data, it holds every acknowledged
 * write, and every node's data matches its version (the fuzzy snapshot plus the replayed log give one consistent tree).
 */
class ZooKeeperKillDuringSnapshotProcessTest {
    private static final Pattern ZK_PORT = Pattern.compile("  ZooKeeper +127\\.0\\.0\\.1:(\\d+).*");
    private static final int NODES = 4_000;

    @TempDir
    Path dir;

    @Test
    void shouldKeepEveryAcknowledgedWriteAfterSigkillDuringBackgroundSnapshots() throws Exception {
        Path data = dir.resolve("node");
        Process node = start(data, "first");
        int port;
        Map<Integer, Integer> ackedVersion = new ConcurrentHashMap<>();
        boolean killedDuringSnapshot;
        try {
            port = awaitPort(node, dir.resolve("first.out"));
            Path snapshots = data.resolve("zookeeper").resolve("snapshots");
            try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + port)) {
                zk.create("/k", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                byte[] big = new byte[2_000]; // a larger tree makes each snapshot take a while
                Semaphore inFlight = new Semaphore(200);
                for (int i = 0; i < NODES; i++) {
                    int n = i;
                    inFlight.acquire();
                    zk.create("/k/n" + i, value(n, 0, big), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                            (rc, path, ctx, name) -> {
                                if (rc == 0) {
                                    ackedVersion.merge(n, 0, Math::max);
                                }
                                inFlight.release();
                            }, null);
                }
                // Sets keep the commit thread busy (and snapshots coming) until the kill.
                AtomicBoolean writing = new AtomicBoolean(true);
                Thread setter = new Thread(() -> {
                    int[] versions = new int[NODES];
                    try {
                        for (int round = 0; writing.get(); round++) {
                            int n = round % NODES;
                            int version = ++versions[n];
                            inFlight.acquire();
                            zk.setData("/k/n" + n, value(n, version, big), version - 1, (rc, path, ctx, stat) -> {
                                if (rc == 0) {
                                    ackedVersion.merge(n, version, Math::max);
                                }
                                inFlight.release();
                            }, null);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "setter");
                setter.setDaemon(true); // it may wait on requests the killed server never answers
                setter.start();
                killedDuringSnapshot = awaitSnapshotInProgress(snapshots, 20_000);
                node.destroyForcibly(); // SIGKILL: no shutdown snapshot, no flush of anything
                node.waitFor(30, TimeUnit.SECONDS);
                writing.set(false);
                setter.join(10_000);
            }
        } finally {
            node.destroyForcibly();
        }
        assertTrue(ackedVersion.size() > NODES / 2, "writes were acknowledged before the kill: " + ackedVersion.size());

        Process restarted = start(data, "second");
        try {
            int newPort = awaitPort(restarted, dir.resolve("second.out"));
            // For whoever reads the test's output: where the kill fell and what recovery started from.
            System.out.println((killedDuringSnapshot ? "killed during a snapshot; " : "killed after a snapshot; ")
                    + Files.readAllLines(dir.resolve("second.err")).stream()
                            .filter(line -> line.contains("ZooKeeper data recovered")).findFirst().orElse(""));
            try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + newPort)) {
                List<String> children = zk.getChildren("/k", false);
                Stat parent = zk.exists("/k", false);
                assertEquals(children.size(), parent.getNumChildren());
                for (Map.Entry<Integer, Integer> acked : ackedVersion.entrySet()) {
                    Stat stat = new Stat();
                    byte[] bytes = zk.getData("/k/n" + acked.getKey(), false, stat);
                    assertNotNull(bytes);
                    assertTrue(stat.getVersion() >= acked.getValue(), "node " + acked.getKey() + " at version "
                            + stat.getVersion() + " lost acknowledged version " + acked.getValue()
                            + (killedDuringSnapshot ? " (killed during a snapshot)" : " (killed after a snapshot)"));
                    assertEquals(header(acked.getKey(), stat.getVersion()), header(bytes),
                            "data and version of /k/n" + acked.getKey() + " disagree");
                }
            }
        } finally {
            restarted.destroy();
            restarted.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static byte[] value(int node, int version, byte[] padding) {
        byte[] head = (node + ":" + version + ";").getBytes();
        byte[] value = padding.clone();
        System.arraycopy(head, 0, value, 0, head.length);
        return value;
    }

    private static String header(int node, int version) {
        return node + ":" + version;
    }

    private static String header(byte[] value) {
        String text = new String(value, 0, 32);
        return text.substring(0, text.indexOf(';'));
    }

    /**
     * Waits until a snapshot is being written (its temporary file exists) and returns true, or, past the deadline,
     * until at least one is complete and returns false.
     */
    private static boolean awaitSnapshotInProgress(Path snapshots, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            List<String> names = list(snapshots);
            if (names.stream().anyMatch(name -> name.endsWith(".tmp"))
                    && names.stream().anyMatch(name -> !name.endsWith(".tmp"))) {
                return true; // at least one complete before it: the restart replays over a fuzzy one or the older
            }
            if (System.currentTimeMillis() > deadline && names.stream().anyMatch(name -> !name.endsWith(".tmp"))) {
                return false;
            }
            if (System.currentTimeMillis() > deadline + 60_000) {
                throw new AssertionError("no snapshot was written: " + names);
            }
            Thread.sleep(1);
        }
    }

    private static List<String> list(Path snapshots) throws IOException {
        if (!Files.isDirectory(snapshots)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(snapshots)) {
            return files.map(file -> file.getFileName().toString()).collect(Collectors.toList());
        }
    }

    private Process start(Path data, String name) throws IOException {
        // The server's own class path: the test scope's SLF4J (Apache ZooKeeper's) would print its own warnings.
        String classPath = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.contains("slf4j")).collect(Collectors.joining(java.io.File.pathSeparator));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classPath,
                "io.tandem.server.Main", "start", "--data-dir", data.toString(), "--roles", "zookeeper",
                "--zk-port", "0", "--set", "clientPortAddress=127.0.0.1", "--set", "snapCount=1000"));
        return new ProcessBuilder(command).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
    }

    private static int awaitPort(Process process, Path out) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            for (String line : Files.readAllLines(out)) {
                Matcher matcher = ZK_PORT.matcher(line);
                if (matcher.matches()) {
                    return Integer.parseInt(matcher.group(1));
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("the process ended with " + process.exitValue());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no ZooKeeper port in " + Files.readAllLines(out));
    }
}
