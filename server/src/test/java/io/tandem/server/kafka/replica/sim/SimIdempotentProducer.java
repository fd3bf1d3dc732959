package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * An idempotent producer as the Java client is one (enable.idempotence, acks=all): a producer id and epoch, per
 * partition consecutive sequences, at most {@value #IN_FLIGHT_MAX} batches in flight on one connection to the leader,
 * and a batch that fails or times out is sent again as it was (same bytes, same sequence), after every batch in
 * flight came back, in sequence order, to whichever broker the metadata then names leader. Until a partition
 * acknowledged the producer's first batch, only that one is in flight (see {@link #pump}). A timed-out request closes
 * its connection (the client's request.timeout.ms), and the broker drops what it had not started on it.
 *
 * <p>The broker side of a connection is Kafka's: requests are handled one at a time in arrival order (the socket
 * server mutes the channel until the response is out), through the production produce path on the leader
 * ({@link io.tandem.server.kafka.log.Partition#append}, whose producer state decides duplicates and gaps).
 *
 * <p>Checked at the end ({@link #check}): every acknowledged record is in the final leader's log exactly once, no
 * record of the producer is there twice, the producer's batches are there in sequence order without a gap, and
 * after healing the producer is not stuck (its last batch was acknowledged).
 */
final class SimIdempotentProducer {
    /** max.in.flight.requests.per.connection, the most idempotence allows (and what the broker caches per producer). */
    static final int IN_FLIGHT_MAX = 5;
    static final long RETRY_BACKOFF_MS = 100;
    static final int RECORDS_PER_BATCH_MAX = 3;

    private enum State { QUEUED, IN_FLIGHT, DONE }

    /** A batch as the client keeps it until acknowledged: its bytes are resent unchanged. */
    private static final class Batch {
        final int sequence;
        final long[] values;
        final byte[] bytes;
        State state = State.QUEUED;
        long attempt;

        Batch(int sequence, long[] values, byte[] bytes) {
            this.sequence = sequence;
            this.values = values;
            this.bytes = bytes;
        }
    }

    /** One partition's batches in sequence order, as the client's accumulator and sender keep them. */
    private final class PartitionQueue {
        final TopicPartition tp;
        final ArrayDeque<Batch> unacked = new ArrayDeque<>();
        int nextSequence;
        int inFlight;
        boolean firstAcknowledged;
        /** A batch failed: nothing is sent until every batch in flight came back, then all again from the first. */
        boolean retrying;

        PartitionQueue(TopicPartition tp) {
            this.tp = tp;
        }
    }

    /** One TCP connection to one broker: ordered both ways, handled one request at a time by the broker. */
    private final class Connection {
        final int brokerId;
        final SimNetwork.Fifo toBroker;
        final SimNetwork.Fifo toClient;
        final ArrayDeque<Runnable> received = new ArrayDeque<>();
        /** The broker run that accepted the connection: a restarted broker has lost it. */
        SimBroker run;
        boolean busy;
        boolean closed;

        Connection(int brokerId) {
            this.brokerId = brokerId;
            this.toBroker = sim.network.fifo(SimNetwork.CLIENT, brokerId);
            this.toClient = sim.network.fifo(brokerId, SimNetwork.CLIENT);
        }

        /** The request arrives at the broker and waits for those before it on this connection. */
        void arrive(Runnable handle) {
            SimBroker target = sim.running(brokerId);
            if (closed || target == null) return;
            if (run == null) run = target;
            if (run != target) return;
            received.add(handle);
            pump();
        }

        void pump() {
            if (busy || closed || received.isEmpty() || sim.running(brokerId) != run) return;
            busy = true;
            received.poll().run();
        }

        /** The broker answered the request it was on: the next one may start. */
        void answered() {
            busy = false;
            pump();
        }

        void close() {
            closed = true;
            received.clear();
        }
    }

    final long producerId;
    final short epoch;
    private final ReplicationSimulator sim;
    private final boolean idempotent;
    private final Map<TopicPartition, PartitionQueue> queues = new TreeMap<>(ReplicationSimulator.ORDER);
    private final Map<Integer, Connection> connections = new TreeMap<>();
    /** Every value this producer put in a batch (to recognise its batches without a producer id). */
    private final java.util.Set<Long> made = new java.util.HashSet<>();
    /** Every value this producer acknowledged, by partition. */
    private final Map<TopicPartition, List<Long>> acked = new TreeMap<>(ReplicationSimulator.ORDER);

    /** {@code idempotent} false: the mutation that sends retries without a producer id (a plain retrying producer). */
    SimIdempotentProducer(ReplicationSimulator sim, long producerId, short epoch, List<TopicPartition> partitions,
                          boolean idempotent) {
        this.sim = sim;
        this.producerId = producerId;
        this.epoch = epoch;
        this.idempotent = idempotent;
        for (TopicPartition tp : partitions) {
            queues.put(tp, new PartitionQueue(tp));
            acked.put(tp, new ArrayList<>());
        }
    }

    long ackedCount() {
        return acked.values().stream().mapToLong(List::size).sum();
    }

    /** The application sends one batch to {@code tp}, unless the client's buffer for it is full. */
    void send(TopicPartition tp) {
        PartitionQueue q = queues.get(tp);
        if (q.unacked.size() >= IN_FLIGHT_MAX) return;
        int count = 1 + sim.scheduler.random.nextInt(RECORDS_PER_BATCH_MAX);
        long[] values = new long[count];
        ByteBuf out = SimBroker.BUFFERS.heapBuffer(64 + 32 * count);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
            if (idempotent) builder.producer(producerId, epoch, q.nextSequence);
            for (int i = 0; i < count; i++) {
                values[i] = sim.nextValue();
                made.add(values[i]);
                builder.append(sim.scheduler.now(), null, ByteBuffer.allocate(8).putLong(values[i]).array());
            }
            builder.build();
        }
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        q.unacked.add(new Batch(q.nextSequence, values, bytes));
        q.nextSequence += count;
        pump(q);
    }

    /** Sends every queued batch of the partition, in order, unless a retry waits for the batches in flight. */
    private void pump(PartitionQueue q) {
        if (q.retrying) return;
        int leader = -1;
        for (Batch b : q.unacked) {
            // A leader that does not know the producer takes any sequence (Kafka's rule, for producers whose state
            // retention removed), so until the partition acknowledged a first batch only that one goes: a later one
            // taken after a refused first would leave a gap before it.
            if (!q.firstAcknowledged && b != q.unacked.peek()) break;
            if (b.state != State.QUEUED) continue;
            if (leader < 0) leader = sim.believedLeaderForClient(q.tp);
            if (leader < 0) {
                // No leader known yet: the client refreshes its metadata and tries again.
                q.retrying = true;
                retryWhenDrained(q);
                return;
            }
            transmit(q, b, leader);
        }
    }

    private Connection connection(int brokerId) {
        Connection c = connections.get(brokerId);
        if (c == null || c.closed) {
            c = new Connection(brokerId);
            connections.put(brokerId, c);
        }
        return c;
    }

    private void transmit(PartitionQueue q, Batch b, int leader) {
        b.state = State.IN_FLIGHT;
        long attempt = ++b.attempt;
        q.inFlight++;
        Connection c = connection(leader);
        c.toBroker.send(() -> c.arrive(() -> {
            SimBroker target = c.run;
            target.later(target.slowDiskMs, () -> {
                ByteBuf request = SimBroker.BUFFERS.heapBuffer(b.bytes.length).writeBytes(b.bytes);
                try {
                    target.produce(q.tp, request, error -> {
                        c.answered();
                        String at = error == OUT_OF_ORDER_SEQUENCE_NUMBER ? describe(target, q.tp) : "";
                        // A leader deposed while cut off from the other brokers still answers whom it reaches; its
                        // log may lag far behind what was acknowledged since, and a gap there is no fault.
                        boolean current = isCurrentLeader(target, q.tp);
                        c.toClient.send(() -> {
                            if (!c.closed) answered(q, b, attempt, error, at, current);
                        });
                    });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }));
        sim.scheduler.after(ReplicationSimulator.CLIENT_TIMEOUT_MS, () -> {
            if (b.state != State.IN_FLIGHT || b.attempt != attempt) return;
            c.close();
            sim.checks.count("idempotent produce timed out, retried");
            failed(q, b);
        });
    }

    /** The leader's side of a refusal, for the violation's message. */
    private String describe(SimBroker leader, TopicPartition tp) {
        Partition p = leader.logs.get(tp);
        if (p == null) return " by broker " + leader.id;
        return " by broker " + leader.id + " (leader epoch " + p.leaderEpoch() + ", log end " + p.logEndOffset()
                + ", HW " + p.highWatermark() + ", producers " + p.producerSnapshot() + ", batches " + loggedBatches(p) + ")";
    }

    private String loggedBatches(Partition p) {
        try {
            StringBuilder out = new StringBuilder();
            for (LoggedBatch b : batches(p)) {
                if (b.producerId() == producerId) out.append(b.firstOffset()).append(':').append(b.baseSequence())
                        .append('+').append(b.values().size()).append(' ');
            }
            return out.toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Whether {@code broker} leads {@code tp} at the leader epoch ZooKeeper holds now. */
    private boolean isCurrentLeader(SimBroker broker, TopicPartition tp) {
        Partition p = broker.logs.get(tp);
        io.tandem.server.kafka.metadata.PartitionState state = sim.zooKeeperState(tp);
        return p != null && state != null && state.leader() == broker.id && state.leaderEpoch() == p.leaderEpoch();
    }

    private void answered(PartitionQueue q, Batch b, long attempt, short error, String at, boolean currentLeader) {
        if (b.state != State.IN_FLIGHT || b.attempt != attempt) return;
        if (error == NONE) {
            b.state = State.DONE;
            q.inFlight--;
            boolean first = !q.firstAcknowledged;
            q.firstAcknowledged = true;
            for (long v : b.values) acked.get(q.tp).add(v);
            sim.checks.count("idempotent produce acknowledged");
            if (attempt > 1) sim.checks.count("idempotent produce acknowledged after a retry");
            while (!q.unacked.isEmpty() && q.unacked.peek().state == State.DONE) q.unacked.poll();
            if (q.retrying) {
                retryWhenDrained(q);
            } else if (first) {
                pump(q);
            }
            return;
        }
        if (error == OUT_OF_ORDER_SEQUENCE_NUMBER && q.unacked.peek() == b && !currentLeader) {
            sim.checks.count("idempotent produce: first batch out of order at a deposed leader");
        } else if (error == OUT_OF_ORDER_SEQUENCE_NUMBER && q.unacked.peek() == b) {
            // Every batch before this one was acknowledged, so the leader holds them: a gap here means its producer
            // state lost what its log holds (or holds what it should not).
            sim.checks.violation("producer " + producerId + "'s first unacknowledged batch of " + q.tp + " (sequence "
                    + b.sequence + "+" + b.values.length + ", attempt " + attempt + ") was refused as out of order" + at);
        }
        sim.checks.count("idempotent produce refused: " + Errors.forCode(error));
        failed(q, b);
    }

    private void failed(PartitionQueue q, Batch b) {
        b.state = State.QUEUED;
        q.inFlight--;
        q.retrying = true;
        retryWhenDrained(q);
    }

    /** Once nothing is in flight, after the retry backoff, every unacknowledged batch goes again from the first. */
    private void retryWhenDrained(PartitionQueue q) {
        if (q.inFlight > 0) return;
        sim.scheduler.after(RETRY_BACKOFF_MS, () -> {
            if (!q.retrying || q.inFlight > 0) return;
            q.retrying = false;
            pump(q);
        });
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** One batch of the final log: its producer, first sequence and the values of its records. */
    private record LoggedBatch(long producerId, int baseSequence, long firstOffset, List<Long> values) {
    }

    /**
     * The final leader's log of {@code tp} against what this producer sent: each acknowledged value exactly once,
     * none of its values twice, its batches in sequence order from 0 without a gap; and, with {@code liveness},
     * nothing left unacknowledged once everything healed.
     */
    void check(TopicPartition tp, Partition finalLeader, int leaderId, boolean liveness) throws IOException {
        Map<Long, Integer> copies = new HashMap<>();
        int expectedSequence = 0;
        for (LoggedBatch batch : batches(finalLeader)) {
            boolean mine = idempotent ? batch.producerId() == producerId : made.contains(batch.values().get(0));
            if (!mine) continue;
            for (long v : batch.values()) copies.merge(v, 1, Integer::sum);
            if (!idempotent) continue;
            if (batch.baseSequence() != expectedSequence) {
                sim.checks.violation("producer " + producerId + "'s batch at offset " + batch.firstOffset() + " of "
                        + tp + " has sequence " + batch.baseSequence() + " where " + expectedSequence
                        + " was next (final leader " + leaderId + ")");
            }
            expectedSequence = batch.baseSequence() + batch.values().size();
        }
        copies.forEach((value, n) -> {
            if (n > 1) {
                sim.checks.violation("value " + value + " of producer " + producerId + " is " + n + " times in the log"
                        + " of " + tp + "'s final leader " + leaderId);
            }
        });
        for (long v : acked.get(tp)) {
            if (!copies.containsKey(v)) {
                sim.checks.violation("acknowledged value " + v + " of producer " + producerId + " is not in the log of "
                        + tp + "'s final leader " + leaderId);
            }
        }
        PartitionQueue q = queues.get(tp);
        if (liveness && !q.unacked.isEmpty()) {
            sim.checks.violation("producer " + producerId + " still has " + q.unacked.size() + " batches of " + tp
                    + " unacknowledged after every fault healed (first sequence " + q.unacked.peek().sequence + ")");
        }
    }

    private static List<LoggedBatch> batches(Partition p) throws IOException {
        List<LoggedBatch> out = new ArrayList<>();
        SimRecords.forEachBatch(p, batch -> {
            if (batch.isControl()) return;
            List<Long> values = new ArrayList<>();
            try (RecordIterator it = batch.records()) {
                while (it.hasNext()) {
                    Record r = it.next();
                    values.add(r.value().getLong(r.value().readerIndex()));
                }
            }
            out.add(new LoggedBatch(batch.producerId(), batch.baseSequence(), batch.baseOffset(), values));
        });
        return out;
    }
}
