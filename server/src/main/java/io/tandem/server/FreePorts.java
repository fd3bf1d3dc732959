package io.tandem.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports to name before whatever listens on them starts: an ensemble's server lines, which every member must know
 * before any binds ({@link TandemCluster}), a test's child process's listeners, a port that must stay closed.
 *
 * <p>A port found free by {@code bind(0)} and released at once is an ephemeral port: until our server binds it,
 * another {@code bind(0)} or an outgoing connection on the machine may take it, and a member then fails to start with
 * "Address already in use". So the ports handed out here lie below the kernel's ephemeral range, where neither lands;
 * a JVM hands out a port again only after it has gone round its whole share, and a port is handed out only after a
 * bind shows nothing else on the machine holds it. JVMs that hand out ports at once on one machine (surefire runs
 * this module's test classes in two: forkCount in server/pom.xml) each take their own residue class of that span:
 * {@code tandem.test.fork} (surefire's forkNumber) of {@code tandem.test.forks}, so two of them never hand out the
 * same port; a JVM without them has the whole span.
 */
public final class FreePorts {
    /** Above the ports well-known services use. */
    private static final int LOW = 20_000;
    /** Where {@link #freeBlock} hands out blocks of consecutive ports, up to {@link #LOW}. */
    private static final int BLOCK_LOW = 10_000;
    private static final int HIGH = ephemeralLow();
    private static final int FORKS = Math.max(1, Integer.getInteger("tandem.test.forks", 1));
    private static final int FORK = Math.floorMod(forkNumber() - 1, FORKS);
    private static final int SLOTS = (HIGH - LOW) / FORKS;
    /** Starts anywhere in the share, so two builds on one machine (other worktrees) seldom probe the same ports. */
    private static final AtomicInteger NEXT =
            new AtomicInteger(SLOTS > 0 ? ThreadLocalRandom.current().nextInt(SLOTS) : 0);

    private FreePorts() {}

    /** A port nothing listened on a moment ago, which no other fork of this build will hand out. */
    public static int freePort() throws IOException {
        if (SLOTS < 100) return ephemeral(); // an ephemeral range reaching down to LOW leaves no safe span
        for (int tries = 0; tries < SLOTS; tries++) {
            int port = LOW + Math.floorMod(NEXT.getAndIncrement(), SLOTS) * FORKS + FORK;
            try (ServerSocket socket = new ServerSocket(port)) {
                return socket.getLocalPort();
            } catch (IOException taken) {
                // held by something else on the machine: try the next one
            }
        }
        throw new IOException("no free port in " + LOW + ".." + HIGH + " for fork " + FORK + " of " + FORKS);
    }

    /**
     * The first of {@code length} consecutive ports nothing listened on a moment ago, for a harness that derives every
     * port of a cluster from one offset (kazoo's: member i listens on offset+10i .. offset+10i+3). Consecutive ports
     * cannot come from the residue classes above, so blocks lie below them, in {@value #BLOCK_LOW}..{@value #LOW},
     * each fork in its own half: no fork's single ports and no other fork's block fall inside one.
     */
    public static int freeBlock(int length) throws IOException {
        int share = (LOW - BLOCK_LOW) / FORKS;
        if (length < 1 || length >= share) throw new IllegalArgumentException("a block of " + length + " ports");
        int base = BLOCK_LOW + FORK * share;
        for (int tries = 0; tries < 200; tries++) {
            int offset = base + ThreadLocalRandom.current().nextInt(share - length + 1);
            boolean free = true;
            for (int port = offset; port < offset + length && free; port++) {
                free = bindable(port);
            }
            if (free) return offset;
        }
        throw new IOException("no " + length + " free consecutive ports in fork " + FORK + "'s share of "
                + BLOCK_LOW + ".." + LOW);
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port)) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** This JVM's residue class (0 up) among {@link #forks()}. */
    static int fork() {
        return FORK;
    }

    static int forks() {
        return FORKS;
    }

    /** The first port of the kernel's ephemeral range (or 32768, whichever is lower): handed-out ports lie below. */
    static int ephemeralRangeStart() {
        return HIGH;
    }

    /** Surefire's fork number, 1 up; the pom passes it as "fork N" (see there why it has a prefix). */
    private static int forkNumber() {
        String digits = System.getProperty("tandem.test.fork", "1").replaceAll("\\D", "");
        return digits.isEmpty() ? 1 : Integer.parseInt(digits);
    }

    /** Ports {@link #ephemeral()} handed out: the kernel may offer a just-closed one again. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private static int ephemeral() throws IOException {
        while (true) {
            try (ServerSocket socket = new ServerSocket(0)) {
                if (HANDED_OUT.add(socket.getLocalPort())) return socket.getLocalPort();
            }
        }
    }

    /**
     * The lowest port the kernel picks for {@code bind(0)} and outgoing connections: Linux publishes its range;
     * elsewhere (and by default on Linux) it starts at or above 32768.
     */
    private static int ephemeralLow() {
        try {
            // readAllLines, not readString: JDK 17's readString trusts the size a /proc file reports and read "3".
            String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
            return Math.min(32_768, Integer.parseInt(range.split("\\s+")[0]));
        } catch (IOException | RuntimeException unknown) {
            return 32_768;
        }
    }
}
