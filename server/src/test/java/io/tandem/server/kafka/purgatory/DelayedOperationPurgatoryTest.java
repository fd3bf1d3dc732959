package io.tandem.server.kafka.purgatory;

import io.netty.util.HashedWheelTimer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class DelayedOperationPurgatoryTest {
    private final HashedWheelTimer timer = new HashedWheelTimer(5, TimeUnit.MILLISECONDS);

    @AfterEach
    void stopTimer() {
        timer.stop();
    }

    /** Completes when its flag is set; counts completions and expirations. */
    private static class FlagOperation extends DelayedOperation {
        final AtomicBoolean ready = new AtomicBoolean();
        final AtomicInteger completions = new AtomicInteger();
        final CountDownLatch expired = new CountDownLatch(1);

        FlagOperation(long delayMs) {
            super(delayMs);
        }

        @Override protected boolean tryComplete() {
            return ready.get() && forceComplete();
        }

        @Override protected void onComplete() {
            completions.incrementAndGet();
        }

        @Override protected void onExpiration() {
            expired.countDown();
        }
    }

    @Test
    void shouldCompleteAtOnceWhenTheConditionAlreadyHolds() {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 100);
        FlagOperation op = new FlagOperation(60_000);
        op.ready.set(true);
        assertTrue(purgatory.tryCompleteElseWatch(op, List.of("t-0")));
        assertEquals(1, op.completions.get());
        assertEquals(0, purgatory.watched());
    }

    @Test
    void shouldCompleteParkedOperationWhenItsKeyIsCheckedAndTheConditionHolds() {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 100);
        FlagOperation op = new FlagOperation(60_000);
        assertFalse(purgatory.tryCompleteElseWatch(op, List.of("t-0", "t-1")));
        assertEquals(0, purgatory.checkAndComplete("t-1"));
        op.ready.set(true);
        assertEquals(1, purgatory.checkAndComplete("t-1"));
        assertEquals(0, purgatory.checkAndComplete("t-0"), "completes once even when watched under two keys");
        assertEquals(1, op.completions.get());
        assertEquals(0, purgatory.watched());
    }

    @Test
    void shouldExpireAfterTheDelayExactlyOnce() throws InterruptedException {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 100);
        FlagOperation op = new FlagOperation(20);
        purgatory.tryCompleteElseWatch(op, List.of("k"));
        assertTrue(op.expired.await(5, TimeUnit.SECONDS));
        op.ready.set(true);
        purgatory.checkAndComplete("k");
        assertEquals(1, op.completions.get());
    }

    @Test
    void shouldCompleteImmediatelyOnceTheWatchLimitIsReached() {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 1);
        FlagOperation first = new FlagOperation(60_000);
        FlagOperation second = new FlagOperation(60_000);
        assertFalse(purgatory.tryCompleteElseWatch(first, List.of("k")));
        assertTrue(purgatory.tryCompleteElseWatch(second, List.of("k")));
        assertEquals(1, second.completions.get());
        assertEquals(0, first.completions.get());
    }

    /**
     * A key that, once {@link #armed}, parks the first thread that compares it after the parked operation completed,
     * so the test can hold a purge at the moment it decides whether the key's list is empty.
     */
    private static final class PausingKey {
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch paused = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);

        @Override public boolean equals(Object other) {
            if (armed.compareAndSet(true, false)) {
                paused.countDown();
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return other instanceof PausingKey || "k".equals(other);
        }

        @Override public int hashCode() {
            return "k".hashCode();
        }
    }

    @Test
    void shouldWakeAnOperationParkedWhileAPurgeDropsTheKeysEmptyList() throws Exception {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 100);
        // The first fetch parks under "k"; the produce that satisfies it then purges "k", whose list becomes empty.
        PausingKey produceKey = new PausingKey();
        FlagOperation first = new FlagOperation(60_000) {
            @Override protected boolean tryComplete() {
                boolean done = super.tryComplete();
                // From here on the purge decides whether to drop the key: hold it there.
                if (done) produceKey.armed.set(true);
                return done;
            }
        };
        assertFalse(purgatory.tryCompleteElseWatch(first, List.of("k")));
        first.ready.set(true);
        Thread produce = new Thread(() -> purgatory.checkAndComplete(produceKey), "produce");
        produce.start();
        assertTrue(produceKey.paused.await(5, TimeUnit.SECONDS), "the purge reached the key's removal");

        // A second fetch parks under the same key while the purge is held.
        FlagOperation second = new FlagOperation(60_000);
        Thread fetch = new Thread(() -> purgatory.tryCompleteElseWatch(second, List.of("k")), "fetch");
        fetch.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (fetch.getState() != Thread.State.BLOCKED && fetch.getState() != Thread.State.TERMINATED) {
            assertTrue(System.nanoTime() < deadline, "the fetch neither parked nor waited for the purge");
            Thread.sleep(1);
        }
        produceKey.resume.countDown();
        produce.join(5_000);
        fetch.join(5_000);
        assertFalse(fetch.isAlive());

        // The data for the second fetch arrives: it must be woken by it, not left for its 60 s timeout.
        second.ready.set(true);
        assertEquals(1, purgatory.checkAndComplete("k"), "the parked fetch is found under its key");
        assertEquals(1, second.completions.get());
        assertEquals(0, purgatory.watched());
    }

    /**
     * A check of a key whose parked operations all completed drops the key's list; an operation being parked under
     * that key at the same moment must not land in the dropped list, where no later check finds it (it would wait
     * for its timeout: 30 s for an acks=all produce whose followers had long caught up). Races the two many times.
     */
    @Test
    void shouldNeverParkAnOperationInAListThatAConcurrentCheckDropped() throws Exception {
        DelayedOperationPurgatory<FlagOperation> purgatory = new DelayedOperationPurgatory<>(timer, 1_000_000);
        int rounds = 200_000;
        AtomicBoolean done = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<String> current = new java.util.concurrent.atomic.AtomicReference<>("");
        Thread checker = new Thread(() -> {
            while (!done.get()) purgatory.checkAndComplete(current.get());
        });
        checker.start();
        try {
            for (int i = 0; i < rounds; i++) {
                String key = "t-" + i;
                current.set(key);
                FlagOperation op = new FlagOperation(60_000);
                purgatory.tryCompleteElseWatch(op, List.of(key));
                op.ready.set(true);
                purgatory.checkAndComplete(key);
                assertEquals(1, op.completions.get(), "round " + i + ": the operation was lost by its key");
            }
        } finally {
            done.set(true);
            checker.join();
        }
    }
}
