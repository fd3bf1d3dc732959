package io.tandem.server.kafka.group.share;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ConfigSource;
import io.tandem.server.kafka.group.consumer.GroupTimeouts;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.INVALID_CONFIG;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The GROUP config resource's consumer group keys, checked as Kafka 4.4's GroupConfig.validate checks them (same
 * order, same words), described as its createGroupConfigEntry, and brought within the broker's bounds when applied,
 * as its GroupConfig.evaluate.
 */
class GroupConfigsTest {
    private final Map<String, Map<String, String>> stored = new HashMap<>();
    /** Single reads of the store (a change notification's); the coordinators' lookups must make none. */
    private int reads;
    private final GroupConfigs.Store store = new GroupConfigs.Store() {
        @Override public Map<String, String> read(String groupId) {
            reads++;
            return stored.getOrDefault(groupId, Map.of());
        }
        @Override public Map<String, Map<String, String>> readAll() { return Map.copyOf(stored); }
        @Override public void write(String groupId, Map<String, String> overrides) {
            stored.put(groupId, Map.copyOf(overrides));
        }
    };

    /** A broker's group configs as it starts: every group's overrides read from the store. */
    private GroupConfigs configs(TandemConfig settings) throws Exception {
        GroupConfigs configs = new GroupConfigs(settings, ShareGroupConfig.from(settings), store);
        configs.load();
        return configs;
    }

    private static String refusal(GroupConfigs configs, Map<String, String> overrides) {
        ApiException e = assertThrows(ApiException.class, () -> configs.set("g", overrides, false));
        assertEquals(INVALID_CONFIG, e.error());
        return e.getMessage();
    }

    @Test
    void shouldRefuseConsumerTimeoutsOutsideTheBrokersBoundsInKafkasWords() throws Exception {
        GroupConfigs configs = configs(TandemConfig.defaults());
        assertEquals("consumer.session.timeout.ms must be in the range 45000 to 60000 inclusive.",
                refusal(configs, Map.of("consumer.session.timeout.ms", "30000")));
        assertEquals("consumer.heartbeat.interval.ms must be in the range 5000 to 15000 inclusive.",
                refusal(configs, Map.of("consumer.heartbeat.interval.ms", "20000")));
        assertEquals("Invalid value 0 for configuration consumer.heartbeat.interval.ms: Value must be at least 1",
                refusal(configs, Map.of("consumer.heartbeat.interval.ms", "0")));
        assertEquals("Invalid value soon for configuration consumer.session.timeout.ms: Not a number of type INT",
                refusal(configs, Map.of("consumer.session.timeout.ms", "soon")));
        // Kafka checks the heartbeat interval's range before the session timeout's.
        Map<String, String> both = new LinkedHashMap<>();
        both.put("consumer.session.timeout.ms", "1");
        both.put("consumer.heartbeat.interval.ms", "99999");
        assertEquals("consumer.heartbeat.interval.ms must be in the range 5000 to 15000 inclusive.",
                refusal(configs, both));
        assertTrue(stored.isEmpty(), "nothing refused is stored");
    }

    @Test
    void shouldRefuseASessionTimeoutNotAboveTheHeartbeatIntervalTakingTheBrokersValueForTheOther() throws Exception {
        // Bounds that overlap, so only the relation between the two can refuse.
        GroupConfigs configs = configs(TandemConfig.defaults()
                .set("group.consumer.min.session.timeout.ms", "1000").set("group.consumer.session.timeout.ms", "6000")
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.max.heartbeat.interval.ms", "15000")
                .set("group.consumer.heartbeat.interval.ms", "300"));
        assertEquals("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
                refusal(configs, Map.of("consumer.heartbeat.interval.ms", "6000")));
        assertEquals("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
                refusal(configs, Map.of("consumer.session.timeout.ms", "2000", "consumer.heartbeat.interval.ms",
                        "2000")));
        assertEquals("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
                refusal(configs, Map.of("consumer.session.timeout.ms", "1000", "consumer.heartbeat.interval.ms",
                        "1000")));
        configs.set("g", Map.of("consumer.heartbeat.interval.ms", "5999"), false);
        assertEquals(new GroupTimeouts(6000, 5999), configs.consumerTimeouts("g"));
    }

