package io.tandem.server.cluster;

import io.tandem.server.cluster.TransactionalWorkload.Outcome;
import io.tandem.server.cluster.TransactionalWorkload.Txn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks what a read_committed consumer read back (every partition from its start to its end) against what the
 * {@link TransactionalWorkload} wrote:
 * <ul>
 * <li>aborted reads (G1a): no value of an aborted transaction is visible;</li>
 * <li>lost writes: every value of a committed transaction is visible;</li>
 * <li>atomicity: a transaction whose outcome the writer did not learn is visible whole or not at all;</li>
 * <li>duplicates: no value is visible twice (idempotent, transactional writes);</li>
 * <li>writer order: one writer's transactions appear in every partition in the order it ran them;</li>
 * <li>write cycles (G0): a cycle in the graph of "T1's value precedes T2's in some partition" between committed
 *     transactions. Counted, not an error: Kafka's design appends concurrent transactions' records interleaved in
 *     each partition, in the order they arrive, and promises no order between transactions of different producers,
 *     so two concurrent transactions can be ordered one way in one partition and the other way in another. A
 *     writer's own transactions never form one (writer order above).</li>
 * </ul>
 */
final class TransactionalChecker {
    record Report(List<String> abortedReads, List<String> lostWrites, List<String> fractured, List<String> duplicates,
                  List<String> writerOrder, int writeCycles, int visibleTxns) {
        List<String> errors() {
            List<String> all = new ArrayList<>();
            abortedReads.forEach(v -> all.add("aborted read " + v));
            lostWrites.forEach(v -> all.add("lost committed write " + v));
            fractured.forEach(v -> all.add("partly visible transaction " + v));
            duplicates.forEach(v -> all.add("duplicate " + v));
            writerOrder.forEach(v -> all.add("writer order " + v));
            return all;
        }
    }

    private TransactionalChecker() {
    }

    static Report check(Map<String, Txn> txns, Map<Integer, List<String>> partitions) {
        Map<String, String> txnOfValue = new HashMap<>();
        txns.forEach((key, txn) -> txn.values().forEach(v -> txnOfValue.put(v, key)));
        Set<String> seen = new HashSet<>();
        List<String> duplicates = new ArrayList<>();
        List<String> abortedReads = new ArrayList<>();
        List<String> writerOrder = new ArrayList<>();
        Map<String, Set<String>> precedes = new HashMap<>();
        for (Map.Entry<Integer, List<String>> partition : partitions.entrySet()) {
            Map<Integer, Integer> lastNumberOfWriter = new HashMap<>();
            // Distinct transactions in the order they appear in this partition.
            List<String> order = new ArrayList<>(new LinkedHashSet<>(partition.getValue().stream()
                    .map(v -> txnOfValue.getOrDefault(v, "?" + v)).toList()));
            for (String value : partition.getValue()) {
                if (!seen.add(value)) duplicates.add(value + " in partition " + partition.getKey());
                String key = txnOfValue.get(value);
                if (key == null) {
                    abortedReads.add("unknown value " + value); // nobody wrote it: worse than an aborted read
                    continue;
                }
                Txn txn = txns.get(key);
                if (txn.outcome() == Outcome.ABORTED) abortedReads.add(value);
                Integer last = lastNumberOfWriter.put(txn.writer(), txn.number());
                if (last != null && last > txn.number()) {
                    writerOrder.add(value + " after transaction " + last + " of the same writer in partition "
                            + partition.getKey());
                }
            }
            for (int i = 0; i + 1 < order.size(); i++) {
                precedes.computeIfAbsent(order.get(i), k -> new HashSet<>()).add(order.get(i + 1));
            }
        }
        List<String> lostWrites = new ArrayList<>();
        List<String> fractured = new ArrayList<>();
        int visible = 0;
        for (Map.Entry<String, Txn> entry : txns.entrySet()) {
            Txn txn = entry.getValue();
            long shown = txn.values().stream().filter(seen::contains).count();
            if (shown > 0) visible++;
            if (txn.outcome() == Outcome.COMMITTED && shown < txn.values().size()) {
                lostWrites.add(entry.getKey() + " (" + shown + " of " + txn.values() + " visible)");
            }
            if (txn.outcome() == Outcome.UNKNOWN && shown > 0 && shown < txn.values().size()) {
                fractured.add(entry.getKey() + " (" + shown + " of " + txn.values() + " visible)");
            }
        }
        return new Report(abortedReads, lostWrites, fractured, duplicates, writerOrder, cycles(precedes), visible);
    }

    /** The number of strongly connected components with more than one transaction (Tarjan, iterative). */
    private static int cycles(Map<String, Set<String>> edges) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        int[] counter = {0};
        int components = 0;
        Set<String> nodes = new HashSet<>(edges.keySet());
        edges.values().forEach(nodes::addAll);
        for (String start : nodes) {
            if (index.containsKey(start)) continue;
            // Each frame: a node and the iterator over its successors.
            Deque<Map.Entry<String, java.util.Iterator<String>>> frames = new ArrayDeque<>();
            index.put(start, counter[0]);
            low.put(start, counter[0]++);
            stack.push(start);
            onStack.add(start);
            frames.push(Map.entry(start, edges.getOrDefault(start, Set.of()).iterator()));
            while (!frames.isEmpty()) {
                Map.Entry<String, java.util.Iterator<String>> frame = frames.peek();
                String node = frame.getKey();
                if (frame.getValue().hasNext()) {
                    String next = frame.getValue().next();
                    if (!index.containsKey(next)) {
                        index.put(next, counter[0]);
                        low.put(next, counter[0]++);
                        stack.push(next);
                        onStack.add(next);
                        frames.push(Map.entry(next, edges.getOrDefault(next, Set.of()).iterator()));
                    } else if (onStack.contains(next)) {
                        low.put(node, Math.min(low.get(node), index.get(next)));
                    }
                    continue;
                }
                frames.pop();
                if (!frames.isEmpty()) {
                    String parent = frames.peek().getKey();
                    low.put(parent, Math.min(low.get(parent), low.get(node)));
                }
                if (low.get(node).equals(index.get(node))) {
                    int size = 0;
                    String member;
                    do {
                        member = stack.pop();
                        onStack.remove(member);
                        size++;
                    } while (!member.equals(node));
                    if (size > 1) components++;
                }
            }
        }
        return components;
    }
}
