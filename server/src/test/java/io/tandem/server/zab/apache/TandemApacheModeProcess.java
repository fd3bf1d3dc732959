package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Tandem process started with {@code tandem.quorumProtocol=apache} as one member of an ensemble with Apache
 * ZooKeeper processes ({@link ApacheQuorumProcess}): {@code tandem start --roles zookeeper}, its data under a
 * directory kept across restarts, its output appended to {@code tandem.log} there.
 */
final class TandemApacheModeProcess implements AutoCloseable {
    /** Sessions outlive a failover on a loaded box: Apache's maxSessionTimeout is raised to match in the tests. */
    static final int SESSION_TIMEOUT_MS = 40_000;

    final Path dir;
    final Path log;
    private final java.util.Set<Long> observers;
    private final Ports me;
    private final Ports[] all;
    private Process process;

    private TandemApacheModeProcess(Path dir, java.util.Set<Long> observers, Ports me, Ports[] all)
            throws IOException {
        this.dir = Files.createDirectories(dir);
        this.log = dir.resolve("tandem.log");
        this.observers = java.util.Set.copyOf(observers);
        this.me = me;
        this.all = all.clone();
    }

    /**
     * JVM options under which Tandem's election logs each notification it receives (DEBUG, {@link ApacheElection}),
     * the rest at INFO as usual: the sign that election rounds passed, for a check that nobody gets elected.
     * The file is written into {@code dir}.
     */
    static List<String> electionDebugLogging(Path dir) throws IOException {
        Path file = Files.writeString(Files.createDirectories(dir).resolve("election-logging.properties"),
                String.join("\n", "handlers=java.util.logging.ConsoleHandler", ".level=INFO",
                        "java.util.logging.ConsoleHandler.level=FINE",
                        "java.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n",
                        ApacheElection.class.getName() + ".level=FINE"));
        return List.of("-Djava.util.logging.config.file=" + file);
    }

    /** The notifications from {@code from} that Tandem member {@code myId} logged in {@code text} (see above). */
    static int notificationsReceived(String text, long myId, long from) {
        return ApacheQuorumProcess.count(text, "server " + myId + ": from " + from + ": ");
    }

    /** Starts member {@code me} of {@code all}; {@code jvmOptions} and {@code settings} ({@code key=value}) added. */
    static TandemApacheModeProcess start(Path dir, List<String> jvmOptions, List<String> settings, Ports me,
                                         Ports... all) throws IOException {
        return start(dir, jvmOptions, settings, java.util.Set.of(), me, all);
    }

    /** As above, the members in {@code observers} configured as observers ({@code :observer}). */
    static TandemApacheModeProcess start(Path dir, List<String> jvmOptions, List<String> settings,
                                         java.util.Set<Long> observers, Ports me, Ports... all) throws IOException {
        TandemApacheModeProcess tandem = new TandemApacheModeProcess(dir, observers, me, all);
        tandem.restart(jvmOptions, settings);
        return tandem;
    }

    /** Starts the process again on the same data and ensemble (after {@link #kill}). */
    void restart(List<String> jvmOptions, List<String> settings) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tandem.server.Main",
                "start", "--roles", "zookeeper", "--data-dir", dataDir().toString(),
                "--zk-port", Integer.toString(me.clientPort()), "--set", "myid=" + me.sid(),
                "--set", "tandem.quorumProtocol=apache", "--set", "tickTime=" + ApacheQuorumProcess.TICK_TIME_MS,
                "--set", "initLimit=20", "--set", "syncLimit=5",
                "--set", "maxSessionTimeout=" + SESSION_TIMEOUT_MS));
        for (String setting : settings) {
            command.add("--set");
            command.add(setting);
        }
        for (Ports p : all) {
            command.add("--set");
            command.add("server." + p.sid() + "=" + p.host() + ":" + p.quorumPort() + ":" + p.electionPort()
                    + (observers.contains(p.sid()) ? ":observer" : ""));
        }
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    /** Where the Apache-protocol member keeps its log, epochs and snapshots. */
    Path quorumDir() {
        return dataDir().resolve("zookeeper").resolve("apache-quorum");
    }

    String logText() {
        return ApacheQuorumProcess.readLog(log);
    }

    /** The last lines of the log, for failure messages. */
    String logTail() {
        return ApacheQuorumProcess.tail(log, 60);
    }

    /** Waits until the member on {@code member}'s client port (this process) says {@code mode} in srvr. */
    void awaitMode(Ports member, String mode, long timeoutMs) throws InterruptedException {
        if (!ApacheQuorumProcess.await(() -> ApacheQuorumProcess.modeAt(member.clientPort()).equals(mode), timeoutMs)) {
            throw new AssertionError("Tandem is " + ApacheQuorumProcess.modeAt(member.clientPort()) + ", not " + mode
                    + ":\n" + logTail());
        }
    }

    /** Whether the process still runs (false once it stopped, a refused start-up included). */
    boolean alive() {
        return process != null && process.isAlive();
    }

    /** kill -9. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
