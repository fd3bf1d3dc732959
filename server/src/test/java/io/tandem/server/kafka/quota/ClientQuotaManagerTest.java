package io.tandem.server.kafka.quota;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Kafka's quota arithmetic on a controlled clock: the rate over quota.window.num windows with a young sensor counted
 * as samples - 1 whole windows, QuotaUtils.throttleTime's (rate - bound) / bound * window, and DefaultQuotaCallback's
 * order of precedence among the eight ZooKeeper entities.
 */
class ClientQuotaManagerTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ClientQuotaManager produce = new ClientQuotaManager(QuotaType.PRODUCE, QuotaWindow.DEFAULT, now::get);

    private static QuotaEntity e(String user, String clientId) {
        return new QuotaEntity(user, clientId);
    }

    @Test
    void shouldThrottleByKafkasFormulaOnceTheRateIsOverTheBound() {
        produce.update(Map.of(e(null, "app"), 1000.0));
        // A young sensor's window is 10 whole windows (10 s): 10,000 bytes at once is exactly 1,000 B/s.
        assertEquals(0, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 10_000));
        // 10,001 bytes over 10 s: 0.1 B/s over, 0.1 / 1000 * 10,000 ms = 1 ms.
        assertEquals(1, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 1));
        // 20,001 bytes: 1,000.1 B/s over, 10,001 ms.
        assertEquals(10_001, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 10_000));
        // Time passing brings it down: 5 s later the window is 10 whole windows still (5 s elapsed + 5 assumed).
        now.addAndGet(5_000);
        assertEquals(10_001, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 0));
        // After every window expired the sensor starts over.
        now.addAndGet(11_000);
        assertEquals(0, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 5_000));
        assertEquals(3, produce.throttledRequests());
    }

    @Test
    void shouldNotMeasureClientsWithoutAQuota() {
        assertEquals(0, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 1e12));
        assertEquals(0, produce.rates());
        produce.update(Map.of(e(null, "other"), 1.0));
        assertEquals(0, produce.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 1e12));
        assertEquals(Double.MAX_VALUE, produce.maxValueInQuotaWindow("ANONYMOUS", "app"));
    }

    @Test
    void shouldPickTheMostSpecificEntityInKafkasOrder() {
        Map<QuotaEntity, Double> quotas = new HashMap<>();
        quotas.put(e(null, QuotaEntity.DEFAULT), 1.0);
        produce.update(quotas);
        assertEquals(1.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e(null, "app"), 2.0);
        produce.update(quotas);
        assertEquals(2.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e(QuotaEntity.DEFAULT, null), 3.0);
        produce.update(quotas);
        assertEquals(3.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e(QuotaEntity.DEFAULT, QuotaEntity.DEFAULT), 4.0);
        produce.update(quotas);
        assertEquals(4.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e(QuotaEntity.DEFAULT, "app"), 5.0);
        produce.update(quotas);
        assertEquals(5.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e("bob", null), 6.0);
        produce.update(quotas);
        assertEquals(6.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e("bob", QuotaEntity.DEFAULT), 7.0);
        produce.update(quotas);
        assertEquals(7.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        quotas.put(e("bob", "app"), 8.0);
        produce.update(quotas);
        assertEquals(8.0, produce.quotaLimit(produce.metricTags("bob", "app")));
        // Another user still falls to the default user and client entity.
        assertEquals(5.0, produce.quotaLimit(produce.metricTags("carol", "app")));
        assertEquals(4.0, produce.quotaLimit(produce.metricTags("carol", "tool")));
        assertEquals(4.0 * 10, produce.maxValueInQuotaWindow("carol", "tool"));
    }

    @Test
    void shouldShareOneRateAmongTheClientsOfAUserQuota() {
        produce.update(Map.of(e("alice", null), 1000.0));
        assertEquals(0, produce.recordAndGetThrottleTimeMs("alice", "one", 6_000));
        // The second client id counts against the same user quota: 12,000 bytes over 10 s is over 1,000 B/s.
        assertEquals(2_000, produce.recordAndGetThrottleTimeMs("alice", "two", 6_000));
        assertEquals(1, produce.rates());
        // Taking the bytes back (a throttled fetch) brings the rate back under the bound.
        produce.unrecord("alice", "two", 6_000);
        assertEquals(0, produce.recordAndGetThrottleTimeMs("alice", "three", 0));
    }

    @Test
    void shouldKeepAtMostRatesMaxRates() {
        produce.update(Map.of(e(null, QuotaEntity.DEFAULT), 1e9));
        for (int i = 0; i < ClientQuotaManager.RATES_MAX + 10; i++) {
            produce.recordAndGetThrottleTimeMs("ANONYMOUS", "client-" + i, 1);
        }
        assertEquals(ClientQuotaManager.RATES_MAX, produce.rates());
    }

    @Test
    void shouldCapRequestPercentageThrottleAtOneWindow() {
        ClientQuotaManager request = new ClientQuotaManager(QuotaType.REQUEST, QuotaWindow.DEFAULT, now::get);
        request.update(Map.of(e(null, "app"), 1.0));
        assertEquals(1_000, request.recordAndGetThrottleTimeMs("ANONYMOUS", "app", 1e6));
    }

    @Test
    void shouldStartEachNewWindowOnThePreviousWindowsGridAsKafka38Does() {
        SampledRate rate = new SampledRate(2, 1000);
        rate.record(100, 0);
        rate.record(100, 1500);  // window [1000, 2000)
        rate.record(100, 2500);  // window [2000, 3000), not [2500, 3500)
        rate.record(100, 3200);  // window [3000, 4000): the oldest left is [2000, 3000)
        assertEquals(1200, rate.windowSizeMs(3200));
        assertEquals(200 / 1.2, rate.measure(3200), 1e-9);
    }
}
