package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs a non-Java client (kazoo via /usr/bin/python3, the C client's cli_mt) as a child process. A missing tool
 * skips the test on a developer machine but fails it under CI (env CI set), where .ci/run installs the tools.
 */
final class ExternalTool {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path CLI_MT = Path.of("/usr/lib/zookeeper/bin/cli_mt");
    private static final long PROCESS_TIMEOUT_SECONDS = 90;

    private ExternalTool() {
    }

    /** Skips (locally) or fails (CI) when the tool is not usable. */
    static void require(String what, boolean available) {
        if (System.getenv("CI") != null) {
            assertTrue(available, what + " is required under CI (.ci/run installs it)");
        }
        Assumptions.assumeTrue(available, what + " is not installed; skipping");
    }

    static boolean kazooAvailable() {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        try {
            return run(List.of(PYTHON.toString(), "-c", "import kazoo.client"), null).exitCode() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    record Result(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    /** Runs the command, feeding {@code stdin} (may be null), and waits for it to exit. */
    static Result run(List<String> command, String stdin) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(command + " did not finish within " + PROCESS_TIMEOUT_SECONDS + " s");
        }
        return new Result(process.exitValue(), stdout.join(), stderr.join());
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                stream.transferTo(bytes);
                return bytes.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<unreadable: " + e + ">";
            }
        });
    }
}
