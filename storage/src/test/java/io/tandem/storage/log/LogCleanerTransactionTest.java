package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction of transactional data, checked against Kafka's cleaner rules: aborted records go, committed ones are
 * compacted by key, markers stay while their transaction has data and go after delete.retention.ms, and both isolation
 * levels read what they read before, minus superseded and aborted records. Batches are built and read back with the
 * official Kafka client classes.
 */
class LogCleanerTransactionTest {
    static final long DELETE_RETENTION_MS = 60_000;

    @TempDir
    Path dir;

    /** Ahead of the wall clock the markers' timestamps come from, so min.compaction.lag.ms (0) never holds back. */
    final AtomicLong clock = new AtomicLong(System.currentTimeMillis() + 3_600_000);

    static LogConfig config() {
        return LogConfig.fromTopicConfig(Map.of("cleanup.policy", "compact", "segment.bytes", "300",
                "segment.index.bytes", "4096", "file.delete.delay.ms", "0",
                "delete.retention.ms", Long.toString(DELETE_RETENTION_MS)));
    }

    Log open(Path in, Log.Checkpoint checkpoint, boolean cleanShutdown) throws IOException {
        return Log.open(in, config(), checkpoint, cleanShutdown, clock::get, null);
    }

    static ByteBuf txn(long producerId, int sequence, String... keyValues) {
        SimpleRecord[] records = new SimpleRecord[keyValues.length / 2];
        for (int i = 0; i < records.length; i++) {
            records[i] = new SimpleRecord(1000L, keyValues[2 * i].getBytes(StandardCharsets.UTF_8),
                    keyValues[2 * i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return Unpooled.wrappedBuffer(MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0,
                sequence, records).buffer());
    }

    /**
     * Producers 1 and 2 each run two transactions (1: commit, commit; 2: abort, commit), 3 aborts its only one and 4
     * commits its only one; plain records supersede some committed keys.
     */
    static void writeTransactions(Log log) throws IOException {
        append(log, txn(1, 0, "x", "c1", "y", "c1"));                      // 0-1
        append(log, txn(2, 0, "x", "aborted2"));                           // 2
        append(log, LogTransactionTest.marker(1, ControlRecordType.COMMIT)); // 3
        append(log, LogTransactionTest.marker(2, ControlRecordType.ABORT));  // 4
        append(log, Batches.keyed(1000, Compression.NONE, "x", "plain", "z", "plain")); // 5-6
        append(log, txn(3, 0, "y", "aborted3"));                           // 7
        append(log, LogTransactionTest.marker(3, ControlRecordType.ABORT));  // 8
        append(log, txn(4, 0, "y", "c4"));                                 // 9
        append(log, txn(1, 2, "w", "c1b"));                                // 10
        append(log, LogTransactionTest.marker(1, ControlRecordType.COMMIT)); // 11
        append(log, txn(2, 1, "v", "c2"));                                 // 12
        append(log, LogTransactionTest.marker(2, ControlRecordType.COMMIT)); // 13
        append(log, LogTransactionTest.marker(4, ControlRecordType.COMMIT)); // 14
        log.roll();
        log.updateHighWatermark(log.logEndOffset());
        assertEquals(15, log.lastStableOffset());
        assertTrue(log.segmentCount() > 3, "the transactions should span segments");
    }

    static void append(Log log, ByteBuf batch) throws IOException {
        log.appendAsLeader(batch, 0, -1);
    }

    /** What a read_committed consumer gets before compaction, compacted by key: what it must get after. */
    static final Map<Long, String> COMMITTED_LATEST = new TreeMap<>(Map.of(
            5L, "x=plain", 6L, "z=plain", 9L, "y=c4", 10L, "w=c1b", 12L, "v=c2"));

    @Test
    void shouldRemoveAbortedDataKeepCommittedDataAndKeepMarkersUntilTheirHorizon() throws IOException {
        try (Log log = open(dir, Log.Checkpoint.NONE, false)) {
            writeTransactions(log);
            assertEquals(expectedCommittedUncompacted(), readCommitted(log));
            assertTrue(readUncommitted(log).containsValue("x=aborted2"));

            assertTrue(log.compactNow() > 0);
            assertEquals(COMMITTED_LATEST, readCommitted(log));
            assertEquals(COMMITTED_LATEST, readUncommitted(log), "aborted records are gone for every reader");
            // Every marker's transaction still had data in this pass, so every marker stays.
            assertEquals(List.of(3L, 4L, 8L, 11L, 13L, 14L), markers(log));
            assertEquals(List.of(new AbortedTransaction(2, 2, 4, 5), new AbortedTransaction(3, 7, 8, 9)),
                    log.abortedTransactions(0, Long.MAX_VALUE));

            // Now producer 1's first transaction and producer 2's aborted one are empty: their markers get a delete
            // horizon and producer 2's index entry goes. Producer 3's aborted batch stays, emptied, as the
            // producer's last batch, so its abort marker and entry stay too.
            assertEquals(0, log.compactNow(), "stamping a delete horizon removes no record");
            assertEquals(List.of(3L, 4L, 8L, 11L, 13L, 14L), markers(log));
            assertEquals(List.of(new AbortedTransaction(3, 7, 8, 9)), log.abortedTransactions(0, Long.MAX_VALUE));
            assertEquals(COMMITTED_LATEST, readCommitted(log));

            clock.addAndGet(DELETE_RETENTION_MS - 1);
            assertEquals(0, log.compactNow());
            assertEquals(List.of(3L, 4L, 8L, 11L, 13L, 14L), markers(log), "kept until the horizon");

            clock.addAndGet(1);
            assertEquals(2, log.compactNow(), "the two markers");
            assertEquals(List.of(8L, 11L, 13L, 14L), markers(log), "removed after the horizon");
            assertEquals(COMMITTED_LATEST, readCommitted(log));
            assertEquals(COMMITTED_LATEST, readUncommitted(log));
            assertEquals(15, log.lastStableOffset());
        }
        // A reopen that recovers everything rebuilds the same transaction state from the cleaned log.
        try (Log log = open(dir, Log.Checkpoint.NONE, false)) {
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(Map.of(), log.openTransactions());
            assertEquals(15, log.lastStableOffset());
            assertEquals(COMMITTED_LATEST, readCommitted(log));
        }
    }

    @Test
    void shouldNotCleanAtOrAboveTheLastStableOffset() throws IOException {
        try (Log log = open(dir, Log.Checkpoint.NONE, false)) {
            append(log, Batches.keyed(1000, Compression.NONE, "a", "1"));   // 0
            append(log, txn(9, 0, "b", "open"));                            // 1, never decided
            log.roll();
            append(log, Batches.keyed(1000, Compression.NONE, "a", "2"));   // 2
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(1, log.lastStableOffset());
            assertEquals(0, log.compactNow(), "the open transaction's segment and all after it wait");
            assertEquals(Map.of(0L, "a=1", 1L, "b=open", 2L, "a=2"), readUncommitted(log));
        }
    }

    /**
     * A swap renames the cleaned segment's transaction index and its log file one after the other, so a crash can
     * leave either one from before the cleaning beside the other from after it, plus .cleaned leftovers. Every such
     * mix, at every step from the raw log to the removal of markers past their horizon, must still hide all aborted
     * records and read like the log files it holds.
     */
    @Test
    void aCrashDuringTheSwapShouldLeaveAValidLog() throws IOException {
        Path live = Files.createDirectory(dir.resolve("live"));
        List<Path> states = new ArrayList<>();
        try (Log log = open(live, Log.Checkpoint.NONE, false)) {
            writeTransactions(log);
            states.add(snapshot(live, "raw"));
            log.compactNow();
            states.add(snapshot(live, "aborted-data-removed"));
            log.compactNow();
            states.add(snapshot(live, "empty-transactions-marked"));
            clock.addAndGet(DELETE_RETENTION_MS);
            log.compactNow();
            states.add(snapshot(live, "markers-removed"));
        }
        List<Map<Long, String>> expected = List.of(expectedCommittedUncompacted(), COMMITTED_LATEST,
                COMMITTED_LATEST, COMMITTED_LATEST);
        for (int step = 0; step + 1 < states.size(); step++) {
            for (boolean indexFirst : new boolean[] {true, false}) {
                int logSide = indexFirst ? step : step + 1;
                Path crashed = Files.createDirectory(dir.resolve("crashed-" + step + "-" + indexFirst));
                copy(states.get(logSide), crashed, name -> !name.endsWith(".txnindex"));
                copy(states.get(indexFirst ? step + 1 : step), crashed, name -> name.endsWith(".txnindex"));
                try (Stream<Path> files = Files.list(states.get(step + 1))) {
                    for (Path file : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                        Files.copy(file, crashed.resolve(file.getFileName() + LogSegment.CLEANED_SUFFIX));
                    }
                }
                String what = "crash in step " + step
                        + (indexFirst ? " after the index rename" : " after the log rename");
                try (Log log = open(crashed, new Log.Checkpoint(15, 0, 15), false)) {
                    log.updateHighWatermark(log.logEndOffset());
                    assertEquals(15, log.lastStableOffset(), what);
                    assertEquals(expected.get(logSide), readCommitted(log), what);
                    try (Stream<Path> files = Files.list(crashed)) {
                        assertEquals(0, files.filter(f -> f.toString().endsWith(LogSegment.CLEANED_SUFFIX)).count(),
                                what + ": leftovers of the interrupted cleaning are deleted");
                    }
                    log.compactNow();
                    log.compactNow();
                    assertEquals(COMMITTED_LATEST, readCommitted(log), what + ", cleaned again");
                    assertEquals(COMMITTED_LATEST, readUncommitted(log), what + ", cleaned again");
                }
            }
        }
    }

    Path snapshot(Path live, String name) throws IOException {
        Path copy = Files.createDirectory(dir.resolve(name));
        copy(live, copy, file -> true);
        return copy;
    }

    static Map<Long, String> expectedCommittedUncompacted() {
        Map<Long, String> all = new TreeMap<>(COMMITTED_LATEST);
        all.putAll(Map.of(0L, "x=c1", 1L, "y=c1"));
        return all;
    }

    static void copy(Path from, Path to, java.util.function.Predicate<String> names) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (names.test(file.getFileName().toString())) {
                    Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Every batch below {@code endOffset}, fetched one read at a time as a consumer would. */
    static List<RecordBatch> batches(Log log, long endOffset) throws IOException {
        List<RecordBatch> result = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < endOffset) {
            LogSlice slice = log.read(offset, 1 << 20, endOffset, true);
            ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
            try {
                assertTrue(bytes.isReadable(), "a read below the end offset returns a batch");
                ByteBuffer copy = ByteBuffer.allocate(bytes.readableBytes());
                bytes.getBytes(bytes.readerIndex(), copy);
                copy.flip();
                for (RecordBatch batch : MemoryRecords.readableRecords(copy).batches()) {
                    batch.ensureValid();
                    result.add(batch);
                    offset = batch.nextOffset();
                }
            } finally {
                bytes.release();
            }
        }
        return result;
    }

    static List<Long> markers(Log log) throws IOException {
        List<Long> offsets = new ArrayList<>();
        for (RecordBatch batch : batches(log, log.highWatermark())) {
            if (batch.isControlBatch()) {
                for (Record record : batch) {
                    offsets.add(record.offset());
                }
            }
        }
        return offsets;
    }

    static Map<Long, String> readUncommitted(Log log) throws IOException {
        Map<Long, String> records = new LinkedHashMap<>();
        for (RecordBatch batch : batches(log, log.highWatermark())) {
            if (!batch.isControlBatch()) {
                for (Record record : batch) {
                    records.put(record.offset(), string(record.key()) + "=" + string(record.value()));
                }
            }
        }
        return new TreeMap<>(records);
    }

    /** Kafka's consumer in read_committed (its CompletedFetch): skip batches of producers with an open abort. */
    static Map<Long, String> readCommitted(Log log) throws IOException {
        PriorityQueue<AbortedTransaction> aborted =
                new PriorityQueue<>(Comparator.comparingLong(AbortedTransaction::firstOffset));
        aborted.addAll(log.abortedTransactions(0, log.lastStableOffset()));
        Set<Long> abortedProducers = new HashSet<>();
        Map<Long, String> records = new TreeMap<>();
        for (RecordBatch batch : batches(log, log.lastStableOffset())) {
            if (batch.hasProducerId()) {
                while (!aborted.isEmpty() && aborted.peek().firstOffset() <= batch.lastOffset()) {
                    abortedProducers.add(aborted.poll().producerId());
                }
                if (batch.isControlBatch()) {
                    for (Record record : batch) {
                        if (ControlRecordType.parse(record.key()) == ControlRecordType.ABORT) {
                            abortedProducers.remove(batch.producerId());
                        }
                    }
                } else if (batch.isTransactional() && abortedProducers.contains(batch.producerId())) {
                    continue;
                }
            }
            if (!batch.isControlBatch()) {
                for (Record record : batch) {
                    records.put(record.offset(), string(record.key()) + "=" + string(record.value()));
                }
            }
        }
        return records;
    }

    static String string(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
