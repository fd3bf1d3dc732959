package io.tandem.server.kafka.group.consumer;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.BrokerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The {@code group.consumer.*} keys as Tandem reads them at start-up. */
class ConsumerGroupConfigTest {
    @TempDir
    Path dir;

    private ConsumerGroupConfig withPolicy(String policy) {
        return ConsumerGroupConfig.from(TandemConfig.forTests(dir).set(ConsumerGroupConfig.MIGRATION_POLICY, policy));
    }

    @Test
    void migrationPolicyDisabledShouldBeTheOnlyOneAccepted() {
        assertNotNull(withPolicy("disabled"));
        assertNotNull(withPolicy("DISABLED"), "Kafka's values are case-insensitive");
        assertNotNull(ConsumerGroupConfig.from(TandemConfig.forTests(dir)), "the default is disabled");
        assertEquals("disabled", BrokerConfigKeys.defaultValue(ConsumerGroupConfig.MIGRATION_POLICY),
                "the key reports what Tandem does, not Kafka's bidirectional");
        for (String policy : new String[] {"bidirectional", "upgrade", "downgrade"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withPolicy(policy));
            assertTrue(e.getMessage().contains("group.consumer.migration.policy=" + policy), e.getMessage());
        }
        IllegalArgumentException bogus = assertThrows(IllegalArgumentException.class, () -> withPolicy("sideways"));
        assertTrue(bogus.getMessage().contains("String must be one of (case insensitive)"), bogus.getMessage());
    }
}
