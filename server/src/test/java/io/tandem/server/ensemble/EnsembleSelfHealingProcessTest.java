package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members that heal themselves, as real processes: a rolling SIGKILL restart of all five members under client write
 * load, where the restarted members find their Zab log damaged, their newest snapshot damaged, or their data dir gone;
 * each refuses clients, re-syncs from the leader (by SNAP, streamed in small chunks, when it is far behind) and serves
 * again, and no acknowledged write is lost. A second test re-syncs a wiped member of a big tree and prints the time and
 * the members' heaps; {@code -Dtandem.resync.znodes=1000000} makes it the 1M-znode run of docs/BENCHMARKS.md.
 */
@Timeout(value = 3_600, unit = TimeUnit.SECONDS) // the 1M-znode run; the CI runs take about a minute
class EnsembleSelfHealingProcessTest {
    private static final int TICK_MS = 200;
    /** Snapshot chunks this small make even the CI trees' snapshots cross in many chunks. */
    private static final int CHUNK_BYTES = Integer.getInteger("tandem.resync.chunkBytes", 16 << 10);
    /** Acknowledged writes awaited before each kill and after the last restart: the ensemble takes writes again. */
    private static final int WRITES_BETWEEN_RESTARTS = 200;

    @TempDir
    Path dir;
    private int size;
    private int[] clientPorts;
    private int[] quorumPorts;
    private int[] electionPorts;
    private Process[] processes;
    private String heap = "256m";
    private int snapCount = 2_000;
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean writing = true;

    @AfterEach
    void stopEverything() throws Exception {
        writing = false;
        for (Thread writer : writers) {
            writer.join(15_000);
        }
        for (int id = 1; processes != null && id <= size; id++) {
            if (processes[id] != null) {
                processes[id].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private void configure(int members) throws IOException {
        size = members;
        clientPorts = new int[size + 1];
        quorumPorts = new int[size + 1];
        electionPorts = new int[size + 1];
        processes = new Process[size + 1];
        for (int id = 1; id <= size; id++) {
            clientPorts[id] = TestEnsemble.freePort();
            quorumPorts[id] = TestEnsemble.freePort();
            electionPorts[id] = TestEnsemble.freePort();
        }
    }

    private void start(int id) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dtandem.zab.snapshotChunkBytes=" + CHUNK_BYTES,
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--roles", "zookeeper", "--data-dir", dataDir(id).toString(),
                "--zk-port", Integer.toString(clientPorts[id]),
                "--set", "myid=" + id, "--set", "tickTime=" + TICK_MS, "--set", "initLimit=50",
                "--set", "syncLimit=10", "--set", "maxSessionTimeout=30000", "--set", "snapCount=" + snapCount));
        for (int peer = 1; peer <= size; peer++) {
            command.add("--set");
            command.add("server." + peer + "=127.0.0.1:" + quorumPorts[peer] + ":" + electionPorts[peer]);
        }
        File log = dir.resolve("node" + id + ".log").toFile();
        processes[id] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private Path dataDir(int id) {
        return dir.resolve("node" + id);
    }

    private Path zabDir(int id) {
        return dataDir(id).resolve("zookeeper").resolve("zab");
    }

    private void kill(int id) throws InterruptedException {
        processes[id].destroyForcibly(); // SIGKILL
        assertTrue(processes[id].waitFor(30, TimeUnit.SECONDS), "member " + id + " did not die");
        processes[id] = null;
    }

    /** Waits until every running member serves and exactly one leads; returns the leader. */
    private int awaitServing(long timeoutMs) throws Exception {
        return TestEnsemble.awaitServing(size, clientPorts, id -> processes[id] != null, dir, timeoutMs);
    }

    private String connectAll() {
        StringBuilder connect = new StringBuilder();
        for (int id = 1; id <= size; id++) {
            connect.append(id == 1 ? "" : ",").append("127.0.0.1:").append(clientPorts[id]);
        }
        return connect.toString();
    }

    private enum Damage { NONE, LOG, SNAPSHOT, WIPED }

    /** Damages a stopped member's Zab data; returns what was done, for the messages. */
    private String damage(int id, Damage damage) throws IOException {
        switch (damage) {
            case NONE -> {
                return "clean restart";
            }
            case LOG -> {
                Path file = largest(zabDir(id).resolve("log"));
                return "log " + file.getFileName() + " damaged at byte " + flipMiddle(file);
            }
            case SNAPSHOT -> {
                Path file = newest(zabDir(id).resolve("zab-snapshots"));
                return "snapshot " + file.getFileName() + " damaged at byte " + flipMiddle(file);
            }
            default -> {
                try (Stream<Path> walk = Files.walk(dataDir(id))) {
                    for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(path);
                    }
                }
                return "data dir wiped";
            }
        }
    }

