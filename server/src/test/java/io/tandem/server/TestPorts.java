package io.tandem.server;

import java.io.IOException;

/**
 * Ports for tests that must name a port before whatever listens on it starts (an ensemble's server lines, a child
 * process's listeners, a port that must stay closed): {@link FreePorts}, which {@link TandemCluster} uses too, so a
 * test and the clusters it starts never hand out the same port, nor do surefire's two forks.
 */
public final class TestPorts {
    private TestPorts() {}

    /** A port nothing listened on a moment ago, which no other fork of this build will hand out. */
    public static int freePort() throws IOException {
        return FreePorts.freePort();
    }

    /** {@link FreePorts#freeBlock}: the first of {@code length} consecutive free ports, in this fork's share. */
    public static int freeBlock(int length) throws IOException {
        return FreePorts.freeBlock(length);
    }

    /** This JVM's residue class (0 up) among {@link #forks()}. */
    static int fork() {
        return FreePorts.fork();
    }

    static int forks() {
        return FreePorts.forks();
    }

    /** The first port of the kernel's ephemeral range (or 32768, whichever is lower): handed-out ports lie below. */
    static int ephemeralRangeStart() {
        return FreePorts.ephemeralRangeStart();
    }
}
