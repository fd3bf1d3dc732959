package io.tandem.server;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * What a server process does when memory runs out: it stops at once, with one log line and exit status 3 (the status
 * the JVM's {@code -XX:+ExitOnOutOfMemoryError}, which the launcher sets, uses for the heap), so a supervisor restarts
 * it. Without this a node whose memory is full keeps its sockets open and answers nothing: an OutOfMemoryError caught
 * by an event loop or an executor only ends that one task, and the next one fails the same way. Apache ZooKeeper's
 * critical threads exit the process for the same reason.
 *
 * <p>The JVM flag covers the heap; this covers what the flag does not: direct buffer memory ("Cannot reserve ... bytes
 * of direct buffer memory" is thrown by Java code, not by the JVM) and any OutOfMemoryError that reaches a Netty
 * {@code exceptionCaught} or a thread's end. No acknowledged write is lost by stopping: ZooKeeper answers a write
 * after its log's fsync, and Kafka after the append, which a process exit leaves in the page cache.
 *
 * <p>Only {@code tandem start} installs this; an application embedding Tandem (a JUnit test) keeps its own policy.
 */
public final class FatalErrors {
    /** The exit status, as the JVM's ExitOnOutOfMemoryError. */
    public static final int OUT_OF_MEMORY_EXIT = 3;
    private static final Logger LOG = System.getLogger(FatalErrors.class.getName());
    private static volatile boolean exitOnOutOfMemory;

    private FatalErrors() {
    }

    /** Makes this process exit on an OutOfMemoryError seen anywhere (called by {@code tandem start} only). */
    public static void installForProcess() {
        exitOnOutOfMemory = true;
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
            check(error);
            if (previous != null) {
                previous.uncaughtException(thread, error);
            } else {
                LOG.log(Level.ERROR, "Uncaught in thread " + thread.getName(), error);
            }
        });
    }

    /** Called where a Throwable is caught and the work carries on: stops the process if memory ran out. */
    public static void check(Throwable error) {
        if (!exitOnOutOfMemory) return;
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof OutOfMemoryError) {
                // halt, not exit: shutdown hooks would need memory and may wait on the threads that failed.
                System.err.println("Tandem is out of memory and stops (exit " + OUT_OF_MEMORY_EXIT + "): " + cause);
                System.err.flush();
                Runtime.getRuntime().halt(OUT_OF_MEMORY_EXIT);
            }
            if (cause.getCause() == cause) break;
        }
    }
}