    /**
     * Flips one byte in the middle of the file's data: damage inside the records, not a torn tail recovery may drop.
     * The data ends at the last non-zero byte: a transaction log is preallocated (zookeeper.preAllocSize), and a byte
     * flipped in its zero tail would only be a torn write after the records.
     */
    private static long flipMiddle(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long position = dataEnd(raf) / 2;
            raf.seek(position);
            int b = raf.read();
            raf.seek(position);
            raf.write(b ^ 0x5A);
            raf.getFD().sync();
            return position;
        }
    }

    /** Where the file's data ends: after its last non-zero byte. */
    private static long dataEnd(RandomAccessFile raf) throws IOException {
        byte[] chunk = new byte[1 << 16];
        for (long end = raf.length(); end > 0; ) {
            int length = (int) Math.min(chunk.length, end);
            raf.seek(end - length);
            raf.readFully(chunk, 0, length);
            for (int i = length - 1; i >= 0; i--) {
                if (chunk[i] != 0) {
                    return end - length + i + 1;
                }
            }
            end -= length;
        }
        return 0;
    }

    private static Path largest(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(Files::isRegularFile).max(Comparator.comparingLong(EnsembleSelfHealingProcessTest::sizeOf))
                    .orElseThrow(() -> new AssertionError("no file in " + directory));
        }
    }

    private static Path newest(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().matches("snapshot\\.[0-9a-f]{16}"))
                    .max(Comparator.comparing(Path::toString))
                    .orElseThrow(() -> new AssertionError("no snapshot in " + directory));
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private boolean setAside(int id) throws IOException {
        try (Stream<Path> files = Files.list(zabDir(id))) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("corrupt-"));
        }
    }

    @Test
    void rollingRestartOfFiveDamagedMembersUnderLoadLosesNoAcknowledgedWrite() throws Exception {
        configure(5);
        snapCount = 500; // snapshots during the run, so a damaged snapshot and a SNAP re-sync both happen
        for (int id = 1; id <= size; id++) {
            start(id);
        }
        awaitServing(120_000);
        String connect = connectAll();
        try (ZooKeeper setup = TestEnsemble.client(connect, 10_000, null)) {
            setup.create("/load", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        for (int w = 0; w < 3; w++) {
            String prefix = "/load/w" + w + "-";
            Thread writer = new Thread(() -> write(connect, prefix, acknowledged));
            writer.start();
            writers.add(writer);
        }
        // Member by member, in id order (the leader's turn comes wherever it is): killed, damaged, restarted.
        Damage[] plan = {null, Damage.NONE, Damage.LOG, Damage.SNAPSHOT, Damage.WIPED, Damage.LOG};
        for (int id = 1; id <= size; id++) {
            // By member 3's turn (its snapshot is damaged) at least 3 x 200 writes have committed, more than
            // snapCount (500), so it has a snapshot even if no write were acknowledged while members restart (about
            // 500 are each time). This was 600 a turn, about half the run's time.
            awaitWrites(acknowledged, acknowledged.size() + WRITES_BETWEEN_RESTARTS);
            kill(id);
            String what = damage(id, plan[id]);
            int before = acknowledged.size();
            start(id);
            awaitServing(180_000);
            assertFalse(Files.exists(zabDir(id).resolve("recovering")), "member " + id + " is re-synced");
            if (plan[id] == Damage.LOG || plan[id] == Damage.SNAPSHOT) {
                assertTrue(setAside(id), "member " + id + "'s damaged files are set aside");
            }
            System.out.println("EnsembleSelfHealingProcessTest: member " + id + " (" + what + ") serves again; "
                    + (acknowledged.size() - before) + " writes acknowledged meanwhile");
        }
        awaitWrites(acknowledged, acknowledged.size() + WRITES_BETWEEN_RESTARTS);
        writing = false;
        for (Thread writer : writers) {
            writer.join(15_000);
        }

        Map<String, String> first = TestEnsemble.dump("127.0.0.1:" + clientPorts[1]);
        for (String path : acknowledged) {
            assertTrue(first.containsKey(path), "acknowledged write " + path + " is missing");
        }
        for (int id = 2; id <= size; id++) {
            assertEquals(first, TestEnsemble.dump("127.0.0.1:" + clientPorts[id]), "member " + id + " differs");
        }
        System.out.println("EnsembleSelfHealingProcessTest: " + acknowledged.size()
                + " acknowledged writes on all five members after the rolling restart");
    }

    private void awaitWrites(Set<String> acknowledged, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (acknowledged.size() < count) {
            assertTrue(System.nanoTime() - deadline < 0, "writes stalled at " + acknowledged.size());
            Thread.sleep(20);
        }
    }

    private void write(String connect, String prefix, Set<String> acknowledged) {
        try (ZooKeeper zk = TestEnsemble.client(connect, 10_000, null)) {
            for (int i = 0; writing; i++) {
                String path = prefix + i;
                try {
                    zk.create(path, path.getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);
                    acknowledged.add(path);
                } catch (KeeperException.ConnectionLossException e) {
                    Thread.sleep(20); // unknown outcome; only acknowledged writes are checked
                } catch (KeeperException.NodeExistsException e) {
                    acknowledged.add(path); // an earlier attempt whose answer was lost did commit
                }
            }
        } catch (Exception e) {
            throw new AssertionError("writer " + prefix + " failed", e);
        }
    }

    /**
     * A member of three is wiped and re-synced by a SNAP of the whole tree, streamed in chunks. The CI size is small;
     * {@code -Dtandem.resync.znodes=1000000 -Dtandem.resync.heap=2g} is the 1M-znode run.
     */
    @Test
    void wipedMemberResyncsABigTreeFromTheLeader() throws Exception {
        int znodes = Integer.getInteger("tandem.resync.znodes", 10_000);
        heap = System.getProperty("tandem.resync.heap", "256m");
        snapCount = Math.max(1_000, znodes / 2);
        configure(3);
        for (int id = 1; id <= size; id++) {
            start(id);
        }
        int leader = awaitServing(120_000);
        long createStart = System.nanoTime();
        try (ZooKeeper zk = TestEnsemble.client("127.0.0.1:" + clientPorts[leader], 30_000, null)) {
            createMany(zk, znodes);
        }
        long createMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - createStart);
        int wiped = leader % size + 1;
        kill(wiped);
        damage(wiped, Damage.WIPED);
        long restartAt = System.nanoTime();
        start(wiped);
        awaitServing(600_000);
        int children;
        try (ZooKeeper zk = TestEnsemble.client("127.0.0.1:" + clientPorts[wiped], 30_000, null)) {
            CountDownLatch synced = new CountDownLatch(1);
            zk.sync("/", (rc, path, ctx) -> synced.countDown(), null);
            assertTrue(synced.await(120, TimeUnit.SECONDS));
            children = 0;
            for (String bucket : zk.getChildren("/big", false)) {
                children += zk.getChildren("/big/" + bucket, false).size();
            }
        }
        long resyncMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartAt);
        assertEquals(znodes, children, "the wiped member has the whole tree");
        long snapshotBytes = sizeOf(newest(zabDir(wiped).resolve("zab-snapshots")));
        System.out.println("EnsembleSelfHealingProcessTest: " + znodes + " znodes created in " + createMs
                + " ms; wiped member " + wiped + " re-synced (snapshot " + snapshotBytes / 1024 + " KiB in "
                + CHUNK_BYTES / 1024 + " KiB chunks) and serving in " + resyncMs + " ms; -Xmx" + heap
                + "; heap after: leader " + heapUsed(processes[leader]) + ", re-synced follower "
                + heapUsed(processes[wiped]));
    }

    /**
     * Creates {@code count} znodes of 100 bytes under /big in buckets of 10,000, many in flight, retrying those that
     * lose their connection (see {@link RetryingCreates}).
     */
    private static void createMany(ZooKeeper zk, int count) throws Exception {
        RetryingCreates.createRetrying(zk, "/big", null, 120);
        for (int bucket = 0; bucket * 10_000 < count; bucket++) {
            RetryingCreates.createRetrying(zk, "/big/b" + bucket, null, 120);
        }
        int retried = RetryingCreates.createMany(zk, count, i -> "/big/b" + i / 10_000 + "/n" + i, new byte[100],
                1_000, Math.max(300, count / 500));
        if (retried > 0) {
            System.out.println("EnsembleSelfHealingProcessTest: " + retried + " creates lost their connection "
                    + "and were retried");
        }
    }

    /** The process's used heap after a full GC, from jcmd (a figure to print, never asserted). */
    private static String heapUsed(Process process) {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            run(jcmd.toString(), Long.toString(process.pid()), "GC.run");
            String info = run(jcmd.toString(), Long.toString(process.pid()), "GC.heap_info");
            // Serial GC reports its two generations (Metaspace is not heap): their used sizes add up to the heap's.
            java.util.regex.Matcher used = java.util.regex.Pattern
                    .compile("(?:new generation|tenured generation|garbage-first heap)\\s.*?used (\\d+)K")
                    .matcher(info);
            long usedKiB = 0;
            boolean found = false;
            while (used.find()) {
                usedKiB += Long.parseLong(used.group(1));
                found = true;
            }
            return found ? usedKiB / 1024 + " MiB used" : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e + ")";
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        return output;
    }
}
