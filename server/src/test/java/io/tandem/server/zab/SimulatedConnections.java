package io.tandem.server.zab;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The simulator's model of {@link QuorumTransport}'s connections, so that the machine gets the
 * {@link ZabStateMachine#peerDisconnected} input the real driver feeds it, at the moments and with the flaws it has:
 * <ul>
 *   <li>one connection per pair of servers, dialled by the higher id: at its start, and again
 *       {@link QuorumTransport#RECONNECT_DELAY_MS} after it sees the connection close or a dial fail (a dial into a
 *       partition fails only after {@link QuorumTransport#CONNECT_TIMEOUT_MS}); the lower id only accepts;</li>
 *   <li>a message sent while its connection is down is dropped ({@code QuorumTransport.send}), and messages still in
 *       flight on a connection that closes are lost with it;</li>
 *   <li>a crash closes all the node's connections, a random drop closes one, and a partition closes the connections
 *       it cuts (with a seeded probability; otherwise, per seed, the link either loses what crosses it, as before,
 *       or holds it and delivers it late, in order, when the partition heals, as TCP does);</li>
 *   <li>each surviving side learns of the close after a seeded delay: usually soon, sometimes late (the Zab thread is
 *       busy, the inbox is behind), even after the connection is back and new messages have arrived on it;</li>
 *   <li>a crash that leaves the survivor's socket half-open (the host died): the survivor notices only late, and an
 *       accepting survivor never does if the restarted peer dials in first (the transport silently replaces the
 *       registered channel, as {@code QuorumTransport.register} does);</li>
 *   <li>each side gets {@link ZabStateMachine#peerConnected} shortly after a connection comes up;</li>
 *   <li>optionally a rare false notification about a connection that never closed (a stand-in for a drop and
 *       reconnect too quick to see otherwise).</li>
 * </ul>
 * A notification is lost with the node if it crashes first. Disabled, every pair is always connected and nothing is
 * notified: the simulator's behaviour before this model existed, kept for the hand-written scenarios.
 */
final class SimulatedConnections {
    /**
     * @param dropPerTick       chance per tick per connection of a random drop
     * @param partitionCloses   chance that a partition closes a connection it cuts (else the link only loses messages)
     * @param halfOpenCrash     chance that a crash leaves a survivor's socket half-open
     * @param noticeStepsMax    steps, at most, until a side's transport sees a close
     * @param lateNotice        chance a notification then waits 0.5-3.5 ticks more in the inbox
     * @param falsePerTick      chance per tick per node of a notification about a connection that did not close
     * @param reconnectSteps    steps between dial attempts (QuorumTransport.RECONNECT_DELAY_MS)
     * @param connectTimeoutSteps steps a dial into a partition takes to fail (QuorumTransport.CONNECT_TIMEOUT_MS)
     * @param partitionHolds    a connection a partition cuts without closing holds what is sent over it and delivers
     *                          it, in order, once the partition heals (TCP retransmits); else it is lost
     * @param finalizeSteps     the driver's finalize wait (Apache's 200 ms) in steps: see ZabSimulator
     */
    record Params(double dropPerTick, double partitionCloses, double halfOpenCrash, int noticeStepsMax,
                  double lateNotice, double falsePerTick, int reconnectSteps, int connectTimeoutSteps,
                  boolean partitionHolds, int finalizeSteps) {

        static Params random(SplittableRandom random) {
            boolean harsh = random.nextInt(4) == 0;
            return new Params(random.nextDouble(0, harsh ? 0.05 : 0.01), random.nextDouble(0.3, 1.0),
                    random.nextDouble(0, 0.3), 1 + random.nextInt(8), random.nextDouble(0, harsh ? 0.3 : 0.1),
                    random.nextInt(3) == 0 ? random.nextDouble(0, 0.01) : 0,
                    1 + random.nextInt(2 * ZabSimulator.TICK_STEPS), ZabSimulator.TICK_STEPS / 2
                            + random.nextInt(2 * ZabSimulator.TICK_STEPS), random.nextBoolean(),
                    1 + random.nextInt(ZabSimulator.TICK_STEPS));
        }

        /** For long opt-in runs ({@code -Dzab.harshConnections=true}): a flaky transport on every seed. */
        Params harsh(SplittableRandom random) {
            return new Params(random.nextDouble(0.02, 0.1), partitionCloses, random.nextDouble(0.2, 0.8),
                    noticeStepsMax, random.nextDouble(0.2, 0.6), random.nextDouble(0.01, 0.05), reconnectSteps,
                    connectTimeoutSteps, partitionHolds, finalizeSteps);
        }

        /** No more random drops or false notifications; the transport's mechanics stay. */
        Params calm() {
            return new Params(0, partitionCloses, halfOpenCrash, noticeStepsMax, lateNotice, 0, reconnectSteps,
                    connectTimeoutSteps, partitionHolds, finalizeSteps);
        }
    }

    private static final class Link {
        final int low;
        final int high;
        boolean up;
        /** Bumped on every close and every new connection: a message carries the generation it was sent on. */
        long generation;
        long dialAtStep = -1;

        Link(int low, int high) {
            this.low = low;
            this.high = high;
        }
    }

    /**
     * A peerDisconnected (or, {@code connected}, a peerConnected) on its way to {@code to}; void if {@code to}
     * restarted or, when half-open, reconnected.
     */
    private record Notice(long at, long order, int to, int peer, int toRestarts, long voidIfNotGeneration,
                          boolean falseAlarm, boolean connected) {}

    private final ZabSimulator sim;
    private final SplittableRandom random;
    private Params params;
    private final boolean enabled;
    private final Link[][] links;
    private final PriorityQueue<Notice> notices = new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
    private long noticeOrder;

    SimulatedConnections(ZabSimulator sim, int nodeCount, Params params, long seed) {
        this.sim = sim;
        this.params = params;
        this.enabled = params != null;
        this.random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        this.links = new Link[nodeCount + 1][nodeCount + 1];
        for (int low = 1; low <= nodeCount; low++) {
            for (int high = low + 1; high <= nodeCount; high++) {
                Link link = new Link(low, high);
                links[low][high] = link;
                links[high][low] = link;
                link.up = !enabled;
            }
        }
    }

    boolean enabled() {
        return enabled;
    }

    void calm() {
        if (enabled) {
            params = params.calm();
        }
    }

    /** The generation a message sent now from {@code from} to {@code to} travels on, or -1: dropped, not connected. */
    long sendGeneration(int from, int to) {
        Link link = links[from][to];
        return link.up ? link.generation : -1;
    }

    /** True when a message sent on {@code generation} can still be delivered. */
    boolean deliverable(int from, int to, long generation) {
        Link link = links[from][to];
        return link.up && link.generation == generation;
    }

    /** True when a message across a partition waits for it to heal (on a connection that is still up). */
    int finalizeSteps() {
        return params.finalizeSteps();
    }

    boolean holdsAcrossPartition() {
        return enabled && params.partitionHolds();
    }

    boolean isUp(int a, int b) {
        return links[a][b].up;
    }

    // ------------------------------------------------------------------------------------------- events in

    /** A node (re)started: like {@code QuorumTransport.start}, it dials every lower id at once. */
    void onStart(int id, long step) {
        if (!enabled) {
            return;
        }
        for (int low = 1; low < id; low++) {
            links[low][id].dialAtStep = step + 1;
        }
    }

    /** A node crashed: its connections close; only the survivors' transports can tell. */
    void onCrash(int id, long step) {
        if (!enabled) {
            return;
        }
        for (int peer = 1; peer < links.length; peer++) {
            if (peer != id) {
                close(links[id][peer], step, id, "crash of " + id);
                if (peer < id) {
                    links[id][peer].dialAtStep = -1; // a dead node dials nobody; it dials again when it starts
                }
            }
        }
    }

    /** The partition changed: each connection it now cuts closes, or with the other chance just loses messages. */
    void onPartition(long step) {
        if (!enabled) {
            return;
        }
        for (int low = 1; low < links.length; low++) {
            for (int high = low + 1; high < links.length; high++) {
                Link link = links[low][high];
                if (link.up && !sim.connected(low, high) && random.nextDouble() < params.partitionCloses()) {
                    close(link, step, -1, "partition");
                }
            }
        }
    }

    /** Runs one simulator step: due notifications, due dials, random drops and false alarms. */
    void step(long step, boolean tickBoundary) {
        if (!enabled) {
            return;
        }
        while (!notices.isEmpty() && notices.peek().at <= step) {
            Notice notice = notices.poll();
            SimulatedNode to = sim.node(notice.to);
            if (!to.isUp() || to.restarts != notice.toRestarts) {
                continue; // the inbox died with the process
            }
            Link link = links[notice.to][notice.peer];
            if (notice.connected) {
                sim.count(link.up ? "connect notified" : "connect notified after it closed again");
                sim.deliverConnect(to, notice.peer);
                continue;
            }
            if (notice.voidIfNotGeneration >= 0 && link.generation != notice.voidIfNotGeneration) {
                sim.count("disconnect unseen: half-open socket replaced");
                continue;
            }
            if (notice.falseAlarm) {
                sim.count("disconnect notified falsely");
            } else if (link.up) {
                sim.count("disconnect notified late, connection back");
            } else {
                sim.count("disconnect notified");
            }
            sim.deliverDisconnect(to, notice.peer);
        }
        for (int low = 1; low < links.length; low++) {
            for (int high = low + 1; high < links.length; high++) {
                Link link = links[low][high];
                if (link.dialAtStep >= 0 && link.dialAtStep <= step) {
                    dial(link, step);
                }
                if (link.up && params.dropPerTick() > 0
                        && random.nextDouble() < params.dropPerTick() / ZabSimulator.TICK_STEPS) {
                    close(link, step, -1, "random drop");
                    sim.count("connection dropped");
                }
            }
        }
        if (tickBoundary && params.falsePerTick() > 0) {
            for (int id = 1; id < links.length; id++) {
                if (sim.node(id).isUp() && random.nextDouble() < params.falsePerTick()) {
                    int peer = 1 + random.nextInt(links.length - 2);
                    peer = peer >= id ? peer + 1 : peer;
                    schedule(step + 1 + random.nextInt(params.noticeStepsMax()), id, peer, -1, true, false);
                }
            }
        }
    }

    /** Test hook: the connection between {@code a} and {@code b} breaks now (both sides are notified). */
    void drop(int a, int b, long step) {
        close(links[a][b], step, -1, "dropped by the test");
    }

    // ------------------------------------------------------------------------------------------- mechanics

    private void dial(Link link, long step) {
        link.dialAtStep = -1;
        if (link.up || !sim.node(link.high).isUp()) {
            return;
        }
        if (!sim.node(link.low).isUp()) {
            // Refused at once (nothing listens); the dialer retries after the reconnect delay.
            link.dialAtStep = step + params.reconnectSteps();
            return;
        }
        if (!sim.connected(link.low, link.high)) {
            // The SYN goes unanswered: the attempt fails after the connect timeout, then the delay.
            link.dialAtStep = step + params.connectTimeoutSteps() + params.reconnectSteps();
            return;
        }
        link.up = true;
        link.generation++;
        // Each side's transport registers the channel and queues PeerConnected for its Zab thread.
        for (int side : new int[] {link.low, link.high}) {
            schedule(step + random.nextInt(params.noticeStepsMax()), side, side == link.low ? link.high : link.low,
                    -1, false, true);
        }
        sim.count("connection established");
        sim.trace("connected " + link.low + "-" + link.high + " (generation " + link.generation + ")");
    }

    private void close(Link link, long step, int crashed, String cause) {
        if (!link.up) {
            return;
        }
        link.up = false;
        link.generation++; // what was in flight on it is lost
        boolean halfOpen = crashed > 0 && random.nextDouble() < params.halfOpenCrash();
        sim.trace("disconnected " + link.low + "-" + link.high + " (" + cause + (halfOpen ? ", half-open" : "") + ")");
        for (int side : new int[] {link.low, link.high}) {
            if (side == crashed || !sim.node(side).isUp()) {
                continue;
            }
            // When this side's transport sees the close: soon, or (half-open) only when a write or timeout fails.
            long seen = step + 1 + random.nextInt(params.noticeStepsMax());
            if (halfOpen) {
                seen += ZabSimulator.TICK_STEPS + random.nextInt(3 * ZabSimulator.TICK_STEPS);
            }
            long noticeAt = seen;
            if (random.nextDouble() < params.lateNotice()) {
                noticeAt += ZabSimulator.TICK_STEPS / 2 + random.nextInt(3 * ZabSimulator.TICK_STEPS);
            }
            // A half-open accepting side never hears of the old socket if the peer's new connection replaces it.
            schedule(noticeAt, side, side == link.low ? link.high : link.low,
                    halfOpen && side == link.low ? link.generation : -1, false, false);
            if (side == link.high) {
                link.dialAtStep = seen + params.reconnectSteps();
            }
        }
    }

    private void schedule(long at, int to, int peer, long voidIfNotGeneration, boolean falseAlarm,
                          boolean connected) {
        notices.add(new Notice(at, noticeOrder++, to, peer, sim.node(to).restarts, voidIfNotGeneration, falseAlarm,
                connected));
    }

    /** For traces: which pairs are connected. */
    String describe() {
        List<String> up = new ArrayList<>();
        for (int low = 1; low < links.length; low++) {
            for (int high = low + 1; high < links.length; high++) {
                if (links[low][high].up) {
                    up.add(low + "-" + high);
                }
            }
        }
        return "connected " + up;
    }
}
