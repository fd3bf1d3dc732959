package io.tandem.compat.kafka.suite;

import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the non-Java clients (kafka-python scripts, kcat) as child processes. A missing client skips the test on a
 * developer machine but fails it under CI (env CI set), where .ci/run installs them: CI must never pass by skipping.
 */
final class ExternalTool {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final Path KCAT = Path.of("/usr/bin/kcat");

    record Result(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private ExternalTool() {}

    static void requireKafkaPython() throws Exception {
        require(Files.isExecutable(PYTHON), PYTHON + " is missing");
        Result probe = run(List.of(PYTHON.toString(), "-c", "import kafka; print(kafka.__version__)"), null,
                Duration.ofSeconds(30));
        require(probe.exitCode() == 0, "python3-kafka is not installed: " + probe.stderr());
    }

    static void requireKcat() {
        require(Files.isExecutable(KCAT), KCAT + " is missing");
    }

    private static void require(boolean present, String why) {
        if (!present) {
            if (System.getenv("CI") != null) {
                fail(why + " (CI is set, so this is a failure, not a skip)");
            }
            Assumptions.abort(why + " (skipped because env CI is unset)");
        }
    }

    /** The suite's Python scripts live in src/test/python/kafka_suite of this module. */
    static Path pythonScript(String name) {
        return ApacheKafkaLauncher.moduleDir().resolve("src/test/python/kafka_suite").resolve(name);
    }

    static Result python(String script, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), pythonScript(script).toString()));
        command.addAll(List.of(args));
        return run(command, null, timeout);
    }

    static Result run(List<String> command, byte[] stdin, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("kafka-suite-out", ".txt");
        Path err = Files.createTempFile("kafka-suite-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process process = builder.start();
            if (stdin != null) {
                try (var in = process.getOutputStream()) {
                    in.write(stdin);
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(command + " did not finish within " + timeout + "\n--- stdout\n"
                        + Files.readString(out) + "\n--- stderr\n" + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
