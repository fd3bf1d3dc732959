package io.tandem.server.kafka.metadata;

import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperCode;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The standing watches of a {@link ZkZnodeStore} (on a node's children or on the node itself), kept over ZooKeeper's
 * one-shot ones: each is set again as it fires, again after a read lost to CONNECTION_LOSS, and again on the new
 * session after an expiry, and its listener then runs, since a change may have slipped by unwatched.
 */
final class ZkWatches {
    private static final System.Logger LOG = System.getLogger(ZkZnodeStore.class.getName());
    /** Pause before setting a watch again whose read failed (the client is usually reconnecting meanwhile). */
    private static final long ARM_RETRY_MS = 200;

    /** The store's current session (replaced after an expiry). */
    private final Supplier<ZkClient> client;
    private final BooleanSupplier closed;
    /**
     * The listeners by path: several parts of a broker may follow one path (the quotas and the dynamic and topic
     * configs all follow {@code /config/changes}), and each is told: a second one replaced the first before, and
     * the quotas stopped hearing of changes made through other brokers. A listener with the same owner (by default
     * the class of its code: the same lambda or method reference) replaces the one set before, as every listener
     * did: the controller sets its watch on a topic again each time it loads it.
     */
    private final ConcurrentHashMap<String, Listeners> childWatches = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Listeners> nodeWatches = new ConcurrentHashMap<>();

    /** Every listener of one path, by its owner; one failing does not keep the others from being told. */
    private static final class Listeners implements Runnable {
        private final ConcurrentHashMap<Object, Runnable> all = new ConcurrentHashMap<>();

        void add(Object owner, Runnable listener) {
            all.put(owner, listener);
        }

        @Override
        public void run() {
            for (Runnable listener : all.values()) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "A ZooKeeper watch listener failed: " + e);
                }
            }
        }
    }

    ZkWatches(Supplier<ZkClient> client, BooleanSupplier closed) {
        this.client = client;
        this.closed = closed;
    }

    void watchChildren(String path, Object owner, Runnable listener) {
        Listeners listeners = new Listeners();
        Listeners existing = childWatches.putIfAbsent(path, listeners);
        (existing == null ? listeners : existing).add(owner, listener);
        armChildren(path);
    }

    void watchNode(String path, Object owner, Runnable listener) {
        Listeners listeners = new Listeners();
        Listeners existing = nodeWatches.putIfAbsent(path, listeners);
        (existing == null ? listeners : existing).add(owner, listener);
        armNode(path);
    }

    /** A new session: watches die with their session, so each is armed again and its listener told. */
    void sessionRenewed() {
        childWatches.forEach((path, listener) -> { armChildren(path); listener.run(); });
        nodeWatches.forEach((path, listener) -> { armNode(path); listener.run(); });
    }

    /** The client's watcher: a fired watch is armed again and its listener runs. */
    void onWatchEvent(io.tandem.zk.client.WatchedEvent event) {
        if (closed.getAsBoolean() || event.path() == null) return;
        Listeners children = childWatches.get(event.path());
        if (children != null && (event.type() == EventType.NODE_CHILDREN_CHANGED
                || event.type() == EventType.NODE_CREATED
                || event.type() == EventType.NODE_DELETED)) {
            armChildren(event.path());
            children.run();
        }
        Listeners node = nodeWatches.get(event.path());
        if (node != null && event.type() != EventType.NODE_CHILDREN_CHANGED) {
            armNode(event.path());
            node.run();
        }
    }

    /**
     * Sets ZooKeeper's one-shot child watch again; asynchronous, since this runs on the client's callback thread.
     * ZooKeeper registers a watch only when the read succeeds, so a read lost to CONNECTION_LOSS (a member stopping,
     * a leader change) would leave the path unwatched for good: it is retried until it succeeds, as Kafka's
     * ZooKeeper client retries its requests across a reconnect, and the listener then runs, since a change may have
     * slipped by unwatched. A path that does not exist yet gets an existence watch, whose NodeCreated arms it.
     */
    private void armChildren(String path) {
        armChildren(path, false);
    }

    private void armChildren(String path, boolean retried) {
        ZkClient armedOn = client.get();
        armedOn.getChildren(path, true).whenComplete((children, failure) -> {
            if (failure == null) {
                if (retried) notifyListener(childWatches.get(path));
            } else if (code(failure) == KeeperCode.NO_NODE) {
                armedOn.exists(path, true).whenComplete((stat, again) -> {
                    if (again != null) {
                        retryArm(armedOn, () -> armChildren(path, true));
                    } else if (stat != null) {
                        armChildren(path, true);
                    } else if (retried) {
                        notifyListener(childWatches.get(path));
                    }
                });
            } else {
                retryArm(armedOn, () -> armChildren(path, true));
            }
        });
    }

    private void armNode(String path) {
        armNode(path, false);
    }

    private void armNode(String path, boolean retried) {
        ZkClient armedOn = client.get();
        armedOn.exists(path, true).whenComplete((stat, failure) -> {
            if (failure != null) {
                retryArm(armedOn, () -> armNode(path, true));
            } else if (retried) {
                notifyListener(nodeWatches.get(path));
            }
        });
    }

    /**
     * Arms again after {@link #ARM_RETRY_MS}, unless the store closed or the session was replaced (the renewal arms
     * every watch on the new session itself).
     */
    private void retryArm(ZkClient armedOn, Runnable arm) {
        if (closed.getAsBoolean() || armedOn != client.get()) return;
        CompletableFuture.delayedExecutor(ARM_RETRY_MS, TimeUnit.MILLISECONDS).execute(() -> {
            if (!closed.getAsBoolean() && armedOn == client.get()) arm.run();
        });
    }

    private void notifyListener(Runnable listener) {
        if (listener == null || closed.getAsBoolean()) return;
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "A ZooKeeper watch listener failed: " + e);
        }
    }

    private static KeeperCode code(Throwable failure) {
        Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
        return cause instanceof ZkException zk ? zk.code() : null;
    }
}
