package io.tandem.storage.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Kafka's time index ({@code .timeindex}): 12-byte entries of (timestamp: int64, offset relative to the segment base:
 * int32), both increasing. An entry (t, o) says the largest timestamp among batches up to offset o is t, so the first
 * record with timestamp at least t' &gt; t lies after the batch holding o.
 */
final class TimeIndex extends IndexFile {
    static final int ENTRY_BYTES = 12;

    TimeIndex(Path file, long baseOffset, int maxIndexBytes) throws IOException {
        super(file, baseOffset, maxIndexBytes, ENTRY_BYTES);
    }

    /**
     * The offset to start searching from for the first record with timestamp at least {@code timestamp}: the offset
     * of the last entry whose timestamp is below it (records up to that offset are all older), else the base offset.
     */
    long lookupStartOffset(long timestamp) {
        int n = floorEntry(timestamp - 1);
        return n < 0 ? baseOffset : offsetOf(n);
    }

    long lastTimestamp() {
        int n = entries();
        return n == 0 ? -1 : key(n - 1);
    }

    /** Appends when the timestamp grew past the last entry's; ignores otherwise (timestamps need not be ordered). */
    void maybeAppend(long timestamp, long offset) {
        int n = entries();
        if (n > 0 && (timestamp <= key(n - 1) || offset < offsetOf(n - 1))) {
            return;
        }
        if (isFull()) {
            throw new IllegalStateException("time index " + file() + " is full");
        }
        writableMap().putLong(n * ENTRY_BYTES, timestamp);
        map().putInt(n * ENTRY_BYTES + 8, relative(offset));
        publishEntries(n + 1);
    }

    boolean isSane(long nextOffset) {
        long previousTimestamp = Long.MIN_VALUE;
        long previousOffset = -1;
        for (int n = 0; n < entries(); n++) {
            if (key(n) <= previousTimestamp || offsetOf(n) < previousOffset || offsetOf(n) >= nextOffset) {
                return false;
            }
            previousTimestamp = key(n);
            previousOffset = offsetOf(n);
        }
        return true;
    }

    @Override
    protected long key(int n) {
        return map().getLong(n * ENTRY_BYTES);
    }

    @Override
    protected long offsetOf(int n) {
        return baseOffset + map().getInt(n * ENTRY_BYTES + 8);
    }
}