    @Test
    void shouldRefuseAShareSessionTimeoutNotAboveTheShareHeartbeatIntervalAsKafkaDoes() throws Exception {
        GroupConfigs configs = configs(TandemConfig.defaults()
                .set("group.share.min.session.timeout.ms", "1000").set("group.share.session.timeout.ms", "6000"));
        assertEquals("share.session.timeout.ms must be greater than share.heartbeat.interval.ms",
                refusal(configs, Map.of("share.heartbeat.interval.ms", "6000")));
    }

    @Test
    void shouldDescribeTheConsumerKeysFirstWithTheirSources() throws Exception {
        GroupConfigs configs = configs(TandemConfig.defaults().set("group.consumer.heartbeat.interval.ms", "6000"));
        List<GroupConfigs.Entry> entries = configs.describe("g");
        assertEquals(new GroupConfigs.Entry("consumer.session.timeout.ms", "45000", ConfigSource.DEFAULT_CONFIG, "INT"),
                entries.get(0));
        assertEquals(new GroupConfigs.Entry("consumer.heartbeat.interval.ms", "6000",
                ConfigSource.STATIC_BROKER_CONFIG, "INT"), entries.get(1));

        configs.set("g", Map.of("consumer.session.timeout.ms", "50000"), false);
        assertEquals(new GroupConfigs.Entry("consumer.session.timeout.ms", "50000", ConfigSource.GROUP_CONFIG, "INT"),
                configs.describe("g").get(0));
        assertEquals(Map.of("consumer.session.timeout.ms", "50000"), stored.get("g"));
    }

    @Test
    void shouldApplyEachGroupsTimeoutsWithinTheBrokersCurrentBounds() throws Exception {
        GroupConfigs configs = configs(TandemConfig.defaults());
        assertEquals(new GroupTimeouts(45_000, 5_000), configs.consumerTimeouts("g"), "the broker's without overrides");
        configs.set("g", Map.of("consumer.session.timeout.ms", "55000", "consumer.heartbeat.interval.ms", "12000"),
                false);
        assertEquals(new GroupTimeouts(55_000, 12_000), configs.consumerTimeouts("g"));
        assertEquals(new GroupTimeouts(45_000, 5_000), configs.consumerTimeouts("other"));

        // The broker restarts with narrower bounds: the stored values are brought within them, as Kafka's evaluate.
        GroupConfigs narrower = configs(TandemConfig.defaults().set("group.consumer.max.session.timeout.ms", "50000")
                .set("group.consumer.max.heartbeat.interval.ms", "10000"));
        assertEquals(new GroupTimeouts(50_000, 10_000), narrower.consumerTimeouts("g"));
    }

    @Test
    void aChangeThroughAnotherBrokerShouldApplyWhenItsNotificationIsReloadedAndNeverReadTheStoreOtherwise()
            throws Exception {
        GroupConfigs here = configs(TandemConfig.defaults());
        GroupConfigs there = configs(TandemConfig.defaults());
        there.set("g", Map.of("consumer.heartbeat.interval.ms", "12000"), false);
        assertEquals(5_000, here.consumerTimeouts("g").heartbeatIntervalMs(), "not read on a request's path");
        here.effective("g");
        here.effective("unknown");
        here.autoOffsetReset("unknown");
        here.describe("unknown");
        assertEquals(0, reads, "what the coordinators ask under their locks never reaches the store");
        here.reload("g");
        assertEquals(12_000, here.consumerTimeouts("g").heartbeatIntervalMs());
        assertEquals(Map.of("consumer.heartbeat.interval.ms", "12000"), here.overrides("g"));
        there.set("g", Map.of(), false);
        here.reload("g");
        assertEquals(Map.of(), here.overrides("g"));
        assertEquals(5_000, here.consumerTimeouts("g").heartbeatIntervalMs());
    }

    @Test
    void shouldStillRefuseTheGroupKeysTandemDoesNotApply() throws Exception {
        GroupConfigs configs = configs(TandemConfig.defaults());
        assertEquals("Group config consumer.assignment.interval.ms is not supported by Tandem.",
                refusal(configs, Map.of("consumer.assignment.interval.ms", "0")));
        assertEquals("Unknown group config name: consumer.nonsense",
                refusal(configs, Map.of("consumer.nonsense", "1")));
    }
}
