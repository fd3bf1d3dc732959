package io.tandem.compat.kafka;

import static io.tandem.compat.kafka.KafkaCompat.config;
import static io.tandem.compat.kafka.KafkaCompat.requireTool;
import static io.tandem.compat.kafka.KafkaCompat.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.server.Tandem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * confluent-kafka for Python (Debian's python3-confluent-kafka 1.7 on librdkafka 2.0) against Tandem: the admin
 * client, idempotent producers with every codec, a consumer group with commits and watermarks, and transactions with
 * send_offsets_to_transaction. Each script checks what it gets and prints OK.
 */
class ConfluentKafkaCompatTest {
    private static final Path SCRIPTS = Path.of("src/test/python/confluent");

    @TempDir
    Path dir;

    @BeforeEach
    void requireConfluentKafka() throws Exception {
        requireTool(Path.of("/usr/bin/python3"), "python3");
        KafkaCompat.Result r = run(List.of("/usr/bin/python3", "-c", "import confluent_kafka"), Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            if (System.getenv("CI") != null) fail("python3-confluent-kafka is required under CI but missing: " + r.output());
            Assumptions.abort("python3-confluent-kafka is not installed");
        }
    }

    private void runScript(String script) throws Exception {
        try (Tandem tandem = Tandem.start(config(dir))) {
            KafkaCompat.Result result = run(List.of("/usr/bin/python3", SCRIPTS.resolve(script).toString(),
                    tandem.bootstrapServers()), Duration.ofMinutes(2));
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("OK"), result.output());
        }
    }

    @Test
    void adminProducersWithEveryCodecAndAGroupConsumerShouldWork() throws Exception {
        runScript("clients.py");
    }

    @Test
    void transactionsShouldHideAbortedRecordsAndCommitOffsetsWithTheOutputs() throws Exception {
        runScript("transactions.py");
    }
}
