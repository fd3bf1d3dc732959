package io.tandem.server.zab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The simulator's network between Zab nodes: every message in flight with the step it is due at, loss, duplication,
 * delay and reordering drawn from the seed (a link keeps order like TCP unless a message is picked to be reordered),
 * and partitions. A message crosses only a connection {@link SimulatedConnections} has up; one sent across a
 * partition on a live connection is lost, or, when the seed says TCP holds it, retried until the partition heals.
 */
final class SimulatedNetwork {
    /** How often a message held by a partition on a live connection is retried. */
    private static final int HELD_RETRY_STEPS = 5;

    private record InFlight(long deliverAt, long order, int from, int to, ZabMessage message, long connection,
                            boolean held) {}

    private final ZabSimulator sim;
    private long messageOrder;
    private final PriorityQueue<InFlight> inFlight = new PriorityQueue<>(
            (a, b) -> a.deliverAt != b.deliverAt ? Long.compare(a.deliverAt, b.deliverAt)
                    : Long.compare(a.order, b.order));
    private final long[][] lastDeliveryStep;
    private final int[] partitionSide;

    SimulatedNetwork(ZabSimulator sim, int nodeCount) {
        this.sim = sim;
        this.lastDeliveryStep = new long[nodeCount + 1][nodeCount + 1];
        this.partitionSide = new int[nodeCount + 1];
    }

    /** A seeded partition, or a heal one time in three. */
    void randomPartition() {
        if (sim.random.nextInt(3) == 0) {
            heal();
            return;
        }
        int[] side = new int[1 + sim.random.nextInt(sim.nodes.length / 2)];
        for (int i = 0; i < side.length; i++) {
            side[i] = 1 + sim.random.nextInt(sim.nodes.length);
        }
        partition(side);
        sim.count("partition");
    }

    /** Hands each node the messages due at {@code step} (with batched inputs: all of them, then one advance). */
    void deliverDueMessages(long step) {
        List<SimulatedNode> touched = new ArrayList<>(2);
        while (!inFlight.isEmpty() && inFlight.peek().deliverAt <= step) {
            InFlight message = inFlight.poll();
            SimulatedNode to = sim.node(message.to);
            if (!to.isUp() || !sim.connections.deliverable(message.from, message.to, message.connection)) {
                continue;
            }
            if (!connected(message.from, message.to)) {
                if (sim.connections.holdsAcrossPartition()) {
                    // Still on a live connection: TCP keeps retransmitting until the partition heals.
                    inFlight.add(new InFlight(step + HELD_RETRY_STEPS, message.order, message.from, message.to,
                            message.message, message.connection, true));
                }
                continue;
            }
            if (message.held) {
                sim.count("message held by a partition, delivered after it healed");
            }
            sim.events.delivery(step, message.from, message.to, message.message);
            long earlyDecisions = to.machine.earlyDecisions();
            if (sim.batchInputs) {
                to.driver.receive(message.from, message.message); // stepping an input does no I/O: no crash here
                if (touched.contains(to)) {
                    sim.count("messages batched into one Ready");
                } else {
                    touched.add(to);
                }
            } else {
                to.runOn(() -> to.driver.receive(message.from, message.message));
            }
            if (to.isUp() && to.machine.earlyDecisions() > earlyDecisions) {
                sim.count("election decided early: the rest unreachable");
            }
        }
        for (SimulatedNode node : touched) {
            node.runOn(() -> {});
        }
    }

    /** A message leaves {@code from}: dropped, lost, duplicated or delayed as the seed and the link say. */
    void send(int from, int to, ZabMessage message) {
        if (message instanceof ZabMessage.Sync sync) {
            sim.count("sync " + sync.mode());
        }
        if (to > sim.nodes.length) {
            return; // a member a reconfig added that the simulation never starts (its connection never comes up)
        }
        long connection = sim.connections.sendGeneration(from, to);
        if (connection < 0) {
            return; // QuorumTransport.send drops what it cannot write to a live connection
        }
        if ((!connected(from, to) && !sim.connections.holdsAcrossPartition())
                || sim.random.nextDouble() < sim.faults.lossPerMessage()) {
            return;
        }
        enqueue(from, to, message, connection);
        if (sim.random.nextDouble() < sim.faults.duplicatePerMessage()) {
            enqueue(from, to, message, connection);
        }
    }

    private void enqueue(int from, int to, ZabMessage message, long connection) {
        long deliverAt = sim.step() + 1 + sim.random.nextInt(sim.faults.delayStepsMax());
        if (sim.random.nextDouble() >= sim.faults.reorderPerMessage()) {
            // Like TCP, the link keeps order unless this message was picked to be reordered.
            deliverAt = Math.max(deliverAt, lastDeliveryStep[from][to]);
            lastDeliveryStep[from][to] = deliverAt;
        }
        inFlight.add(new InFlight(deliverAt, messageOrder++, from, to, message, connection, false));
    }

    /** Cuts {@code id} off from everyone. */
    void isolate(int id) {
        partitionSide[id] = 100 + id;
        sim.trace("partition: isolate " + id);
        sim.connections.onPartition(sim.step());
    }

    /** Puts the listed ids on one side and everyone else on the other. */
    void partition(int... side) {
        Arrays.fill(partitionSide, 0);
        for (int id : side) {
            partitionSide[id] = 1;
        }
        sim.trace("partition: " + Arrays.toString(side) + " | rest");
        sim.connections.onPartition(sim.step());
    }

    /** Ends any partition. */
    void heal() {
        Arrays.fill(partitionSide, 0);
        sim.trace("partition healed");
    }

    /** Whether a partition lets {@code a} and {@code b} talk. */
    boolean connected(int a, int b) {
        return partitionSide[a] == partitionSide[b];
    }
}
