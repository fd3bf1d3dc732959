package io.tandem.storage.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link LeaderEpochCache#endOffsetFor} against the rules of Kafka's LeaderEpochFileCache.endOffsetFor, one row per
 * case: the undefined epoch and an epoch above every known one are undefined; the latest epoch ends at the log end;
 * an epoch below every known one ends where the first known one starts, under the epoch asked; any other epoch is
 * answered by the largest known epoch at most it, ending where the next known one starts.
 */
class LeaderEpochCacheTest {
    private static final long LOG_END = 50;
    private static final Map<Integer, Long> EPOCHS = new TreeMap<>(Map.of(2, 10L, 4, 20L, 7, 35L));

    @TempDir
    Path dir;

    /** One row: the epochs known, the epoch asked, the expected {epoch, end offset}. */
    private record Row(String why, Map<Integer, Long> epochs, int requested, long epoch, long endOffset) {
    }

    private static final List<Row> TABLE = List.of(
            new Row("undefined epoch asked", EPOCHS, -1, -1, -1),
            new Row("nothing known", Map.of(), 0, -1, -1),
            new Row("nothing known, a positive epoch", Map.of(), 3, -1, -1),
            new Row("the latest epoch ends at the log end", EPOCHS, 7, 7, LOG_END),
            new Row("the only epoch is the latest", Map.of(3, 0L), 3, 3, LOG_END),
            new Row("above every known epoch", EPOCHS, 9, -1, -1),
            new Row("above the only epoch", Map.of(3, 0L), 4, -1, -1),
            new Row("a known epoch ends where the next starts", EPOCHS, 4, 4, 35),
            new Row("the first known epoch", EPOCHS, 2, 2, 20),
            new Row("between known epochs: the one below", EPOCHS, 5, 4, 35),
            new Row("between known epochs, just above the first", EPOCHS, 3, 2, 20),
            new Row("below every known epoch: the first start, under the epoch asked", EPOCHS, 1, 1, 10),
            new Row("epoch 0 below every known epoch", EPOCHS, 0, 0, 10),
            new Row("below the only epoch", Map.of(3, 6L), 1, 1, 6));

    @Test
    void shouldAnswerEveryRowAsKafkasLeaderEpochFileCache() throws IOException {
        for (Row row : TABLE) {
            LeaderEpochCache cache = cacheWith(row.epochs());
            assertArrayEquals(new long[] {row.epoch(), row.endOffset()}, cache.endOffsetFor(row.requested(), LOG_END),
                    row.why());
        }
    }

    @Test
    void shouldAnswerTheSameAfterTheCheckpointIsReadBack() throws IOException {
        cacheWith(EPOCHS);
        LeaderEpochCache reopened = new LeaderEpochCache(dir);
        assertEquals(EPOCHS, reopened.entries());
        assertArrayEquals(new long[] {1, 10}, reopened.endOffsetFor(1, LOG_END));
    }

    private LeaderEpochCache cacheWith(Map<Integer, Long> epochs) throws IOException {
        LeaderEpochCache cache = new LeaderEpochCache(dir);
        cache.clear();
        for (Map.Entry<Integer, Long> e : new TreeMap<>(epochs).entrySet()) cache.assign(e.getKey(), e.getValue());
        cache.flush();
        return cache;
    }
}
