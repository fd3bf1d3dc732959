package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.AbortedTransaction;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A transactional workload beside the simulation's other clients: {@value #PRODUCERS} transactional producers, each
 * running one transaction at a time over one or both partitions of the topic (transactional batches through the
 * leaders' production produce path, acks=all), then committing it (or aborting it: when a batch failed or its outcome
 * is unknown, and a quarter of the time by the application's choice); and a read_committed reader per partition.
 *
 * <p>The transaction coordinator is not hosted here (the simulation has no {@code __transaction_state} and no
 * coordinator failover): its part is simulated as it acts on the partitions. The producer ends a transaction only once
 * every batch of it came back (Kafka's client flushes before EndTxn), the decision is then final, and the markers go
 * to each partition's leader as WriteTxnMarkers sends them (production's {@link Partition#appendTransactionMarker},
 * answered once replicated like an acks=all produce), retried through every fault until each partition took one. The
 * markers carry the epoch bumped past the transaction's (as a coordinator fencing the producer writes them), so a
 * batch of the transaction still in flight that arrives afterwards is fenced rather than opening a transaction nobody
 * will end; the producer's next transaction uses that epoch from sequence 0.
 *
 * <p>Checked: a read_committed reader (the fetch up to the last stable offset with its aborted transactions, filtered
 * as Kafka's consumer filters them) never returns a record of an aborted or undecided transaction, and what it read
 * stays at its offset in the final leader's log; the last stable offset of a leader never passes a transaction whose
 * marker is not below its high watermark (Kafka's ProducerStateManager.firstUnstableOffset); at the end, after every
 * fault healed, every decided transaction has all its markers, no transaction is left open, and the final leader's
 * read_committed view holds every committed record exactly once and nothing of an aborted one.
 */
final class SimTransactions {
    static final int PRODUCERS = 2;
    static final long PRODUCER_ID_BASE = 5_000;
    /** The simulated coordinator never fails over, so its epoch stays. */
    static final int COORDINATOR_EPOCH = 0;
    static final int RECORDS_PER_BATCH_MAX = 3;
    static final long MARKER_RETRY_MS = 100;

    enum Decision { COMMIT, ABORT }

    /** One transaction as the coordinator and its producer know it. */
    private static final class Txn {
        final long id;
        final long producerId;
        final short epoch;
        final Map<TopicPartition, List<Long>> values = new TreeMap<>(ReplicationSimulator.ORDER);
        final Set<TopicPartition> markersPending = new TreeSet<>(ReplicationSimulator.ORDER);
        int outstanding;
        boolean failed;
        Decision decision;

        Txn(long id, long producerId, short epoch) {
            this.id = id;
            this.producerId = producerId;
            this.epoch = epoch;
        }

        @Override
        public String toString() {
            return "transaction " + id + " of producer " + producerId + " epoch " + epoch;
        }
    }

    private static final class Producer {
        final long producerId;
        short epoch;
        final Map<TopicPartition, Integer> nextSequence = new HashMap<>();

        Producer(long producerId) {
            this.producerId = producerId;
        }
    }

    private final ReplicationSimulator sim;
    private final List<Txn> txns = new ArrayList<>();
    private final Map<Long, Txn> byValue = new HashMap<>();
    private final Map<TopicPartition, Long> readerPosition = new TreeMap<>(ReplicationSimulator.ORDER);
    private final Map<TopicPartition, TreeMap<Long, Long>> readerSeen = new TreeMap<>(ReplicationSimulator.ORDER);
    private long nextTxnId = 1;

    SimTransactions(ReplicationSimulator sim) {
        this.sim = sim;
    }

    void start() {
        for (TopicPartition tp : sim.partitions) {
            readerPosition.put(tp, 0L);
            readerSeen.put(tp, new TreeMap<>());
            readLoop(tp);
        }
        for (int i = 0; i < PRODUCERS; i++) {
            Producer p = new Producer(PRODUCER_ID_BASE + i);
            sim.scheduler.after(sim.scheduler.between(10, 60), () -> begin(p));
        }
    }

    /** Records that transactions wrote and were acknowledged, for the outcome's count. */
    long ackedCount() {
        long n = 0;
        for (Txn t : txns) {
            if (t.decision == Decision.COMMIT) n += t.values.values().stream().mapToLong(List::size).sum();
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ producers

    private void begin(Producer p) {
        if (!sim.clientsOn()) return;
        Txn txn = new Txn(nextTxnId++, p.producerId, p.epoch);
        txns.add(txn);
        List<TopicPartition> chosen = new ArrayList<>();
        for (TopicPartition tp : sim.partitions) if (sim.scheduler.random.nextBoolean()) chosen.add(tp);
        if (chosen.isEmpty()) chosen.add(sim.partitions.get(sim.scheduler.random.nextInt(sim.partitions.size())));
        sim.checks.record("begun " + txn + " on " + chosen);
        // AddPartitionsToTxn: the coordinator knows every partition before a batch goes there.
        txn.markersPending.addAll(chosen);
        txn.outstanding = chosen.size();
        for (TopicPartition tp : chosen) send(p, txn, tp);
    }

    private void send(Producer p, Txn txn, TopicPartition tp) {
        int count = 1 + sim.scheduler.random.nextInt(RECORDS_PER_BATCH_MAX);
        int sequence = p.nextSequence.getOrDefault(tp, 0);
        p.nextSequence.put(tp, sequence + count);
        List<Long> values = txn.values.computeIfAbsent(tp, k -> new ArrayList<>());
        ByteBuf batch = SimBroker.BUFFERS.heapBuffer(96 + 32 * count);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            builder.producer(txn.producerId, txn.epoch, sequence).transactional(true);
            for (int i = 0; i < count; i++) {
                long value = sim.nextValue();
                values.add(value);
                byValue.put(value, txn);
                builder.append(sim.scheduler.now(), null, ByteBuffer.allocate(8).putLong(value).array());
            }
            builder.build();
        }
        boolean[] done = new boolean[1];
        int leader = sim.believedLeaderForClient(tp);
        if (leader < 0) {
            batch.release();
            batchDone(p, txn, done, (short) -1, "no leader known");
            return;
        }
        sim.network.send(SimNetwork.CLIENT, leader, () -> {
            SimBroker target = sim.running(leader);
            if (target == null) return;
            target.later(target.slowDiskMs, () -> {
                try {
                    target.produce(tp, batch, error -> sim.network.send(leader, SimNetwork.CLIENT,
                            () -> batchDone(p, txn, done, error, null)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
        sim.scheduler.after(ReplicationSimulator.CLIENT_TIMEOUT_MS,
                () -> batchDone(p, txn, done, (short) -1, "timed out"));
    }

    private void batchDone(Producer p, Txn txn, boolean[] done, short error, String why) {
        if (done[0]) return;
        done[0] = true;
        if (error == NONE) {
            sim.checks.count("transactional produce acknowledged");
        } else {
            txn.failed = true;
            sim.checks.count("transactional produce failed: " + (why != null ? why : Errors.forCode(error)));
        }
        if (--txn.outstanding == 0) end(p, txn);
    }

    /** EndTxn: the decision is final from here on, and the markers go out. */
    private void end(Producer p, Txn txn) {
        boolean commit = !txn.failed && sim.scheduler.random.nextInt(4) != 0;
        txn.decision = commit ? Decision.COMMIT : Decision.ABORT;
        sim.checks.count(commit ? "transaction committed" : txn.failed ? "transaction aborted after a failed batch"
                : "transaction aborted by the application");
        for (TopicPartition tp : new ArrayList<>(txn.markersPending)) writeMarker(p, txn, tp);
    }

    private void writeMarker(Producer p, Txn txn, TopicPartition tp) {
        if (!txn.markersPending.contains(tp)) return;
        boolean commit = txn.decision == Decision.COMMIT;
        short markerEpoch = (short) (txn.epoch + 1);
        int leader = sim.believedLeaderForClient(tp);
        if (leader < 0) {
            sim.scheduler.after(MARKER_RETRY_MS, () -> writeMarker(p, txn, tp));
            return;
        }
        boolean[] done = new boolean[1];
        sim.network.send(SimNetwork.CLIENT, leader, () -> {
            SimBroker target = sim.running(leader);
            if (target == null) return;
            target.later(target.slowDiskMs, () -> {
                try {
                    target.writeTxnMarker(tp, txn.producerId, markerEpoch, COORDINATOR_EPOCH, commit,
                            error -> sim.network.send(leader, SimNetwork.CLIENT,
                                    () -> markerDone(p, txn, tp, done, error)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
        sim.scheduler.after(ReplicationSimulator.CLIENT_TIMEOUT_MS, () -> markerDone(p, txn, tp, done, (short) -1));
    }

    private void markerDone(Producer p, Txn txn, TopicPartition tp, boolean[] done, short error) {
        if (done[0]) return;
        done[0] = true;
        if (error == INVALID_PRODUCER_EPOCH || error == TRANSACTION_COORDINATOR_FENCED) {
            sim.checks.violation("marker of " + txn + " for " + tp + " refused: " + Errors.forCode(error));
        }
        if (error != NONE) {
            sim.checks.count("transaction marker retried");
            sim.scheduler.after(MARKER_RETRY_MS, () -> writeMarker(p, txn, tp));
            return;
        }
        sim.checks.count("transaction marker written");
        txn.markersPending.remove(tp);
        if (!txn.markersPending.isEmpty()) return;
        sim.checks.record("completed " + txn + " " + txn.decision);
        p.epoch = (short) (txn.epoch + 1);
        p.nextSequence.clear();
        sim.scheduler.after(sim.scheduler.between(10, 60), () -> begin(p));
    }

    // ------------------------------------------------------------------------------------------------ readers

    private void readLoop(TopicPartition tp) {
        sim.scheduler.after(sim.scheduler.between(20, 80), () -> {
            if (!sim.clientsOn()) return;
            readOnce(tp);
            readLoop(tp);
        });
    }

    private void readOnce(TopicPartition tp) {
        SimBroker source = sim.pick(sim.runningBrokers());
        if (source == null) return;
        SimBroker leader = sim.running(source.believedLeader(tp));
        if (leader == null || !sim.network.connected(SimNetwork.CLIENT, leader.id)) return;
        long position = readerPosition.get(tp);
        try {
            SimBroker.CommittedRead read = leader.committedRead(tp, position);
            if (read == null || read.slice() == null || read.slice().isEmpty()) return;
            TreeMap<Long, Long> seen = readerSeen.get(tp);
            for (long[] record : committedRecords(read.slice(), read.aborted(), position)) {
                Long earlier = seen.putIfAbsent(record[0], record[1]);
                if (earlier != null && earlier != record[1]) {
                    sim.checks.violation("read_committed reader of " + tp + " read value " + earlier + " and later "
                            + record[1] + " at offset " + record[0]);
                }
                Txn txn = byValue.get(record[1]);
                if (txn != null && txn.decision != Decision.COMMIT) {
                    sim.checks.violation("read_committed reader of " + tp + " read value " + record[1] + " at offset "
                            + record[0] + " from broker " + leader.id + ", of " + txn + ", which is "
                            + (txn.decision == null ? "undecided" : "aborted"));
                }
                sim.checks.count(txn == null ? "read_committed: other record read"
                        : "read_committed: committed transactional record read");
            }
            readerPosition.put(tp, Math.max(position, read.slice().nextOffset()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {offset, value} of the records a read_committed consumer returns from {@code slice}: control batches dropped, and
     * a transactional batch dropped while its producer is in an aborted transaction (from that transaction's first
     * offset, as the fetch lists it, to its ABORT marker), as Kafka's consumer (CompletedFetch) filters.
     */
    static List<long[]> committedRecords(LogSlice slice, List<AbortedTransaction> aborted, long from)
            throws IOException {
        ArrayDeque<AbortedTransaction> pending = new ArrayDeque<>(aborted.stream()
                .sorted(java.util.Comparator.comparingLong(AbortedTransaction::firstOffset)).toList());
        Set<Long> abortedProducers = new HashSet<>();
        List<long[]> out = new ArrayList<>();
        ByteBuf bytes = slice.readBytes(SimBroker.BUFFERS);
        try {
            for (RecordBatch batch : RecordBatches.of(bytes)) {
                if (batch.isTransactional()) {
                    while (!pending.isEmpty() && pending.peek().firstOffset() <= batch.lastOffset()) {
                        abortedProducers.add(pending.poll().producerId());
                    }
                }
                if (batch.isControl()) {
                    if (batch.isTransactional() && controlType(batch) == ControlRecordType.ABORT) {
                        abortedProducers.remove(batch.producerId());
                    }
                    continue;
                }
                if (batch.isTransactional() && abortedProducers.contains(batch.producerId())) continue;
                try (RecordIterator it = batch.records()) {
                    while (it.hasNext()) {
                        Record r = it.next();
                        if (r.offset() < from) continue;
                        out.add(new long[] {r.offset(), r.value().getLong(r.value().readerIndex())});
                    }
                }
            }
        } finally {
            bytes.release();
        }
        return out;
    }

    private static ControlRecordType controlType(RecordBatch batch) {
        try (RecordIterator it = batch.records()) {
            if (!it.hasNext()) return null;
            Record first = it.next();
            return first.hasKey() ? ControlRecordType.parse(first.key()) : null;
        }
    }

    // ------------------------------------------------------------------------------------------------ checks

    /**
     * A leader's last stable offset against its log: no higher than the first offset of a transaction whose marker is
     * not in the log below the high watermark (Kafka counts a transaction unstable until its marker is replicated).
     */
    void sample(SimBroker broker, Partition p) throws IOException {
        if (!p.isLeader()) return;
        long hw = p.highWatermark();
        long lso = p.lastStableOffset();
        long firstUnstable = Long.MAX_VALUE;
        Map<Long, Long> open = new HashMap<>();
        for (long[] batch : transactionalBatches(p)) {
            long producerId = batch[1];
            if (batch[2] == 0) {
                open.putIfAbsent(producerId, batch[0]);
            } else {
                Long first = open.remove(producerId);
                if (first != null && batch[0] >= hw) firstUnstable = Math.min(firstUnstable, first);
            }
        }
        for (long first : open.values()) firstUnstable = Math.min(firstUnstable, first);
        if (lso > firstUnstable) {
            sim.checks.violation("broker " + broker.id + "'s last stable offset " + lso + " of " + p.topicPartition()
                    + " passes a transaction open from offset " + firstUnstable + " (high watermark " + hw + ")");
        }
        if (firstUnstable < hw) sim.checks.count("last stable offset held below the high watermark");
    }

    /** {offset, producer id, 1 for a marker else 0} of every transactional batch of the replica's log. */
    private static List<long[]> transactionalBatches(Partition p) throws IOException {
        List<long[]> out = new ArrayList<>();
        SimRecords.forEachBatch(p, batch -> {
            if (batch.isTransactional()) {
                out.add(new long[] {batch.baseOffset(), batch.producerId(), batch.isControl() ? 1 : 0});
            }
        });
        return out;
    }

    /** After every fault healed: the final leader of {@code tp} against every transaction's decision. */
    void check(TopicPartition tp, Partition leader, int leaderId, boolean liveness) throws IOException {
        TreeMap<Long, Long> visible = new TreeMap<>();
        long offset = leader.logStartOffset();
        while (offset < leader.lastStableOffset()) {
            LogSlice slice = leader.readCommitted(offset, 1 << 20, true);
            if (slice == null || slice.isEmpty()) break;
            List<AbortedTransaction> aborted = leader.log().abortedTransactions(offset, slice.nextOffset());
            for (long[] r : committedRecords(slice, aborted, offset)) visible.put(r[0], r[1]);
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
        Map<Long, Integer> copies = new HashMap<>();
        for (long value : visible.values()) copies.merge(value, 1, Integer::sum);
        boolean allComplete = true;
        for (Txn txn : txns) {
            if (txn.decision != null && !txn.markersPending.isEmpty()) allComplete = false;
            List<Long> values = txn.values.get(tp);
            if (values == null) continue;
            if (liveness && txn.decision != null && txn.markersPending.contains(tp)) {
                sim.checks.violation(txn + " decided " + txn.decision + " has no marker on " + tp
                        + " after every fault healed");
            }
            for (long value : values) {
                int n = copies.getOrDefault(value, 0);
                if (txn.decision == Decision.COMMIT && !txn.markersPending.contains(tp) && n != 1) {
                    sim.checks.violation("committed value " + value + " of " + txn + " is " + n + " times in the"
                            + " read_committed view of " + tp + "'s final leader " + leaderId);
                } else if (txn.decision != Decision.COMMIT && n > 0) {
                    sim.checks.violation("value " + value + " of " + txn + " (" + (txn.decision == null ? "undecided"
                            : "aborted") + ") is in the read_committed view of " + tp + "'s final leader " + leaderId);
                }
            }
        }
        if (liveness && allComplete && leader.lastStableOffset() != leader.highWatermark()) {
            sim.checks.violation(tp + "'s final leader " + leaderId + " holds its last stable offset at "
                    + leader.lastStableOffset() + " below its high watermark " + leader.highWatermark()
                    + " with every transaction complete (a hanging transaction)");
        }
        TreeMap<Long, Long> log = SimRecords.below(leader, leader.highWatermark());
        readerSeen.get(tp).forEach((at, value) -> {
            if (!value.equals(log.get(at))) {
                sim.checks.violation("read_committed record " + value + " at offset " + at + " of " + tp
                        + " vanished: the final leader " + leaderId + " has " + log.get(at) + " there");
            }
        });
        sim.checks.count("transactions checked at the end of a partition");
    }
}
