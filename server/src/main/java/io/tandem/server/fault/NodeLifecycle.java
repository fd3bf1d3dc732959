package io.tandem.server.fault;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Killing and restarting nodes on request (the fault endpoint's {@code kill} and {@code restart}, {@code tandem fault
 * kill|restart}). Only a node something else can bring back is offered: a {@code TandemCluster} registers each of
 * its nodes with the cluster's own stop and restart. A node started alone ({@code tandem start}, {@code
 * Tandem.start}) registers nothing and is refused: a process cannot restart itself after dying, and a kill that did
 * not come back would only pretend to be a fault test; kill -9 its process and start it again instead.
 *
 * <p>In-process, a kill is the cluster's stop: the node closes its listeners, so its clients see their connections
 * drop and its ZooKeeper session ends; its files are left as a clean close leaves them. Torn files need a real process
 * killed with SIGKILL. Actions run on one thread of their own, never on the HTTP thread that asked (that thread may
 * belong to the very node being killed); at most one action per node waits, so the queue is bounded by the nodes.
 */
public final class NodeLifecycle implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NodeLifecycle.class.getName());
    /** How long close waits for an action under way (a restart waits for the cluster to settle). */
    private static final long CLOSE_WAIT_MS = 30_000;

    /** What a node's owner does to kill it and to start it again. */
    public interface Control {
        void kill() throws Exception;

        void restart() throws Exception;

        boolean running();
    }

    private final Map<String, Control> nodes = new TreeMap<>();
    /** A node's action under way or its last failure; absent when none of either. */
    private final Map<String, String> states = new TreeMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "fault-node-lifecycle");
        thread.setDaemon(true);
        return thread;
    });
    private boolean closed;

    /** Offers {@code node} to kill and restart through {@code control}. */
    public synchronized void register(String node, Control control) {
        nodes.put(node, control);
    }

    /** Kills a running node; the future completes when it is down. */
    public CompletableFuture<Void> kill(String node) {
        return kill(node, Duration.ZERO);
    }

    /**
     * Kills a running node after {@code delay}: the fault endpoint waits a moment so that its answer reaches the
     * caller before the node it may belong to closes its HTTP server under it.
     */
    public CompletableFuture<Void> kill(String node, Duration delay) {
        return submit(node, "killing", true, delay);
    }

    /** Starts a killed node again; the future completes when it serves. */
    public CompletableFuture<Void> restart(String node) {
        return submit(node, "restarting", false, Duration.ZERO);
    }

    private synchronized CompletableFuture<Void> submit(String node, String action, boolean kill, Duration delay) {
        if (closed) throw new IllegalStateException("fault injection is closed");
        Control control = nodes.get(node);
        if (control == null) {
            if (nodes.isEmpty()) {
                throw new IllegalStateException("node '" + node + "' runs alone: nothing in its process could start "
                        + "it again, so it is not " + (kill ? "killed" : "restarted") + " from here (kill its process "
                        + "and run tandem start again; in tests, use a TandemCluster, whose nodes can be killed and "
                        + "restarted)");
            }
            throw new IllegalArgumentException("no node '" + node + "' to " + (kill ? "kill" : "restart")
                    + " (nodes: " + String.join(", ", nodes.keySet()) + ")");
        }
        String busy = states.get(node);
        if (busy != null && (busy.equals("killing") || busy.equals("restarting"))) {
            throw new IllegalStateException("node " + node + " is already " + busy);
        }
        if (kill && !control.running()) throw new IllegalStateException("node " + node + " is not running");
        if (!kill && control.running()) throw new IllegalStateException("node " + node + " is running");
        states.put(node, action);
        LOG.log(System.Logger.Level.INFO, "Fault injection: {0} node {1}", action, node);
        return CompletableFuture.runAsync(() -> {
            String outcome = null;
            try {
                if (kill) control.kill();
                else control.restart();
            } catch (Exception | Error e) {
                outcome = "failed: " + e;
                LOG.log(System.Logger.Level.WARNING, "Fault injection: " + action + " node " + node + " failed", e);
                throw new IllegalStateException(action + " node " + node + " failed: " + e, e);
            } finally {
                synchronized (this) {
                    if (outcome == null) states.remove(node);
                    else states.put(node, outcome);
                }
            }
        }, delay.isZero() ? worker : CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS,
                worker));
    }

    /** Every registered node: running, killed, killing, restarting, or the failure of its last action. */
    public synchronized Map<String, String> states() {
        Map<String, String> all = new LinkedHashMap<>();
        nodes.forEach((node, control) -> all.put(node, states.getOrDefault(node,
                control.running() ? "running" : "killed")));
        return all;
    }

    /** Lets an action under way finish (a half-restarted node would be left for the owner to close). */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        worker.shutdown();
        try {
            if (!worker.awaitTermination(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS)) worker.shutdownNow();
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
