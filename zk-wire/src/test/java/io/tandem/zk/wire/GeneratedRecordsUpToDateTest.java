package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The generated record classes must be exactly what the schema gives, so nobody edits them by hand unnoticed. */
class GeneratedRecordsUpToDateTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @Test
    void generatedRecordsShouldMatchTheSchema() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "python3 is needed to run the generator");
        Process check = new ProcessBuilder(PYTHON.toString(), "tools/generate_records.py", "--check")
                .redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(check.waitFor(30, TimeUnit.SECONDS), "generator did not finish");
        assertEquals(0, check.exitValue(), "run tools/generate_records.py after editing the schema:\n" + output);
    }
}
