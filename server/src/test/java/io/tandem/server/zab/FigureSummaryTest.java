package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** mntr's summary lines: Apache's five for a BASIC summary, and the four percentile lines of an ADVANCED one. */
class FigureSummaryTest {
    private static Map<String, Object> lines(FigureSummary summary) {
        Map<String, Object> lines = new LinkedHashMap<>();
        summary.report(lines::put);
        return lines;
    }

    @Test
    void shouldPrintThePercentilesOfEveryValueAdded() {
        FigureSummary latency = FigureSummary.withPercentiles("readlatency");
        Map<String, Object> empty = lines(latency);
        assertEquals(0L, empty.get("zk_p50_readlatency"), "Apache's empty sample gives 0: " + empty);
        assertEquals(0L, empty.get("zk_p999_readlatency"));
        for (long value = 1000; value >= 1; value--) latency.add(value);
        Map<String, Object> lines = lines(latency);
        assertEquals(java.util.List.of("zk_avg_readlatency", "zk_min_readlatency", "zk_max_readlatency",
                "zk_cnt_readlatency", "zk_sum_readlatency", "zk_p50_readlatency", "zk_p95_readlatency",
                "zk_p99_readlatency", "zk_p999_readlatency"), java.util.List.copyOf(lines.keySet()));
        assertEquals(500L, lines.get("zk_p50_readlatency"), lines.toString());
        assertEquals(950L, lines.get("zk_p95_readlatency"));
        assertEquals(990L, lines.get("zk_p99_readlatency"));
        assertEquals(999L, lines.get("zk_p999_readlatency"));
        assertEquals(500.5, lines.get("zk_avg_readlatency"));
        // One slow value among many fast ones moves p999 and max, not the median.
        for (int i = 0; i < 1000; i++) latency.add(1);
        latency.add(60_000);
        Map<String, Object> skewed = lines(latency);
        assertEquals(1L, skewed.get("zk_p50_readlatency"), skewed.toString());
        assertEquals(60_000L, skewed.get("zk_max_readlatency"));
    }

    @Test
    void shouldPrintNoPercentilesForABasicSummary() {
        FigureSummary fsync = new FigureSummary("fsynctime");
        fsync.add(3);
        Map<String, Object> lines = lines(fsync);
        assertEquals(5, lines.size(), lines.toString());
        assertFalse(lines.containsKey("zk_p50_fsynctime"));
    }
}
