package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer and several fetchers at once, as the broker runs them: every read sees whole, CRC-valid batches. */
class LogConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void fetchersShouldSeeOnlyWholeValidBatchesWhileTheWriterAppendsRollsAndDeletes() throws Exception {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "2000", "retention.bytes", "6000",
                "file.delete.delay.ms", "200", "segment.index.bytes", "4096"));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        java.util.concurrent.ScheduledExecutorService scheduler =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, System::currentTimeMillis, scheduler)) {
            Runnable fetcher = () -> {
                try {
                    long offset = 0;
                    while (writing.get() || offset < log.highWatermark()) {
                        try {
                            LogSlice slice = log.read(offset, 700, log.highWatermark(), true);
                            List<Batches.Read> reads = Batches.parse(slice);
                            for (int i = 1; i < reads.size(); i++) {
                                assertEquals(reads.get(i - 1).offset() + 1, reads.get(i).offset(), "gap in " + reads);
                            }
                            if (!reads.isEmpty()) {
                                assertTrue(reads.get(0).batchBaseOffset() <= offset,
                                        "read at " + offset + " skipped to " + reads.get(0));
                            }
                            if (slice.isEmpty()) {
                                Thread.sleep(1); // caught up: a real fetch would wait in purgatory here
                            } else {
                                offset = slice.nextOffset();
                            }
                        } catch (OffsetOutOfRangeException e) {
                            offset = log.logStartOffset(); // retention overtook this fetcher: restart at the start
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            };
            List<Thread> fetchers = List.of(new Thread(fetcher), new Thread(fetcher), new Thread(fetcher));
            fetchers.forEach(Thread::start);
            for (int i = 0; i < 600; i++) {
                log.appendAsLeader(Batches.batch(1 + i % 4, i), 0, -1);
                log.updateHighWatermark(log.logEndOffset());
                if (i % 50 == 0) {
                    log.deleteOldSegments();
                }
            }
            writing.set(false);
            for (Thread thread : fetchers) {
                thread.join(30_000);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertTrue(log.logStartOffset() > 0, "retention should have run");
            scheduler.shutdown();
            // The last batch holds 4 records stamped 599..602; the one before holds 598..600.
            Optional<TimestampAndOffset> last = log.offsetForTimestamp(601);
            assertEquals(log.logEndOffset() - 2, last.orElseThrow().offset());
        }
    }
}
