package io.tandem.zk.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The text of the quota znodes (Apache's StatsTrack): for a path P with a quota, {@code /zookeeper/quota/P/}
 * {@link #LIMIT_NODE} holds the limits a client set and {@link #STAT_NODE} the counts the server keeps, both as
 * {@code count=N,bytes=N} followed, when there are more keys, by {@code =} and {@code ;key=N} pairs in name order
 * ({@code countHardLimit}, {@code byteHardLimit}). The odd {@code =} after bytes lets Apache 3.4's parser skip the
 * new keys; writing exactly this shape keeps every Apache client and server able to read what Tandem writes.
 * A missing key reads as -1 (no limit).
 */
public final class QuotaStats {
    public static final String LIMIT_NODE = "zookeeper_limits";
    public static final String STAT_NODE = "zookeeper_stats";
    public static final String COUNT = "count";
    public static final String BYTES = "bytes";
    public static final String COUNT_HARD_LIMIT = "countHardLimit";
    public static final String BYTE_HARD_LIMIT = "byteHardLimit";

    private static final Pattern PAIRS = Pattern.compile("[,;]+");

    private final Map<String, Long> values = new HashMap<>();

    /** No keys: every value reads -1. */
    public QuotaStats() {
    }

    /**
     * Parsed as Apache does: pairs split at commas and semicolons, each at its first {@code =}; an empty value is -1.
     *
     * @throws IllegalArgumentException if a pair has no {@code =} or its value is not a number
     */
    public static QuotaStats parse(byte[] text) {
        QuotaStats stats = new QuotaStats();
        if (text == null || text.length == 0) {
            return stats;
        }
        for (String pair : PAIRS.split(new String(text, StandardCharsets.UTF_8))) {
            String[] keyValue = pair.split("=");
            if (keyValue.length < 1 || keyValue[0].isEmpty() || pair.indexOf('=') < 0) {
                throw new IllegalArgumentException("not a quota key=value pair: " + pair);
            }
            String value = keyValue.length < 2 || keyValue[1].isEmpty() ? "-1" : keyValue[1];
            try {
                stats.values.put(keyValue[0], Long.parseLong(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number in quota pair: " + pair, e);
            }
        }
        return stats;
    }

    /** The value of {@code key}, -1 when absent. */
    public long get(String key) {
        return values.getOrDefault(key, -1L);
    }

    public QuotaStats set(String key, long value) {
        values.put(key, value);
        return this;
    }

    public long count() {
        return get(COUNT);
    }

    public long bytes() {
        return get(BYTES);
    }

    /** Apache's text of these values (see the class comment). */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        text.append(COUNT).append('=').append(count()).append(',').append(BYTES).append('=').append(bytes());
        List<String> others = new ArrayList<>(values.keySet());
        others.remove(COUNT);
        others.remove(BYTES);
        if (!others.isEmpty()) {
            text.append('=');
            Collections.sort(others);
            for (String key : others) {
                text.append(';').append(key).append('=').append(values.get(key));
            }
        }
        return text.toString();
    }

    public byte[] toBytes() {
        return toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {@code /zookeeper/quota} + {@code path}: where a path's quota nodes live. */
    public static String quotaPath(String path) {
        return SpecialPaths.QUOTA + path;
    }

    public static String limitPath(String path) {
        return quotaPath(path) + "/" + LIMIT_NODE;
    }

    public static String statPath(String path) {
        return quotaPath(path) + "/" + STAT_NODE;
    }
}
