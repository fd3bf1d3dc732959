package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The effective values Kafka 3.9's LogConfig derived from message.timestamp.difference.max.ms. */
class TopicConfigsTest {
    @TempDir
    Path dir;

    private TopicConfigs configs(Map<String, String> broker) {
        TandemConfig config = TandemConfig.forTests(dir);
        broker.forEach(config::set);
        return new TopicConfigs(config);
    }

    @Test
    void shouldBoundBothSidesByDifferenceMaxWhenBeforeAndAfterAreNotSet() {
        TopicConfigs topics = configs(Map.of());
        Map<String, String> overrides = Map.of("message.timestamp.difference.max.ms", "1000");
        assertEquals(1000, topics.timestampBeforeMaxMs(overrides));
        assertEquals(1000, topics.timestampAfterMaxMs(overrides));
    }

    @Test
    void shouldPreferBoundedBeforeAndAfterOverDifferenceMax() {
        TopicConfigs topics = configs(Map.of());
        Map<String, String> overrides = Map.of("message.timestamp.difference.max.ms", "1000",
                "message.timestamp.before.max.ms", "50", "message.timestamp.after.max.ms", "60");
        assertEquals(50, topics.timestampBeforeMaxMs(overrides));
        assertEquals(60, topics.timestampAfterMaxMs(overrides));
    }

    @Test
    void shouldFallBackToDifferenceMaxWhenAfterIsSetUnbounded() {
        TopicConfigs topics = configs(Map.of());
        Map<String, String> overrides = Map.of("message.timestamp.difference.max.ms", "1000",
                "message.timestamp.after.max.ms", Long.toString(Long.MAX_VALUE));
        assertEquals(1000, topics.timestampAfterMaxMs(overrides));
    }

    @Test
    void shouldUseTheBrokersDifferenceMaxForTopicsWithoutOverrides() {
        TopicConfigs topics = configs(Map.of("log.message.timestamp.difference.max.ms", "2000"));
        assertEquals(2000, topics.timestampBeforeMaxMs(Map.of()));
        assertEquals(2000, topics.timestampAfterMaxMs(Map.of()));
    }

    @Test
    void shouldKeepTheDefaultsWithoutDifferenceMax() {
        TopicConfigs topics = configs(Map.of());
        assertEquals(Long.MAX_VALUE, topics.timestampBeforeMaxMs(Map.of()));
        assertEquals(3_600_000, topics.timestampAfterMaxMs(Map.of()));
    }

    @Test
    void shouldAcceptMessageFormatVersionsAsKafka39Did() {
        for (String ok : new String[] {"0.10.0", "0.10.0.1", "2.8", "2.8.1", "3.0-IV1", "0.8.0", "1.0.0", "3.9",
                "3.9-IV0", "4.0-IV0", "4.0-IV1"}) {
            assertNull(TopicConfigs.invalidReason("message.format.version", ok), ok);
        }
        for (String bad : new String[] {"0.10", "3.0-IV9", "4.0", "abc", "3.10"}) {
            assertNotNull(TopicConfigs.invalidReason("message.format.version", bad), bad);
        }
    }

    @Test
    void produceSettingsShouldBeParsedOncePerOverridesAndFollowAConfigChange() {
        TopicConfigs topics = configs(Map.of("message.max.bytes", "5000"));
        Map<String, String> overrides = new java.util.HashMap<>(Map.of("min.insync.replicas", "2"));
        TopicConfigs.ProduceSettings first = topics.produceSettings(overrides);
        assertEquals(5000, first.maxMessageBytes());
        assertEquals(2, first.minInsyncReplicas());
        assertSame(first, topics.produceSettings(Map.of("min.insync.replicas", "2")), "parsed again");
        // A topic config change hands in other overrides (even when the caller edits its own map in place).
        overrides.put("min.insync.replicas", "3");
        overrides.put("cleanup.policy", "compact,delete");
        TopicConfigs.ProduceSettings changed = topics.produceSettings(overrides);
        assertEquals(3, changed.minInsyncReplicas());
        assertTrue(changed.compacted());
        assertEquals(2, topics.produceSettings(Map.of("min.insync.replicas", "2")).minInsyncReplicas());
    }

    @Test
    void produceSettingsShouldFollowADynamicBrokerChange() {
        TopicConfigs topics = configs(Map.of());
        assertFalse(topics.produceSettings(Map.of()).logAppendTime());
        topics.dynamic(new TopicConfigs.DynamicLayers(Map.of("log.message.timestamp.type", "LogAppendTime"), Map.of()));
        assertTrue(topics.produceSettings(Map.of()).logAppendTime());
        topics.dynamic(new TopicConfigs.DynamicLayers(Map.of(), Map.of("message.max.bytes", "777")));
        assertFalse(topics.produceSettings(Map.of()).logAppendTime());
        assertEquals(777, topics.produceSettings(Map.of()).maxMessageBytes());
    }

    @Test
    void produceSettingsShouldApplyDifferenceMaxToBothTimestampBounds() {
        TopicConfigs.ProduceSettings settings = configs(Map.of())
                .produceSettings(Map.of("message.timestamp.difference.max.ms", "1000"));
        assertEquals(1000, settings.timestampBeforeMaxMs());
        assertEquals(1000, settings.timestampAfterMaxMs());
    }
}
