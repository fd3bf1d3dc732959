package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Tandem broker ({@code --roles kafka}) in its own JVM, so that a test can SIGKILL it as it kills an
 * {@link ApacheBroker}: an in-process broker can only be closed, which is a controlled shutdown. Started from this
 * JVM's class path with {@code tandem start}; restarted on the same port and data directory.
 */
final class TandemBrokerProcess implements AutoCloseable {
    private final int brokerId;
    private final Path dataDir;
    private final Path log;
    private final int port;
    private final String zookeeperConnect;
    private final List<String> settings;
    private Process process;
    private Thread killOnExit;

    /** Starts broker {@code brokerId} on {@code zookeeperConnect}; {@code settings} are extra {@code key=value}s. */
    TandemBrokerProcess(int brokerId, Path workDir, String zookeeperConnect, List<String> settings) throws IOException {
        this.brokerId = brokerId;
        this.dataDir = Files.createDirectories(workDir.resolve("data"));
        this.log = workDir.resolve("tandem.log");
        this.port = ApacheKafkaLauncher.freePort();
        this.zookeeperConnect = zookeeperConnect;
        this.settings = List.copyOf(settings);
        launch();
    }

    private void launch() throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // As the Apache broker beside it: a small heap and C1 only, the machine is shared.
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--roles", "kafka", "--data-dir", dataDir.toString(), "--kafka-port", Integer.toString(port),
                "--set", "broker.id=" + brokerId, "--set", "zookeeper.connect=" + zookeeperConnect,
                "--set", "listeners=PLAINTEXT://127.0.0.1:" + port));
        for (String setting : settings) {
            command.add("--set");
            command.add(setting);
        }
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        killOnExit = new Thread(process::destroyForcibly, "tandem-broker-kill-on-exit");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    private void forgetHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is running or ran: nothing left to undo.
        }
    }

    int brokerId() {
        return brokerId;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    boolean alive() {
        return process.isAlive();
    }

    String logTail() {
        return ApacheKafkaLauncher.tail(log);
    }

    /** SIGKILL: no controlled shutdown; the ZooKeeper session, and with it the registration, outlives the process. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        forgetHook();
    }

    /** Starts the broker again after {@link #kill()}: the same id, port and data. */
    void restart() throws IOException {
        if (process.isAlive()) throw new IllegalStateException("still running");
        launch();
    }

    @Override
    public void close() {
        ApacheKafkaLauncher.stop(process, 30);
        forgetHook();
    }
}
