package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code tandem perf} against a real embedded node: the counts are checked with Kafka's Admin client and Apache's
 * ZooKeeper client, and the percentiles must be present and ordered. Speed is never asserted.
 */
class PerfCommandTest {
    @RegisterExtension
    static TandemExtension tandem = new TandemExtension();

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.tandem().bootstrapServers()));
    }

    private static void assertOrderedPercentiles(JsonNode latency) {
        double p50 = latency.get("p50").asDouble();
        double p99 = latency.get("p99").asDouble();
        double p999 = latency.get("p99.9").asDouble();
        double max = latency.get("max").asDouble();
        assertTrue(latency.has("avg"), latency.toString());
        assertTrue(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, latency.toString());
    }

    @Test
    void shouldProduceTheAskedRecordsThenConsumeThemWithOrderedPercentiles() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("perf", 3, (short) 1))).all().get();
            Cli.Result produced = Cli.run("perf", "produce", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                    "--topic", "perf", "--num-records", "1050", "--record-size", "64", "--batch-records", "100",
                    "--acks", "all", "--output", "json");
            assertEquals(0, produced.exitCode(), produced.toString());
            JsonNode result = JSON.readTree(produced.out());
            assertEquals(1050, result.get("records").asLong());
            assertTrue(result.get("recordsPerSecond").asDouble() > 0, result.toString());
            assertOrderedPercentiles(result.get("latencyMs"));
            long total = 0;
            for (ListOffsetsResult.ListOffsetsResultInfo info : admin.listOffsets(Map.of(
                    new TopicPartition("perf", 0), OffsetSpec.latest(), new TopicPartition("perf", 1),
                    OffsetSpec.latest(), new TopicPartition("perf", 2), OffsetSpec.latest())).all().get().values()) {
                total += info.offset();
            }
            assertEquals(1050, total, "every record was appended once");

            Cli.Result consumed = Cli.run("perf", "consume", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                    "--topic", "perf", "--messages", "1050", "--group", "perf-readers", "--output", "json");
            assertEquals(0, consumed.exitCode(), consumed.toString());
            JsonNode read = JSON.readTree(consumed.out());
            assertEquals(1050, read.get("records").asLong());
            assertEquals(1050 * 64, read.get("bytes").asLong());
            assertTrue(read.get("fetches").asLong() >= 1, read.toString());
            assertOrderedPercentiles(read.get("fetchLatencyMs"));
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("perf-readers")
                    .partitionsToOffsetAndMetadata().get();
            assertEquals(1050, committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum());

            Cli.Result again = Cli.run("perf", "consume", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                    "--topic", "perf", "--messages", "1", "--group", "perf-readers", "--timeout", "1500");
            assertEquals(ExitCodes.ERROR, again.exitCode(), "the group already read everything: " + again);
            assertTrue(again.out().startsWith("0 records read"), again.out());
            assertTrue(again.err().contains("read 0 of 1 records"), again.err());
        }
    }

    @Test
    void shouldPrintOneLineForPeopleWithThePercentiles() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("perf-text", 1, (short) 1))).all().get();
        }
        Cli.Result produced = Cli.run("perf", "produce", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                "--topic", "perf-text", "--num-records", "20", "--throughput", "200");
        assertEquals(0, produced.exitCode(), produced.toString());
        assertTrue(produced.out().matches("20 records sent, [0-9.]+ records/sec \\([0-9.]+ MB/sec\\), latency avg "
                + "[0-9.]+ ms, p50 [0-9.]+ ms, p99 [0-9.]+ ms, p99.9 [0-9.]+ ms, max [0-9.]+ ms\n"), produced.out());
    }

    /**
     * Under --throughput a request carries only records already due: 100 records at 100/s span at least 99/100 s
     * of sending. The old loop sent a whole --batch-records batch at once (all 100 in one request, one round trip),
     * so its rate was far above the asked one. A lower bound on the time taken, not a speed.
     */
    @Test
    void shouldPaceRecordsAtTheAskedThroughputInsteadOfSendingWholeBatchesEarly() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("perf-paced", 1, (short) 1))).all().get();
        }
        Cli.Result produced = Cli.run("perf", "produce", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                "--topic", "perf-paced", "--num-records", "100", "--throughput", "100", "--batch-records", "100",
                "--output", "json");
        assertEquals(0, produced.exitCode(), produced.toString());
        JsonNode result = JSON.readTree(produced.out());
        assertEquals(100, result.get("records").asLong());
        assertTrue(result.get("elapsedMs").asLong() >= 980, result.toString());
        assertTrue(result.get("recordsPerSecond").asDouble() <= 102, result.toString());
        assertOrderedPercentiles(result.get("latencyMs"));
    }

    /** Kafka 4's --warmup-records: every record is sent, the figures count only those after the warm-up. */
    @Test
    void shouldSendTheWarmupRecordsWithoutCountingThem() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("perf-warm", 1, (short) 1))).all().get();
            Cli.Result produced = Cli.run("perf", "produce", "--bootstrap-server",
                    tandem.tandem().bootstrapServers(), "--topic", "perf-warm", "--num-records", "250",
                    "--warmup-records", "50", "--batch-records", "40", "--output", "json");
            assertEquals(0, produced.exitCode(), produced.toString());
            JsonNode result = JSON.readTree(produced.out());
            assertEquals(200, result.get("records").asLong(), result.toString());
            assertEquals(50, result.get("warmupRecords").asLong(), result.toString());
            long end = admin.listOffsets(Map.of(new TopicPartition("perf-warm", 0), OffsetSpec.latest())).all().get()
                    .get(new TopicPartition("perf-warm", 0)).offset();
            assertEquals(250, end, "the warm-up records are sent too");
            Cli.Result refused = Cli.run("perf", "produce", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                    "--topic", "perf-warm", "--num-records", "10", "--warmup-records", "10");
            assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
        }
    }

    @Test
    void shouldRunEveryZooKeeperPhaseOverSessionsAndLeaveNothingBehind() throws Exception {
        Cli.Result run = Cli.run("perf", "zk", "--server", tandem.tandem().zookeeperConnect(), "--ops", "300",
                "--sessions", "3", "--in-flight", "8", "--data-size", "32", "--output", "json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode phases = JSON.readTree(run.out()).get("phases");
        assertEquals(List.of("create", "set", "get", "delete"), iterate(phases));
        for (String phase : List.of("create", "set", "get", "delete")) {
            assertEquals(300, phases.get(phase).get("ops").asLong(), phase);
            assertOrderedPercentiles(phases.get(phase).get("latencyMs"));
        }
        ZooKeeper apache = new ZooKeeper(tandem.tandem().zookeeperConnect(), 30_000, event -> { });
        try {
            assertEquals(List.of(), apache.getChildren("/tandem-perf", false), "the run's parent is removed");
        } finally {
            apache.close();
        }
    }

    @Test
    void shouldRefuseUnboundedLoadsAndUnreachableServers() throws Exception {
        Cli.Result sessions = Cli.run("perf", "zk", "--server", tandem.tandem().zookeeperConnect(),
                "--sessions", "100000");
        assertEquals(ExitCodes.USAGE, sessions.exitCode(), sessions.toString());
        Cli.Result acks = Cli.run("perf", "produce", "--bootstrap-server", tandem.tandem().bootstrapServers(),
                "--topic", "t", "--num-records", "1", "--acks", "0");
        assertEquals(ExitCodes.USAGE, acks.exitCode(), acks.toString());
        Cli.Result unreachable = Cli.run("perf", "zk", "--server", "127.0.0.1:" + Cli.closedPort(),
                "--connect-timeout-ms", "1000", "--ops", "1");
        assertEquals(ExitCodes.UNREACHABLE, unreachable.exitCode(), unreachable.toString());
    }

    private static List<String> iterate(JsonNode object) {
        List<String> names = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
