package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.cluster.TransactionalWorkload.Outcome;
import io.tandem.server.cluster.TransactionalWorkload.Txn;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker finds each anomaly it looks for in a history made to have it, and nothing in a clean one. */
class TransactionalCheckerTest {
    private static final Map<String, Txn> TXNS = Map.of(
            "w0-1", new Txn(0, 1, List.of("w0-1-0", "w0-1-1"), Outcome.COMMITTED),
            "w0-2", new Txn(0, 2, List.of("w0-2-0", "w0-2-1"), Outcome.COMMITTED),
            "w1-1", new Txn(1, 1, List.of("w1-1-0", "w1-1-1"), Outcome.ABORTED),
            "w1-2", new Txn(1, 2, List.of("w1-2-0", "w1-2-1"), Outcome.UNKNOWN),
            "w2-1", new Txn(2, 1, List.of("w2-1-0", "w2-1-1"), Outcome.COMMITTED));

    @Test
    void shouldFindNothingInAHistoryThatKeepsEveryRule() {
        var report = TransactionalChecker.check(TXNS, Map.of(
                0, List.of("w0-1-0", "w2-1-0", "w0-2-0", "w1-2-0"),
                1, List.of("w0-1-1", "w2-1-1", "w0-2-1", "w1-2-1")));
        assertTrue(report.errors().isEmpty(), report.errors().toString());
        assertEquals(0, report.writeCycles());
        assertEquals(4, report.visibleTxns());
    }

    @Test
    void shouldFindAbortedReadsLostWritesPartlyVisibleTransactionsDuplicatesAndWriterDisorder() {
        var report = TransactionalChecker.check(TXNS, Map.of(
                0, List.of("w0-2-0", "w0-1-0", "w1-1-0", "w1-2-0", "w0-1-0"),
                1, List.of("w0-1-1", "w0-2-1")));
        assertEquals(List.of("w1-1-0"), report.abortedReads());
        assertEquals(1, report.lostWrites().size(), report.lostWrites().toString()); // w2-1
        assertEquals(1, report.fractured().size(), report.fractured().toString()); // w1-2: one of two values
        assertEquals(1, report.duplicates().size(), report.duplicates().toString()); // w0-1-0 twice
        assertEquals(1, report.writerOrder().size(), report.writerOrder().toString()); // w0-1 after w0-2
    }

    @Test
    void shouldCountAWriteCycleBetweenTwoTransactionsOrderedDifferentlyInTwoPartitions() {
        var report = TransactionalChecker.check(TXNS, Map.of(
                0, List.of("w0-1-0", "w2-1-0"),
                1, List.of("w2-1-1", "w0-1-1")));
        assertEquals(1, report.writeCycles());
        assertTrue(report.lostWrites().stream().noneMatch(v -> v.startsWith("w0-1") || v.startsWith("w2-1")));
    }
}
