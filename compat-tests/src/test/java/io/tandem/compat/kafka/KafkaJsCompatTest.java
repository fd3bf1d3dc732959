package io.tandem.compat.kafka;

import static io.tandem.compat.kafka.KafkaCompat.config;
import static io.tandem.compat.kafka.KafkaCompat.requireTool;
import static io.tandem.compat.kafka.KafkaCompat.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.server.Tandem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafkajs 2.2.4 (from the npm registry, pinned by package-lock.json) against Tandem, with the machine's Node.js:
 * producers (idempotent, gzip, headers), consumers and groups, transactions with sendOffsets, and the admin client.
 * Each script checks what it gets and prints OK.
 */
class KafkaJsCompatTest {
    private static final Path SOURCES = Path.of("src/test/node/kafkajs");
    /** The scripts and their node_modules, installed once per build under target/ (never into the source tree). */
    private static final Path INSTALLED = Path.of("target/kafkajs");

    @TempDir
    Path dir;

    @BeforeAll
    static void installKafkaJs() throws Exception {
        requireTool(Path.of("/usr/bin/node"), "Node.js");
        requireTool(Path.of("/usr/bin/npm"), "npm");
        Files.createDirectories(INSTALLED);
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path file : files.toList()) {
                Files.copy(file, INSTALLED.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (Files.isDirectory(INSTALLED.resolve("node_modules/kafkajs"))) return;
        KafkaCompat.Result npm = run(List.of("/usr/bin/npm", "ci", "--no-audit", "--no-fund", "--prefix",
                INSTALLED.toAbsolutePath().toString()), Duration.ofMinutes(3));
        if (npm.exitCode() != 0) {
            if (System.getenv("CI") != null) fail("npm ci (kafkajs) failed under CI:\n" + npm.output());
            Assumptions.abort("npm ci (kafkajs) failed, no npm registry here? " + npm.output());
        }
    }

    private void runScript(String script) throws Exception {
        try (Tandem tandem = Tandem.start(config(dir))) {
            KafkaCompat.Result result = run(List.of("/usr/bin/node", INSTALLED.resolve(script).toString(),
                    tandem.bootstrapServers()), Duration.ofMinutes(2));
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("OK"), result.output());
        }
    }

    @Test
    void producerAndConsumerShouldKeepKeysHeadersOffsetsAndCommits() throws Exception {
        runScript("produce_consume.js");
    }

    @Test
    void transactionsShouldHideAbortedRecordsAndCommitOffsetsWithTheOutputs() throws Exception {
        runScript("transactions.js");
    }

    @Test
    void consumerGroupShouldSplitPartitionsRebalanceAndBeManagedByTheAdminClient() throws Exception {
        runScript("group.js");
    }

    @Test
    void adminClientShouldManageTopicsPartitionsConfigsAndRecords() throws Exception {
        runScript("admin.js");
    }
}
