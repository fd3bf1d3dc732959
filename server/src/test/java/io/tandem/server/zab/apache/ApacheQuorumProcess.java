package io.tandem.server.zab.apache;

import io.tandem.server.TestPorts;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real Apache ZooKeeper 3.9.5 ensemble member ({@code QuorumPeerMain} from the test classpath) in its own JVM, with
 * its zoo.cfg, myid and log file under a directory of the test's. Used by the mixed-ensemble tests.
 */
final class ApacheQuorumProcess implements AutoCloseable {
    static final int TICK_TIME_MS = 500;
    /** The Apache JVM's heap: 128m unless {@code -Dtandem.apacheHeap} says more (a large tree's benchmark). */
    static final String HEAP = System.getProperty("tandem.apacheHeap", "128m");

    /**
     * One configured member's ports, and the host of its quorum and election ports (its server line's; clients
     * connect to 127.0.0.1 whatever it is).
     */
    record Ports(long sid, String host, int quorumPort, int electionPort, int clientPort) {
        Ports(long sid, int quorumPort, int electionPort, int clientPort) {
            this(sid, "127.0.0.1", quorumPort, electionPort, clientPort);
        }

        static Ports fresh(long sid) throws IOException {
            return new Ports(sid, freePort(), freePort(), freePort());
        }

        /**
         * A member whose server line names {@code host}, another loopback address (127.0.0.2, ...): members that
         * bind the same port (observerMasterPort) each on their own host, as on separate machines.
         */
        static Ports freshAt(long sid, String host) throws IOException {
            return new Ports(sid, host, freePort(), freePort(), freePort());
        }

        ApacheElection.Member member() {
            return new ApacheElection.Member(sid, host, quorumPort, electionPort, clientPort);
        }
    }

    final Ports ports;
    final Path log;
    private final Process process;

    private ApacheQuorumProcess(Ports ports, Path log, Process process) {
        this.ports = ports;
        this.log = log;
        this.process = process;
    }

    static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    static Map<Long, ApacheElection.Member> members(Ports... all) {
        Map<Long, ApacheElection.Member> members = new TreeMap<>();
        for (Ports p : all) members.put(p.sid(), p.member());
        return members;
    }

    /** Starts member {@code me} of the ensemble {@code all} with its data under {@code dir} (kept across restarts). */
    static ApacheQuorumProcess start(Path dir, Ports me, Ports... all) throws IOException {
        return start(dir, List.of(), me, all);
    }

    /** As {@link #start(Path, Ports, Ports...)}, with further zoo.cfg lines ({@code key=value}). */
    static ApacheQuorumProcess start(Path dir, List<String> extraConfig, Ports me, Ports... all) throws IOException {
        return start(dir, extraConfig, java.util.Set.of(), me, all);
    }

    /** As {@link #start(Path, List, Ports, Ports...)}, with the members in {@code observers} as observers. */
    static ApacheQuorumProcess start(Path dir, List<String> extraConfig, java.util.Set<Long> observers, Ports me,
                                     Ports... all) throws IOException {
        Path dataDir = Files.createDirectories(dir.resolve("data"));
        Files.writeString(dataDir.resolve("myid"), Long.toString(me.sid()));
        List<String> cfg = new ArrayList<>(List.of("tickTime=" + TICK_TIME_MS, "initLimit=20", "syncLimit=5",
                "dataDir=" + dataDir, "clientPort=" + me.clientPort(), "clientPortAddress=127.0.0.1",
                "4lw.commands.whitelist=srvr", "admin.enableServer=false"));
        cfg.addAll(extraConfig);
        for (Ports p : all) {
            cfg.add("server." + p.sid() + "=" + p.host() + ":" + p.quorumPort() + ":" + p.electionPort()
                    + (observers.contains(p.sid()) ? ":observer" : ""));
        }
        if (observers.contains(me.sid())) cfg.add("peerType=observer");
        Path config = dir.resolve("zoo.cfg");
        Files.write(config, cfg);
        return startOn(config, dir.resolve("apache.log"), me);
    }

