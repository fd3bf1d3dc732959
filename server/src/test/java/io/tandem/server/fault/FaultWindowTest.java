package io.tandem.server.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zookeeper.ZkFaults;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A rule made with {@link FaultController.Builder#during} applies to every matching request inside its window, however
 * many, and to none after it; a count and a window together end at whichever comes first.
 */
class FaultWindowTest {
    @Test
    void shouldApplyEveryMatchInsideTheWindowAndNoneAfter() throws Exception {
        try (FaultController faults = new FaultController()) {
            long windowMs = 1_500;
            long armedAt = System.nanoTime();
            FaultRule rule = faults.zookeeper(OpCode.GET_DATA).during(Duration.ofMillis(windowMs))
                    .error(KeeperCode.NO_NODE);
            ZkFaults hook = faults.zooKeeperHook("node");
            int inside = 0;
            while ((System.nanoTime() - armedAt) / 1_000_000 < windowMs - 500 && inside < 50) {
                ZkFaults.Verdict verdict = hook.intercept(OpCode.GET_DATA);
                assertNotNull(verdict, "match " + inside + " inside the window");
                assertEquals(KeeperCode.NO_NODE, verdict.error());
                inside++;
            }
            assertTrue(inside > 0, "the window passed before a request was offered");
            assertNull(hook.intercept(OpCode.EXISTS), "another op is not matched");
            long left = windowMs - (System.nanoTime() - armedAt) / 1_000_000;
            if (left > 0) Thread.sleep(left + 50);
            assertNull(hook.intercept(OpCode.GET_DATA), "after the window");
            assertTrue(rule.describe().get("remainingMs") instanceof Number ms && ms.longValue() == 0,
                    rule.describe().toString());
        }
    }

    @Test
    void shouldEndAtTheCountWhenItComesBeforeTheWindow() {
        try (FaultController faults = new FaultController()) {
            faults.zookeeper(OpCode.GET_DATA).during(Duration.ofMinutes(5)).times(2).error(KeeperCode.NO_AUTH);
            ZkFaults hook = faults.zooKeeperHook("node");
            assertNotNull(hook.intercept(OpCode.GET_DATA));
            assertNotNull(hook.intercept(OpCode.GET_DATA));
            assertNull(hook.intercept(OpCode.GET_DATA), "the third is past the count, inside the window");
        }
    }

    @Test
    void shouldRefuseAnEmptyWindow() {
        try (FaultController faults = new FaultController()) {
            var builder = faults.zookeeper(OpCode.GET_DATA);
            IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> builder.during(Duration.ZERO));
            assertEquals("a fault window must be positive, not PT0S", refused.getMessage());
        }
    }
}
