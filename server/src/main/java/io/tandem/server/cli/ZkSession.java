package io.tandem.server.cli;

import io.tandem.zk.client.WatchedEvent;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperState;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ZooKeeper session the {@code tandem zk} commands run on: opened per command, or shared by every command typed into
 * {@code tandem zk shell}. Watch events land in a bounded queue that {@code watch} reads; when nobody reads it, the
 * oldest events are dropped and counted rather than letting memory grow.
 */
final class ZkSession implements AutoCloseable {
    /** Events kept until a {@code watch} command takes them. */
    static final int EVENTS_MAX = 10_000;

    /** The shell's session while it runs commands on this thread; null for a one-shot command. */
    private static final ThreadLocal<ZkSession> SHELL = new ThreadLocal<>();

    private final BlockingQueue<WatchedEvent> events = new ArrayBlockingQueue<>(EVENTS_MAX);
    private final AtomicLong dropped = new AtomicLong();
    /** Connection states whose event has been queued, so a command can wait for one to be printed in its turn. */
    private final Set<KeeperState> statesQueued = EnumSet.noneOf(KeeperState.class);
    private final Zk settings;
    private ZkClient client;
    /** zkCli's printwatches: whether the shell prints watch events (it drops them when off). */
    private volatile boolean printWatches = true;

    private ZkSession(Zk settings) {
        this.settings = settings;
    }

    static ZkSession open(Zk settings) throws InterruptedException {
        ZkSession session = new ZkSession(settings);
        session.client = settings.connect(session::onEvent);
        return session;
    }

    /** The shell's session when one is running on this thread, else null. */
    static ZkSession shell() {
        return SHELL.get();
    }

    static void enterShell(ZkSession session) {
        SHELL.set(session);
    }

    static void leaveShell() {
        SHELL.remove();
    }

    ZkClient client() {
        return client;
    }

    Zk settings() {
        return settings;
    }

    BlockingQueue<WatchedEvent> events() {
        return events;
    }

    boolean printWatches() {
        return printWatches;
    }

    void printWatches(boolean on) {
        printWatches = on;
    }

    /** Events dropped because the queue was full, since the last call. */
    long takeDropped() {
        return dropped.getAndSet(0);
    }

    /**
     * Waits up to {@code timeoutMs} until the event of connection state {@code state} has been queued. The client
     * delivers state events on its own thread, so without this the shell could print one a command late.
     */
    boolean awaitStateQueued(KeeperState state, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (statesQueued) {
            while (!statesQueued.contains(state)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                statesQueued.wait(left);
            }
            return true;
        }
    }

    private void onEvent(WatchedEvent event) {
        while (!events.offer(event)) {
            if (events.poll() != null) {
                dropped.incrementAndGet();
            }
        }
        if (event.type() == EventType.NONE) {
            synchronized (statesQueued) {
                statesQueued.add(event.state());
                statesQueued.notifyAll();
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
