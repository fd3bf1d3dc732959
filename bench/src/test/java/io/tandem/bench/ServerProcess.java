package io.tandem.bench;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A benchmarked server running as its own OS process: started from a command line, timed from spawn until it first
 * answers a client, measured for resident memory through /proc, and stopped. Shared by the side-by-side benchmarks.
 */
public final class ServerProcess implements AutoCloseable {
    /** How long a server may take to answer its first client before the benchmark gives up on it. */
    private static final long STARTUP_WAIT_MS_MAX = 120_000;

    /** A check that the server is answering: returns normally once it is, throws while it is not. */
    @FunctionalInterface
    public interface ReadinessProbe {
        void probe() throws IOException;
    }

    private final String name;
    private final Process process;
    private final long spawnedAtNanos;
    private final Path log;
    private long startupMillis = -1;

    private ServerProcess(String name, Process process, long spawnedAtNanos, Path log) {
        this.name = name;
        this.process = process;
        this.spawnedAtNanos = spawnedAtNanos;
        this.log = log;
    }

    /** Spawns the command (output to {@code log}) and polls {@code probe} until it passes; the clock starts at spawn. */
    public static ServerProcess start(String name, List<String> command, Path log, ReadinessProbe probe)
            throws IOException, InterruptedException {
        Files.deleteIfExists(log);
        ServerProcess server = spawn(name, command, log);
        server.awaitReady(probe);
        return server;
    }

    /**
     * Spawns the command (output to {@code log}, appended so a restarted node keeps its history) without waiting for
     * it: an ensemble member only answers once a quorum of its peers is up, so all are spawned before any is probed.
     */
    public static ServerProcess spawn(String name, List<String> command, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        long spawnedAt = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new ServerProcess(name, process, spawnedAt, log);
    }

    /** Polls {@code probe} every 5 ms until it passes, and fixes the start-up time (spawn to first answer). */
    public void awaitReady(ReadinessProbe probe) throws IOException, InterruptedException {
        long deadline = spawnedAtNanos + TimeUnit.MILLISECONDS.toNanos(STARTUP_WAIT_MS_MAX);
        while (true) {
            try {
                probe.probe();
                startupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - spawnedAtNanos);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IOException(name + " exited with " + process.exitValue() + " before answering; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException(name + " did not answer within " + STARTUP_WAIT_MS_MAX + " ms; see " + log);
                }
                Thread.sleep(5);
            }
        }
    }

    /** SIGKILL (what {@link Process#destroyForcibly()} sends on Linux): no shutdown hooks, no goodbye to peers. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    /** Milliseconds from spawning the process to its first answer; -1 until {@link #awaitReady} has passed. */
    public long startupMillis() {
        return startupMillis;
    }

    /** Milliseconds since the process was spawned (for waits measured past the first answer). */
    public long millisSinceSpawn() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - spawnedAtNanos);
    }

    /** Resident set size in MiB, from VmRSS in /proc/[pid]/status. */
    public double rssMib() throws IOException {
        return statusMib("VmRSS");
    }

    /**
     * The anonymous part of the resident set (heap, stacks, native allocations, direct buffers) in MiB, RssAnon in
     * /proc/[pid]/status: what a leak would grow. The rest of VmRSS is file pages mapped in, such as Kafka's
     * memory-mapped index files, which the kernel can drop.
     */
    public double rssAnonMib() throws IOException {
        return statusMib("RssAnon");
    }

    private double statusMib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith(field + ":")) {
                String kib = line.substring(field.length() + 1).replace("kB", "").trim();
                return Long.parseLong(kib) / 1024.0;
            }
        }
        throw new IOException("no " + field + " for pid " + process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The ZooKeeper readiness probe: a raw session handshake (ConnectRequest, then a ConnectResponse with a session
     * id), followed by closeSession so the probe leaves no session behind. Framing: 4-byte length, then the jute record.
     */
    public static ReadinessProbe zookeeperHandshake(String host, int port) {
        return () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1000);
                socket.setSoTimeout(5000);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                DataInputStream in = new DataInputStream(socket.getInputStream());
                ByteArrayOutputStream connect = new ByteArrayOutputStream();
                DataOutputStream record = new DataOutputStream(connect);
                record.writeInt(0);          // protocolVersion
                record.writeLong(0);         // lastZxidSeen
                record.writeInt(30_000);     // timeOut
                record.writeLong(0);         // sessionId: a new session
                record.writeInt(16);         // passwd length
                record.write(new byte[16]);
                record.writeBoolean(false);  // readOnly
                out.writeInt(connect.size());
                connect.writeTo(out);
                out.flush();
                int length = in.readInt();
                in.readInt();                // protocolVersion
                in.readInt();                // negotiated timeOut
                long sessionId = in.readLong();
                in.skipBytes(length - 16);
                if (sessionId == 0) {
                    throw new IOException("handshake refused");
                }
                out.writeInt(8);
                out.writeInt(1);             // xid
                out.writeInt(-11);           // closeSession
                out.flush();
                in.readInt();
            }
        };
    }
}
