package io.tandem.server.kafka.handlers;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Where an epoch ends, by Kafka's LeaderEpochFileCache.endOffsetFor rules. */
class OffsetForLeaderEpochEndOffsetTest {
    private static final Map<Integer, Long> EPOCHS = Map.of(2, 10L, 4, 20L, 7, 35L);

    @Test
    void shouldEndTheLatestEpochAtTheLogEnd() {
        assertArrayEquals(new long[] {7, 50}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, 7, 50));
    }

    @Test
    void shouldEndAnEpochWhereTheNextKnownOneStarts() {
        assertArrayEquals(new long[] {4, 35}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, 4, 50));
        assertArrayEquals(new long[] {4, 35}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, 5, 50));
    }

    @Test
    void shouldAnswerAnEpochBelowEveryKnownOneWithTheFirstStartUnderTheRequestedEpoch() {
        assertArrayEquals(new long[] {1, 10}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, 1, 50));
    }

    @Test
    void shouldLeaveAnEpochAboveEveryKnownOneOrAnUndefinedOneUndefined() {
        assertArrayEquals(new long[] {-1, -1}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, 9, 50));
        assertArrayEquals(new long[] {-1, -1}, OffsetForLeaderEpochHandler.endOffsetFor(EPOCHS, -1, 50));
        assertArrayEquals(new long[] {-1, -1}, OffsetForLeaderEpochHandler.endOffsetFor(Map.of(), 0, 50));
    }
}
