package io.tandem.server.kafka.purgatory;

import io.netty.util.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class DeadlineTimerTest {
    private final DeadlineTimer timer = new DeadlineTimer("deadline-timer-test", 10, TimeUnit.MILLISECONDS);

    @AfterEach
    void stop() {
        timer.stop();
    }

    @Test
    void shouldFireEachTimeoutOnceAndNeverBeforeItsDelay() throws Exception {
        List<Long> firedAfterMs = new CopyOnWriteArrayList<>();
        CountDownLatch fired = new CountDownLatch(3);
        long start = System.nanoTime();
        for (long delayMs : new long[] {60, 0, 25}) {
            timer.newTimeout(t -> {
                assertTrue(t.isExpired());
                firedAfterMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) - delayMs);
                fired.countDown();
            }, delayMs, TimeUnit.MILLISECONDS);
        }
        assertTrue(fired.await(10, TimeUnit.SECONDS));
        Thread.sleep(50);
        assertEquals(3, firedAfterMs.size());
        for (long late : firedAfterMs) assertTrue(late >= 0, "fired " + -late + " ms early");
    }

    @Test
    void shouldNotRunACancelledTimeout() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Timeout cancelled = timer.newTimeout(t -> runs.incrementAndGet(), 30, TimeUnit.MILLISECONDS);
        CountDownLatch later = new CountDownLatch(1);
        timer.newTimeout(t -> later.countDown(), 80, TimeUnit.MILLISECONDS);
        assertTrue(cancelled.cancel());
        assertFalse(cancelled.cancel(), "cancelled twice");
        assertTrue(cancelled.isCancelled());
        assertTrue(later.await(10, TimeUnit.SECONDS));
        assertEquals(0, runs.get());
        assertFalse(cancelled.isExpired());
    }

    @Test
    void shouldNotCancelAFiredTimeout() throws Exception {
        CountDownLatch fired = new CountDownLatch(1);
        Timeout timeout = timer.newTimeout(t -> fired.countDown(), 0, TimeUnit.MILLISECONDS);
        assertTrue(fired.await(10, TimeUnit.SECONDS));
        assertFalse(timeout.cancel());
        assertTrue(timeout.isExpired());
    }

    @Test
    void stopShouldReturnThePendingTimeoutsUnrunAndRefuseNewOnes() {
        AtomicInteger runs = new AtomicInteger();
        Timeout pending = timer.newTimeout(t -> runs.incrementAndGet(), 1, TimeUnit.HOURS);
        Timeout cancelled = timer.newTimeout(t -> runs.incrementAndGet(), 1, TimeUnit.HOURS);
        cancelled.cancel();
        Set<Timeout> unprocessed = timer.stop();
        assertEquals(Set.of(pending), unprocessed);
        assertEquals(0, runs.get());
        assertThrows(IllegalStateException.class, () -> timer.newTimeout(t -> { }, 1, TimeUnit.MILLISECONDS));
    }

    @Test
    void shouldWaitWithoutADeadlineWhileNothingIsPending() throws Exception {
        Thread thread = timerThread();
        awaitState(thread, Thread.State.WAITING);
        Timeout far = timer.newTimeout(t -> { }, 1, TimeUnit.HOURS);
        awaitState(thread, Thread.State.TIMED_WAITING);
        far.cancel();
        CountDownLatch fired = new CountDownLatch(1);
        timer.newTimeout(t -> fired.countDown(), 20, TimeUnit.MILLISECONDS);
        assertTrue(fired.await(10, TimeUnit.SECONDS), "a nearer deadline wakes the thread sleeping toward a later one");
        awaitState(thread, Thread.State.WAITING);
    }

    private static Thread timerThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("deadline-timer-test")).findFirst().orElseThrow();
    }

    static void awaitState(Thread thread, Thread.State state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != state) {
            assertTrue(System.nanoTime() < deadline, thread.getName() + " is " + thread.getState() + ", not " + state);
            Thread.sleep(5);
        }
    }
}
