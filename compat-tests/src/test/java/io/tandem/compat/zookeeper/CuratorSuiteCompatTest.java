package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Curator's own recipe tests (the test jar of curator-recipes 5.9.0, unmodified) against Tandem: every TestingServer
 * and TestingCluster they start is a Tandem node, through {@code src/test/curator-harness}'s stand-in for
 * curator-test's embedded-server adapter, first on the class path of a child JVM ({@link CuratorSuiteRunner}).
 *
 * <p>CI runs {@link #CI_LANES}, recipes users reach for first (the runner's CLASS lines
 * give each class's time: TestLeaderSelector alone took 167 s, most of it session expiries it waits out, so it runs
 * with the whole jar only). The whole jar (56 classes, about
 * 40 minutes on a loaded 2-core machine) runs with {@code -Dcurator.suite=all}; {@code -Dcurator.suite=A,B} runs
 * the named classes (simple names under org.apache.curator; {@code A#test} one test of a class).
 * {@code -Dcompat.target=apache} runs the same classes against Apache ZooKeeper 3.9.5 through curator-test's own
 * adapter (no stand-in on the class path): the reference a Tandem failure is judged by, in the same child JVM set-up
 * and under the same load.
 *
 * <p>Concurrent with the module's other classes (see the surefire configuration in this module's pom): its time is
 * Curator's own sleeps and session expiries in a child JVM, with every server on a free port of its own.
 */
@Execution(ExecutionMode.CONCURRENT)
class CuratorSuiteCompatTest {
    private static final Path HARNESS_SOURCE = Path.of("src/test/curator-harness");
    private static final Path WORK = Path.of("target/curator-suite");
    private static final String RECIPES_TEST_JAR = "curator-recipes-";
    private static final long TIMEOUT_MINUTES = 90;
    /**
     * The classes CI runs, in three child JVMs side by side (one list each), split so that each takes about as long
     * (CI at load 0: TestInterProcessSemaphoreMutex 37 s; TestPersistentWatcher 39 s; TestPersistentTtlNode 29 s,
     * TestLeaderLatchCluster 10 s and TestDistributedDoubleBarrier 1 s; at load 35: 53; 55; 47, 11 and 2 s): the
     * time is the tests' own sleeps and session expiries, not CPU. Each class still runs whole in one JVM, its tests one after another as Curator wrote them.
     */
    static final List<List<String>> CI_LANES = List.of(
            List.of("org.apache.curator.framework.recipes.locks.TestInterProcessSemaphoreMutex"),
            List.of("org.apache.curator.framework.recipes.watch.TestPersistentWatcher"),
            List.of("org.apache.curator.framework.recipes.nodes.TestPersistentTtlNode",
                    "org.apache.curator.framework.recipes.leader.TestLeaderLatchCluster",
                    "org.apache.curator.framework.recipes.barriers.TestDistributedDoubleBarrier"));

    @Test
    void curatorRecipeTestsShouldPassAgainstTandem() throws Exception {
        List<List<String>> lanes = selectedLanes();
        boolean apache = "apache".equals(System.getProperty(ZkTargetExtension.TARGET_PROPERTY));
        String classPath = apache ? System.getProperty("java.class.path")
                : compileHarness() + File.pathSeparator + System.getProperty("java.class.path");
        Path work = Files.createDirectories(WORK).toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            for (int lane = 0; lane < lanes.size(); lane++) {
                // runner.log (runner-apache.log), then runner-2.log, ... for the further lanes.
                Path log = work.resolve((apache ? "runner-apache" : "runner") + (lane == 0 ? "" : "-" + (lane + 1))
                        + ".log");
                // C1 only and the serial collector, as for the brokers and kazoo's members, to spend less CPU on
                // warming up: at load 30 a class run first in its JVM took up to twice as long as the same class
                // run after another (TestPersistentWatcher 88 s and 39 s); the tests themselves mostly sleep.
                List<String> command = new ArrayList<>(List.of(java, "-Xmx1g", "-XX:TieredStopAtLevel=1",
                        "-XX:+UseSerialGC", "-cp", classPath, CuratorSuiteRunner.class.getName()));
                command.addAll(lanes.get(lane));
                logs.add(log);
                processes.add(new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start());
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(TIMEOUT_MINUTES);
            for (Process process : processes) {
                if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    fail("Curator's tests did not finish within " + TIMEOUT_MINUTES + " min");
                }
            }
        } finally {
            processes.forEach(Process::destroyForcibly);
        }
        for (int lane = 0; lane < lanes.size(); lane++) {
            Process process = processes.get(lane);
            List<String> lines = Files.readAllLines(logs.get(lane), StandardCharsets.UTF_8);
            String summary = lines.stream().filter(l -> l.startsWith("SUMMARY ")).findFirst()
                    .orElseGet(() -> fail("no summary from the runner (exit " + process.exitValue() + "):\n"
                            + tail(lines)));
            String failures = lines.stream().filter(l -> l.startsWith("FAILED ")).collect(Collectors.joining("\n"));
            System.out.println("Curator suite (" + lanes.get(lane).size() + " classes, " + (apache ? "Apache"
                    : "Tandem") + ", " + logs.get(lane).getFileName() + "): " + summary);
            assertTrue(!summary.contains(" succeeded=0 "), "no Curator test ran: " + summary + "\n" + tail(lines));
            assertEquals("", failures, () -> summary + "\n" + failures);
            assertEquals(0, process.exitValue(), () -> summary + "\n" + tail(lines));
        }
    }

    /**
     * {@link #CI_LANES}, or what {@code -Dcurator.suite} names ({@code all}: every test class in the jar), in one
     * child JVM as before.
     */
    private static List<List<String>> selectedLanes() throws IOException {
        String wanted = System.getProperty("curator.suite", "").trim();
        if (wanted.isEmpty()) {
            return CI_LANES;
        }
        List<String> all = allTestClasses();
        if (wanted.equals("all")) {
            return List.of(all);
        }
        List<String> chosen = new ArrayList<>();
        for (String name : wanted.split(",")) {
            // TestX#method runs one test of a class.
            String[] classAndMethod = name.trim().split("#", 2);
            String method = classAndMethod.length == 2 ? "#" + classAndMethod[1] : "";
            all.stream().filter(c -> c.endsWith("." + classAndMethod[0])).map(c -> c + method)
                    .forEach(chosen::add);
        }
        return List.of(chosen);
    }

    /** The Test* classes of curator-recipes' test jar (nested classes run with their outer one). */
    private static List<String> allTestClasses() throws IOException {
        String jar = List.of(System.getProperty("java.class.path").split(File.pathSeparator)).stream()
                .filter(p -> Path.of(p).getFileName().toString().startsWith(RECIPES_TEST_JAR)
                        && p.endsWith("-tests.jar"))
                .findFirst().orElseThrow(() -> new IllegalStateException("curator-recipes' test jar is not on the class path"));
        List<String> classes = new ArrayList<>();
        try (JarFile file = new JarFile(jar)) {
            file.stream().map(e -> e.getName())
                    .filter(n -> n.endsWith(".class") && !n.contains("$")
                            && n.substring(n.lastIndexOf('/') + 1).startsWith("Test"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
                    .forEach(classes::add);
        }
        Collections.sort(classes);
        return classes;
    }

    private static Path compileHarness() throws IOException {
        Path out = Files.createDirectories(WORK.resolve("harness-classes")).toAbsolutePath();
        List<String> sources = new ArrayList<>();
        try (var files = Files.walk(HARNESS_SOURCE)) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> sources.add(f.toString()));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> arguments = new ArrayList<>(List.of("-d", out.toString(), "-cp",
                System.getProperty("java.class.path")));
        arguments.addAll(sources);
        assertEquals(0, javac.run(null, null, null, arguments.toArray(String[]::new)),
                "compiling the Curator harness adapter failed");
        return out;
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
