package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tandem start} runs the server with glibc's mmap threshold fixed at 1 MiB (MALLOC_MMAP_THRESHOLD_), so
 * large native blocks such as big responses' direct buffers go back to the system when freed instead of staying in
 * the malloc arenas (28 MiB kept after 8 MiB fetches without it: docs/BENCHMARKS.md); a value the user already set
 * wins. Read from the running JVM's own environment (the launcher execs it, so the process is the JVM).
 */
class LauncherMallocIT {
    @TempDir
    Path dir;

    @Test
    void shouldFixGlibcsMmapThresholdUnlessTheEnvironmentSetsIt() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "reads the server's environment from /proc");
        Path home = Distribution.unpack(dir);
        assertEquals("1048576", mmapThreshold(home, null));
        assertEquals("4194304", mmapThreshold(home, "4194304"), "the user's own value is kept");
    }

    /** Starts a ZooKeeper-only node (with MALLOC_MMAP_THRESHOLD_ preset when not null); the value its JVM runs with. */
    private String mmapThreshold(Path home, String preset) throws Exception {
        Path data = Files.createTempDirectory(dir, "data");
        ProcessBuilder launcher = Distribution.launcher(home, dir, "start", "--data-dir", data.toString(),
                "--zk-port", Integer.toString(Distribution.freePort()), "--set", "clientPortAddress=127.0.0.1",
                "--roles", "zookeeper");
        launcher.environment().remove("MALLOC_MMAP_THRESHOLD_");
        if (preset != null) launcher.environment().put("MALLOC_MMAP_THRESHOLD_", preset);
        Distribution.Node node = Distribution.start(launcher);
        try {
            String environ = new String(Files.readAllBytes(Path.of("/proc", Long.toString(node.process().pid()),
                    "environ")), StandardCharsets.UTF_8);
            for (String variable : environ.split("\0")) {
                if (variable.startsWith("MALLOC_MMAP_THRESHOLD_=")) {
                    return variable.substring("MALLOC_MMAP_THRESHOLD_=".length());
                }
            }
            return null;
        } finally {
            node.process().destroy();
            if (!node.process().waitFor(60, TimeUnit.SECONDS)) node.process().destroyForcibly();
        }
    }
}
