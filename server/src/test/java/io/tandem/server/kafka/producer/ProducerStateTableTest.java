package io.tandem.server.kafka.producer;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

class ProducerStateTableTest {
    private final ProducerStateTable table = new ProducerStateTable();

    private void append(long pid, short epoch, int firstSeq, int count, long firstOffset) {
        ProducerStateTable.Check check = table.check(pid, epoch, firstSeq, count);
        assertTrue(check.shouldAppend(), "expected append, got " + check);
        table.record(pid, epoch, firstSeq, count, firstOffset, firstOffset + count - 1, 0);
    }

    @Test
    void shouldAnswerRetriedCachedBatchWithItsOriginalOffsets() {
        append(7, (short) 0, 0, 3, 100);
        append(7, (short) 0, 3, 2, 103);
        ProducerStateTable.Check retry = table.check(7, (short) 0, 0, 3);
        assertEquals(NONE, retry.error());
        assertTrue(retry.isDuplicate());
        assertEquals(100, retry.duplicateOf().firstOffset());
    }

    @Test
    void shouldRejectGapsAndStaleSequencesAsOutOfOrder() {
        append(7, (short) 0, 0, 3, 0);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 5, 1).error());
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 1, 1).error());
        assertTrue(table.check(7, (short) 0, 3, 1).shouldAppend());
    }

    @Test
    void shouldOnlyRememberTheLastFiveBatches() {
        for (int i = 0; i < 6; i++) append(7, (short) 0, i, 1, i);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 0, 1).error(),
                "the first batch fell out of the cache: a retry of it can no longer be recognised");
        assertTrue(table.check(7, (short) 0, 1, 1).isDuplicate());
    }

    @Test
    void shouldFenceOlderEpochsAndRequireSequenceZeroForANewEpoch() {
        append(7, (short) 1, 0, 1, 0);
        assertEquals(INVALID_PRODUCER_EPOCH, table.check(7, (short) 0, 1, 1).error());
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 2, 4, 1).error());
        append(7, (short) 2, 0, 1, 1);
        assertEquals(2, table.epochOf(7));
    }

    @Test
    void shouldAcceptAnySequenceFromAnUnknownProducerAndWrapSequences() {
        append(9, (short) 0, 40, 1, 0);
        append(9, (short) 0, 41, Integer.MAX_VALUE - 41 + 1, 1);
        append(9, (short) 3, 0, 1, 2);
        append(9, (short) 3, 1, Integer.MAX_VALUE - 2, 3);
        append(9, (short) 3, Integer.MAX_VALUE - 1, 2, 4);
        assertTrue(table.check(9, (short) 3, Integer.MAX_VALUE - 1, 2).isDuplicate());
        assertTrue(table.check(9, (short) 3, 0, 5).shouldAppend(), "after MAX_VALUE the sequence wraps to 0");
    }

    @Test
    void shouldRebuildTheSameVerdictsFromTheLog() {
        append(7, (short) 0, 0, 2, 0);
        append(7, (short) 0, 2, 2, 2);
        ProducerStateTable rebuilt = new ProducerStateTable();
        rebuilt.record(7, (short) 0, 0, 2, 0, 1, 0);
        rebuilt.record(7, (short) 0, 2, 2, 2, 3, 0);
        assertEquals(table.check(7, (short) 0, 2, 2), rebuilt.check(7, (short) 0, 2, 2));
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, rebuilt.check(7, (short) 0, 9, 1).error());
    }

    @Test
    void shouldHandOutUniqueIdsAcrossBlocks() throws Exception {
        AtomicLong reserved = new AtomicLong();
        ProducerIdManager ids = new ProducerIdManager(size -> reserved.getAndAdd(size));
        long first = ids.nextProducerId();
        for (int i = 1; i < ProducerIdManager.BLOCK_SIZE; i++) ids.nextProducerId();
        assertEquals(first + ProducerIdManager.BLOCK_SIZE, ids.nextProducerId());
        assertEquals(2 * ProducerIdManager.BLOCK_SIZE, reserved.get());
    }

    @Test
    void shouldForgetAProducerIdleForTheExpirationTimeAndThenAcceptItsNextSequence() {
        table.record(7, (short) 0, 0, 1, 0, 0, 1_000);
        table.record(8, (short) 0, 0, 1, 1, 1, 1_500);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 5, 1).error());
        assertEquals(0, table.expire(1_999, 1_000), "not yet: 999 ms idle");
        assertEquals(1, table.expire(2_000, 1_000), "producer 7 idle for exactly the expiration time");
        assertEquals(1, table.producerCount());
        assertTrue(table.check(7, (short) 0, 5, 1).shouldAppend(), "a forgotten producer is unknown: any sequence");
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(8, (short) 0, 5, 1).error());
    }

    @Test
    void afterAMarkerBumpedTheEpochItsFirstBatchShouldBeSequenceZero() {
        append(7, (short) 2, 0, 3, 0);
        table.recordMarker(7, (short) 3, 0, 100);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 3, 1, 1).error(),
                "a second batch overtaking the epoch's first one");
        assertTrue(table.check(7, (short) 3, 0, 1).shouldAppend());
        append(7, (short) 3, 0, 1, 4);
        assertTrue(table.check(7, (short) 3, 1, 1).shouldAppend());
        table.recordMarker(7, (short) 4, 0, 200);
        assertTrue(table.check(7, (short) 4, ProducerStateTable.NO_SEQUENCE, 1).shouldAppend(),
                "a coordinator's batch (transactional offsets) carries no sequence");
    }

    @Test
    void aCoordinatorsBatchAtAnEpochBumpedWithoutAMarkerHereShouldBeTaken() {
        // Transactional offsets at epoch 5, ended by a marker at 6; then InitProducerId bumps the epoch to 7 with no
        // transaction open, so no marker reaches this partition before the next offsets at epoch 7.
        append(7, (short) 5, ProducerStateTable.NO_SEQUENCE, 1, 0);
        table.recordMarker(7, (short) 6, 0, 1);
        assertTrue(table.check(7, (short) 7, ProducerStateTable.NO_SEQUENCE, 1).shouldAppend(),
                "a coordinator's batch carries no sequence to start over at 0");
        append(8, (short) 1, 0, 2, 10);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(8, (short) 2, 1, 1).error(),
                "a client's batch at a bumped epoch still starts at sequence 0");
    }

    @Test
    void transactionVersion2MarkersShouldNeedANewerEpoch() {
        append(7, (short) 2, 0, 1, 0);
        assertEquals(NONE, table.checkMarker(7, (short) 2, 0, false), "version 0 markers keep the epoch");
        assertEquals(INVALID_PRODUCER_EPOCH, table.checkMarker(7, (short) 2, 0, true),
                "a version 2 marker at the producer's own epoch is stale");
        assertEquals(NONE, table.checkMarker(7, (short) 3, 0, true));
        assertEquals(NONE, table.checkMarker(8, (short) 0, 0, true), "a producer never seen here");
    }

    @Test
    void markersShouldFenceOlderProducerEpochsAndOlderCoordinators() {
        append(7, (short) 2, 0, 1, 0);
        assertEquals(INVALID_PRODUCER_EPOCH, table.checkMarker(7, (short) 1, 0));
        assertEquals(NONE, table.checkMarker(7, (short) 2, 3));
        table.recordMarker(7, (short) 2, 3, 100);
        assertEquals(TRANSACTION_COORDINATOR_FENCED, table.checkMarker(7, (short) 2, 2),
                "a coordinator of an older epoch of the state partition");
        assertEquals(NONE, table.checkMarker(8, (short) 0, 0), "a producer never seen here");
        // A fencing abort bumps the epoch: the old producer's next batch is refused, the sequence goes on otherwise.
        table.recordMarker(7, (short) 3, 3, 200);
        assertEquals(INVALID_PRODUCER_EPOCH, table.check(7, (short) 2, 1, 1).error());
        assertTrue(table.check(7, (short) 4, 0, 1).shouldAppend());
        ProducerStateTable.ProducerSnapshot snapshot = table.snapshot().get(0);
        assertEquals(new ProducerStateTable.ProducerSnapshot(7, (short) 3, -1, 200, 3), snapshot);
    }
    void aCommitMarkerShouldKeepTheSequenceOfTheSameEpoch() {
        append(7, (short) 0, 0, 2, 0);
        table.recordMarker(7, (short) 0, 0, 10);
        assertTrue(table.check(7, (short) 0, 2, 1).shouldAppend(), "the next transaction continues the sequence");
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 0, 1).error());
    }

    @Test
    void aVerificationShouldBeJoinedByRetriesAndEndedByTheProducersNextTransactionalAppendOrMarker() {
        ProducerStateTable table = new ProducerStateTable();
        assertSame(VerificationGuard.SENTINEL, table.verificationGuard(7));
        VerificationGuard first = table.startVerification(7, (short) 0, 0, false, 0);
        assertSame(first, table.startVerification(7, (short) 0, 0, false, 5), "a retried produce joins the first");
        assertNull(table.checkVerified(7, (short) 0, first));
        assertEquals(INVALID_TXN_STATE, table.checkVerified(7, (short) 0, VerificationGuard.SENTINEL).error());
        assertEquals(INVALID_TXN_STATE, table.checkVerified(7, (short) 0, new VerificationGuard()).error());
        table.transactionalAppended(7, (short) 0, true);
        assertEquals(INVALID_TXN_STATE, table.checkVerified(7, (short) 0, first).error(), "a marker ended it");
        VerificationGuard second = table.startVerification(7, (short) 0, 0, false, 10);
        assertNotSame(first, second, "a verification after the marker is a new one (Kafka's ABA case)");
        table.transactionalAppended(7, (short) 0, false);
        assertSame(VerificationGuard.SENTINEL, table.verificationGuard(7), "the first append ends it");
        table.record(7, (short) 3, 0, 1, 0, 0, 0);
        assertEquals(INVALID_PRODUCER_EPOCH, table.checkVerified(7, (short) 2, second).error(),
                "an older epoch than the producer's comes first, as in Kafka 4.x");
        assertEquals(INVALID_PRODUCER_EPOCH, table.checkEpoch(7, (short) 2).error());
    }

    @Test
    void aTransactionVersion2MarkerAtTheVerifiedEpochShouldEndThePreviousTransactionNotTheVerification() {
        ProducerStateTable table = new ProducerStateTable();
        VerificationGuard next = table.startVerification(7, (short) 6, 0, true, 0);
        table.transactionalAppended(7, (short) 6, true);
        assertSame(next, table.verificationGuard(7), "the marker carries the bumped epoch the next transaction uses");
        table.transactionalAppended(7, (short) 7, true);
        assertSame(VerificationGuard.SENTINEL, table.verificationGuard(7));
        VerificationGuard v0 = table.startVerification(8, (short) 6, 0, false, 0);
        table.transactionalAppended(8, (short) 6, true);
        assertNotSame(v0, table.verificationGuard(8), "transaction version 0 markers end it whatever the epoch");
    }

    @Test
    void verificationsShouldExpireAndStayBounded() {
        ProducerStateTable table = new ProducerStateTable();
        for (long id = 0; id < ProducerStateTable.VERIFICATIONS_MAX; id++) {
            assertNotNull(table.startVerification(id, (short) 0, 0, false, id < 10 ? 0 : 1_000));
        }
        assertNull(table.startVerification(-5, (short) 0, 0, false, 1_000), "past the bound a new one is refused");
        assertNotNull(table.startVerification(3, (short) 0, 0, false, 1_000), "one under way is still joined");
        table.expire(1_000, 1_000);
        assertEquals(ProducerStateTable.VERIFICATIONS_MAX - 10, table.verificationCount(), "the unanswered expire");
        assertNotNull(table.startVerification(-5, (short) 0, 0, false, 1_000));
    }

    @Test
    void aHigherSequenceThanTheLowestVerifiedShouldBeOutOfOrderUntilTheLowestIsIn() {
        table.startVerification(7, (short) 0, 2, false, 0);
        table.startVerification(7, (short) 0, 5, false, 0);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 5, 1).error(),
                "an unknown producer's later batch may not overtake the first one verified (Kafka 3.6+)");
        table.startVerification(7, (short) 0, 0, false, 0);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 0, 2, 1).error(), "a lower one lowers it");
        assertTrue(table.check(7, (short) 0, 0, 2).shouldAppend());
        table.startVerification(7, (short) 1, 3, false, 0);
        assertTrue(table.check(7, (short) 1, 3, 1).shouldAppend(), "a newer epoch starts over from its own");
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 1, 4, 1).error());
        assertTrue(table.check(7, (short) 1, ProducerStateTable.NO_SEQUENCE, 1).shouldAppend(),
                "a coordinator's batch has no sequence to check");
        append(7, (short) 1, 3, 1, 0);
        table.transactionalAppended(7, (short) 1, false);
        assertTrue(table.check(7, (short) 1, 4, 1).shouldAppend(), "the verification ended with the first append");
    }

    @Test
    void aTransactionVersion2ProducerWithNoBatchHereShouldStartAtSequenceZero() {
        table.startVerification(7, (short) 4, 3, true, 0);
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, table.check(7, (short) 4, 3, 1).error(), "Kafka 4.1's KAFKA-18202");
        table.startVerification(8, (short) 4, 3, false, 0);
        assertTrue(table.check(8, (short) 4, 3, 1).shouldAppend(), "transaction version 0 takes any sequence");
        table.startVerification(7, (short) 4, 0, true, 0);
        assertTrue(table.check(7, (short) 4, 0, 1).shouldAppend());
    }
}
