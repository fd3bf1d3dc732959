package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction index and last stable offset that read_committed fetches rely on. */
class LogTransactionTest {
    @TempDir
    Path dir;

    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());

    Log open(boolean cleanShutdown) throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "500", "segment.index.bytes", "4096",
                "file.delete.delay.ms", "0"));
        return Log.open(dir, config, Log.Checkpoint.NONE, cleanShutdown, clock::get, null);
    }

    static ByteBuf transactional(long producerId, int sequence, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1000L + i, ("k" + i).getBytes(), ("v" + i).getBytes());
        }
        return Unpooled.wrappedBuffer(MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0,
                sequence, records).buffer());
    }

    static ByteBuf marker(long producerId, ControlRecordType type) {
        return Unpooled.wrappedBuffer(MemoryRecords.withEndTransactionMarker(producerId, (short) 0,
                new EndTransactionMarker(type, 1)).buffer());
    }

    @Test
    void shouldTrackOpenTransactionsAbortsAndTheLastStableOffset() throws IOException {
        try (Log log = open(false)) {
            log.appendAsLeader(Batches.batch(2, 0), 0, -1);                 // 0-1 plain
            log.appendAsLeader(transactional(7, 0, 3), 0, -1);              // 2-4 producer 7
            log.appendAsLeader(transactional(8, 0, 2), 0, -1);              // 5-6 producer 8
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(2, log.lastStableOffset(), "the oldest open transaction bounds the LSO");
            assertEquals(Map.of(7L, 2L, 8L, 5L), log.openTransactions());

            log.appendAsLeader(marker(7, ControlRecordType.ABORT), 0, -1);  // 7 abort 7
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(5, log.lastStableOffset());
            log.appendAsLeader(marker(8, ControlRecordType.COMMIT), 0, -1); // 8 commit 8
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(9, log.lastStableOffset());
            assertEquals(Map.of(), log.openTransactions());

            List<AbortedTransaction> aborted = log.abortedTransactions(0, 9);
            assertEquals(1, aborted.size());
            assertEquals(new AbortedTransaction(7, 2, 7, 5), aborted.get(0));
            assertEquals(List.of(), log.abortedTransactions(8, 9), "fetch after the aborted range");
            assertEquals(List.of(), log.abortedTransactions(0, 2), "fetch before the aborted range");
            assertEquals(1, log.abortedTransactions(4, 5).size());
        }
    }

    /**
     * Kafka's ProducerStateManager keeps a completed transaction unstable until its marker is below the high
     * watermark (unreplicatedTxns): a leader lost before the marker reached a follower leaves the transaction open on
     * the next leader, so its records must not have been returned to read_committed consumers. Found by the
     * replication simulation's transactional workload (SimTransactions).
     */
    @Test
    void aTransactionStaysUnstableUntilItsMarkerIsBelowTheHighWatermark() throws IOException {
        try (Log log = open(false)) {
            log.appendAsLeader(Batches.batch(2, 0), 0, -1);                 // 0-1 plain
            log.appendAsLeader(transactional(7, 0, 3), 0, -1);              // 2-4 producer 7
            log.appendAsLeader(marker(7, ControlRecordType.COMMIT), 0, -1); // 5 commit
            log.updateHighWatermark(5);
            assertEquals(2, log.lastStableOffset(), "the marker at 5 is not below the high watermark yet");
            assertEquals(Map.of(), log.openTransactions(), "decided, only unreplicated");
            log.updateHighWatermark(6);
            assertEquals(6, log.lastStableOffset());
            log.appendAsLeader(transactional(8, 0, 2), 0, -1);              // 6-7 producer 8
            log.appendAsLeader(marker(8, ControlRecordType.ABORT), 0, -1);  // 8 abort
            log.updateHighWatermark(8);
            assertEquals(6, log.lastStableOffset());
            assertEquals(List.of(new AbortedTransaction(8, 6, 8, 9)), log.abortedTransactions(6, 9),
                    "the index's last stable offset counts open transactions only, as Kafka's");
            log.truncateTo(8);
            assertEquals(6, log.lastStableOffset(), "the marker truncated: open again");
            assertEquals(Map.of(8L, 6L), log.openTransactions());
        }
    }

    @Test
    void abortedTransactionsShouldSurviveRestartsAndRecoveryAndFollowTruncation() throws IOException {
        try (Log log = open(false)) {
            for (int i = 0; i < 5; i++) {
                log.appendAsLeader(transactional(100 + i, 0, 2), 0, -1);
                log.appendAsLeader(marker(100 + i, i % 2 == 0 ? ControlRecordType.ABORT : ControlRecordType.COMMIT),
                        0, -1);
            }
            log.appendAsLeader(transactional(200, 0, 2), 0, -1); // left open
            log.updateHighWatermark(log.logEndOffset());
            assertTrue(log.segmentCount() > 1, "transactions should span segments");
            assertEquals(3, log.abortedTransactions(0, Long.MAX_VALUE).size());
            assertEquals(15, log.lastStableOffset());
        }
        assertTrue(Files.list(dir).anyMatch(p -> p.toString().endsWith(".txnindex")));
        try (Log log = open(true)) {
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(3, log.abortedTransactions(0, Long.MAX_VALUE).size(), "after a clean restart");
            assertEquals(Map.of(200L, 15L), log.openTransactions());
        }
        // An unclean restart recovers from offset 0: transaction indexes and open transactions are rebuilt.
        try (Log log = open(false)) {
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(List.of(100L, 102L, 104L), log.abortedTransactions(0, Long.MAX_VALUE).stream()
                    .map(AbortedTransaction::producerId).toList());
            assertEquals(15, log.lastStableOffset());
            // Producer 100+i holds offsets 3i, 3i+1 and its marker at 3i+2; producer 200 holds 15-16.
            log.truncateTo(11); // drops 103's commit marker, and 104's records and abort marker
            assertEquals(List.of(100L, 102L), log.abortedTransactions(0, Long.MAX_VALUE).stream()
                    .map(AbortedTransaction::producerId).toList());
            assertEquals(Map.of(103L, 9L), log.openTransactions());
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(9, log.lastStableOffset());
        }
    }
}
