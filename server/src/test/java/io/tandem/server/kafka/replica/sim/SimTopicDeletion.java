package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A second topic that is deleted and created again under the same name while the faults run, as Kafka's tools do
 * it: {@code /admin/delete_topics/T} asks the controller, which removes the topic from ZooKeeper and sends StopReplica
 * with delete to the replicas; once the topic is gone it is created again (a new topic id, new replicas) by writing
 * {@code /brokers/topics/T}. An acks=all producer writes to whichever incarnation exists.
 *
 * <p>Checked at the end, after healing: the topic exists in its last incarnation; every replica of it holds only
 * records produced to that incarnation (a re-created topic starts empty); every acknowledged record of that
 * incarnation is in its leader's log; no deletion request is left pending; no broker outside that incarnation's
 * replicas still holds a replica of an older one (see {@link #strayChecked}).
 */
final class SimTopicDeletion {
    static final String TOPIC = "doomed";
    static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);
    static final int REPLICATION_FACTOR = 2;

    private final ReplicationSimulator sim;
    private final SimZooKeeper.Session admin;
    /** The live incarnation (1, 2, ...), or 0 while deleted. */
    private int incarnation;
    private int incarnations;
    private boolean deleting;
    private List<Integer> replicas = List.of();
    /** Value -> the incarnation it was produced to. */
    private final Map<Long, Integer> producedTo = new HashMap<>();
    /** Topic id -> its incarnation. */
    private final Map<UUID, Integer> incarnationOf = new HashMap<>();
    /** Values acknowledged, by incarnation. */
    private final Map<Integer, Set<Long>> acked = new TreeMap<>();

    SimTopicDeletion(ReplicationSimulator sim) {
        this.sim = sim;
        this.admin = sim.zooKeeper.openSession(-1);
    }

    int incarnations() {
        return incarnations;
    }

    /** Creates the first incarnation and starts the producer and the delete-and-create cycle. */
    void start() {
        create();
        produceLoop();
        cycleLoop();
    }

    private void create() {
        List<Integer> brokers = new ArrayList<>();
        for (int id : ReplicationSimulator.BROKER_IDS) brokers.add(id);
        java.util.Collections.shuffle(brokers, sim.scheduler.random);
        replicas = List.copyOf(brokers.subList(0, REPLICATION_FACTOR));
        SortedMap<Integer, List<Integer>> assignment = new TreeMap<>();
        assignment.put(0, replicas);
        UUID id = new UUID(sim.scheduler.random.nextLong(), sim.scheduler.random.nextLong());
        if (!admin.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(id, assignment)), false)) {
            throw new IllegalStateException("topic " + TOPIC + " still exists");
        }
        incarnation = ++incarnations;
        incarnationOf.put(id, incarnation);
        acked.put(incarnation, new HashSet<>());
        sim.checks.count("deleted topic created again");
    }

    private void cycleLoop() {
        sim.scheduler.after(sim.scheduler.between(1_000, 4_000), () -> {
            if (!sim.faultsOn()) return;
            cycle();
            cycleLoop();
        });
    }

    /** Asks for the deletion, or, once the deletion is done, creates the topic again. */
    private void cycle() {
        if (incarnation != 0 && !deleting) {
            admin.create(KafkaZkLayout.deleteTopicPath(TOPIC), new byte[0], false);
            deleting = true;
            sim.checks.count("topic deletion requested");
            return;
        }
        recreateIfDeleted();
    }

    /** Once the controller removed the topic and its request: it is created again. */
    void recreateIfDeleted() {
        if (!deleting) return;
        if (admin.getData(KafkaZkLayout.topicPath(TOPIC)) != null) {
            // The controller keeps the topic until every replica is deleted: a down replica holds it up.
            if (replicas.stream().anyMatch(id -> sim.running(id) == null)) {
                sim.checks.count("deleted topic: deletion waited for a broker");
            }
            return;
        }
        if (admin.getData(KafkaZkLayout.deleteTopicPath(TOPIC)) != null) return;
        deleting = false;
        incarnation = 0;
        sim.checks.count("topic deleted");
        create();
    }

    private void produceLoop() {
        sim.scheduler.after(sim.scheduler.between(30, 120), () -> {
            if (!sim.clientsOn()) return;
            produceOnce();
            produceLoop();
        });
    }

    private void produceOnce() {
        if (incarnation == 0 || deleting) return;
        int leader = sim.believedLeaderForClient(PARTITION);
        if (leader < 0) return;
        long value = sim.nextValue();
        ByteBuf batch = SimBroker.BUFFERS.heapBuffer(96);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            builder.append(sim.scheduler.now(), null, ByteBuffer.allocate(8).putLong(value).array());
            builder.build();
        }
        sim.network.send(SimNetwork.CLIENT, leader, () -> {
            SimBroker target = sim.running(leader);
            if (target == null) return;
            target.later(target.slowDiskMs, () -> {
                // The incarnation appended to: the one the replica was made for, else the one the leader's metadata
                // names (a produce names no topic id).
                Partition local = target.logs.get(PARTITION);
                var known = target.metadata.knownTopic(TOPIC);
                UUID id = local != null && local.topicId() != null ? local.topicId() : known == null ? null : known.id();
                int to = id == null ? -1 : incarnationOf.getOrDefault(id, -1);
                producedTo.put(value, to);
                try {
                    target.produce(PARTITION, batch, error -> sim.network.send(leader, SimNetwork.CLIENT, () -> {
                        if (error == NONE && to > 0) {
                            acked.get(to).add(value);
                            sim.checks.count("deleted topic: produce acknowledged");
                        }
                    }));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
    }

    /** After healing: the last deletion finishes and, if the topic is gone, it is created again. */
    void heal() {
        recreateIfDeleted();
    }

    /** The checks once everything healed (see the class comment). */
    void check(List<SimBroker> running) throws IOException {
        recreateIfDeleted();
        if (deleting || incarnation == 0) {
            sim.checks.violation("the deletion of " + TOPIC + " (incarnation " + incarnations + ") never completed"
                    + " after every fault healed");
            return;
        }
        Partition leader = null;
        int leaderId = -1;
        for (SimBroker b : running) {
            Partition p = b.logs.get(PARTITION);
            boolean onDisk = p != null || b.logs.partitionsOnDisk().contains(PARTITION);
            if (!replicas.contains(b.id)) {
                if (onDisk) strayChecked("broker " + b.id + " holds a replica of " + PARTITION + " after every fault"
                        + " healed, but incarnation " + incarnation + " has replicas " + replicas
                        + " (a replica of a deleted incarnation survived)");
                continue;
            }
            if (p == null) continue;
            for (long value : values(p)) {
                Integer from = producedTo.get(value);
                if (from == null || from != incarnation) {
                    sim.checks.violation("broker " + b.id + "'s replica of " + PARTITION + " (incarnation " + incarnation
                            + ") holds value " + value + " produced to incarnation " + from
                            + " (a re-created topic must start empty)");
                    break;
                }
            }
            if (p.isLeader() && (leader == null || p.leaderEpoch() > leader.leaderEpoch())) {
                leader = p;
                leaderId = b.id;
            }
        }
        if (leader == null) {
            sim.checks.violation(PARTITION + " (incarnation " + incarnation + ", replicas " + replicas + ") has no"
                    + " leader after every fault healed");
            return;
        }
        Set<Long> held = new HashSet<>(values(leader));
        for (long value : acked.get(incarnation)) {
            if (!held.contains(value)) {
                sim.checks.violation("acknowledged value " + value + " of " + PARTITION + " (incarnation " + incarnation
                        + ") is not in the log of its final leader " + leaderId);
            }
        }
        sim.checks.count("deleted topic checked at the end");
    }

    /**
     * A replica of a deleted topic left on a broker outside the new replicas: the broker was down or cut off when the
     * topic was deleted. The controller keeps the topic until every replica answered its StopReplica with delete
     * (Kafka's TopicDeletionManager), and a broker deletes strays on a full LeaderAndIsr, so none may be left.
     */
    private void strayChecked(String what) {
        sim.checks.violation(what);
    }

    /** The values of every record in the replica's log. */
    static List<Long> values(Partition p) throws IOException {
        List<Long> out = new ArrayList<>();
        long offset = p.logStartOffset();
        long end = p.logEndOffset();
        while (offset < end) {
            LogSlice slice = p.log().read(offset, 1 << 20, end, true);
            if (slice.isEmpty()) break;
            for (long[] record : SimRecords.of(slice)) {
                if (record[0] >= offset) out.add(record[1]);
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
        return out;
    }
}
