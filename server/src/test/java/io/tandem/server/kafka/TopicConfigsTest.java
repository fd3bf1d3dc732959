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
}
