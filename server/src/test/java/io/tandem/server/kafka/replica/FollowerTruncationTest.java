package io.tandem.server.kafka.replica;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Where a follower truncates when its leader answers a diverging epoch: Kafka's
 * AbstractFetcherThread.getOffsetTruncationState over the follower's own LeaderEpochCache.endOffsetFor, one row per
 * rule, on a real log holding epoch 2 at offsets 0-4 and epoch 6 at 5-7.
 */
class FollowerTruncationTest {
    private static final TopicPartition TP = new TopicPartition("diverged", 0);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    /** The leader's diverging epoch and its end offset, the offset the follower must truncate to, and why. */
    private record Row(String why, int leaderEpoch, long leaderEndOffset, long truncateTo) {
    }

    @Test
    void shouldTruncateByKafkasRulesForEveryKindOfDivergingEpoch() throws Exception {
        Partition follower = fixture.twoEpochLog(dir, TP);
        List<Row> table = List.of(
                new Row("an epoch unknown here (above every one): the leader's end", 9, 7, 7),
                new Row("an epoch unknown here, its end past this log's: the log end", 9, 20, 8),
                new Row("only a smaller epoch known here: where that one ends here", 4, 3, 5),
                new Row("the same epoch: the smaller end", 2, 3, 3),
                new Row("the same epoch ending later at the leader: where it ends here", 2, 7, 5),
                new Row("below every epoch here: where the first starts", 1, 4, 0),
                new Row("the latest epoch here: the leader's end within this log", 6, 7, 7));
        for (Row row : table) {
            assertEquals(row.truncateTo(), FollowerFetch.truncationOffset(follower.log().leaderEpochs(),
                    follower.logEndOffset(), row.leaderEpoch(), row.leaderEndOffset()), row.why());
        }
    }
}
