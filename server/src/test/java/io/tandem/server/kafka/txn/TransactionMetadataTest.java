package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The transitions of transaction version 2 as Kafka 4.4's TransactionMetadata makes them. */
class TransactionMetadataTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    private static TransactionMetadata ongoing(short epoch) {
        TransactionMetadata m = new TransactionMetadata("id", 5, -1, epoch, (short) -1, 60_000,
                TransactionState.EMPTY, -1, 1_000);
        m.completeTransitionTo(m.prepareAddPartitions(Set.of(TP), 2_000, Features.TRANSACTION_VERSION_2));
        return m;
    }

    @Test
    void version2CommitShouldBumpTheEpochInThePrepareStateAndKeepItWhenComplete() {
        TransactionMetadata m = ongoing((short) 4);
        assertEquals(Features.TRANSACTION_VERSION_2, m.clientTransactionVersion());
        TransactionMetadata.Transition prepare = m.prepareAbortOrCommit(TransactionState.PREPARE_COMMIT,
                Features.TRANSACTION_VERSION_2, TransactionMetadata.NO_PRODUCER_ID, 3_000, false);
        assertEquals(5, prepare.producerEpoch());
        assertEquals(4, prepare.lastProducerEpoch());
        m.completeTransitionTo(prepare);
        assertEquals(5, m.producerEpoch());
        TransactionMetadata.Transition complete = m.prepareComplete(4_000);
        assertEquals(5, complete.producerId());
        assertEquals(5, complete.producerEpoch());
        m.completeTransitionTo(complete);
        assertEquals(TransactionState.COMPLETE_COMMIT, m.state());
        assertEquals(Set.of(), m.topicPartitions());
    }

    @Test
    void version0CommitShouldKeepTheEpoch() {
        TransactionMetadata m = ongoing((short) 4);
        TransactionMetadata.Transition prepare = m.prepareAbortOrCommit(TransactionState.PREPARE_COMMIT,
                Features.TRANSACTION_VERSION_0, TransactionMetadata.NO_PRODUCER_ID, 3_000, false);
        assertEquals(4, prepare.producerEpoch());
        m.completeTransitionTo(prepare);
        m.completeTransitionTo(m.prepareComplete(4_000));
        assertEquals(4, m.producerEpoch());
    }

    @Test
    void anExhaustedEpochShouldHandOverToTheNextProducerIdAtEpochZero() {
        short lastUsable = Short.MAX_VALUE - 1;
        TransactionMetadata m = ongoing(lastUsable);
        assertTrue(m.isProducerEpochExhausted());
        TransactionMetadata.Transition prepare = m.prepareAbortOrCommit(TransactionState.PREPARE_ABORT,
                Features.TRANSACTION_VERSION_2, 9, 3_000, false);
        assertEquals(Short.MAX_VALUE, prepare.producerEpoch(), "the markers fence every epoch of the old id");
        assertEquals(9, prepare.nextProducerId());
        m.completeTransitionTo(prepare);
        TransactionMetadata.Transition complete = m.prepareComplete(4_000);
        assertEquals(9, complete.producerId());
        assertEquals(0, complete.producerEpoch());
        assertEquals(5, complete.lastProducerId(), "a retry names the old id");
        assertEquals(lastUsable, complete.lastProducerEpoch(), "the last epoch the client saw");
        assertEquals(TransactionMetadata.NO_PRODUCER_ID, complete.nextProducerId());
        m.completeTransitionTo(complete);
        assertEquals(9, m.producerId());
        assertEquals(0, m.producerEpoch());
        assertEquals(5, m.lastProducerId);
    }

    @Test
    void version2ShouldAbortWithNothingAddedStartingTheTransactionAtTheAbort() {
        TransactionMetadata m = new TransactionMetadata("id", 5, -1, (short) 0, (short) -1, 60_000,
                TransactionState.EMPTY, -1, 1_000);
        TransactionMetadata.Transition abort = m.prepareAbortOrCommit(TransactionState.PREPARE_ABORT,
                Features.TRANSACTION_VERSION_2, TransactionMetadata.NO_PRODUCER_ID, 3_000, true);
        assertEquals(3_000, abort.txnStartTimestamp(), "the abort's time stands in for the missing start");
        m.completeTransitionTo(abort);
        assertEquals(TransactionState.PREPARE_ABORT, m.state());
        assertEquals(1, m.producerEpoch());
        assertEquals(3_000, m.txnStartTimestamp());
    }
}
