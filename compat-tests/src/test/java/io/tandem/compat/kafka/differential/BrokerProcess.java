package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A broker in its own JVM, as the differential tests run Apache's ({@link ApacheBroker}) and Tandem's
 * ({@link TandemBrokerProcess}): the subclass says how to start it ({@link #launch}); this class starts it again after
 * a kill with the same command, appends its output to one log, and kills it if the test JVM exits first (a broker left
 * behind would keep its port and its ZooKeeper registration into the next test run).
 */
abstract class BrokerProcess implements AutoCloseable {
    private ProcessBuilder command;
    private Path log;
    private String name;
    private Process process;
    private Thread killOnExit;

    /**
     * Starts the broker with {@code command}, its output going to {@code log}: called once, by the subclass's
     * constructor. {@code name} names the shutdown hook's thread ("name-kill-on-exit").
     */
    final void launch(ProcessBuilder command, Path log, String name) throws IOException {
        if (this.command != null) throw new IllegalStateException("launched already");
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

    final boolean alive() {
        return process.isAlive();
    }

    final String logTail() {
        return ApacheKafkaLauncher.tail(log);
    }

    /**
     * SIGKILL, as a crash: no controlled shutdown, the ZooKeeper session (and so the registration and, if it held it,
     * {@code /controller}) lives on until its timeout; returns once the process is gone.
     */
    final void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        forgetHook();
    }

    /** Starts the broker again after {@link #kill()} or {@link #close()}: the same settings, data and port. */
    final void restart() throws IOException {
        if (process.isAlive()) throw new IllegalStateException("still running");
        start();
    }

    /** SIGTERM (a controlled shutdown), then SIGKILL if it has not ended within 30 s. */
    @Override
    public final void close() {
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
