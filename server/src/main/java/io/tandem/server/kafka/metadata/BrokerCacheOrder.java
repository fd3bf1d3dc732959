package io.tandem.server.kafka.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * The order in which Kafka 3.9's ZooKeeper-mode metadata cache lists its live brokers, which is the order a new
 * topic's rack-unaware placement walks them (ZkAdminManager.createTopics hands AdminUtils the cache's brokers as they
 * come): the cache keeps them in a Scala {@code mutable.LongMap} keyed by id, rebuilt on every UpdateMetadata with
 * the previous broker count as its size hint, and such a map iterates id 0 first, then its open-addressing slots in
 * index order. For ids 0, 1, 2 that is 0, 2, 1, so the leaders of a topic's consecutive partitions do not follow the
 * ids upwards. The map is reproduced here (slot hash, probe sequence and growth), for non-negative ids that are
 * never removed; ids that collide take their slots in the order inserted, which in Kafka is the controller's set
 * order and here the order given.
 */
final class BrokerCacheOrder {
    private BrokerCacheOrder() {
    }

    /** {@code ids} (distinct, non-negative) in the iteration order of a LongMap made with {@code sizeHint}. */
    static List<Integer> of(List<Integer> ids, int sizeHint) {
        boolean zero = false;
        int mask = initialMask(sizeHint);
        long[] slots = new long[mask + 1];
        int size = 0;
        for (int id : ids) {
            if (id == 0) {
                // LongMap keeps key 0 outside its table and iterates it first.
                zero = true;
                continue;
            }
            slots[emptySlot(slots, mask, id)] = id;
            size++;
            if (size > 0.5 * mask) {
                mask = grownMask(mask, size);
                slots = rehash(slots, mask);
            }
        }
        List<Integer> order = new ArrayList<>(ids.size());
        if (zero) order.add(0);
        for (long key : slots) if (key != 0) order.add((int) key);
        return order;
    }

    /** LongMap's first table: the size hint rounded up to a power of two, at least 8 slots. */
    private static int initialMask(int sizeHint) {
        if (sizeHint < 0) return 0x7;
        return (((1 << (32 - Integer.numberOfLeadingZeros(sizeHint - 1))) - 1) & 0x3FFFFFFF) | 0x7;
    }

    /** The table doubles when half full, then halves while an eighth full (nothing is ever removed here). */
    private static int grownMask(int mask, int size) {
        int m = mask;
        if (size >= 0.5 * mask) m = ((m << 1) + 1) & 0x3FFFFFFF;
        while (m > 8 && 8 * size < m) m = m >>> 1;
        return m;
    }

    private static long[] rehash(long[] old, int mask) {
        long[] slots = new long[mask + 1];
        for (long key : old) if (key != 0) slots[emptySlot(slots, mask, key)] = key;
        return slots;
    }

    /** The MurmurHash3 finalizer's first steps, then LongMap's quadratic-like probe. */
    private static int emptySlot(long[] slots, int mask, long key) {
        int h = (int) ((key ^ (key >>> 32)) & 0xFFFFFFFFL);
        int x = (h ^ (h >>> 16)) * 0x85EBCA6B;
        int e = (x ^ (x >>> 13)) & mask;
        int probe = 0;
        while (slots[e] != 0) {
            probe++;
            e = (e + 2 * (probe + 1) * probe - 3) & mask;
        }
        return e;
    }
}
