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
    void shouldAcceptEveryMigrationPolicyCaseInsensitivelyWithKafkasDefaultBidirectional() {
        assertEquals(MigrationPolicy.DISABLED, withPolicy("disabled").migrationPolicy());
        assertEquals(MigrationPolicy.DISABLED, withPolicy("DISABLED").migrationPolicy(), "Kafka's values are case-insensitive");
        assertEquals(MigrationPolicy.UPGRADE, withPolicy("upgrade").migrationPolicy());
        assertEquals(MigrationPolicy.DOWNGRADE, withPolicy("Downgrade").migrationPolicy());
        assertEquals(MigrationPolicy.BIDIRECTIONAL, withPolicy("bidirectional").migrationPolicy());
        assertEquals(MigrationPolicy.BIDIRECTIONAL, ConsumerGroupConfig.from(TandemConfig.forTests(dir)).migrationPolicy(),
                "Kafka 4.x's default");
        assertEquals("bidirectional", BrokerConfigKeys.defaultValue(ConsumerGroupConfig.MIGRATION_POLICY),
                "the key reports Kafka's default, which Tandem now implements");
        IllegalArgumentException bogus = assertThrows(IllegalArgumentException.class, () -> withPolicy("sideways"));
        assertTrue(bogus.getMessage().contains("String must be one of (case insensitive)"), bogus.getMessage());
    }
}
