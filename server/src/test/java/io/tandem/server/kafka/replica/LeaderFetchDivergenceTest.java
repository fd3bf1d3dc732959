package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LogConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a follower's log stops agreeing with its leader's (the diverging epoch of a replica Fetch), as Kafka's
 * LeaderEpochFileCache.endOffsetFor answers it. The replication simulation's seeds 150 and 262: a broker elected
 * leader from the ISR before it had fetched the old leader's uncommitted records starts its log at a later epoch; a
 * follower holding those records asks from its older epoch and must be told to truncate to where the leader's first
 * epoch starts, not that its epoch is unknown (it then kept the records and never caught up).
 */
class LeaderFetchDivergenceTest {
    private static final TopicPartition TP = new TopicPartition("moving", 0);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    @Test
    void shouldTellAFollowerFromAnOlderEpochToTruncateToWhereTheLeadersFirstEpochStarts() throws Exception {
        Partition leader = fixture.logs(dir, 3).getOrCreate(TP, LogConfig.defaults());
        leader.makeLeader(6, List.of(3), 0, List.of(1, 2, 3), fixture.now);
        assertEquals(0, leader.logEndOffset());
        // The follower fetches from offset 30 having last fetched epoch 3, which this leader never had.
        assertArrayEquals(new long[] {3, 0}, LeaderFetch.divergence(leader, 30, 3));
    }

    @Test
    void shouldAnswerTheEpochBelowAndWhereTheNextStartsOrAgreement() throws Exception {
        Partition leader = fixture.twoEpochLog(dir, TP);
        // Epoch 4 is unknown here: the epoch at or below it (2) ends at 5, where 6 starts.
        assertArrayEquals(new long[] {2, 5}, LeaderFetch.divergence(leader, 7, 4));
        // A follower at epoch 2 up to offset 5, or at the current epoch, agrees.
        assertNull(LeaderFetch.divergence(leader, 5, 2));
        assertNull(LeaderFetch.divergence(leader, 8, 6));
        // An epoch older than every one known ends where the first one starts.
        assertArrayEquals(new long[] {1, 0}, LeaderFetch.divergence(leader, 3, 1));
    }

    @Test
    void shouldAnswerAnEpochAboveEveryKnownOneOutOfRangeAsKafkasReadRecords() throws Exception {
        Partition leader = fixture.twoEpochLog(dir, TP);
        // Epoch 9 is above every epoch here (2 and 6): Kafka cannot place it and answers OFFSET_OUT_OF_RANGE.
        assertEquals(ErrorCodes.OFFSET_OUT_OF_RANGE, LeaderFetch.lastFetchedEpochError(leader, 7, 9));
        assertEquals(ErrorCodes.NONE, LeaderFetch.lastFetchedEpochError(leader, 7, 4));
        assertEquals(ErrorCodes.NONE, LeaderFetch.lastFetchedEpochError(leader, 7, -1));
    }

    @Test
    void shouldCompleteAParkedFetchWhoseLastFetchedEpochNoLongerAgrees() throws Exception {
        Partition leader = fixture.twoEpochLog(dir, TP);
        // DelayedFetch case H: diverged (epoch 2 ends at 5, before 7), or an epoch that cannot be placed.
        assertTrue(LeaderFetch.divergedWhileParked(leader, 7, 2));
        assertTrue(LeaderFetch.divergedWhileParked(leader, 8, 9));
        assertFalse(LeaderFetch.divergedWhileParked(leader, 5, 2));
        assertFalse(LeaderFetch.divergedWhileParked(leader, 8, 6));
        assertFalse(LeaderFetch.divergedWhileParked(leader, 8, -1));
    }
}
