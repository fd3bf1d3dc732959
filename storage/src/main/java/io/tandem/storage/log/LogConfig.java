package io.tandem.storage.log;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The per-partition log settings, named after Kafka's topic configuration keys (the broker maps the {@code log.*}
 * broker defaults onto them). Defaults are Kafka 4.x's.
 *
 * @param segmentBytes        segment.bytes: roll when the active segment would exceed this
 * @param segmentMs           segment.ms: roll a non-empty active segment once an append's largest timestamp is this
 *                            far past the segment's first (see {@link LogSegment#shouldRollByTime})
 * @param segmentJitterMs     segment.jitter.ms: each segment rolls up to this much sooner, by a random amount drawn
 *                            when it is created or loaded, so logs created together do not all roll at once
 * @param segmentIndexBytes   segment.index.bytes: preallocated size of each index; roll when an index is full
 * @param indexIntervalBytes  index.interval.bytes: bytes of batches between sparse offset index entries
 * @param retentionMs         retention.ms: delete segments whose newest timestamp is older (-1: forever)
 * @param retentionBytes      retention.bytes: delete oldest segments while the log exceeds this (-1: unlimited)
 * @param compact             cleanup.policy contains compact
 * @param delete              cleanup.policy contains delete
 * @param deleteRetentionMs   delete.retention.ms: how long compaction keeps tombstones
 * @param minCompactionLagMs  min.compaction.lag.ms: records younger than this are not compacted
 * @param maxCompactionLagMs  max.compaction.lag.ms (KIP-354): a log whose oldest uncompacted record is older than
 *                            this is compacted whatever its dirty ratio, and its active segment rolls by then
 * @param minCleanableDirtyRatio min.cleanable.dirty.ratio: compact once more than this share of the log is uncompacted
 * @param flushIntervalMessages flush.messages: fsync after this many appended records (Long.MAX_VALUE: leave it to
 *                              the OS, Kafka's default)
 * @param flushIntervalMs     flush.ms: fsync when unflushed data is older than this (Long.MAX_VALUE: never)
 * @param fileDeleteDelayMs   file.delete.delay.ms: deleted segments' files stay open this long, so fetches already
 *                            holding their channel can finish
 */
public record LogConfig(
        int segmentBytes,
        long segmentMs,
        long segmentJitterMs,
        int segmentIndexBytes,
        int indexIntervalBytes,
        long retentionMs,
        long retentionBytes,
        boolean compact,
        boolean delete,
        long deleteRetentionMs,
        long minCompactionLagMs,
        long maxCompactionLagMs,
        double minCleanableDirtyRatio,
        long flushIntervalMessages,
        long flushIntervalMs,
        long fileDeleteDelayMs) {

    /** Smallest segment.bytes Kafka accepts: one batch header plus the log overhead. */
    public static final int SEGMENT_BYTES_MIN = 14;

    public LogConfig {
        check(segmentBytes >= SEGMENT_BYTES_MIN, "segment.bytes", segmentBytes);
        check(segmentMs >= 1, "segment.ms", segmentMs);
        check(segmentJitterMs >= 0, "segment.jitter.ms", segmentJitterMs);
        check(segmentIndexBytes >= 24, "segment.index.bytes", segmentIndexBytes);
        check(indexIntervalBytes >= 0, "index.interval.bytes", indexIntervalBytes);
        check(retentionMs >= -1, "retention.ms", retentionMs);
        check(retentionBytes >= -1, "retention.bytes", retentionBytes);
        check(deleteRetentionMs >= 0, "delete.retention.ms", deleteRetentionMs);
        check(minCompactionLagMs >= 0, "min.compaction.lag.ms", minCompactionLagMs);
        check(maxCompactionLagMs >= 1, "max.compaction.lag.ms", maxCompactionLagMs);
        check(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1, "min.cleanable.dirty.ratio",
                minCleanableDirtyRatio);
        check(flushIntervalMessages >= 1, "flush.messages", flushIntervalMessages);
        check(flushIntervalMs >= 0, "flush.ms", flushIntervalMs);
        check(fileDeleteDelayMs >= 0, "file.delete.delay.ms", fileDeleteDelayMs);
    }

    public static LogConfig defaults() {
        return new LogConfig(1 << 30, 7L * 24 * 3600 * 1000, 0, 10 << 20, 4096, 7L * 24 * 3600 * 1000, -1, false, true,
                24L * 3600 * 1000, 0, Long.MAX_VALUE, 0.5, Long.MAX_VALUE, Long.MAX_VALUE, 60_000);
    }

    /**
     * How old the active segment may get before it rolls: segment.ms, or max.compaction.lag.ms when that is shorter
     * on a compacted log (Kafka's LogConfig.maxSegmentMs), since the cleaner never touches the active segment and
     * could otherwise not honour the lag.
     */
    public long maxSegmentMs() {
        return compact && maxCompactionLagMs > 0 ? Math.min(maxCompactionLagMs, segmentMs) : segmentMs;
    }

    /**
     * A new segment's jitter, subtracted from {@link #maxSegmentMs()} when deciding whether it rolls: 0 without
     * segment.jitter.ms, else a random amount below min(segment.jitter.ms, segment.ms), as Kafka's
     * LogConfig.randomSegmentJitter draws it.
     */
    public long randomSegmentJitter() {
        if (segmentJitterMs == 0) return 0;
        int draw = ThreadLocalRandom.current().nextInt();
        return (draw == Integer.MIN_VALUE ? 0 : Math.abs(draw)) % Math.min(segmentJitterMs, segmentMs);
    }

    /**
     * Kafka's topic-level keys over the defaults. Unknown keys are ignored here; the broker owns warning about them,
     * because most topic keys (max.message.bytes, message.timestamp.type, ...) are enforced by the broker, not the log.
     */
    public static LogConfig fromTopicConfig(Map<String, String> topicConfig) {
        LogConfig d = defaults();
        String policy = topicConfig.getOrDefault("cleanup.policy", "delete").replace(" ", "");
        boolean compact = false;
        boolean delete = false;
        for (String part : policy.split(",")) {
            switch (part) {
                case "compact" -> compact = true;
                case "delete" -> delete = true;
                case "" -> { }
                default -> throw new IllegalArgumentException("cleanup.policy has unknown value " + part);
            }
        }
        return new LogConfig(
                intValue(topicConfig, "segment.bytes", d.segmentBytes),
                longValue(topicConfig, "segment.ms", d.segmentMs),
                longValue(topicConfig, "segment.jitter.ms", d.segmentJitterMs),
                intValue(topicConfig, "segment.index.bytes", d.segmentIndexBytes),
                intValue(topicConfig, "index.interval.bytes", d.indexIntervalBytes),
                longValue(topicConfig, "retention.ms", d.retentionMs),
                longValue(topicConfig, "retention.bytes", d.retentionBytes),
                compact,
                delete,
                longValue(topicConfig, "delete.retention.ms", d.deleteRetentionMs),
                longValue(topicConfig, "min.compaction.lag.ms", d.minCompactionLagMs),
                longValue(topicConfig, "max.compaction.lag.ms", d.maxCompactionLagMs),
                Double.parseDouble(topicConfig.getOrDefault("min.cleanable.dirty.ratio",
                        Double.toString(d.minCleanableDirtyRatio))),
                longValue(topicConfig, "flush.messages", d.flushIntervalMessages),
                longValue(topicConfig, "flush.ms", d.flushIntervalMs),
                longValue(topicConfig, "file.delete.delay.ms", d.fileDeleteDelayMs));
    }

    public LogConfig withSegmentBytes(int bytes) {
        return new LogConfig(bytes, segmentMs, segmentJitterMs, segmentIndexBytes, indexIntervalBytes, retentionMs, retentionBytes,
                compact, delete, deleteRetentionMs, minCompactionLagMs, maxCompactionLagMs, minCleanableDirtyRatio,
                flushIntervalMessages,
                flushIntervalMs, fileDeleteDelayMs);
    }

    private static int intValue(Map<String, String> config, String key, int fallback) {
        String value = config.get(key);
        return value == null ? fallback : Integer.parseInt(value.trim());
    }

    private static long longValue(Map<String, String> config, String key, long fallback) {
        String value = config.get(key);
        return value == null ? fallback : Long.parseLong(value.trim());
    }

    private static void check(boolean ok, String key, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + key + ": " + value);
        }
    }
}
