package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The distribution archive of this build, unpacked, and {@code bin/tandem} run from it as a user would (tests only). */
final class Distribution {
    private static final long START_SECONDS_MAX = 120;

    private Distribution() {
    }

    /** Unpacks the archive {@code mvn package} wrote into {@code dir}; returns the distribution's home. */
    static Path unpack(Path dir) throws Exception {
        Path archive = Path.of(System.getProperty("tandem.distribution", "target/tandem-0.1.0-SNAPSHOT.tar.gz"));
        assertTrue(Files.isRegularFile(archive), "the archive exists: " + archive);
        run(dir, "tar", "xzf", archive.toAbsolutePath().toString());
        try (Stream<Path> top = Files.list(dir)) {
            return top.filter(p -> p.getFileName().toString().startsWith("tandem-")).findFirst().orElseThrow();
        }
    }

    /** {@code bin/tandem args...} in {@code workDir}, with a PATH holding the running JDK's bin and system tools only. */
    static ProcessBuilder launcher(Path home, Path workDir, String... args) {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/tandem").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.clear();
        environment.put("PATH", System.getProperty("java.home") + "/bin:/usr/bin:/bin");
        environment.put("HOME", System.getProperty("java.io.tmpdir"));
        return builder;
    }

    /** A started node: its process and everything it printed so far. */
    record Node(Process process, StringBuilder output) {
        String printed() {
            synchronized (output) {
                return output.toString();
            }
        }
    }

    /** Starts the launcher and waits for "Tandem started"; fails with the node's output if it does not come. */
    static Node start(ProcessBuilder launcher) throws IOException {
        Process process = launcher.start();
        CompletableFuture<String> started = new CompletableFuture<>();
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.startsWith("Tandem started")) started.complete(line);
                }
                started.completeExceptionally(new AssertionError("exited before starting"));
            } catch (IOException e) {
                started.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        Node node = new Node(process, output);
        try {
            started.get(START_SECONDS_MAX, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new AssertionError("bin/tandem start did not start:\n" + node.printed(), e);
        }
        return node;
    }

    static void run(Path workDir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).inheritIO().start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command));
    }

    static int freePort() throws IOException {
        return TestPorts.freePort();
    }
}
