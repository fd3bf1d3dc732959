package io.tandem.server;

import java.util.concurrent.TimeUnit;

/** Counting a component's threads by name, for the tests that show nothing is left running after a close. */
public final class TestThreads {
    private TestThreads() {
    }

    /** Live threads whose names start with {@code prefix}. */
    public static int named(String prefix) {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) n++;
        }
        return n;
    }

    /**
     * Whether every thread whose name starts with {@code prefix} has ended within 10 s: a pool's termination is
     * signalled by its last thread just before that thread ends.
     */
    public static boolean noneNamed(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (named(prefix) > 0) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(20);
        }
        return true;
    }
}