    /** Runs Apache's QuorumPeerMain as member {@code me} on a zoo.cfg as it is (its dataDir holds the myid). */
    static ApacheQuorumProcess startOn(Path config, Path log, Ports me) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dzookeeper.admin.enableServer=false",
                "-cp", System.getProperty("java.class.path"), "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                config.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new ApacheQuorumProcess(me, log, process);
    }

    /** The {@code Mode:} line of {@code srvr} ("leader", "follower"), or a short reason it has none. */
    String mode() {
        return modeAt(ports.clientPort());
    }

    /** The {@code Mode:} line of {@code srvr} of whatever server listens on {@code clientPort}. */
    static String modeAt(int clientPort) {
        try (Socket socket = new Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(2_000);
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("Mode: ")) return line.substring("Mode: ".length()).trim();
            }
            return "not serving";
        } catch (IOException e) {
            return "down";
        }
    }

    /** The {@code Mode:} line of {@code srvr} of the member on {@code member}'s client port, whatever its kind. */
    static String modeOf(Ports member) {
        return modeAt(member.clientPort());
    }

    /** The index of the Apache voter whose srvr says leader, or -1. */
    static int leaderIndex(ApacheQuorumProcess[] voters) {
        for (int i = 0; i < voters.length; i++) {
            if (voters[i] != null && voters[i].mode().equals("leader")) return i;
        }
        return -1;
    }

    /** The {@code mntr} answer of whatever server listens on {@code clientPort}, or why there is none. */
    static String mntrAt(int clientPort) {
        try (Socket socket = new Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write("mntr".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "no mntr: " + e;
        }
    }

    /** The {@code mntr} answer of the member on {@code member}'s client port, whatever its kind, or why there is none. */
    static String mntr(Ports member) {
        return mntrAt(member.clientPort());
    }

    /** A gauge's value from a {@code mntr} answer, or null. */
    static String gauge(String mntr, String name) {
        for (String line : mntr.split("\n")) {
            String[] parts = line.split("\t");
            if (parts.length == 2 && parts[0].equals(name)) return parts[1].trim();
        }
        return null;
    }

    String logText() {
        return readLog(log);
    }

    /** The last lines of the log, for failure messages. */
    String logTail() {
        return tail(log, 40);
    }

    /** A member's log as it is now (Apache's or Tandem's), or why there is none. */
    static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** The last {@code count} lines of a member's log, for failure messages. */
    static String tail(Path log, int count) {
        String[] lines = readLog(log).split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - count), lines.length));
    }

    /** How often {@code phrase} stands in {@code text} (a log's lines of one kind: syncs, SNAPs). */
    static int count(String text, String phrase) {
        int n = 0;
        for (int at = text.indexOf(phrase); at >= 0; at = text.indexOf(phrase, at + 1)) n++;
        return n;
    }

    /** Polls {@code condition} every 100 ms until it holds or {@code timeoutMs} passes. */
    static boolean await(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return true;
            Thread.sleep(100);
        }
        return condition.getAsBoolean();
    }

    /** SIGSTOP: the process stays, silent, its connections open, until it is killed. */
    void stop() throws IOException, InterruptedException {
        Process signal = new ProcessBuilder("kill", "-STOP", Long.toString(process.pid())).inheritIO().start();
        if (signal.waitFor() != 0) {
            throw new IOException("kill -STOP " + process.pid() + " failed");
        }
    }

    /** SIGCONT: a process {@link #stop}ped goes on. */
    void resume() throws IOException, InterruptedException {
        Process signal = new ProcessBuilder("kill", "-CONT", Long.toString(process.pid())).inheritIO().start();
        if (signal.waitFor() != 0) {
            throw new IOException("kill -CONT " + process.pid() + " failed");
        }
    }

    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** Kills every member started so far (the array's empty places are those never started). */
    static void killAll(ApacheQuorumProcess... members) throws InterruptedException {
        for (ApacheQuorumProcess member : members) {
            if (member != null) member.kill();
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
