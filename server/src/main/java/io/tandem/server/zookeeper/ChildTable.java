package io.tandem.server.zookeeper;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The children of one znode, keyed by name: an open-addressing table (linear probing) of the child nodes themselves,
 * so a child costs one array slot instead of a HashSet entry object plus a name String.
 *
 * <p>Apache's DataNode keeps child names in a {@code HashSet<String>} created with capacity 8, and getChildren returns
 * them in that set's iteration order: by bucket ({@code (h ^ h >>> 16) & (capacity - 1)}), and within a bucket in
 * insertion order (a resize splits a bucket's list preserving order; a removal leaves the others in order). This table
 * reproduces that order without the set: each child carries its insertion sequence, the table tracks the capacity the
 * set would have reached (it never shrinks: HashMap resizes at 3/4 load, and also when a bucket that already holds 8
 * entries gets another while the table is below 64), and {@link #namesInApacheOrder} sorts by (bucket, sequence).
 * Not reproduced: the order inside a bucket that HashMap has turned into a tree (9 or more names in one bucket of a set
 * of 64 or more buckets), which for real names' hashes practically does not occur.
 */
final class ChildTable {
    private static final int SLOTS_MIN = 4;
    /** java.util.HashMap's rules for the set Apache uses: {@code new HashSet<>(8)}, load factor 0.75. */
    private static final int HASH_SET_CAPACITY_INITIAL = 8;
    private static final int HASH_MAP_TREEIFY_THRESHOLD = 8;
    private static final int HASH_MAP_MIN_TREEIFY_CAPACITY = 64;

    /** Null until the first child (a node may need the bookkeeping below without ever having had children). */
    private DataNode[] slots;
    private int size;
    private int nextSeq;
    /** The capacity of Apache's HashSet after the same additions (0 before the first). */
    private int hashSetCapacity;
    /** The owner's pzxid and cversion: per-node stat fields that only change with children. */
    long pzxid;
    int cversion;

    ChildTable(long ownerCzxid) {
        this.pzxid = ownerCzxid;
    }

    int size() {
        return size;
    }

    /** The child named {@code path.substring(from, to)} whose String hash is {@code hash}, or null. */
    DataNode find(String path, int from, int to, int hash) {
        DataNode[] table = slots;
        if (table == null) {
            return null;
        }
        int mask = table.length - 1;
        for (int i = home(hash, mask); ; i = (i + 1) & mask) {
            DataNode node = table[i];
            if (node == null) {
                return null;
            }
            if (node.nameEquals(path, from, to)) {
                return node;
            }
        }
    }

    /** Adds a child that is not yet in the table (the caller has looked it up). */
    void add(DataNode child) {
        followApacheHashSetAdd(child.nameHash());
        if (slots == null) {
            slots = new DataNode[SLOTS_MIN];
        }
        if ((size + 1) * 4 > slots.length * 3) {
            resize(slots.length * 2);
        }
        if (nextSeq == Integer.MAX_VALUE) {
            renumber();
        }
        child.seq = nextSeq++;
        insert(slots, child);
        size++;
    }

    /** Removes this very child; false if it is not here. */
    boolean remove(DataNode child) {
        DataNode[] table = slots;
        if (table == null) {
            return false;
        }
        int mask = table.length - 1;
        int i = home(child.nameHash(), mask);
        while (table[i] != child) {
            if (table[i] == null) {
                return false;
            }
            i = (i + 1) & mask;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole so lookups need no tombstones.
        table[i] = null;
        for (int j = (i + 1) & mask; table[j] != null; j = (j + 1) & mask) {
            int k = home(table[j].nameHash(), mask);
            boolean staysPut = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!staysPut) {
                table[i] = table[j];
                table[j] = null;
                i = j;
            }
        }
        size--;
        if (slots.length > SLOTS_MIN && size * 8 < slots.length) {
            resize(slots.length / 2);
        }
        return true;
    }

    void forEach(Consumer<DataNode> action) {
        if (slots == null) {
            return;
        }
        for (DataNode node : slots) {
            if (node != null) {
                action.accept(node);
            }
        }
    }

    /** Children in Apache's getChildren order: by HashSet bucket, then by insertion (see the class comment). */
    List<DataNode> inApacheOrder() {
        DataNode[] nodes = live();
        int mask = hashSetCapacity - 1;
        // In insertion order first; then sort keys of bucket (high half) and that position (low half).
        Arrays.sort(nodes, (a, b) -> Integer.compare(a.seq, b.seq));
        long[] keys = new long[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            keys[i] = (long) bucket(nodes[i].nameHash(), mask) << 32 | i;
        }
        Arrays.sort(keys);
        DataNode[] sorted = new DataNode[nodes.length];
        for (int i = 0; i < keys.length; i++) {
            sorted[i] = nodes[(int) keys[i]];
        }
        return Arrays.asList(sorted);
    }

    List<String> namesInApacheOrder() {
        List<DataNode> nodes = inApacheOrder();
        List<String> names = new ArrayList<>(nodes.size());
        for (DataNode node : nodes) {
            names.add(node.name());
        }
        return names;
    }

    /** HashMap.putVal's resizes for a key not yet present: a long bucket below 64 buckets, then the 3/4 threshold. */
    private void followApacheHashSetAdd(int hash) {
        if (hashSetCapacity == 0) {
            hashSetCapacity = HASH_SET_CAPACITY_INITIAL;
        }
        if (hashSetCapacity < HASH_MAP_MIN_TREEIFY_CAPACITY && size >= HASH_MAP_TREEIFY_THRESHOLD) {
            int mask = hashSetCapacity - 1;
            int bucket = bucket(hash, mask);
            int inBucket = 0;
            for (DataNode node : slots == null ? new DataNode[0] : slots) {
                if (node != null && bucket(node.nameHash(), mask) == bucket) {
                    inBucket++;
                }
            }
            if (inBucket >= HASH_MAP_TREEIFY_THRESHOLD) {
                hashSetCapacity *= 2;
            }
        }
        if (size + 1 > hashSetCapacity / 4 * 3) {
            hashSetCapacity *= 2;
        }
    }

    /** java.util.HashMap's bucket of a key hash. */
    private static int bucket(int hash, int mask) {
        return (hash ^ (hash >>> 16)) & mask;
    }

    /** Our own slot: the hash scrambled (Fibonacci hashing), since names like n1, n2, n3 have consecutive hashes. */
    private static int home(int hash, int mask) {
        int scrambled = hash * 0x9E3779B9;
        return (scrambled ^ (scrambled >>> 16)) & mask;
    }

    private static void insert(DataNode[] table, DataNode node) {
        int mask = table.length - 1;
        int i = home(node.nameHash(), mask);
        while (table[i] != null) {
            i = (i + 1) & mask;
        }
        table[i] = node;
    }

    private void resize(int length) {
        DataNode[] resized = new DataNode[Math.max(SLOTS_MIN, length)];
        for (DataNode node : slots) {
            if (node != null) {
                insert(resized, node);
            }
        }
        slots = resized;
    }

    /** Sequences restart from 0 in the same relative order, so they never overflow. */
    private void renumber() {
        DataNode[] nodes = live();
        Arrays.sort(nodes, (a, b) -> Integer.compare(a.seq, b.seq));
        for (int i = 0; i < nodes.length; i++) {
            nodes[i].seq = i;
        }
        nextSeq = nodes.length;
    }

    private DataNode[] live() {
        DataNode[] nodes = new DataNode[size];
        if (slots == null) {
            return nodes;
        }
        int n = 0;
        for (DataNode node : slots) {
            if (node != null) {
                nodes[n++] = node;
            }
        }
        return nodes;
    }
}
