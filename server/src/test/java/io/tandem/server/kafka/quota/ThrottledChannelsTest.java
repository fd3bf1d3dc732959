package io.tandem.server.kafka.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Kafka's delay queue size: a throttle counts until it is over, and only then. */
class ThrottledChannelsTest {
    @Test
    void shouldCountEachThrottleUntilItIsOver() throws Exception {
        ThrottledChannels queue = new ThrottledChannels();
        assertEquals(0, queue.size());
        queue.add(60_000);
        queue.add(100);
        assertEquals(2, queue.size());
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (queue.size() == 2) {
            assertTrue(System.nanoTime() < deadline, "the 100 ms throttle never ended");
            Thread.sleep(10);
        }
        assertEquals(1, queue.size(), "the one-minute throttle is still running");
    }
}
