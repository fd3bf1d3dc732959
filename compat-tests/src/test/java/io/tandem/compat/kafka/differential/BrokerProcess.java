package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A broker's own JVM, as the differential tests run Apache's ({@link ApacheBroker}) and Tandem's
 * ({@link TandemBrokerProcess}): one command, started again after a kill with the same arguments, its output appended
 * to one log, and killed if the test JVM exits first (a broker left behind would keep its port and its ZooKeeper
 * registration into the next test run).
 */
final class BrokerProcess {
    private final ProcessBuilder command;
    private final Path log;
    private final String name;
    private Process process;
    private Thread killOnExit;

    /** Starts {@code command}; {@code name} names the shutdown hook's thread ("name-kill-on-exit"). */
    BrokerProcess(ProcessBuilder command, Path log, String name) throws IOException {
        this.command = command.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        this.log = log;
        this.name = name;
        start();
    }

    private void start() throws IOException {
        process = command.start();
        killOnExit = new Thread(process::destroyForcibly, name + "-kill-on-exit");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    boolean alive() {
        return process.isAlive();
    }

    String logTail() {
        return ApacheKafkaLauncher.tail(log);
    }

    /** SIGKILL: the broker gets no controlled shutdown; returns once the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        forgetHook();
    }

    /** Starts the broker again after {@link #kill()} or {@link #close()}, with the same command. */
    void restart() throws IOException {
        if (process.isAlive()) throw new IllegalStateException("still running");
        start();
    }

    /** SIGTERM, then SIGKILL after 30 s ({@link ApacheKafkaLauncher#stop}). */
    void close() {
        ApacheKafkaLauncher.stop(process, 30);
        forgetHook();
    }

    private void forgetHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is running or ran: nothing left to undo.
        }
    }
}
