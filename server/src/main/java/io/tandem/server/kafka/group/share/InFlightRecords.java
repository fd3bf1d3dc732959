package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * A {@link SharePartition}'s in-flight records as the share coordinator stores them, and back: runs of offsets with
 * one state and one delivery count, acquired records stored as AVAILABLE (a lock does not outlive its broker).
 */
final class InFlightRecords {
    private InFlightRecords() {
    }

    /** The records as stored batches, in offset order, neighbours with the same state and count joined. */
    static List<ShareStateBatch> stateBatches(SortedMap<Long, InFlightRecord> records) {
        List<ShareStateBatch> batches = new ArrayList<>();
        for (Map.Entry<Long, InFlightRecord> e : records.entrySet()) {
            InFlightRecord r = e.getValue();
            byte state = switch (r.state) {
                case ACKNOWLEDGED -> ShareStateBatch.ACKNOWLEDGED;
                case ARCHIVED -> ShareStateBatch.ARCHIVED;
                default -> ShareStateBatch.AVAILABLE;
            };
            short count = (short) Math.min(r.deliveryCount, Short.MAX_VALUE);
            long o = e.getKey();
            if (!batches.isEmpty()) {
                ShareStateBatch last = batches.get(batches.size() - 1);
                if (last.lastOffset() + 1 == o && last.deliveryState() == state && last.deliveryCount() == count) {
                    batches.set(batches.size() - 1, new ShareStateBatch(last.firstOffset(), o, state, count));
                    continue;
                }
            }
            batches.add(new ShareStateBatch(o, o, state, count));
        }
        return batches;
    }

    /**
     * Puts the stored batches' records from {@code startOffset} on into {@code into} (AVAILABLE ones available with
     * their delivery count), at most {@code maxRecordLocks} of them; returns the end offset after the last one
     * ({@code endOffset} when there is none), so later stored records are fetched again as new.
     */
    static long restore(List<ShareStateBatch> batches, long startOffset, int maxRecordLocks,
                        SortedMap<Long, InFlightRecord> into, long endOffset) {
        for (ShareStateBatch b : batches) {
            for (long o = Math.max(b.firstOffset(), startOffset); o <= b.lastOffset(); o++) {
                if (into.size() >= maxRecordLocks) return endOffset;
                InFlightRecord r = new InFlightRecord();
                r.state = switch (b.deliveryState()) {
                    case ShareStateBatch.ACKNOWLEDGED -> SharePartition.State.ACKNOWLEDGED;
                    case ShareStateBatch.ARCHIVED -> SharePartition.State.ARCHIVED;
                    default -> SharePartition.State.AVAILABLE;
                };
                r.deliveryCount = b.deliveryCount();
                into.put(o, r);
                endOffset = o + 1;
            }
        }
        return endOffset;
    }
}
