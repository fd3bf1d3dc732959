package io.tandem.server.zab;

import java.lang.reflect.RecordComponent;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;

/**
 * What a simulator run did, event by event: every message delivered (step, sender, receiver and the message's content)
 * and every traced event (starts, crashes, role changes, connections, partitions) go into one running hash, and the
 * last {@link #LINES_MAX} traced lines are kept for a failure's report. Two runs of a seed replay exactly when their
 * hashes are equal; a committed history can match while the runs differ (a vote delivered at another step, session
 * touches in another order), so the repeatability test compares this hash, not only what was committed.
 */
final class EventTrace {
    private static final int LINES_MAX = 300;

    private final ArrayDeque<String> lines = new ArrayDeque<>();
    private long hash = 17;
    private long events;

    void line(long step, String line) {
        if (lines.size() == LINES_MAX) {
            lines.removeFirst();
        }
        lines.addLast("[step " + step + "] " + line);
        mix(step);
        mix(line.hashCode());
    }

    void delivery(long step, int from, int to, ZabMessage message) {
        mix(step);
        mix(from);
        mix(to);
        mix(digest(message));
    }

    /** The run so far as one number: equal for two runs that did the same things in the same order. */
    String hash() {
        return events + "/" + Long.toHexString(hash);
    }

    Iterable<String> lastLines() {
        return lines;
    }

    private void mix(long value) {
        hash = hash * 1_000_003L + value;
        events++;
    }

    /**
     * A hash of a message's content, never of an identity: records by their components, byte arrays by their bytes,
     * collections in their order. A snapshot counts by its zxid (the Sync around it carries it), not by the object.
     */
    static long digest(Object value) {
        if (value == null) {
            return 0;
        }
        if (value instanceof byte[] bytes) {
            return Arrays.hashCode(bytes);
        }
        if (value instanceof int[] ints) {
            return Arrays.hashCode(ints);
        }
        if (value instanceof Number || value instanceof Boolean || value instanceof String || value instanceof Enum<?>) {
            return value.toString().hashCode();
        }
        if (value instanceof Collection<?> items) {
            long hash = items.size();
            for (Object item : items) {
                hash = hash * 31 + digest(item);
            }
            return hash;
        }
        if (value instanceof Record record) {
            long hash = record.getClass().getSimpleName().hashCode();
            for (RecordComponent component : record.getClass().getRecordComponents()) {
                try {
                    component.getAccessor().setAccessible(true);
                    hash = hash * 31 + digest(component.getAccessor().invoke(record));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return hash;
        }
        return value.getClass().getSimpleName().hashCode();
    }
}
