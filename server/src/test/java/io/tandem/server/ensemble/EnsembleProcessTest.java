package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Tandem processes on loopback: clients write under load while the leader is killed with SIGKILL and
 * restarted, and while member 3 is cut off from the others by a fault-injecting proxy on its peer links. Afterwards
 * every acknowledged write is on every member and the trees are identical.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class EnsembleProcessTest {
    private static final int SIZE = 3;
    private static final int TICK_MS = 200;

    @TempDir
    Path dir;
    private final int[] clientPorts = new int[SIZE + 1];
    private final int[] quorumPorts = new int[SIZE + 1];
    private final Process[] processes = new Process[SIZE + 1];
    private final List<FaultyProxy> proxies = new ArrayList<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean writing = true;
    /** When the leader was killed (0 before), and when a write sent after that was first acknowledged. */
    private volatile long killedAtNanos;
    private final AtomicLong firstAckAfterKillNanos = new AtomicLong();

    @AfterEach
    void stopEverything() throws Exception {
        writing = false;
        for (Thread writer : writers) {
            writer.join(15_000);
        }
        for (int id = 1; id <= SIZE; id++) {
            if (processes[id] != null) {
                processes[id].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        for (FaultyProxy proxy : proxies) {
            proxy.close();
        }
    }

    private void start(int id, Map<Integer, Integer> peerPorts) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--roles", "zookeeper", "--data-dir", dir.resolve("node" + id).toString(),
                "--zk-port", Integer.toString(clientPorts[id]),
                "--set", "myid=" + id, "--set", "tickTime=" + TICK_MS, "--set", "initLimit=10",
                "--set", "syncLimit=5", "--set", "maxSessionTimeout=30000"));
        for (int peer = 1; peer <= SIZE; peer++) {
            int port = peerPorts.getOrDefault(peer, quorumPorts[peer]);
            command.add("--set");
            command.add("server." + peer + "=127.0.0.1:" + port + ":" + TestEnsemble.freePort());
        }
        File log = dir.resolve("node" + id + ".log").toFile();
        processes[id] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private int awaitServing(long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            int leader = -1;
            int leaders = 0;
            boolean allServing = true;
            StringBuilder modes = new StringBuilder();
            for (int id = 1; id <= SIZE; id++) {
                String mode = TestEnsemble.modeAt(clientPorts[id]);
                modes.append(id).append('=').append(mode).append(' ');
                if (mode.equals("leader")) {
                    leader = id;
                    leaders++;
                } else if (!mode.equals("follower")) {
                    allServing = false;
                }
            }
            last = modes.toString();
            if (allServing && leaders == 1) {
                return leader;
            }
            Thread.sleep(100);
        }
        for (int id = 1; id <= SIZE; id++) {
            List<String> lines = Files.readAllLines(dir.resolve("node" + id + ".log"), StandardCharsets.UTF_8);
            System.out.println("---- node " + id + " log tail\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        }
        throw new AssertionError("ensemble did not settle within " + timeoutMs + " ms: " + last);
    }

    @Test
    void acknowledgedWritesSurviveALeaderKillAndAFollowerCutOff() throws Exception {
        for (int id = 1; id <= SIZE; id++) {
            clientPorts[id] = TestEnsemble.freePort();
            quorumPorts[id] = TestEnsemble.freePort();
        }
        // Member 3 reaches members 1 and 2 only through proxies (the higher id dials), so cutting them isolates it.
        FaultyProxy to1 = new FaultyProxy(quorumPorts[1]);
        FaultyProxy to2 = new FaultyProxy(quorumPorts[2]);
        proxies.add(to1);
        proxies.add(to2);
        start(1, Map.of());
        start(2, Map.of());
        start(3, Map.of(1, to1.port(), 2, to2.port()));
        awaitServing(60_000);

        StringBuilder connect = new StringBuilder();
        for (int id = 1; id <= SIZE; id++) {
            connect.append(id == 1 ? "" : ",").append("127.0.0.1:").append(clientPorts[id]);
        }
        try (ZooKeeper setup = TestEnsemble.client(connect.toString(), 10_000, null)) {
            setup.create("/load", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        for (int w = 0; w < 3; w++) {
            String prefix = "/load/w" + w + "-";
            Thread writer = new Thread(() -> write(connect.toString(), prefix, acknowledged));
            writer.start();
            writers.add(writer);
        }
        Thread.sleep(2_000);

        int leader = awaitServing(30_000);
        long killedAt = System.nanoTime();
        processes[leader].destroyForcibly(); // SIGKILL
        killedAtNanos = killedAt;
        while (firstAckAfterKillNanos.get() == 0) {
            assertTrue(System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(30), "no write committed after the kill");
            Thread.sleep(5);
        }
        processes[leader].waitFor(10, TimeUnit.SECONDS);
        long failoverMs = TimeUnit.NANOSECONDS.toMillis(firstAckAfterKillNanos.get() - killedAt);
        System.out.println("EnsembleProcessTest: leader " + leader + " killed with SIGKILL; next committed write after "
                + failoverMs + " ms");
        start(leader, leader == 3 ? Map.of(1, to1.port(), 2, to2.port()) : Map.of());
        awaitServing(60_000);
        Thread.sleep(1_000);

        to1.cut();
        to2.cut();
        int acknowledgedBeforeCut = acknowledged.size();
        Thread.sleep(3_000);
        to1.heal();
        to2.heal();
        awaitServing(60_000);
        Thread.sleep(1_000);
        writing = false;
        for (Thread writer : writers) {
            writer.join(15_000);
        }
        assertTrue(acknowledged.size() > acknowledgedBeforeCut, "writes continued while member 3 was cut off");

        Map<String, String> first = TestEnsemble.dump("127.0.0.1:" + clientPorts[1]);
        for (String path : acknowledged) {
            assertTrue(first.containsKey(path), "acknowledged write " + path + " is missing");
        }
        for (int id = 2; id <= SIZE; id++) {
            assertEquals(first, TestEnsemble.dump("127.0.0.1:" + clientPorts[id]), "member " + id + " differs");
        }
        System.out.println("EnsembleProcessTest: " + acknowledged.size() + " acknowledged writes on every member");
    }

    private void write(String connect, String prefix, Set<String> acknowledged) {
        try (ZooKeeper zk = TestEnsemble.client(connect, 10_000, null)) {
            for (int i = 0; writing; i++) {
                String path = prefix + i;
                long sentAt = System.nanoTime();
                try {
                    zk.create(path, path.getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);
                    acknowledged.add(path);
                    long killed = killedAtNanos;
                    if (killed != 0 && sentAt - killed >= 0) {
                        firstAckAfterKillNanos.compareAndSet(0, System.nanoTime());
                    }
                } catch (KeeperException.ConnectionLossException e) {
                    Thread.sleep(20); // unknown outcome; only acknowledged writes are checked
                } catch (KeeperException.NodeExistsException e) {
                    acknowledged.add(path);
                }
            }
        } catch (Exception e) {
            throw new AssertionError("writer " + prefix + " failed", e);
        }
    }
}
