package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tandem start} runs a ZooKeeper-only node with C1 alone ({@code -XX:TieredStopAtLevel=1}: a fraction of the
 * warm-up CPU, docs/profiles/zk-jit.md "C1 alone") and any node with the Kafka role with both compilers and C2's
 * inlining narrowed (about a third less compiler work in a fresh node's first minute of produce load, the settled code
 * as fast: docs/profiles/kafka-produce.md "The JIT"), reading the roles in StartOptions' order (config files, then
 * --set, then --roles); TANDEM_JAVA_OPTS replaces the choice. The flags are read from the running JVM's own command
 * line (the launcher execs it, so the process is the JVM).
 */
class LauncherJitIT {
    private static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    private static final List<String> NARROW_INLINING = List.of("-XX:FreqInlineSize=100", "-XX:MaxInlineLevel=6");

    @TempDir
    Path dir;

    @Test
    void shouldRunAZooKeeperOnlyNodeWithC1AloneAndAKafkaNodeWithBothCompilersAndNarrowInlining() throws Exception {
        Path home = Distribution.unpack(dir);
        Path zkOnly = Files.writeString(dir.resolve("zk-only.properties"), "roles = zookeeper\n");

        assertEquals(List.of(C1_ONLY), jitFlags(home, null, "--roles", "zookeeper"), "--roles zookeeper");
        assertEquals(List.of(C1_ONLY), jitFlags(home, null, "--config", zkOnly.toString()),
                "roles=zookeeper in a config file");
        assertEquals(NARROW_INLINING, jitFlags(home, null, "--config", zkOnly.toString(), "--set",
                "roles=zookeeper,kafka", "--set", "listeners=PLAINTEXT://127.0.0.1:" + Distribution.freePort()),
                "--set roles=zookeeper,kafka over the file's roles: the Kafka role keeps C2, its inlining narrowed");
        assertEquals(List.of(), jitFlags(home, "-Xms16m -Xmx256m -XX:+UseSerialGC", "--roles", "zookeeper"),
                "TANDEM_JAVA_OPTS replaces the default flags");
    }

    /** Starts a node with these flags (and TANDEM_JAVA_OPTS when not null); the JIT flags its JVM runs with. */
    private List<String> jitFlags(Path home, String javaOpts, String... flags) throws Exception {
        Path data = Files.createTempDirectory(dir, "data");
        List<String> args = new ArrayList<>(List.of("start", "--data-dir", data.toString(),
                "--zk-port", Integer.toString(Distribution.freePort()), "--set", "clientPortAddress=127.0.0.1"));
        args.addAll(List.of(flags));
        ProcessBuilder launcher = Distribution.launcher(home, dir, args.toArray(String[]::new));
        if (javaOpts != null) launcher.environment().put("TANDEM_JAVA_OPTS", javaOpts);
        Distribution.Node node = Distribution.start(launcher);
        try {
            List<String> jvmArgs = List.of(node.process().info().arguments().orElseThrow());
            return jvmArgs.stream().filter(a -> a.equals(C1_ONLY) || NARROW_INLINING.contains(a)).toList();
        } finally {
            node.process().destroy();
            if (!node.process().waitFor(60, TimeUnit.SECONDS)) node.process().destroyForcibly();
        }
    }
}
