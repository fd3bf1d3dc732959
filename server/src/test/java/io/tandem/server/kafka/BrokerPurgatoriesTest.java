package io.tandem.server.kafka;

import io.tandem.server.kafka.purgatory.DelayedResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class BrokerPurgatoriesTest {
    /**
     * Once nothing is parked, the purgatories' timer thread sleeps without a deadline: an idle broker (or one
     * serving fetches that never park, as a consumer reading a written topic) is not woken every tick
     * (docs/profiles/kafka-consume.md: Netty's wheel ticked every 10 ms forever once a timeout was set).
     */
    @Test
    void timerThreadShouldSleepWithoutWakeUpsOnceNothingIsParked() throws Exception {
        Set<Thread> before = timerThreads();
        BrokerPurgatories purgatories = new BrokerPurgatories(100);
        try {
            CountDownLatch answered = new CountDownLatch(1);
            purgatories.fetch().tryCompleteElseWatch(new DelayedResponse(20, () -> false, answered::countDown),
                    List.of("bench-0"));
            assertTrue(answered.await(10, TimeUnit.SECONDS), "the parked fetch expired");
            Set<Thread> ours = timerThreads();
            ours.removeAll(before);
            assertEquals(1, ours.size(), "one timer thread: " + ours);
            Thread timer = ours.iterator().next();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (timer.getState() != Thread.State.WAITING && System.nanoTime() < deadline) Thread.sleep(5);
            // Sampled for a while: a ticking timer is TIMED_WAITING between ticks, or running one.
            for (int i = 0; i < 20; i++) {
                assertEquals(Thread.State.WAITING, timer.getState(), "sample " + i);
                Thread.sleep(10);
            }
        } finally {
            purgatories.close();
        }
    }

    private static Set<Thread> timerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("kafka-purgatory-timer")).collect(Collectors.toSet());
    }
}
