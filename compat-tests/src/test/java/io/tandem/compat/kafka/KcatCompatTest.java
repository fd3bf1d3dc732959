package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.tandem.compat.kafka.KafkaCompat.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * kcat (librdkafka) against Tandem: metadata, and produce then consume with every compression codec. The cases share
 * one node: each works on topics of its own, and the metadata case only looks for its own topic among the others.
 */
class KcatCompatTest {
    private static final Path KCAT = Path.of("/usr/bin/kcat");

    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(config(dir));
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    @BeforeEach
    void requireKcat() {
        requireTool(KCAT, "kcat");
    }

    @Test
    void metadataShouldListTheBrokerAndTopics() throws Exception {
        Result produced = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-P", "-t", "listed"),
                Duration.ofSeconds(60), "x\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, produced.exitCode(), produced.output());
        Result result = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-L"), Duration.ofSeconds(60));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("1 brokers:"), result.output());
        assertTrue(result.output().contains("broker 0 at 127.0.0.1:" + tandem.kafkaPort()), result.output());
        assertTrue(result.output().contains("topic \"listed\" with 1 partitions"), result.output());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void produceAndConsumeShouldRoundTripWithEachCompression(String codec) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 50; i++) lines.add(codec + "-line-" + i + "-" + "z".repeat(i));
        String input = String.join("\n", lines) + "\n";
        Result produced = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-P", "-t", "kc-" + codec,
                "-z", codec, "-X", "topic.request.required.acks=all"), Duration.ofSeconds(60),
                input.getBytes(StandardCharsets.UTF_8));
        assertEquals(0, produced.exitCode(), produced.output());
        Result consumed = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-C", "-t", "kc-" + codec,
                "-o", "beginning", "-e", "-q"), Duration.ofSeconds(60));
        assertEquals(0, consumed.exitCode(), consumed.output());
        assertEquals(lines, consumed.output().lines().toList());
    }

    /**
     * librdkafka pretending to talk to a 0.9 broker uses the oldest protocol (Produce/Fetch v1, message format
     * v0): the broker up-converts on produce and down-converts on fetch, and new clients read the same data.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4"})
    void oldProtocolClientsShouldProduceAndConsumeThroughConversion(String codec) throws Exception {
        List<String> old = List.of("-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) lines.add("old-" + codec + "-" + i);
        List<String> produce = new ArrayList<>(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-P",
                "-t", "old-" + codec, "-z", codec));
        produce.addAll(old);
        // The 0.9 protocol cannot create topics through Metadata, so a modern client creates it first.
        Result created = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-P", "-t", "old-" + codec),
                Duration.ofSeconds(60), "first\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, created.exitCode(), created.output());
        Result produced = run(produce, Duration.ofSeconds(60),
                (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        assertEquals(0, produced.exitCode(), produced.output());
        List<String> expected = new ArrayList<>(List.of("first"));
        expected.addAll(lines);
        List<String> consumeOld = new ArrayList<>(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-C",
                "-t", "old-" + codec, "-o", "beginning", "-e", "-q"));
        consumeOld.addAll(old);
        Result oldRead = run(consumeOld, Duration.ofSeconds(60));
        assertEquals(0, oldRead.exitCode(), oldRead.output());
        assertEquals(expected, oldRead.output().lines().toList());
        Result newRead = run(List.of(KCAT.toString(), "-b", tandem.bootstrapServers(), "-C", "-t", "old-" + codec,
                "-o", "beginning", "-e", "-q"), Duration.ofSeconds(60));
        assertEquals(expected, newRead.output().lines().toList());
    }
}
