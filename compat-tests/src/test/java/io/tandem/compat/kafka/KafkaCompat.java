package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/** Shared set-up for the Kafka compatibility tests: an embedded node, client factories, external tools. */
final class KafkaCompat {
    private KafkaCompat() {
    }

    /** A node as tests want it: free ports, no initial rebalance delay, a small offsets topic. */
    static TandemConfig config(Path dir) {
        return TandemConfig.forTests(dir).set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "5");
    }

    static KafkaProducer<String, String> producer(Tandem tandem, Map<String, Object> overrides) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.putAll(overrides);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(Tandem tandem, String group, Map<String, Object> overrides) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // A classic member learns of a rebalance from its next heartbeat (REBALANCE_IN_PROGRESS): every 500 ms, not
        // the client's default 3 s, so a join or leave in a test is not followed by up to 3 s of waiting for it.
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        p.putAll(overrides);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Polls until {@code done} holds for what was received or the time runs out; returns everything received. */
    static List<ConsumerRecord<String, String>> pollUntil(KafkaConsumer<String, String> consumer,
                                                           Predicate<List<ConsumerRecord<String, String>>> done,
                                                           Duration timeout) {
        List<ConsumerRecord<String, String>> received = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(received) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) received.add(r);
        }
        return received;
    }

    /**
     * Skips the test when an external client is not installed on a developer machine, but fails it under CI
     * (env CI set), where the CI script installs every client.
     */
    static void requireTool(Path executable, String what) {
        if (Files.isExecutable(executable)) return;
        if (System.getenv("CI") != null) fail(what + " (" + executable + ") is required under CI but missing");
        Assumptions.abort(what + " (" + executable + ") is not installed");
    }

    static void requirePythonKafka() throws Exception {
        requireTool(Path.of("/usr/bin/python3"), "python3");
        Result r = run(List.of("/usr/bin/python3", "-c", "import kafka"), Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            if (System.getenv("CI") != null) fail("python3-kafka is required under CI but missing: " + r.output());
            Assumptions.abort("python3-kafka is not installed");
        }
    }

    record Result(int exitCode, String output) {
    }

    /** Runs a process to completion (killing it after the timeout), stdout and stderr together. */
    static Result run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        return run(command, timeout, null);
    }

    static Result run(List<String> command, Duration timeout, byte[] stdin) throws IOException, InterruptedException {
        Path out = Files.createTempFile("kafka-compat", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            if (stdin == null) builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process process = builder.start();
            if (stdin != null) {
                try (var in = process.getOutputStream()) {
                    in.write(stdin);
                }
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                fail(command + " did not finish within " + timeout + ":\n" + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
