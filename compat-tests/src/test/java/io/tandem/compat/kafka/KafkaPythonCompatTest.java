package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.tandem.compat.kafka.KafkaCompat.*;
import static org.junit.jupiter.api.Assertions.*;

/** kafka-python 2.0.2 (Debian's python3-kafka) against Tandem: the seed snippet and a consumer group. */
class KafkaPythonCompatTest {
    private static final Path SCRIPTS = Path.of("src/test/python/kafka");

    @TempDir
    Path dir;

    @BeforeEach
    void requireKafkaPython() throws Exception {
        requirePythonKafka();
    }

    private void runScript(String script) throws Exception {
        try (Tandem tandem = Tandem.start(config(dir))) {
            Result result = run(List.of("/usr/bin/python3", SCRIPTS.resolve(script).toString(),
                    tandem.bootstrapServers()), Duration.ofMinutes(2));
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("OK"), result.output());
        }
    }

    @Test
    void seedSnippetShouldCreateTheTopicSendAndConsumeHelloWorld() throws Exception {
        runScript("seed.py");
    }

    @Test
    void consumerGroupShouldSplitPartitionsAndKeepCommittedOffsets() throws Exception {
        runScript("group.py");
    }
}
