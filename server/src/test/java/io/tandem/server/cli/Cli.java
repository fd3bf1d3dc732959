package io.tandem.server.cli;

import io.tandem.server.Main;
import io.tandem.server.TestPorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** Runs {@code tandem ...} in-process exactly as the launcher does (Main's command line), capturing its output. */
final class Cli {
    private Cli() {
    }

    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** A command running on another thread, its output readable while it runs. */
    record Running(CompletableFuture<Integer> exitCode, StringWriter out, StringWriter err) {
        /** Waits until the command has printed {@code text} to its standard error (its "watching ..." line). */
        void awaitErr(String text, long timeoutMs) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (!err.toString().contains(text)) {
                if (System.nanoTime() - deadline > 0 || exitCode.isDone()) {
                    throw new AssertionError("no \"" + text + "\" within " + timeoutMs + " ms: " + err);
                }
                Thread.sleep(20);
            }
        }

        Result get(long timeoutMs) throws Exception {
            return new Result(exitCode.get(timeoutMs, TimeUnit.MILLISECONDS), out.toString(), err.toString());
        }
    }

    /** Starts {@code tandem ...} on another thread, as {@link #run} does. */
    static Running start(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        CompletableFuture<Integer> exitCode = new CompletableFuture<>();
        // A thread of its own: commands that wait for events must run together, whatever the common pool's size.
        Thread thread = new Thread(() -> {
            try {
                exitCode.complete(commandLine.execute(args));
            } catch (Throwable e) {
                exitCode.completeExceptionally(e);
            }
        }, "cli-" + String.join("-", args).replaceAll("[^A-Za-z0-9-]", ""));
        thread.setDaemon(true);
        thread.start();
        return new Running(exitCode, out, err);
    }

    /** A loopback port nothing listens on (bound and released at once), for "unreachable" cases. */
    static int closedPort() throws java.io.IOException {
        return TestPorts.freePort();
    }
}
