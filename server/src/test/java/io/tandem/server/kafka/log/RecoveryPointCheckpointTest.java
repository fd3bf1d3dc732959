package io.tandem.server.kafka.log;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery points reach the disk every log.flush.offset.checkpoint.interval.ms (Kafka's key and default, 60 s),
 * not only at the retention check (5 minutes): after an unclean stop the broker re-reads only the segments written
 * since, so a 10 GB log does not mean minutes of recovery.
 */
class RecoveryPointCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void recoveryPointsAreCheckpointedAtTheCheckpointIntervalWhileTheLogRolls() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir)
                .set("log.flush.offset.checkpoint.interval.ms", "200").set("log.initial.task.delay.ms", "0"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("rolling", 1, (short) 1)
                        .configs(Map.of("segment.bytes", "4096")))).all().get(30, TimeUnit.SECONDS);
            }
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 60; i++) producer.send(new ProducerRecord<>("rolling", "x".repeat(1000))).get();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long recoveryPoint = -1;
            while (System.nanoTime() < deadline && recoveryPoint < 40) {
                Thread.sleep(100);
                recoveryPoint = checkpointedRecoveryPoint("rolling").orElse(-1L);
            }
            // Segments of about four records roll and are flushed in the background; all but the newest are durable.
            assertTrue(recoveryPoint >= 40, "checkpointed recovery point " + recoveryPoint + " of 60 records");
        }
    }

    /**
     * log.initial.task.delay.ms, as Kafka's LogManager: the first checkpoint is written that long after start-up, not
     * one whole interval later.
     */
    @Test
    void theFirstCheckpointShouldBeWrittenAfterTheInitialTaskDelay() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir)
                .set("log.flush.offset.checkpoint.interval.ms", "3600000").set("log.initial.task.delay.ms", "1000"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("early", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            Optional<Long> recoveryPoint = Optional.empty();
            while (System.nanoTime() < deadline && recoveryPoint.isEmpty()) {
                Thread.sleep(100);
                recoveryPoint = checkpointedRecoveryPoint("early");
            }
            assertTrue(recoveryPoint.isPresent(), "checkpointed within seconds of start-up, not an hour");
        }
    }

    /** The recovery point of partition 0 of the topic in the broker's checkpoint file, if written yet. */
    private Optional<Long> checkpointedRecoveryPoint(String topic) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            Optional<Path> file = files.filter(p -> p.getFileName().toString().equals(LogManager.CHECKPOINT_FILE))
                    .findFirst();
            if (file.isEmpty()) return Optional.empty();
            for (String line : Files.readAllLines(file.get())) {
                String[] fields = line.split(" ");
                if (fields[0].equals(topic) && fields[1].equals("0")) return Optional.of(Long.parseLong(fields[2]));
            }
            return Optional.empty();
        }
    }
}
