package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An fsync never runs under the log's lock (issue 12.3): with flush.messages=1 every append waits for its own fsync,
 * but a slow disk under one append must not hold up another append, a read or a leader change meanwhile.
 */
class LogFsyncOutsideLockTest {
    @TempDir
    Path dir;

    @Test
    void shouldLetAnotherAppendReadAndEpochChangeThroughWhileOneAppendsFsyncIsSlow() throws Exception {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("flush.messages", "1"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch inFsync = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, System::currentTimeMillis, null)) {
            log.appendAsLeader(Batches.batch(1, 1), 0, -1);
            AtomicReference<Thread> slowAppender = new AtomicReference<>();
            log.flusher().beforeFsync(() -> {
                if (Thread.currentThread() != slowAppender.get()) {
                    return;
                }
                inFsync.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Future<LogAppendInfo> slow = pool.submit(() -> {
                slowAppender.set(Thread.currentThread());
                return log.appendAsLeader(Batches.batch(1, 2), 0, -1);
            });
            assertTrue(inFsync.await(10, TimeUnit.SECONDS), "the first append reached its fsync");

            LogAppendInfo second = pool.submit(() -> log.appendAsLeader(Batches.batch(1, 3), 0, -1))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(2, second.firstOffset(), "the second append went through during the first one's fsync");
            assertEquals(3, log.recoveryPoint(), "and returned only once durable itself (flush.messages=1)");
            log.assignLeaderEpoch(1);
            assertEquals(Map.of(0, 0L, 1, 3L), log.leaderEpochs().entries());
            assertEquals(List.of("0", "2", "0 0", "1 3"),
                    java.nio.file.Files.readAllLines(dir.resolve(LeaderEpochCache.FILE_NAME)),
                    "a new leader epoch is on disk when assignLeaderEpoch returns");
            log.updateHighWatermark(3);
            assertEquals(List.of(0L, 1L, 2L), Batches.offsets(Batches.parse(log.read(0, 1 << 20, 3, true))));
            assertFalse(slow.isDone(), "the first append still waits for its own fsync");

            release.countDown();
            assertEquals(1, slow.get(10, TimeUnit.SECONDS).firstOffset());
            assertEquals(3, log.recoveryPoint());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void shouldNotHoldTheLogLockWhileANewLeaderEpochsCheckpointIsWritten() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch inWrite = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Log log = Log.open(dir, LogConfig.defaults(), Log.Checkpoint.NONE, false, System::currentTimeMillis,
                null)) {
            log.appendAsLeader(Batches.batch(1, 1), 0, -1);
            log.leaderEpochs().beforeWrite(() -> {
                inWrite.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Future<LogAppendInfo> newEpoch = pool.submit(() -> log.appendAsLeader(Batches.batch(1, 2), 1, -1));
            assertTrue(inWrite.await(10, TimeUnit.SECONDS), "the append reached the epoch checkpoint's write");

            pool.submit(() -> {
                log.updateHighWatermark(2);
                return log.openTransactions();
            }).get(10, TimeUnit.SECONDS);
            assertEquals(2, log.highWatermark(), "the log's lock was free while the checkpoint was written");
            assertEquals(1, log.leaderEpochs().endOffsetFor(0, log.logEndOffset())[1],
                    "and the epochs answered OffsetsForLeaderEpoch meanwhile");
            assertFalse(newEpoch.isDone(), "the append waits for the checkpoint naming its epoch");

            release.countDown();
            assertEquals(1, newEpoch.get(10, TimeUnit.SECONDS).firstOffset());
            assertEquals(List.of("0", "2", "0 0", "1 1"),
                    java.nio.file.Files.readAllLines(dir.resolve(LeaderEpochCache.FILE_NAME)));
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void closeShouldFsyncWithoutTheLockAndKeepEverythingAppendedBeforeIt() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch inFsync = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> closer = new AtomicReference<>();
        try {
            Log log = Log.open(dir, LogConfig.defaults(), Log.Checkpoint.NONE, false, System::currentTimeMillis,
                    null);
            log.appendAsLeader(Batches.batch(2, 1), 0, -1);
            log.appendAsLeader(Batches.batch(3, 2), 1, -1);
            log.flusher().beforeFsync(() -> {
                if (Thread.currentThread() != closer.get()) {
                    return;
                }
                inFsync.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Future<?> closing = pool.submit(() -> {
                closer.set(Thread.currentThread());
                log.close();
                return null;
            });
            assertTrue(inFsync.await(10, TimeUnit.SECONDS), "the close reached its fsync");

            pool.submit(() -> {
                log.updateHighWatermark(5);
                return log.openTransactions();
            }).get(10, TimeUnit.SECONDS);
            assertEquals(5, log.highWatermark(), "the log's lock was free during the close's fsync");
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), Batches.offsets(Batches.parse(log.read(0, 1 << 20, 5, true))),
                    "and fetches still read");
            Future<LogAppendInfo> late = pool.submit(() -> log.appendAsLeader(Batches.batch(1, 3), 1, -1));
            ExecutionException refused = assertThrows(ExecutionException.class, () -> late.get(10, TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof LogClosedException, "an append after the close started is "
                    + "refused at once, not made to wait for the fsync: " + refused.getCause());
            assertFalse(closing.isDone(), "the close still waits for its fsync");

            release.countDown();
            closing.get(10, TimeUnit.SECONDS);
            assertTrue(log.isClosed());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        try (Log reopened = Log.open(dir, LogConfig.defaults(), new Log.Checkpoint(0, 0, 5), true,
                System::currentTimeMillis, null)) {
            assertEquals(5, reopened.logEndOffset(), "everything appended before the close is kept");
            assertEquals(0, reopened.recoveredTornBytes());
            assertEquals(Map.of(0, 0L, 1, 2L), reopened.leaderEpochs().entries());
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L),
                    Batches.offsets(Batches.parse(reopened.read(0, 1 << 20, 5, true))));
        }
    }
}
