package io.tandem.storage.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Kafka's sparse offset index ({@code .index}): 8-byte entries of (offset relative to the segment base: int32,
 * position in the .log file: int32), both increasing. As in Kafka, an entry (o, p) means the batch starting at byte p
 * has last offset o, so a lookup of any offset at or after o can start scanning batch headers at p.
 */
final class OffsetIndex extends IndexFile {
    static final int ENTRY_BYTES = 8;

    OffsetIndex(Path file, long baseOffset, int maxIndexBytes) throws IOException {
        super(file, baseOffset, maxIndexBytes, ENTRY_BYTES);
    }

    /** Position to start scanning from for {@code offset}: the largest indexed offset at or below it, else 0. */
    int lookupPosition(long offset) {
        int n = floorEntry(offset);
        return n < 0 ? 0 : map().getInt(n * ENTRY_BYTES + 4);
    }

    /**
     * The last entry whose batch starts at or before {@code maxPosition} and whose last offset is below
     * {@code maxOffsetExclusive}, or -1. Offsets and positions both increase with the entry number, so the entries
     * within both bounds are a prefix, found by binary search: a read jumps over the batches before it without
     * reading their headers.
     */
    int lastEntryWithin(long maxPosition, long maxOffsetExclusive) {
        int low = 0;
        int high = entries() - 1;
        int found = -1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (positionAt(mid) <= maxPosition && offsetOf(mid) < maxOffsetExclusive) {
                found = mid;
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return found;
    }

    int positionAt(int n) {
        return map().getInt(n * ENTRY_BYTES + 4);
    }

    long lastOffset() {
        int n = entries();
        return n == 0 ? baseOffset - 1 : offsetOf(n - 1);
    }

    int lastPosition() {
        int n = entries();
        return n == 0 ? 0 : map().getInt((n - 1) * ENTRY_BYTES + 4);
    }

    void append(long offset, int position) {
        int n = entries();
        if (n > 0 && (offset <= offsetOf(n - 1) || position <= map().getInt((n - 1) * ENTRY_BYTES + 4))) {
            throw new IllegalStateException("offset index entry (" + offset + ", " + position
                    + ") does not follow the last one in " + file());
        }
        if (isFull()) {
            throw new IllegalStateException("offset index " + file() + " is full");
        }
        writableMap().putInt(n * ENTRY_BYTES, relative(offset));
        map().putInt(n * ENTRY_BYTES + 4, position);
        publishEntries(n + 1);
    }

    /** Whether entries increase and point inside a log of {@code logBytes} bytes; a failed check means rebuild. */
    boolean isSane(int logBytes) {
        long previousOffset = -1;
        int previousPosition = -1;
        for (int n = 0; n < entries(); n++) {
            long offset = offsetOf(n);
            int position = map().getInt(n * ENTRY_BYTES + 4);
            if (offset <= previousOffset || position <= previousPosition || position <= 0 || position >= logBytes) {
                return false;
            }
            previousOffset = offset;
            previousPosition = position;
        }
        return true;
    }

    @Override
    protected long key(int n) {
        return offsetOf(n);
    }

    @Override
    protected long offsetOf(int n) {
        return baseOffset + map().getInt(n * ENTRY_BYTES);
    }
}
