package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.junit.TandemExtension;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kafka-consumer-groups.sh's time-based and current resets ({@code --to-datetime}, {@code --by-duration},
 * {@code --to-current}) on records whose timestamps the test chose, checked with Kafka's own Admin.
 */
class GroupsResetOffsetsTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("offsets.topic.num.partitions", "1"));

    private static final long HOUR_MS = 3_600_000;

    private static Cli.Result reset(String... args) {
        List<String> full = new ArrayList<>(List.of("groups", "reset-offsets", "--bootstrap-server",
                tandem.tandem().bootstrapServers(), "--group", "timed", "--topic", "timeline"));
        full.addAll(List.of(args));
        return Cli.run(full.toArray(String[]::new));
    }

    /** The NEW-OFFSET column of the plan's one row. */
    private static long planned(Cli.Result result) {
        assertEquals(0, result.exitCode(), result.toString());
        List<String> lines = result.out().lines().toList();
        assertEquals(2, lines.size(), result.out());
        String[] cells = lines.get(1).trim().split("\\s+");
        return Long.parseLong(cells[3]);
    }

    private static long committed() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.tandem().bootstrapServers()))) {
            return admin.listConsumerGroupOffsets("timed").partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition("timeline", 0)).offset();
        }
    }

    @Test
    void shouldResetByDateTimeDurationAndToTheCurrentOffset() throws Exception {
        long now = System.currentTimeMillis();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.tandem().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("timeline", 1, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.tandem().bootstrapServers());
        // Two records three hours ago, two two hours ago, two ten minutes ago (CreateTime, as the producer sets it).
        long[] times = {now - 3 * HOUR_MS, now - 3 * HOUR_MS, now - 2 * HOUR_MS, now - 2 * HOUR_MS,
                now - 600_000, now - 600_000};
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < times.length; i++) {
                producer.send(new ProducerRecord<>("timeline", 0, times[i], null, "r" + i)).get();
            }
        }
        assertEquals(1, planned(reset("--to-offset", "1", "--execute")));
        assertEquals(1, committed());

        assertEquals(2, planned(reset("--by-duration", "PT2H30M")), "the first record after now - 2.5 h");
        assertEquals(1, committed(), "a dry run changes nothing");
        assertEquals(1, planned(reset("--to-current")), "the committed offset");

        assertEquals(4, planned(reset("--by-duration", "PT1H", "--execute")));
        assertEquals(4, committed());
        assertEquals(4, planned(reset("--to-current", "--dry-run")));

        // Kafka's --to-datetime format: a local time without a zone, and one with a zone.
        String local = LocalDateTime.ofInstant(Instant.ofEpochMilli(now - 150 * 60_000), ZoneId.systemDefault())
                .toString();
        assertEquals(2, planned(reset("--to-datetime", local)), local);
        assertEquals(0, planned(reset("--to-datetime", Instant.ofEpochMilli(now - 4 * HOUR_MS).toString())));

        Cli.Result nothingAfter = reset("--by-duration", "PT1M");
        assertEquals(6, planned(nothingAfter), "no record in the last minute: the log end offset");
        assertTrue(nothingAfter.err().contains("no record at or after the time; using its log end offset 6"),
                nothingAfter.err());

        assertEquals(ExitCodes.USAGE, reset("--by-duration", "1h").exitCode());
        assertEquals(ExitCodes.USAGE, reset("--by-duration", "PT1H", "--to-current").exitCode());
    }
}
