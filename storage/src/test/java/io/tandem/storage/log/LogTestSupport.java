package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the {@link Log} tests share: a fresh directory and a settable clock per test, and the small-segment config
 * and fill helper most of them start from. The tests themselves are split by concern (appends and reads, indexes,
 * recovery, retention, truncation).
 */
abstract class LogTestSupport {
    @TempDir
    Path dir;

    final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    Log open(LogConfig config) throws IOException {
        return Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null);
    }

    static LogConfig small() {
        // Segments of ~3 small batches, every batch indexed.
        return LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "index.interval.bytes", "0",
                "file.delete.delay.ms", "0"));
    }

    static List<Long> range(long fromInclusive, long toExclusive) {
        return LongStream.range(fromInclusive, toExclusive).boxed().toList();
    }

    /** Appends {@code batches} batches of {@code perBatch} records with increasing timestamps; returns the info. */
    static List<LogAppendInfo> fill(Log log, int batches, int perBatch, long firstTimestamp) throws IOException {
        List<LogAppendInfo> infos = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            infos.add(log.appendAsLeader(batch(perBatch, firstTimestamp + i * 100L), 0, -1));
        }
        return infos;
    }

    List<Path> listMatching(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(suffix)).toList();
        }
    }
}
