package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys;
import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segment roll jitter is honoured as Kafka's: log.roll.jitter.ms (else log.roll.jitter.hours) is the default of the
 * topic key segment.jitter.ms, which each new segment draws its jitter from (storage's LogTimeRollTest), with
 * Kafka's lower bounds; log.roll.jitter.ms changes at runtime as in Kafka (cluster-wide).
 */
class SegmentJitterConfigTest {
    @TempDir
    Path dir;

    @Test
    void theBrokerKeysAreHonouredWithKafkasBounds() {
        for (String key : new String[] {"log.roll.jitter.ms", "log.roll.jitter.hours"}) {
            assertEquals(Kind.IMPLEMENTED, ConfigKeys.verdict(key, "1", Map.of()).kind(), key);
            assertEquals(new ConfigKeys.Verdict(Kind.REFUSED, "Invalid value -1 for configuration " + key
                    + ": Value must be at least 0"), ConfigKeys.verdict(key, "-1", Map.of()));
        }
        assertTrue(BrokerConfigKeys.DYNAMIC.contains("log.roll.jitter.ms"));
        assertTrue(!BrokerConfigKeys.DYNAMIC.contains("log.roll.jitter.hours"), "read-only in Kafka");
    }

    @Test
    void theTopicDefaultComesFromMillisecondsElseHours() {
        TopicConfigs.Key key = TopicConfigs.KEYS.get("segment.jitter.ms");
        assertEquals("0", new TopicConfigs(TandemConfig.forTests(dir)).brokerDefault(key).value());
        TopicConfigs hours = new TopicConfigs(TandemConfig.forTests(dir).set("log.roll.jitter.hours", "2"));
        assertEquals("7200000", hours.brokerDefault(key).value());
        assertEquals(7_200_000L, hours.logConfig(Map.of()).segmentJitterMs());
        TopicConfigs both = new TopicConfigs(TandemConfig.forTests(dir).set("log.roll.jitter.hours", "2")
                .set("log.roll.jitter.ms", "5000"));
        assertEquals(5_000L, both.logConfig(Map.of()).segmentJitterMs(), "milliseconds win, as in Kafka");
        assertEquals(100L, both.logConfig(Map.of("segment.jitter.ms", "100")).segmentJitterMs());
    }

    @Test
    void aNegativeTopicJitterIsRefusedWithKafkasWords() {
        assertEquals("Invalid value -1 for configuration segment.jitter.ms: Value must be at least 0",
                TopicConfigs.invalidReason("segment.jitter.ms", "-1"));
        assertNull(TopicConfigs.invalidReason("segment.jitter.ms", "0"));
    }
}
