package io.tandem.server.zab;

import io.tandem.server.zab.LinearizabilityChecker.Kind;
import io.tandem.server.zab.LinearizabilityChecker.Operation;
import io.tandem.server.zab.LinearizabilityChecker.State;
import io.tandem.server.zab.LinearizabilityChecker.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * ZooKeeper-like client sessions for {@link ZabSimulator}: each client is connected to one server and issues one
 * operation at a time on a few znodes ({@code /r0}, {@code /r1}, ...): create, set with an expected version (or -1)
 * and read. Writes go through Zab as ZooKeeper's do: a follower forwards the request, the leader's prep step decides
 * the outcome against its newest state (committed, plus what it proposed and has not committed) and proposes a
 * transaction carrying it; the client's own server answers once it applies that transaction. Reads are ZooKeeper's
 * {@code sync} then {@code getData}: a no-op transaction through the leader, answered with the state the client's
 * server has when it applies it (a plain local read is only sequentially consistent, so it could not be checked here).
 *
 * <p>A client that hears nothing within {@link #TIMEOUT_TICKS} records its operation as unknown ("info") and connects to
 * another server. A server that refuses the request (not serving) fails it: it certainly never took effect. After the
 * run, every znode's history goes through {@link LinearizabilityChecker}.
 */
final class SimulatedClients {
    static final int TIMEOUT_TICKS = 40;
    /** Search steps per znode history before the checker gives up (counted, never seen in the CI seeds so far). */
    private static final long SEARCH_STEPS_MAX = 2_000_000;
    private static final String REQUEST = "Q";
    private static final String TXN = "T";

    private final ZabSimulator sim;
    private final SplittableRandom random;
    private final String[] paths;
    private final double opPerStep;
    /** With it, the leader's prep ignores what it proposed but has not committed: the checker must object. */
    private final boolean stalePrep;
    private final Client[] clients;
    private final Map<Integer, Pending> pendingById = new HashMap<>();
    private final Map<String, List<Operation>> historyByPath = new TreeMap<>();
    private long event;
    private int nextOpId;

    private final class Client {
        final int id;
        int server;
        Pending pending;

        Client(int id, int server) {
            this.id = id;
            this.server = server;
        }
    }

    private static final class Pending {
        final int opId;
        final Client client;
        final String path;
        final Kind kind;
        final int value;
        final int expectedVersion;
        final long invokedAt;
        final long deadlineStep;
        final int server;

        Pending(int opId, Client client, String path, Kind kind, int value, int expectedVersion, long invokedAt,
                long deadlineStep) {
            this.opId = opId;
            this.client = client;
            this.path = path;
            this.kind = kind;
            this.value = value;
            this.expectedVersion = expectedVersion;
            this.invokedAt = invokedAt;
            this.deadlineStep = deadlineStep;
            this.server = client.server;
        }
    }

    SimulatedClients(ZabSimulator sim, long seed, int serverCount, boolean stalePrep) {
        this.sim = sim;
        this.random = new SplittableRandom(seed ^ 0xC11E_475EL);
        this.paths = new String[1 + random.nextInt(3)];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = "/r" + i;
            historyByPath.put(paths[i], new ArrayList<>());
        }
        this.clients = new Client[2 + random.nextInt(4)];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = new Client(i + 1, 1 + random.nextInt(serverCount));
        }
        this.opPerStep = random.nextDouble(0.02, 0.15);
        this.stalePrep = stalePrep;
    }

    // ------------------------------------------------------------------------------------------------ the clients

    /** One simulator step: clients past their deadline give up, idle ones may issue their next operation. */
    void step(long step) {
        for (Client client : clients) {
            if (client.pending != null && step >= client.pending.deadlineStep) {
                complete(client.pending, null); // unknown: it may still take effect
                sim.count("client operation timed out (info)");
                client.server = 1 + random.nextInt(sim.nodes.length);
            }
            if (client.pending == null && random.nextDouble() < opPerStep) {
                issue(client, step);
            }
        }
    }

    private void issue(Client client, long step) {
        String path = paths[random.nextInt(paths.length)];
        int roll = random.nextInt(100);
        Kind kind = roll < 35 ? Kind.READ : roll < 50 ? Kind.CREATE : Kind.SET;
        int expected = kind == Kind.SET && random.nextInt(4) != 0 ? random.nextInt(4) : -1;
        int opId = ++nextOpId;
        Pending pending = new Pending(opId, client, path, kind, opId, expected, ++event,
                step + (long) TIMEOUT_TICKS * ZabSimulator.TICK_STEPS);
        SimulatedNode server = sim.node(client.server);
        String request = String.join("|", REQUEST, Integer.toString(opId), kind.name(), path,
                Integer.toString(opId), Integer.toString(expected));
        client.pending = pending;
        pendingById.put(opId, pending);
        boolean taken;
        if (!server.isUp()) {
            taken = false;
        } else if (server.machine.isEstablishedLeader()) {
            taken = sim.submit(server.id, prepare(server, request).getBytes(StandardCharsets.UTF_8));
        } else {
            taken = sim.submit(server.id, request.getBytes(StandardCharsets.UTF_8));
        }
        if (!taken && client.pending == pending) {
            // Refused before anything was proposed: it never happens. The client tries another server next time.
            pendingById.remove(opId);
            client.pending = null;
            client.server = 1 + random.nextInt(sim.nodes.length);
            sim.count("client operation refused (fail)");
        }
    }

    private void complete(Pending pending, String result) {
        pendingById.remove(pending.opId);
        pending.client.pending = null;
        if (result == null && pending.kind == Kind.READ) {
            return; // a read with no answer changes nothing and tells nothing: leaving it out only speeds the search
        }
        historyByPath.get(pending.path).add(new Operation(pending.opId, pending.client.id, pending.kind, pending.value,
                pending.expectedVersion, pending.invokedAt, result == null ? Long.MAX_VALUE : ++event, result));
    }

    /** After the run: what is still pending has an unknown outcome. */
    void finish() {
        for (Pending pending : List.copyOf(pendingById.values())) {
            complete(pending, null);
        }
    }

    // ------------------------------------------------------------------------------------------------ the servers

    /**
     * The leader's prep step: decides a request's outcome against the committed state plus the transactions it
     * proposed but has not committed (they commit first), and returns the transaction to propose. Other bytes (the
     * simulator's plain writes) pass unchanged.
     */
    String prepare(SimulatedNode leader, String request) {
        String[] fields = request.split("\\|");
        Kind kind = Kind.valueOf(fields[2]);
        String path = fields[3];
        State state = leader.app.kv.getOrDefault(path, State.ABSENT);
        if (!stalePrep) {
            for (LogEntry entry : leader.machine.history.logAfter(leader.app.appliedZxid)) {
                state = applyTo(state, path, new String(entry.txn(), StandardCharsets.UTF_8));
            }
        }
        String outcome = "-";
        if (kind != Kind.READ) {
            Operation op = new Operation(0, 0, kind, Integer.parseInt(fields[4]), Integer.parseInt(fields[5]), 0, 0,
                    null);
            outcome = LinearizabilityChecker.apply(state, op).result();
        }
        return String.join("|", TXN, fields[1], fields[2], path, fields[4], outcome);
    }

    byte[] prepareForwarded(SimulatedNode leader, byte[] request) {
        String text = new String(request, StandardCharsets.UTF_8);
        if (!text.startsWith(REQUEST + "|")) {
            return request;
        }
        return prepare(leader, text).getBytes(StandardCharsets.UTF_8);
    }

    /** A transaction's effect on znode {@code path}: only a successful create or set changes it. */
    static State applyTo(State state, String path, String txn) {
        if (!txn.startsWith(TXN + "|")) {
            return state;
        }
        String[] fields = txn.split("\\|");
        if (!fields[3].equals(path) || !fields[5].startsWith("ok")) {
            return state;
        }
        int value = Integer.parseInt(fields[4]);
        return Kind.valueOf(fields[2]) == Kind.CREATE ? new State(true, value, 0)
                : new State(true, value, state.version() + 1);
    }

    /** Applies a committed transaction to a server's znodes. */
    static void apply(Map<String, State> kv, String txn) {
        if (!txn.startsWith(TXN + "|")) {
            return;
        }
        String path = txn.split("\\|")[3];
        State before = kv.getOrDefault(path, State.ABSENT);
        State after = applyTo(before, path, txn);
        if (after != before) {
            kv.put(path, after);
        }
    }

    /** Server {@code node} applied {@code txn}: answer the client waiting on it there, if any. */
    void onApplied(SimulatedNode node, String txn) {
        if (!txn.startsWith(TXN + "|")) {
            return;
        }
        String[] fields = txn.split("\\|");
        Pending pending = pendingById.get(Integer.parseInt(fields[1]));
        if (pending == null || pending.server != node.id || pending.client.pending != pending) {
            return;
        }
        State state = node.app.kv.getOrDefault(pending.path, State.ABSENT);
        String result;
        if (pending.kind == Kind.READ) {
            result = state.exists() ? "v:" + state.value() + ":" + state.version() : "NONODE";
        } else if (fields[5].startsWith("ok") && pending.kind == Kind.SET) {
            result = "ok:" + state.version();
        } else {
            result = fields[5];
        }
        complete(pending, result);
        sim.count("client operation answered (ok)");
    }

    // ------------------------------------------------------------------------------------------------ the check

    /** Checks every znode's history; throws the simulator's failure for one that is not linearizable. */
    /** Time spent in the search, over all runs in this JVM, for the summary line. */
    static final java.util.concurrent.atomic.AtomicLong CHECK_NANOS = new java.util.concurrent.atomic.AtomicLong();

    void checkLinearizable() {
        long started = System.nanoTime();
        try {
            checkEveryHistory();
        } finally {
            CHECK_NANOS.addAndGet(System.nanoTime() - started);
        }
    }

    private void checkEveryHistory() {
        finish();
        for (Map.Entry<String, List<Operation>> history : historyByPath.entrySet()) {
            long started = System.nanoTime();
            Verdict verdict = LinearizabilityChecker.check(history.getValue(), SEARCH_STEPS_MAX);
            long millis = (System.nanoTime() - started) / 1_000_000;
            if (millis > 500) {
                System.out.println("seed " + sim.seed + ": checking " + history.getKey() + " (" + history.getValue().size()
                        + " operations, " + history.getValue().stream().filter(Operation::unknown).count()
                        + " unknown) took " + millis + " ms: " + verdict);
            }
            sim.count("znode histories " + verdict);
            if (verdict == Verdict.NOT_LINEARIZABLE) {
                StringBuilder ops = new StringBuilder();
                history.getValue().stream().sorted(java.util.Comparator.comparingLong(Operation::invokedAt))
                        .forEach(op -> ops.append("\n    ").append(op));
                throw sim.failure("the history of " + history.getKey() + " is not linearizable ("
                        + history.getValue().size() + " operations):" + ops);
            }
        }
    }

    /** Every znode's history so far, for comparing two runs of a seed. */
    String history() {
        return historyByPath.toString();
    }

    int operations() {
        return historyByPath.values().stream().mapToInt(List::size).sum();
    }
}
