package io.tandem.server.kafka.group.share.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Combines state batches as Kafka's share coordinator does (its PersisterStateBatchCombiner): newer batches overlay
 * older ones offset by offset, everything below the start offset is dropped, and neighbours in the same state with
 * the same delivery count become one batch. The result is sorted and never overlaps.
 */
public final class ShareStateBatches {
    private ShareStateBatches() {
    }

    public static List<ShareStateBatch> combine(List<ShareStateBatch> older, List<ShareStateBatch> newer,
                                                long startOffset) {
        TreeMap<Long, ShareStateBatch> byFirst = new TreeMap<>();
        for (ShareStateBatch b : older) overlay(byFirst, b);
        for (ShareStateBatch b : newer) overlay(byFirst, b);
        List<ShareStateBatch> result = new ArrayList<>();
        for (ShareStateBatch b : byFirst.values()) {
            if (b.lastOffset() < startOffset) continue;
            if (b.firstOffset() < startOffset) {
                b = new ShareStateBatch(startOffset, b.lastOffset(), b.deliveryState(), b.deliveryCount());
            }
            if (!result.isEmpty()) {
                ShareStateBatch last = result.get(result.size() - 1);
                if (last.lastOffset() + 1 == b.firstOffset() && last.sameStateAs(b)) {
                    result.set(result.size() - 1, new ShareStateBatch(last.firstOffset(), b.lastOffset(),
                            b.deliveryState(), b.deliveryCount()));
                    continue;
                }
            }
            result.add(b);
        }
        return result;
    }

    /** Puts {@code b} in, cutting whatever it overlaps so that its offsets hold only {@code b}'s state. */
    private static void overlay(TreeMap<Long, ShareStateBatch> byFirst, ShareStateBatch b) {
        Map.Entry<Long, ShareStateBatch> below = byFirst.lowerEntry(b.firstOffset());
        if (below != null && below.getValue().lastOffset() >= b.firstOffset()) {
            ShareStateBatch cut = below.getValue();
            byFirst.put(cut.firstOffset(), new ShareStateBatch(cut.firstOffset(), b.firstOffset() - 1,
                    cut.deliveryState(), cut.deliveryCount()));
            if (cut.lastOffset() > b.lastOffset()) {
                byFirst.put(b.lastOffset() + 1, new ShareStateBatch(b.lastOffset() + 1, cut.lastOffset(),
                        cut.deliveryState(), cut.deliveryCount()));
            }
        }
        while (true) {
            Map.Entry<Long, ShareStateBatch> inside = byFirst.ceilingEntry(b.firstOffset());
            if (inside == null || inside.getKey() > b.lastOffset()) break;
            ShareStateBatch cut = byFirst.remove(inside.getKey());
            if (cut.lastOffset() > b.lastOffset()) {
                byFirst.put(b.lastOffset() + 1, new ShareStateBatch(b.lastOffset() + 1, cut.lastOffset(),
                        cut.deliveryState(), cut.deliveryCount()));
            }
        }
        byFirst.put(b.firstOffset(), b);
    }
}
